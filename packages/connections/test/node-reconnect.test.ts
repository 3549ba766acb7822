// The reconnection schedule of a cluster's node clients: a handshake the node refuses ends the
// client (cachex tries the node again itself, 10 s to 5 minutes later: NodeWatch); a node out of
// reach keeps the short steps; a strategy the user gave is kept.
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
  it('gives up on a refused handshake: no wait of node-redis holds the process open', () => {
    const strategy = nodeReconnectStrategy()
    expect(strategy(0, readonlyRenamed())).toBe(false)
    expect(strategy(5, new ErrorReply('WRONGPASS invalid username-password pair'))).toBe(false)
  })

  it('keeps the short steps for a node out of reach', () => {
    const strategy = nodeReconnectStrategy()
    for (let retries = 0; retries < 20; retries++) {
      const ms = strategy(retries, unreachable())
      expect(typeof ms === 'number' && ms <= 2000).toBe(true)
    }
    expect(about(strategy(20, unreachable()), 2000)).toBe(true)
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
    const first = a.reconnectStrategy as (r: number, c: unknown) => number | false
    expect(first(0, readonlyRenamed())).toBe(false)
    expect(about(first(0, unreachable()), 100)).toBe(true)
  })

  it("keeps the user's reconnectStrategy", () => {
    const mine = () => 42
    expect(nodeSocketOptions({ reconnectStrategy: mine }).reconnectStrategy).toBe(mine)
    expect(nodeSocketOptions({ reconnectStrategy: false }).reconnectStrategy).toBe(false)
    expect(nodeSocketOptions({ reconnectStrategy: 500 }).reconnectStrategy).toBe(500)
  })
})
