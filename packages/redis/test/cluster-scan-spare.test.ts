// A cluster walk visits, besides the primaries of the slot map, only the nodes they migrate a
// slot to (cluster-scan-moved.test.ts): a spare primary that serves no slot and imports none,
// down or frozen before the others mark it failed, holds no key and fails no walk.
import { type Cache, createCache } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

let cluster: TestCluster
const opened: Cache[] = []

beforeAll(async () => {
  // A long node timeout: the others do not mark the spare failed while the test runs.
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0, nodeTimeout: 30_000 })
}, 120_000)

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await cluster?.stop()
}, 60_000)

function open(): Cache {
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix('spare'),
    socketTimeout: 30,
  })
  opened.push(cache)
  return cache
}

it('a frozen, then a crashed, spare primary fails no walk', async () => {
  const cache = open()
  await cache.setMany(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])))
  const spare = await cluster.addNode()
  expect((await cache.keys('*')).length).toBe(50)
  spare.pause()
  try {
    // socketTimeout is 30 s: a walk that visited the frozen spare would wait that long, and fail.
    const started = performance.now()
    expect((await cache.keys('*')).length).toBe(50)
    expect(performance.now() - started).toBeLessThan(20_000)
  } finally {
    spare.resume()
  }
  await spare.kill()
  expect((await cache.keys('*')).length).toBe(50)
  expect(await cache.deletePattern('k1*')).toBe(11)
}, 120_000)
