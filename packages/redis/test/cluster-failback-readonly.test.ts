// readFromReplicas on a Redis Cluster: the cache first meets a node as a replica (node-redis's
// client of it sends READONLY), a manual failover makes it the primary, a failback makes it a
// replica again. A script still routed to it (incr, a lock, setMany with a timeout; alone, in a
// pipeline or in a transaction) passes the node's redirect check — EVAL/EVALSHA is no write
// command to Redis, and the client is READONLY — and fails inside with `READONLY`, where a plain
// SET gets MOVED. Right after the failback, each such call must still reach the new primary.
import { type Cache, createCache } from '@cachex/redis'
import { delay, startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli, failOver } from './_manual-failover.ts'

let cluster: TestCluster
const caches: Cache[] = []

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1, nodeTimeout: 2000 })
}, 120_000)

afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  await cluster?.stop()
})

function open(): Cache {
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix('fbro'),
    socketTimeout: 5,
    readFromReplicas: true,
  })
  caches.push(cache)
  return cache
}

async function outcome(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    (value) => value,
    (error: Error) => `${error.name}: ${error.message}`,
  )
}

const OPS = ['incr', 'lock acquire', 'lock release', 'pipeline', 'transaction', 'setMany'] as const

describe('readFromReplicas: a failover, then a failback', () => {
  it('scripts, locks, pipelines and transactions right after the failback go to the primary', async () => {
    // One cache per call: each meets the failback with its own stale map.
    const byOp = new Map(OPS.map((op) => [op, open()]))
    const key = '{fb}n'
    for (const cache of byOp.values()) {
      await cache.set(key, 5, null)
      expect(await cache.incr(key)).toBe(6) // the script ran on the slot's node
    }
    const any = byOp.get('incr') as Cache
    // Every replica in sync first: on a loaded machine, one may not be known yet.
    await cluster.waitUntilHealthy(60_000)
    const primary = await cluster.primaryFor(any.makeKey(key))
    let replica = await cluster.replicaOf(primary)
    for (let tries = 0; replica === undefined && tries < 300; tries++) {
      await delay(100)
      replica = await cluster.replicaOf(primary)
    }
    if (replica === undefined) throw new Error(`no live replica of ${primary.port}`)
    // Reads reach the replica: its node client is open in READONLY mode.
    for (const cache of byOp.values()) for (let i = 0; i < 20; i++) await cache.get(key)

    await failOver(cluster, replica, primary)
    // Each cache learns the new primary (MOVED on a write).
    for (const cache of byOp.values()) expect(await cache.incr(key)).toBe(7)
    const held = (byOp.get('lock release') as Cache).lock('{fb}held', { timeout: 60 })
    expect(await held.acquire({ blocking: false })).toBe(true)

    // Failback: the node the caches first met as a replica is a replica again.
    await failOver(cluster, primary, replica)
    const cache = (op: (typeof OPS)[number]) => byOp.get(op) as Cache
    const results = await Promise.all([
      outcome(cache('incr').incr(key)),
      outcome(cache('lock acquire').lock('{fb}lock', { timeout: 60 }).acquire({ blocking: false })),
      outcome(held.release()),
      outcome(cache('pipeline').pipeline().incr(key).exec()),
      outcome(cache('transaction').transaction().incr(key).exec()),
      outcome(cache('setMany').setMany({ '{fb}a': 1, '{fb}b': 2 }, 60)),
    ])
    expect(Object.fromEntries(OPS.map((op, i) => [op, results[i]]))).toEqual({
      incr: 8,
      'lock acquire': true,
      'lock release': undefined,
      pipeline: [8],
      transaction: [8],
      setMany: [],
    })

    // What they wrote is on the primary.
    for (const op of ['incr', 'pipeline', 'transaction'] as const) {
      expect(await cli(primary, 'GET', cache(op).makeKey(key))).toBe('8')
    }
    const setMany = cache('setMany')
    expect(Number(await cli(primary, 'TTL', setMany.makeKey('{fb}a')))).toBeGreaterThan(0)
    expect(Number(await cli(primary, 'TTL', setMany.makeKey('{fb}b')))).toBeGreaterThan(0)
    // The lock acquired right after the failback is held on the primary; the released one is not.
    const taken = cache('lock acquire').lock('{fb}lock', { timeout: 60 })
    expect(await taken.acquire({ blocking: false })).toBe(false)
    const again = cache('lock release').lock('{fb}held', { timeout: 60 })
    expect(await again.acquire({ blocking: false })).toBe(true)
  }, 240_000)
})
