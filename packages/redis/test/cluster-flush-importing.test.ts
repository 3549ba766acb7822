// clear() of a cache without a keyPrefix is FLUSHDB on every primary of the slot map. While a slot
// migrates to a primary that serves no slot yet (the first step of adding a shard), the keys
// already moved there are on a node the map does not name: the walks visited it, the flush did
// not, and left them. The flush now empties the nodes the primaries migrate a slot to as well.
import { type Cache, createCache, keySlot } from '@cachex/redis'
import { redisCall, startCluster, type TestCluster } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

let cluster: TestCluster
const opened: Cache[] = []
beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
}, 90_000)
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close().catch(() => undefined)))
  await cluster?.stop()
})

it('clear() (no prefix) while a slot migrates to a new, slotless primary: no key is left', async () => {
  const cache = createCache({ client: 'cluster', location: [...cluster.seeds], keyPrefix: '' })
  opened.push(cache)
  const names = Array.from({ length: 30 }, (_, i) => `{z}${i}`)
  await cache.setMany(Object.fromEntries(names.map((n) => [n, 1])), null)
  const fresh = await cluster.addNode()
  const move = await cluster.beginSlotMove(keySlot(cache.makeKey('{z}0')), fresh)
  try {
    await move.migrate(names.slice(0, 10).map((n) => cache.makeKey(n)))
    expect((await cache.keys('*')).length).toBe(30)
    await cache.clear()
    expect(Number(await redisCall(fresh.url, ['DBSIZE']))).toBe(0)
    expect((await cache.getMany(names)).size).toBe(0)
  } finally {
    await move.migrate()
    await move.finish()
  }
  expect((await cache.getMany(names)).size).toBe(0)
}, 60_000)
