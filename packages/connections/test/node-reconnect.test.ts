// The reconnection schedule of a cluster's node clients: a handshake the node refuses is tried
// again 10 s later, doubling up to 5 minutes, counted per client from the first refusal in a row;
// a node out of reach keeps the short steps; a strategy the user gave is kept.
import { ErrorReply, SocketTimeoutError } from '@redis/client'
import { describe, expect, it } from 'vitest'
import { nodeReconnectStrategy, nodeSocketOptions } from '../src/_node-reconnect.ts'

const readonlyRenamed = () =>
  new ErrorReply("ERR unknown command 'READONLY', with args beginning with: ")
const unreachable = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })

/** Whether `ms` is `base` shortened by up to 20 % (the jitter). */
const about = (ms: number | false, base: number) =>
  typeof ms === 'number' && ms <= base && ms >= base * 0.8 - 1

describe('nodeReconnectStrategy', () => {
  it('backs a refused handshake off 10 s, doubling up to 5 minutes', () => {
    const strategy = nodeReconnectStrategy()
    const steps = [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]
    steps.forEach((base, retries) => {
      expect(about(strategy(retries, readonlyRenamed()), base)).toBe(true)
    })
  })

  it('keeps the short steps for a node out of reach, and counts refusals from the first in a row', () => {
    const strategy = nodeReconnectStrategy()
    for (let retries = 0; retries < 20; retries++) {
      const ms = strategy(retries, unreachable())
      expect(typeof ms === 'number' && ms <= 2000).toBe(true)
    }
    // Down a long while, then refusing: 10 s, not 5 minutes.
    expect(about(strategy(20, readonlyRenamed()), 10_000)).toBe(true)
    expect(about(strategy(21, readonlyRenamed()), 20_000)).toBe(true)
    // Up again (node-redis counts from 0 once more), then refused: 10 s again.
    expect(about(strategy(1, readonlyRenamed()), 10_000)).toBe(true)
  })

  it("gives up on a socket idle past the user's socketTimeout, as node-redis's own strategy", () => {
    expect(nodeReconnectStrategy()(0, new SocketTimeoutError(1000))).toBe(false)
  })
})

describe('nodeSocketOptions', () => {
  it('gives each copy of the socket options (one per node client) a strategy of its own', () => {
    const socket = nodeSocketOptions({ connectTimeout: 5000 }) as { reconnectStrategy?: unknown }
    const a = { ...socket, host: 'a', port: 1 }
    const b = { ...socket, host: 'b', port: 2 }
    expect(typeof a.reconnectStrategy).toBe('function')
    expect(a.reconnectStrategy).not.toBe(b.reconnectStrategy)
    const first = a.reconnectStrategy as (r: number, c: unknown) => number
    const second = b.reconnectStrategy as (r: number, c: unknown) => number
    first(0, readonlyRenamed())
    expect(about(first(1, readonlyRenamed()), 20_000)).toBe(true)
    // b's first refusal is its own: 10 s.
    expect(about(second(0, readonlyRenamed()), 10_000)).toBe(true)
  })

  it("keeps the user's reconnectStrategy", () => {
    const mine = () => 42
    expect(nodeSocketOptions({ reconnectStrategy: mine }).reconnectStrategy).toBe(mine)
    expect(nodeSocketOptions({ reconnectStrategy: false }).reconnectStrategy).toBe(false)
    expect(nodeSocketOptions({ reconnectStrategy: 500 }).reconnectStrategy).toBe(500)
  })
})
