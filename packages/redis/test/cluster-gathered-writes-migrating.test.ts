// The writes the cache gathers in one tick (the incrs as one script, the sets as one MSET or one
// script with an expiry), on keys of one slot half migrated: one key already on the importing
// node, the other still on the old owner. Each alone is served (an ASK for the moved one); the
// one command over both is refused with TRYAGAIN while the migration lasts. Each caller must be
// answered as if its call had run alone, and its write stored.
import { type Cache, createCache } from '@cachex/redis'
import { delay, startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { halfMoved } from './helpers.ts'

/** A retry budget of 4 s (80 % of `socketTimeout`), which the scripts need not wait out. */
const SOCKET_TIMEOUT_S = 5

let cluster: TestCluster
const caches: Cache[] = []

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
}, 60_000)

afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  await cluster?.stop()
})

function open(): Cache {
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix('gwm'),
    socketTimeout: SOCKET_TIMEOUT_S,
  })
  caches.push(cache)
  return cache
}

/** What `calls` resolve (an error as its name and message), and how long they took. */
async function settle(calls: Promise<unknown>[]): Promise<{ results: unknown[]; ms: number }> {
  const started = performance.now()
  const results = await Promise.all(
    calls.map((call) => call.catch((error: Error) => `${error.name}: ${error.message}`)),
  )
  return { results, ms: performance.now() - started }
}

describe('writes gathered in one tick, on a slot half migrated', () => {
  it('incr()s of one tick on a moved and a not moved key: each answered as alone, and stored', async () => {
    const cache = open()
    await cache.setMany({ '{t}a': 1, '{t}b': 1 }, null)
    const move = await halfMoved(cluster, cache, '{t}a')
    try {
      const first = await settle([cache.incr('{t}a'), cache.incr('{t}b')])
      expect(first.results).toEqual([2, 2])
      // Several of one key among them: each from the value the one before it left.
      const second = await settle([cache.incr('{t}a'), cache.incr('{t}b'), cache.incr('{t}a', 5)])
      expect(second.results).toEqual([3, 3, 8])
      // Refused at once, not after the connection's retries of TRYAGAIN (a budget of 4 s).
      expect(first.ms).toBeLessThan(3000)
      expect(second.ms).toBeLessThan(3000)
      expect(await settle([cache.get('{t}a'), cache.get('{t}b')])).toMatchObject({
        results: [8, 3],
      })
    } finally {
      await move.migrate()
      await move.finish()
    }
    expect(await cache.getMany(['{t}a', '{t}b'])).toEqual(
      new Map([
        ['{t}a', 8],
        ['{t}b', 3],
      ]),
    )
  }, 60_000)

  it('set()s of one tick without an expiry (one MSET): each answered as alone, and stored', async () => {
    const cache = open()
    await cache.setMany({ '{u}a': 1, '{u}b': 1 }, null)
    const move = await halfMoved(cluster, cache, '{u}a')
    try {
      const both = await settle([cache.set('{u}a', 2, null), cache.set('{u}b', 2, null)])
      expect(both.results).toEqual([true, true])
      // Refused at once, not after the connection's retries of TRYAGAIN (a budget of 4 s).
      expect(both.ms).toBeLessThan(3000)
      expect(await settle([cache.get('{u}a'), cache.get('{u}b')])).toMatchObject({
        results: [2, 2],
      })
    } finally {
      await move.migrate()
      await move.finish()
    }
    expect(await cache.getMany(['{u}a', '{u}b'])).toEqual(
      new Map([
        ['{u}a', 2],
        ['{u}b', 2],
      ]),
    )
  }, 60_000)

  it('set()s of one tick with an expiry (one script): each answered as alone, and stored', async () => {
    const cache = open()
    // Sets with an expiry go as one script once the cache knows it may run scripts, which it
    // asks right after its first such batch.
    await settle([cache.set('{x}a', 1, 60), cache.set('{x}b', 1, 60)])
    await delay(300)
    await cache.setMany({ '{w}a': 1, '{w}b': 1 }, null)
    const move = await halfMoved(cluster, cache, '{w}a')
    try {
      const both = await settle([cache.set('{w}a', 3, 60), cache.set('{w}b', 3, 60)])
      expect(both.results).toEqual([true, true])
      expect(both.ms).toBeLessThan(3000)
      expect(await settle([cache.get('{w}a'), cache.get('{w}b')])).toMatchObject({
        results: [3, 3],
      })
    } finally {
      await move.migrate()
      await move.finish()
    }
    expect(await cache.getMany(['{w}a', '{w}b'])).toEqual(
      new Map([
        ['{w}a', 3],
        ['{w}b', 3],
      ]),
    )
    for (const key of ['{w}a', '{w}b']) {
      const ttl = await cache.ttl(key)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(60)
    }
  }, 60_000)
})
