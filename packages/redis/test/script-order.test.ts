// A Lua script that a server does not have yet runs in the order it was called. Sent with
// EVALSHA, it fails with NOSCRIPT on such a server, and a retry with EVAL runs it after the
// commands sent behind it: a setMany overtaken by the deleteMany called after it, an incr by
// the get after it. cachex sends EVAL until the script has run where it goes.
import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { eventually } from './local-tier-helpers.ts'

let server: RedisServer
let raw: ReturnType<typeof createClient>
const opened: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
  raw = createClient({ url: server.url })
  raw.on('error', () => undefined)
  await raw.connect()
})

afterAll(async () => {
  await raw?.close()
  await server?.stop()
})

// Each test's caches are closed after it: one left open through the restart below reconnects
// later, and a reconnection anywhere in the process makes every connection send its scripts
// with EVAL again (`Connection.generation`) — in the middle of the next test's count of EVALs.
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()))
})

beforeEach(async () => {
  // The server as a new one is: no script loaded.
  await raw.sendCommand(['SCRIPT', 'FLUSH'])
})

/** A new cache (and connection) on the server. */
function fresh(options: Partial<CreateCacheOptions> = {}): Cache {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('order'), ...options })
  opened.push(cache)
  return cache
}

describe('scripts on a server that does not have them yet', () => {
  it('a setMany with a timeout, then a deleteMany of its keys: nothing is left', async () => {
    const cache = fresh()
    const entries = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i]))
    const [failed, deleted] = await Promise.all([
      cache.setMany(entries, 60),
      cache.deleteMany(Object.keys(entries)),
    ])
    expect(failed).toEqual([])
    expect(deleted).toBe(20)
    expect(await cache.getMany(Object.keys(entries))).toEqual(new Map())
  })

  it('an incr, then a get of its key: the get sees the increment', async () => {
    const cache = fresh()
    await cache.set('n', 1)
    const [incremented, read] = await Promise.all([cache.incr('n'), cache.get('n')])
    expect(incremented).toBe(2)
    expect(read).toBe(2)
  })

  it('a lock acquired, then its key read: the read sees the holder', async () => {
    const cache = fresh()
    const lock = cache.lock('l', { timeout: 30 })
    const [acquired, held] = await Promise.all([lock.acquire(), cache.hasKey('l')])
    expect(acquired).toBe(true)
    expect(held).toBe(true)
    await lock.release()
  })

  it("after a restart (new connections, or a pool's): the first incr is not overtaken by the get after it", async () => {
    for (const options of [{}, { connectionPool: { minimum: 1, maximum: 1 } }]) {
      const cache = fresh(options)
      await cache.set('r', 10)
      expect(await cache.incr('r')).toBe(11) // the script has run: EVALSHA from now on
      await server.kill()
      await server.start()
      // The cache reconnects (a call fails fast until it has).
      await eventually(async () => (await cache.set('r', 10).catch(() => false)) === true)
      const [incremented, read] = await Promise.all([cache.incr('r'), cache.get('r')])
      expect([incremented, read]).toEqual([11, 11])
      // Closed before the next restart, which it would reconnect after.
      await cache.close()
    }
  })

  it('runs each script once with EVAL, then with EVALSHA', async () => {
    const cache = fresh()
    await cache.set('n', 1)
    const before = await calls()
    for (let i = 0; i < 5; i++) await cache.incr('n')
    const after = await calls()
    expect(after.eval - before.eval).toBe(1)
    expect(after.evalsha - before.evalsha).toBe(4)
    // After the server lost its scripts, EVALSHA's NOSCRIPT sends it with EVAL again.
    await raw.sendCommand(['SCRIPT', 'FLUSH'])
    expect(await cache.incr('n')).toBe(7)
    expect(await cache.incr('n')).toBe(8)
    const last = await calls()
    expect(last.eval - after.eval).toBe(1)
    expect(last.evalsha - after.evalsha).toBe(2)
  })
})

async function calls(): Promise<{ eval: number; evalsha: number }> {
  const stats = String(await raw.sendCommand(['INFO', 'commandstats']))
  const count = (name: string) =>
    Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
  return { eval: count('eval'), evalsha: count('evalsha') }
}
