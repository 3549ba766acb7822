// A walk of a cluster's keys (keys, iterKeys, deletePattern, clear) after slots moved: SCAN names
// no key, so no MOVED tells the cache the map changed; the walk asks for the map first.
import { type Cache, createCache, keySlot } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

let cluster: TestCluster
const opened: Cache[] = []

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await cluster?.stop()
})

function open(keyPrefix: string): Cache {
  const cache = createCache({ client: 'cluster', location: [...cluster.seeds], keyPrefix })
  opened.push(cache)
  return cache
}

/** Moves the slot of `key` to another primary. */
async function moveAway(key: string): Promise<void> {
  const owner = await cluster.primaryFor(key)
  const to = (await cluster.primaries()).find((p) => p.port !== owner.port)
  if (to === undefined) throw new Error('no other primary')
  await cluster.moveSlot(keySlot(key), to)
}

it('a pattern pinned to a hash tag finds and deletes its keys after their slot moved', async () => {
  const cache = open(uniquePrefix('moved'))
  await cache.setMany({ 'u:{42}:a': 1, 'u:{42}:b': 2 })
  expect((await cache.keys('u:{42}:*')).sort()).toEqual(['u:{42}:a', 'u:{42}:b'])
  await moveAway('{42}')
  expect((await cache.keys('u:{42}:*')).sort()).toEqual(['u:{42}:a', 'u:{42}:b'])
  expect(await cache.deletePattern('u:{42}:*')).toBe(2)
  expect(await cache.get('u:{42}:a')).toBeNull()
})

it('clear() of a cache whose prefix is a hash tag deletes its keys after their slot moved', async () => {
  const cache = open('{tenant7}')
  await cache.setMany({ a: 1, b: 2, c: 3 })
  await moveAway('{tenant7}')
  await cache.clear()
  expect((await cache.getMany(['a', 'b', 'c'])).size).toBe(0)
})

it('keys() walks a primary added, and given slots, after the cache started', async () => {
  const cache = open(uniquePrefix('added'))
  const names = Array.from({ length: 200 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((n) => [n, 1])))
  expect((await cache.keys('*')).length).toBe(200)
  const fresh = await cluster.addNode()
  await cluster.moveSlot(keySlot(cache.makeKey('k0')), fresh)
  expect((await cache.keys('*')).sort()).toEqual([...names].sort())
  await cache.clear()
  expect(await cache.keys('*')).toEqual([])
})
