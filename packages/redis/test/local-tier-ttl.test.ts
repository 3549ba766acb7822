// ttl / pttl with a local tier: a key whose value the tier holds is answered from memory (the
// expiry was read with the value), as Redis would answer; any change of its expiry, by this
// cache or another client, is seen by the next ttl / pttl.
import { type Cache, createCache } from '@cachex/redis'
import { commandCalls, delay, redisCall, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from './local-tier-helpers.ts'

let server: { url: string; stop(): Promise<void> }
/** A plain node-redis client: another process writing the keys. */
let other: ReturnType<typeof createClient>
const caches: Cache[] = []

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

/** A cache with a local tier whose tracking connection is up. */
async function tracked(options: object = {}): Promise<Cache> {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('lttl'),
    local: {},
    ...options,
  })
  caches.push(cache)
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
  return cache
}

/**
 * Stores `key` by the other client (`args`: its expiry), lets the write's invalidation arrive,
 * then reads it until the tier serves it.
 */
async function heldRaw(cache: Cache, key: string, args: string[]): Promise<void> {
  await other.sendCommand(['SET', cache.makeKey(key), '"v"', ...args])
  await delay(100)
  await held(cache, key)
}

/** Reads `key` until a read is served by the tier. */
async function held(cache: Cache, key: string): Promise<void> {
  await eventually(async () => {
    const before = cache.localStats()?.hits ?? 0
    await cache.get(key)
    return cache.localStats()?.hits === before + 1
  })
}

/** Resolves once the tier has dropped one more entry than `before`. */
function invalidatedSince(cache: Cache, before: number): Promise<void> {
  return eventually(() => (cache.localStats()?.invalidations ?? 0) > before)
}

/** `seconds` is `expected`, or a second less when the clock turned meanwhile (a loaded machine). */
function expectSeconds(seconds: number | null, expected: number): void {
  expect([expected - 1, expected]).toContain(seconds)
}

/** Redis's own `TTL` of a remaining `ms`: rounded to the nearest second. */
function redisSeconds(ms: number): number {
  return Math.floor((ms + 500) / 1000)
}

