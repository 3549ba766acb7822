// setMany without a timeout on a cluster (an MSET per slot), one slot half migrated so that its
// part meets TRYAGAIN: every key is stored (the part goes key by key, each SET following its
// ASK), or the call resolves the keys that failed — not a rejection after other slots were stored.
import { type Cache, createCache } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { halfMoved } from './helpers.ts'

let cluster: TestCluster
const caches: Cache[] = []
beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
}, 90_000)
afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  await cluster?.stop()
})

it.each([null, 100])(
  'setMany (timeout %s) over a half-migrated slot stores every key',
  async (timeout) => {
    const cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('setmany-tryagain'),
      socketTimeout: 3,
    })
    caches.push(cache)
    await cache.setMany({ '{h}a': 1, '{h}b': 2 }, null)
    const move = await halfMoved(cluster, cache, '{h}a')
    let outcome: unknown
    try {
      outcome = await cache.setMany({ '{h}a': 11, '{h}b': 22, other: 99 }, timeout)
    } catch (error) {
      outcome = error
    } finally {
      await move.migrate()
      await move.finish()
    }
    expect(outcome).toEqual([])
    expect(await cache.get('other')).toBe(99)
    expect(await cache.getMany(['{h}a', '{h}b'])).toEqual(
      new Map([
        ['{h}a', 11],
        ['{h}b', 22],
      ]),
    )
  },
  60_000,
)
