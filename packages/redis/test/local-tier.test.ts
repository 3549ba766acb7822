import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { commandCalls, delay, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { createClient, createClientPool } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
/** A plain node-redis client: the stand-in for redis-cli, Django or another service. */
let other: ReturnType<typeof createClient>
const caches: Cache[] = []

function localCache(local: object = {}, options: object = {}): Cache {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('local'),
    local,
    ...options,
  })
  caches.push(cache)
  return cache
}

/** Waits until `check` holds (the invalidation travels one round trip); bounded only against hangs. */
async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(10)
  }
}

/** A cache whose tracking connection is up (the tier serves from memory only then). */
async function tracked(local: object = {}, options: object = {}): Promise<Cache> {
  const cache = localCache(local, options)
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
  return cache
}

/**
 * Reads `key` until a read is served by the tier (a read does not fill it when an invalidation
 * of the key, such as the one of the cache's own write, arrives meanwhile); the value.
 */
async function held(cache: Cache, key: string): Promise<unknown> {
  let value: unknown
  await eventually(async () => {
    const before = cache.localStats()?.hits ?? 0
    value = await cache.get(key)
    return cache.localStats()?.hits === before + 1
  })
  return value
}

/** Stores JSON values by a raw client, lets their invalidations arrive, then reads each once (fills). */
async function fill(cache: Cache, entries: Array<[string, unknown]>): Promise<void> {
  for (const [key, value] of entries) {
    await other.sendCommand(['SET', cache.makeKey(key), JSON.stringify(value), 'EX', '300'])
  }
  await delay(200)
  for (const [key] of entries) await cache.get(key)
}

beforeAll(async () => {
  server = await standaloneServer()
  other = createClient({ url: server.url })
  other.on('error', () => undefined)
  await other.connect()
})

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()))
  await other?.close()
  await server?.stop()
})

