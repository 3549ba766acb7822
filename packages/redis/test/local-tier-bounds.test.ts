// The local tier's bounds against what Redis replies: never past the value's Redis TTL however late
// the reply is handled, and `maxBytes` counting a value as no less than the bytes it was read from
// (what they decompressed to, and on every path that holds a value).
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: RedisServer
/** A plain node-redis client: the stand-in for another service writing the keys. */
let other: ReturnType<typeof createClient>
const caches: Cache[] = []

beforeAll(async () => {
  server = await startRedis({ args: ['--enable-debug-command', 'yes'] })
  other = createClient({ url: server.url })
  other.on('error', () => undefined)
  await other.connect()
})

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()))
  await other?.close()
  await server?.stop()
})

/** Waits until `check` holds; bounded only against hangs. */
async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A cache with a local tier whose tracking connection is up. */
async function tracked(local: object, options: object = {}): Promise<Cache> {
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('bounds'),
    local,
    ...options,
  })
  caches.push(cache)
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
  return cache
}

/** Resolves once the tier reports dropping `rkey`. */
function dropped(cache: Cache, rkey: string): Promise<void> {
  return new Promise((resolve) => {
    const off = cache.on('invalidate', (event) => {
      if (event.key === rkey) {
        off()
        resolve()
      }
    })
  })
}

/**
 * Holds `key` in the tier (read until a read is a hit): a value whose invalidation can then be
 * awaited (`dropped`).
 */
async function hold(cache: Cache, key: string, value: string): Promise<void> {
  await other.sendCommand(['SET', cache.makeKey(key), JSON.stringify(value)])
  await eventually(async () => {
    const hits = cache.localStats()?.hits ?? 0
    await cache.get(key)
    return cache.localStats()?.hits === hits + 1
  })
}

/**
 * Resolves once the invalidations of every write made so far have reached the tier (a read in
 * flight when its key's invalidation arrives does not fill the tier): they come in order, so
 * once that of a marker written now has.
 */
async function settled(cache: Cache): Promise<void> {
  await hold(cache, 'marker', 'm')
  const gone = dropped(cache, cache.makeKey('marker'))
  await other.sendCommand(['DEL', cache.makeKey('marker')])
  await gone
}

/** Blocks the event loop for `ms`, as any CPU-bound work of the app (or a large decode) does. */
function busy(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // spin
  }
}

describe('local tier: a value read with its PTTL', () => {
  it('is not held past its Redis TTL when its reply is handled late', async () => {
    // Only a read of the key then deletes it in Redis (and pushes its invalidation): an expired
    // key can stay in the keyspace a while when Redis's active expiry has many keys to sample.
    await other.sendCommand(['DEBUG', 'SET-ACTIVE-EXPIRE', '0'])
    try {
      const cache = await tracked({})
      const rkey = cache.makeKey('k')
      // Held first, so that the write below is seen dropping it before the read that fills.
      await hold(cache, 'k', 'old')
      const gone = dropped(cache, rkey)
      await other.sendCommand(['SET', rkey, JSON.stringify('v'), 'PX', '400'])
      const setAt = Date.now()
      await gone
      const read = cache.get('k')
      // GET + PTTL are on the wire (the client writes them in an immediate queued by `get`,
      // before this one) and answered at once; the process handles the reply only after 600 ms
      // of other work, past the key's expiry in Redis.
      await new Promise((r) => setImmediate(r))
      busy(600)
      expect(await read).toBe('v')
      expect(Date.now() - setAt).toBeGreaterThanOrEqual(400)
      // Expired in Redis: the tier must not serve it (it was served for another ~400 ms).
      const hits = cache.localStats()?.hits
      expect(await cache.get('k')).toBeNull()
      expect(cache.localStats()?.hits).toBe(hits)
    } finally {
      await other.sendCommand(['DEBUG', 'SET-ACTIVE-EXPIRE', '1'])
    }
  })
})

/**
 * A list of 20,000 strings whose parts the size estimate walks or samples are empty, the others
 * `size` characters: it takes about `10_000 × size` bytes, far more than estimated.
 */
function crafted(size: number): string[] {
  const n = 20_000
  const value: string[] = new Array(n).fill('')
  // The estimate walks the last 9,999 parts, then samples 64 of the rest.
  const left = n - 9_999
  const sampled = new Set(Array.from({ length: 64 }, (_, i) => Math.floor((i * left) / 64)))
  for (let i = 0; i < left; i++) if (!sampled.has(i)) value[i] = 'a'.repeat(size)
  return value
}

describe('local tier: maxBytes and values read from Redis', () => {
  const maxBytes = 1_000_000
  // About 3 MB of JSON, estimated at under 0.5 MB.
  const value = crafted(300)
  const json = JSON.stringify(value)
  const reads = {
    get: (cache: Cache, key: string) => cache.get(key),
    'getOrSet with grace': (cache: Cache, key: string) =>
      cache.getOrSet(key, () => 'computed', { timeout: 300, grace: 60 }),
  }

  for (const compressor of ['none', 'zlib'] as const) {
    for (const [name, read] of Object.entries(reads)) {
      it(`counts a value as no less than its bytes decoded (${name}, ${compressor})`, async () => {
        const cache = await tracked({ maxBytes }, { compressor })
        const writer = createCache({ location: server.url, keyPrefix: cache.keyPrefix, compressor })
        caches.push(writer)
        for (const key of ['a', 'b']) await writer.set(key, value, 600)
        await settled(cache)
        const stored = Number(await other.sendCommand(['STRLEN', cache.makeKey('a')]))
        if (compressor === 'zlib') expect(stored).toBeLessThan(maxBytes / 10)
        else expect(stored).toBe(json.length)
        for (const key of ['a', 'b']) {
          const hits = cache.localStats()?.hits
          expect(await read(cache, key)).toEqual(value)
          expect(cache.localStats()?.hits).toBe(hits)
        }
        // Each takes more than maxBytes once decoded: none is held.
        expect(cache.localStats()).toMatchObject({ entries: 0, bytes: 0 })
        expect(json.length).toBeGreaterThan(2 * maxBytes)
      })
    }
  }
})
