// Streams on memory:// where the cache-level suites (packages/redis/test/cache-streams.test.ts,
// run on both backends) and the differential fuzz (memory-fuzz.test.ts) do not reach: blocked
// reads and close(), blocking forms inside MULTI, and the store's byte accounting.
import { memory, standalone } from '@cachex/connections'
import { ClosedError, type Connection } from '@cachex/core'
import { standaloneServer } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
let real: Connection

beforeAll(async () => {
  server = await standaloneServer()
  real = standalone({ location: server.url })
})

afterAll(async () => {
  await real?.close()
  await server?.stop()
})

/** MULTI/EXEC on `connection` (both connections here have it). */
function transaction(connection: Connection, commands: string[][]): Promise<unknown[]> {
  if (connection.transaction === undefined) throw new Error('no transactions on this connection')
  return connection.transaction(commands)
}

async function usedMemory(connection: Connection): Promise<number> {
  const info = String(await connection.command(['INFO', 'memory'], { text: true }))
  return Number(/used_memory:(\d+)/.exec(info)?.[1])
}

describe('memory:// streams', () => {
  it('close() rejects blocked XREAD, XREADGROUP and BLPOP calls with ClosedError', async () => {
    const mem = memory({ location: 'memory://' })
    await mem.command(['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'])
    const started = performance.now()
    const blocked = [
      mem.command(['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$']),
      mem.command(['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '60000', 'STREAMS', 's', '>']),
      mem.command(['BLPOP', 'l', '0']),
    ].map((call) => call.catch((error: unknown) => error))
    await new Promise((resolve) => setTimeout(resolve, 50))
    await mem.close()
    for (const error of await Promise.all(blocked)) expect(error).toBeInstanceOf(ClosedError)
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('a blocked read is served by a write in a transaction, and a timeout answers nil', async () => {
    const mem = memory({ location: 'memory://' })
    try {
      const reading = mem.command([
        'XREAD',
        'COUNT',
        '1',
        'BLOCK',
        '5000',
        'STREAMS',
        'a',
        'b',
        '$',
        '$',
      ])
      await transaction(mem, [
        ['XADD', 'b', '1-0', 'f', 'one'],
        ['XADD', 'b', '2-0', 'f', 'two'],
      ])
      const [key, entries] = (await reading) as [Buffer, [Buffer, Buffer[]][]]
      expect(String(key)).toBe('b')
      expect(entries.map(([id]) => String(id))).toEqual(['1-0'])
      expect(await mem.command(['XREAD', 'BLOCK', '30', 'STREAMS', 'a', '$'])).toBeNull()
    } finally {
      await mem.close()
    }
  })

  it('in MULTI, blocking forms answer at once as on redis-server', async () => {
    const mem = memory({ location: 'memory://' })
    try {
      await real.flush()
      const commands = [
        ['XADD', 's', '1-0', 'f', 'v'],
        ['XREAD', 'BLOCK', '1000', 'STREAMS', 's', '$'],
        ['XREAD', 'BLOCK', '1000', 'STREAMS', 's', '0'],
        ['XGROUP', 'CREATE', 's', 'g', '$'],
        ['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '1000', 'STREAMS', 's', '>'],
        ['BLPOP', 'l', '1'],
      ]
      // A map reply: a flat array from memory://, an object from node-redis inside MULTI.
      const text = (reply: unknown): unknown => {
        if (Buffer.isBuffer(reply)) return String(reply)
        if (Array.isArray(reply)) return reply.map(text)
        if (reply !== null && typeof reply === 'object')
          return Object.entries(reply).flat().map(text)
        return reply
      }
      expect(text(await transaction(mem, commands))).toEqual(
        text(await transaction(real, commands)),
      )
    } finally {
      await mem.close()
    }
  })

  it('the bytes a stream holds are counted, and given back when its entries and groups go', async () => {
    const mem = memory({ location: 'memory://' })
    try {
      await mem.command(['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'])
      const empty = await usedMemory(mem)
      for (let i = 1; i <= 300; i++) {
        await mem.command(['XADD', 's', `${i}-0`, 'field', 'x'.repeat(i % 50), 'n', String(i)])
      }
      const full = await usedMemory(mem)
      expect(full - empty).toBeGreaterThan(300 * 30)
      await mem.command(['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '200', 'STREAMS', 's', '>'])
      expect(await usedMemory(mem)).toBeGreaterThan(full)
      await mem.command(['XDEL', 's', '5-0', '6-0', '250-0'])
      await mem.command(['XTRIM', 's', 'MAXLEN', '~', '150'])
      await mem.command(['XAUTOCLAIM', 's', 'g', 'bob', '0', '0', 'COUNT', '50'])
      await mem.command(['XTRIM', 's', 'MAXLEN', '0'])
      await mem.command(['XGROUP', 'DELCONSUMER', 's', 'g', 'alice'])
      await mem.command(['XGROUP', 'DELCONSUMER', 's', 'g', 'bob'])
      expect(await usedMemory(mem)).toBe(empty)
      await mem.command(['XGROUP', 'DESTROY', 's', 'g'])
      await mem.command(['DEL', 's'])
      expect(await usedMemory(mem)).toBe(0)
    } finally {
      await mem.close()
    }
  })
})