describe('local tier', () => {
  it('serves hits from memory without a GET round trip', async () => {
    const cache = await tracked()
    await cache.set('k', { a: 1 })
    await held(cache, 'k')
    const gets = await commandCalls(other, 'get')
    for (let i = 0; i < 100; i++) expect(await cache.get('k')).toEqual({ a: 1 })
    // At most one GET: the server reports our own set to the tracking connection too, and on a
    // busy machine that report may land after `held` saw a hit, dropping the entry once.
    expect((await commandCalls(other, 'get')) - gets).toBeLessThanOrEqual(1)
    const stats = cache.localStats()
    expect(stats?.hits).toBeGreaterThanOrEqual(99)
    expect(stats?.entries).toBe(1)
    expect(stats?.bytes).toBeGreaterThan(0)
  })

  it('is dropped by a write from another client', async () => {
    const cache = await tracked()
    await cache.set('k', 'one')
    expect(await held(cache, 'k')).toBe('one')
    await other.sendCommand(['SET', cache.makeKey('k'), '"two"'])
    await eventually(async () => (await cache.get('k')) === 'two')
    expect(cache.localStats()?.invalidations).toBeGreaterThan(0)
  })

  it('is dropped by a DEL from Lua', async () => {
    const cache = await tracked()
    await cache.set('k', 1)
    await held(cache, 'k')
    await other.sendCommand(['EVAL', "return redis.call('DEL', KEYS[1])", '1', cache.makeKey('k')])
    await eventually(async () => (await cache.get('k')) === null)
  })

  it('is dropped when the key expires in Redis (EXPIRE)', async () => {
    const cache = await tracked()
    await cache.set('k', 'v', null)
    await held(cache, 'k')
    await other.sendCommand(['PEXPIRE', cache.makeKey('k'), '100'])
    await eventually(async () => (await cache.get('k')) === null)
  })

  it('is emptied by FLUSHDB', async () => {
    const cache = await tracked()
    await cache.set('a', 1)
    await cache.set('b', 2)
    await held(cache, 'a')
    await other.sendCommand(['FLUSHDB'])
    await eventually(async () => (await cache.get('a')) === null && (await cache.get('b')) === null)
  })

  it('never holds a value past its Redis TTL, nor past its own ttl', async () => {
    const cache = await tracked()
    await cache.set('short', 'v', 0.2)
    await held(cache, 'short')
    await delay(400)
    expect(await cache.get('short')).toBeNull()

    const own = await tracked({ ttl: 0.2 })
    await own.set('k', 'v', null)
    await held(own, 'k')
    await delay(400)
    const gets = await commandCalls(other, 'get')
    expect(await own.get('k')).toBe('v')
    expect(await commandCalls(other, 'get')).toBe(gets + 1)
  })

  it('reads its own writes at once', async () => {
    const cache = await tracked()
    for (let i = 0; i < 50; i++) {
      await cache.set('k', i)
      expect(await cache.get('k')).toBe(i)
      if (i % 5 === 0) {
        await cache.incr('n', 1).catch(() => cache.set('n', 0))
      }
    }
    await cache.set('n', 1)
    await held(cache, 'n')
    await cache.incr('n', 5)
    expect(await cache.get('n')).toBe(6)
    await cache.delete('n')
    expect(await cache.get('n')).toBeNull()
    await cache.set('m', 1)
    await held(cache, 'm')
    await cache.clear()
    expect(await cache.get('m')).toBeNull()
  })

  it('reads a write made in the same tick: a get right after a set, and after a setMany', async () => {
    const cache = await tracked()
    await cache.set('k', 'v0')
    // The set is gathered (coalesced) and sent as the tick ends: the tier's read of the key must
    // not go out before it.
    const [, got] = await Promise.all([cache.set('k', 'v1'), cache.get('k')])
    expect(got).toBe('v1')
    const [, many] = await Promise.all([cache.setMany({ k: 'v2' }), cache.get('k')])
    expect(many).toBe('v2')
  })

  it('reads back what Redis stored, never the object the caller wrote', async () => {
    const cache = await tracked()
    const at = new Date('2026-12-04T10:00:00.000Z')
    const value = { at, n: 1 }
    for (let i = 0; i < 20; i++) {
      await cache.set('w', value)
      value.n = 2 // a change after the write is not what was stored
      const read = (await cache.get('w')) as { at: unknown; n: number }
      // JSON stores a Date as its ISO string: so reads every other process, and this one.
      expect(read).toEqual({ at: '2026-12-04T10:00:00.000Z', n: 1 })
      expect(read).not.toBe(value)
      value.n = 1
    }
    // and once held, the tier serves the same
    expect(await held(cache, 'w')).toEqual({ at: '2026-12-04T10:00:00.000Z', n: 1 })
  })

  it('stays within maxEntries and maxBytes, evicting to stay within them', async () => {
    const cache = await tracked({ maxEntries: 10 })
    await fill(
      cache,
      Array.from({ length: 30 }, (_, i): [string, unknown] => [`k${i}`, i]),
    )
    const stats = cache.localStats()
    expect(stats?.entries).toBeLessThanOrEqual(10)
    expect(stats?.evictions).toBeGreaterThan(0)

    const bounded = await tracked({ maxBytes: 20_000 })
    await fill(
      bounded,
      Array.from({ length: 50 }, (_, i): [string, unknown] => [`k${i}`, 'x'.repeat(1000)]),
    )
    expect(bounded.localStats()?.bytes).toBeLessThanOrEqual(20_000)
    // 1,000 characters at 2 bytes each, plus bookkeeping: about 9 fit.
    expect(bounded.localStats()?.bytes).toBeGreaterThan(18_000)
    expect(bounded.localStats()?.entries).toBeGreaterThan(5)
    expect(bounded.localStats()?.evictions).toBeGreaterThan(0)
  })

  it('counts a value of many small parts as at least the bytes it was read from', async () => {
    const maxBytes = 4_000_000
    const cache = await tracked({ maxBytes })
    // 30 arrays of 10,000 strings: about 13 MB of JSON, more nodes than the size estimate walks.
    const value = Array.from({ length: 30 }, (_, i) =>
      Array.from({ length: 10_000 }, (_, j) => `${i}-${j}-`.padEnd(40, 'z')),
    )
    const json = JSON.stringify(value)
    await fill(cache, [
      ['a', value],
      ['b', value],
      ['c', value],
    ])
    for (const key of ['a', 'b', 'c']) expect(await cache.get(key)).toEqual(value)
    const stats = cache.localStats()
    // Each is larger than maxBytes: none is held, and nothing is counted for them.
    expect(stats?.entries).toBe(0)
    expect(stats?.bytes).toBeLessThanOrEqual(maxBytes)
    expect(json.length).toBeGreaterThan(3 * maxBytes)
  }, 60_000)

  it('counts a value as no smaller than the bytes it was read from', async () => {
    const cache = await tracked({ maxBytes: 400_000 })
    // 100,000 characters (200 KB estimated) stored as 600 KB of JSON escapes: not held.
    const value = '\u0001'.repeat(100_000)
    await fill(cache, [['escaped', value]])
    expect(await cache.get('escaped')).toBe(value)
    expect(cache.localStats()?.entries).toBe(0)
  })

  it('is emptied and bypassed while the tracking connection is down, then comes back', async () => {
    const cache = await tracked()
    await cache.set('k', 'one')
    await held(cache, 'k')
    // Kill the tracking connection (the one in BCAST tracking mode), then write behind its back.
    const list = String(await other.sendCommand(['CLIENT', 'LIST']))
    const ids = list
      .split('\n')
      .filter((line) => /flags=\S*t/.test(line) || / resp=3 /.test(line))
      .map((line) => /id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined)
    expect(ids.length).toBeGreaterThan(0)
    for (const id of ids) await other.sendCommand(['CLIENT', 'KILL', 'ID', id])
    await other.sendCommand(['SET', cache.makeKey('k'), '"two"'])
    // Never the old value, whether the tier noticed the loss yet or not.
    expect(await cache.get('k')).toBe('two')
    await eventually(() => cache.localStats()?.tracking === true)
    await held(cache, 'k')
    await other.sendCommand(['SET', cache.makeKey('k'), '"three"'])
    await eventually(async () => (await cache.get('k')) === 'three')
  })

  it('refuses bad options', () => {
    expect(() => localCache({ maxEntries: 0 })).toThrow(InvalidArgumentError)
    expect(() => localCache({ maxBytes: -1 })).toThrow(InvalidArgumentError)
    expect(() => localCache({ ttl: 'x' })).toThrow(InvalidArgumentError)
    expect(() => localCache({ size: 1 })).toThrow(InvalidArgumentError)
    expect(() => localCache(null as never)).toThrow(InvalidArgumentError)
  })

  it('refuses a handed-in client pool, which cannot open a tracking connection', async () => {
    const pool = createClientPool({ url: server.url })
    const cache = createCache({ location: pool as never, local: {} })
    caches.push(cache)
    await expect(cache.get('k')).rejects.toThrow(InvalidArgumentError)
    await cache.close()
    await pool.close().catch(() => undefined)
  })

  it('reports null stats without a local tier', () => {
    const plain = createCache({ location: server.url })
    caches.push(plain)
    expect(plain.localStats()).toBeNull()
  })
})
