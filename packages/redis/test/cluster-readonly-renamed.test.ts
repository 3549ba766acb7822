// A Redis Cluster whose nodes have READONLY renamed away (`rename-command READONLY ""`, as some
// managed services do), read with readFromReplicas: each replica connection opens with READONLY,
// which the server answers `ERR unknown command 'READONLY'`. Such a refused handshake is tried
// again 10 s later, then less and less often — not about 3 times a second for ever, by an idle
// cache (20 connections per replica in 6 s, before) — and reads stay on the primaries.
import { delay, redisCall, startCluster, type TestCluster } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

let cluster: TestCluster
beforeAll(async () => {
  cluster = await startCluster({
    primaries: 3,
    replicasPerPrimary: 1,
    args: ['--rename-command', 'READONLY', ''],
  })
  await cluster.waitUntilHealthy()
}, 120_000)
afterAll(async () => {
  await cluster?.stop()
})

/** Connections the node at `url` accepted so far (one more for this count's own). */
async function connections(url: string): Promise<number> {
  const stats = String(await redisCall(url, ['INFO', 'stats']))
  return Number(/total_connections_received:(\d+)/.exec(stats)?.[1])
}

/** How many `ERR` replies the node at `url` sent (a refused `READONLY`; not `MOVED`). */
async function errors(url: string): Promise<number> {
  const stats = String(await redisCall(url, ['INFO', 'errorstats']))
  return Number(/errorstat_ERR:count=(\d+)/.exec(stats)?.[1] ?? 0)
}

/** How many GETs the node at `url` ran. */
async function gets(url: string): Promise<number> {
  const stats = String(await redisCall(url, ['INFO', 'commandstats']))
  return Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0)
}

it('readFromReplicas with READONLY renamed away on the replicas: reads stay on the primaries, and the replicas are not knocked at several times a second', async () => {
  const primaries = new Set((await cluster.primaries()).map((n) => n.port))
  const replicas = cluster.nodes.filter((n) => !primaries.has(n.port))
  expect(replicas.length).toBe(3)
  const start = await Promise.all(replicas.map((n) => errors(n.url)))
  const cache = createCache({
    location: cluster.seeds,
    client: 'cluster',
    keyPrefix: 'ro',
    readFromReplicas: true,
  })
  try {
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`)
    for (const [i, k] of keys.entries()) expect(await cache.set(k, i)).toBe(true)
    // Until each replica refused the cache's READONLY (the cache learns of the replicas from the
    // slot map, which lists one once it has replicated something): reads all along.
    for (let round = 0; round < 60; round++) {
      for (const [i, k] of keys.entries()) expect(await cache.get(k)).toBe(i)
      const refused = await Promise.all(replicas.map((n) => errors(n.url)))
      if (refused.every((n, i) => n > (start[i] as number))) break
      await delay(500)
    }
    const refused = await Promise.all(replicas.map((n) => errors(n.url)))
    expect(refused.every((n, i) => n > (start[i] as number))).toBe(true)
    // The first refusals (a client of node-redis's and cachex's own) settle.
    await delay(3000)
    const before = await Promise.all(replicas.map((n) => connections(n.url)))
    await delay(8000)
    const after = await Promise.all(replicas.map((n) => connections(n.url)))
    const made = after.map((a, i) => a - (before[i] as number) - 1) // 1: the count's own
    // A refused handshake is tried again 10 s later at the soonest, then 20 s: at most one try
    // of each client in 8 s (before: about 25).
    expect(made.map((m) => Math.min(m, 2))).toEqual(made)
    // No read went to a replica: it never accepted a connection.
    for (const [i, k] of keys.entries()) expect(await cache.get(k)).toBe(i)
    expect(await Promise.all(replicas.map((n) => gets(n.url)))).toEqual([0, 0, 0])
  } finally {
    await cache.close()
  }
}, 180_000)
