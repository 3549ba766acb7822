// readFromReplicas on a Redis Cluster: cachex's client of a node it first met as a replica is in
// READONLY mode, and stays so when the node is promoted. Right after a failback the map still
// names that node as the primary of its slots, but it is a replica again: a write sent to it gets
// `MOVED` (and follows it), while a read sent right behind it on the same connection (one
// pipeline, or calls of one tick with a local tier) is answered from the replica's copy — the
// value from before the write. A read must never overtake a write queued before it.
import { type Cache, createCache } from '@cachex/redis'
import {
  type ClusterNode,
  delay,
  startCluster,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { failOver } from './_manual-failover.ts'

let cluster: TestCluster
const caches: Cache[] = []

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1, nodeTimeout: 2000 })
}, 120_000)

afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  await cluster?.stop()
})

describe('cluster failback with readFromReplicas: a read queued after a write sees it', () => {
  it('in one pipeline and in calls of one tick (local tier), through a failover and a failback of each shard', async () => {
    const cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('fbro'),
      readFromReplicas: true,
      local: { maxEntries: 1000 },
    })
    caches.push(cache)
    let running = true
    const stale: Array<Record<string, unknown>> = []
    let checks = 0
    // One writer per key, so that what each read must see is known exactly.
    const writer = async (k: string, pipeline: boolean) => {
      let v = 0
      while (running) {
        v++
        try {
          const replies: unknown[] = pipeline
            ? await cache
                .pipeline()
                .set(k, v)
                .get(k)
                .delete(`${k}:d`)
                .get(`${k}:d`)
                .set(`${k}:d`, v)
                .exec()
            : await Promise.all(
                [
                  cache.set(k, v),
                  cache.get(k),
                  cache.delete(`${k}:d`),
                  cache.get(`${k}:d`),
                  cache.set(`${k}:d`, v),
                ].map((p: Promise<unknown>) => p.catch((error: Error) => error)),
              )
          checks++
          if (replies[0] === true && !(replies[1] instanceof Error) && replies[1] !== v)
            stale.push({ k, v, got: replies[1] })
          if (
            replies[2] !== undefined &&
            !(replies[2] instanceof Error) &&
            !(replies[3] instanceof Error) &&
            replies[3] !== null
          )
            stale.push({ k: `${k}:d`, afterDelete: replies[3] })
        } catch {
          // A call failed during the failover: allowed; only a stale reply is wrong.
        }
      }
    }
    const writers = Array.from({ length: 12 }, (_, n) => writer(`k${n}`, n % 2 === 0))
    await delay(500)
    // Each shard's replica (met as a replica: READONLY) is promoted, then its old primary is
    // promoted back: the failback demotes a node whose client is READONLY.
    const shards: Array<[ClusterNode, ClusterNode]> = []
    for (const primary of await cluster.primaries()) {
      const replica = await cluster.replicaOf(primary)
      if (replica !== undefined) shards.push([primary, replica])
    }
    for (const [primary, replica] of shards) {
      await failOver(cluster, replica, primary)
      await delay(1000)
    }
    for (const [primary, replica] of shards) {
      await failOver(cluster, primary, replica)
      await delay(1500)
    }
    running = false
    await Promise.all(writers)
    expect(checks).toBeGreaterThan(100)
    expect(stale).toEqual([])
  }, 120_000)
})
