// setMany on a cluster with keys over several slots, one primary frozen (not a migration: its
// writes time out): the keys of the other nodes are stored, and the call resolves the frozen
// node's keys as failed — with a timeout (a SET … PX per key) and without (no MSET part that
// rejects the whole call after the other parts were stored).
import { type Cache, createCache } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

let cluster: TestCluster
const caches: Cache[] = []
beforeAll(async () => {
  // A long node timeout: the others do not mark the frozen primary failed while the test runs.
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0, nodeTimeout: 60_000 })
}, 120_000)
afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  await cluster?.stop()
}, 60_000)

it.each([null, 600])(
  'setMany (timeout %s) with one primary frozen resolves its keys as failed, the others stored',
  async (timeout) => {
    const cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('setmany-down'),
      socketTimeout: 3,
    })
    caches.push(cache)
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`)
    // Every node connected, and each key's node known.
    await cache.setMany(Object.fromEntries(keys.map((k) => [k, 0])), null)
    const frozen = await cluster.primaryFor(cache.makeKey('k0'))
    const onFrozen: string[] = []
    for (const key of keys) {
      if ((await cluster.primaryFor(cache.makeKey(key))).port === frozen.port) onFrozen.push(key)
    }
    expect(onFrozen.length).toBeLessThan(keys.length)
    cluster.pause(frozen)
    let outcome: unknown
    try {
      outcome = await cache.setMany(Object.fromEntries(keys.map((k) => [k, 1])), timeout)
    } catch (error) {
      outcome = error
    } finally {
      cluster.resume(frozen)
    }
    expect(outcome).toEqual(onFrozen)
    const stored = await cache.getMany(keys.filter((k) => !onFrozen.includes(k)))
    expect([...stored.values()].every((v) => v === 1)).toBe(true)
    expect(stored.size).toBe(keys.length - onFrozen.length)
  },
  90_000,
)