describe('ttl and pttl with a local tier', () => {
  it('answers a held key from memory: no PTTL or TTL sent, and the values Redis gives', async () => {
    const cache = await tracked()
    await heldRaw(cache, 'k', ['PX', '300000'])
    await heldRaw(cache, 'forever', [])
    const pttls = await commandCalls(other, 'pttl')
    const ttls = await commandCalls(other, 'ttl')
    const hits = cache.localStats()?.hits ?? 0
    for (let i = 0; i < 20; i++) {
      const ms = await cache.pttl('k')
      expect(ms).toBeGreaterThan(250_000)
      expect(ms).toBeLessThanOrEqual(300_000)
      const s = await cache.ttl('k')
      expect(s === 300 || s === 299).toBe(true)
      expect(await cache.pttl('forever')).toBeNull()
      expect(await cache.ttl('forever')).toBeNull()
    }
    expect((await commandCalls(other, 'pttl')) - pttls).toBe(0)
    expect((await commandCalls(other, 'ttl')) - ttls).toBe(0)
    // Counted as reads served from memory, as a get's hit is.
    expect((cache.localStats()?.hits ?? 0) - hits).toBe(80)
  })

  it('rounds the seconds of ttl as Redis does (to the nearest second)', async () => {
    const cache = await tracked()
    await heldRaw(cache, 'k', ['PX', '9900'])
    const pttls = await commandCalls(other, 'pttl')
    const before = (await cache.pttl('k')) as number
    const s = await cache.ttl('k')
    const after = (await cache.pttl('k')) as number
    expect((await commandCalls(other, 'pttl')) - pttls).toBe(0)
    expect([redisSeconds(before), redisSeconds(after)]).toContain(s)
    // Less than half a second gone: not truncated to 9.
    if (before % 1000 >= 500 && after % 1000 >= 500) expect(s).toBe(redisSeconds(before))
  })

  it('goes to Redis for a key it does not hold, counted as a miss: 0 for a missing key', async () => {
    const cache = await tracked()
    const pttls = await commandCalls(other, 'pttl')
    const misses = cache.localStats()?.misses ?? 0
    expect(await cache.pttl('missing')).toBe(0)
    expect(await cache.ttl('missing')).toBe(0)
    await other.sendCommand(['SET', cache.makeKey('unread'), '"v"', 'EX', '100'])
    expectSeconds(await cache.ttl('unread'), 100)
    expect((await commandCalls(other, 'pttl')) - pttls).toBe(1)
    expect((cache.localStats()?.misses ?? 0) - misses).toBe(3)
  })

  it('sees EXPIRE, PEXPIRE and PERSIST by another client once their invalidation arrives', async () => {
    const cache = await tracked()
    const rkey = cache.makeKey('k')
    for (let round = 0; round < 5; round++) {
      await heldRaw(cache, 'k', ['EX', '300'])
      expect(await cache.ttl('k')).toBeLessThanOrEqual(300)

      let before = cache.localStats()?.invalidations ?? 0
      await other.sendCommand(['EXPIRE', rkey, '1000'])
      await invalidatedSince(cache, before)
      expectSeconds(await cache.ttl('k'), 1000)
      await held(cache, 'k')
      expectSeconds(await cache.ttl('k'), 1000)

      before = cache.localStats()?.invalidations ?? 0
      await redisCall(server.url, ['PERSIST', rkey])
      await invalidatedSince(cache, before)
      expect(await cache.pttl('k')).toBeNull()
      await held(cache, 'k')
      expect(await cache.pttl('k')).toBeNull()

      before = cache.localStats()?.invalidations ?? 0
      await other.sendCommand(['PEXPIRE', rkey, '50000'])
      await invalidatedSince(cache, before)
      const ms = await cache.pttl('k')
      expect(ms).toBeGreaterThan(40_000)
      expect(ms).toBeLessThanOrEqual(50_000)
    }
  })

  it("sees another cache's touch, expire and persist once their invalidation arrives", async () => {
    const cache = await tracked()
    const writer = createCache({ location: server.url, keyPrefix: cache.keyPrefix })
    caches.push(writer)
    for (let round = 0; round < 5; round++) {
      await heldRaw(cache, 'k', ['EX', '300'])

      let before = cache.localStats()?.invalidations ?? 0
      expect(await writer.touch('k', 700)).toBe(true)
      await invalidatedSince(cache, before)
      expectSeconds(await cache.ttl('k'), 700)
      await held(cache, 'k')
      expectSeconds(await cache.ttl('k'), 700)

      before = cache.localStats()?.invalidations ?? 0
      expect(await writer.persist('k')).toBe(true)
      await invalidatedSince(cache, before)
      expect(await cache.ttl('k')).toBeNull()
      await held(cache, 'k')

      before = cache.localStats()?.invalidations ?? 0
      expect(await writer.expire('k', 40)).toBe(true)
      await invalidatedSince(cache, before)
      expectSeconds(await cache.ttl('k'), 40)
    }
  })

  it('sees its own touch, expire and persist at once', async () => {
    const cache = await tracked()
    for (let round = 0; round < 5; round++) {
      await heldRaw(cache, 'k', ['EX', '300'])
      expect(await cache.touch('k', 700)).toBe(true)
      expectSeconds(await cache.ttl('k'), 700)
      await held(cache, 'k')
      expect(await cache.persist('k')).toBe(true)
      expect(await cache.pttl('k')).toBeNull()
      await held(cache, 'k')
      expect(await cache.expire('k', 40)).toBe(true)
      expectSeconds(await cache.ttl('k'), 40)
      await held(cache, 'k')
      expect(await cache.delete('k')).toBe(true)
      expect(await cache.pttl('k')).toBe(0)
    }
  })

  it('emits no hit or miss event for ttl / pttl, and their operation event either way', async () => {
    const cache = await tracked()
    await heldRaw(cache, 'k', ['EX', '300'])
    const reads: string[] = []
    const operations: string[] = []
    cache.on('hit', (event) => reads.push(`hit:${event.operation}`))
    cache.on('miss', (event) => reads.push(`miss:${event.operation}`))
    cache.on('operation', (event) => operations.push(`${event.operation}:${event.key}`))
    const hits = cache.localStats()?.hits ?? 0
    expect(await cache.pttl('k')).toBeGreaterThan(250_000)
    expect(await cache.ttl('missing')).toBe(0)
    expect(reads).toEqual([])
    expect(operations).toEqual(['pttl:k', 'ttl:missing'])
    expect((cache.localStats()?.hits ?? 0) - hits).toBe(1)
  })

  it('goes to Redis while the tracking connection is down', async () => {
    const cache = await tracked()
    await heldRaw(cache, 'k', ['EX', '300'])
    const list = String(await other.sendCommand(['CLIENT', 'LIST']))
    const ids = list
      .split('\n')
      .filter((line) => /flags=\S*t/.test(line) || / resp=3\b/.test(line))
      .map((line) => /id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined)
    expect(ids.length).toBeGreaterThan(0)
    for (const id of ids) await other.sendCommand(['CLIENT', 'KILL', 'ID', id])
    await other.sendCommand(['EXPIRE', cache.makeKey('k'), '1000'])
    // Never the old expiry, whether the tier noticed the loss yet or not.
    expectSeconds(await cache.ttl('k'), 1000)
    await eventually(() => cache.localStats()?.tracking === true)
  })
})
