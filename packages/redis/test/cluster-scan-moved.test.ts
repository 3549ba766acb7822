// A walk of a cluster's keys (keys, iterKeys, deletePattern, clear) after slots moved: SCAN names
// no key, so no MOVED tells the cache the map changed; the walk asks for the map first. And while
// a slot is half migrated: the keys already moved live on the importing node, which the map does
// not name for that slot (nor at all while it serves no slot yet); the walk visits it too.
import { type Cache, createCache, keySlot } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
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

it('a pattern pinned to a hash tag finds, counts and deletes every key of a slot half migrated', async () => {
  const cache = open(uniquePrefix('half'))
  const names = ['u:{43}:a', 'u:{43}:b', 'u:{43}:c', 'u:{43}:d']
  await cache.setMany(Object.fromEntries(names.map((n) => [n, n])))
  const rkey = cache.makeKey(names[0] as string)
  const owner = await cluster.primaryFor(rkey)
  const to = (await cluster.primaries()).find((p) => p.port !== owner.port)
  if (to === undefined) throw new Error('no other primary')
  const move = await cluster.beginSlotMove(keySlot(rkey), to)
  try {
    await move.migrate([cache.makeKey('u:{43}:a'), cache.makeKey('u:{43}:b')])
    expect(await cache.get('u:{43}:a')).toBe('u:{43}:a')
    expect((await cache.keys('u:{43}:*')).sort()).toEqual(names)
    const walked: string[] = []
    for await (const key of cache.iterKeys('u:{43}:*')) walked.push(key)
    expect(walked.sort()).toEqual(names)
    expect(await cache.deletePattern('u:{43}:*')).toBe(4)
    expect((await cache.getMany(names)).size).toBe(0)
  } finally {
    await move.migrate()
    await move.finish()
  }
})

it('keys() finds the keys already moved to a primary that serves no slot yet', async () => {
  const cache = open(uniquePrefix('first'))
  const names = Array.from({ length: 50 }, (_, i) => `m${i}`)
  await cache.setMany(Object.fromEntries(names.map((n) => [n, 1])))
  const fresh = await cluster.addNode()
  const rkey = cache.makeKey('m0')
  const move = await cluster.beginSlotMove(keySlot(rkey), fresh)
  try {
    await move.migrate([rkey])
    expect(await cache.get('m0')).toBe(1)
    expect((await cache.keys('*')).sort()).toEqual([...names].sort())
    expect(await cache.deletePattern('m*')).toBe(50)
    expect(await cache.get('m0')).toBeNull()
  } finally {
    await move.migrate()
    await move.finish()
  }
})

it('a user whose ACL refuses CLUSTER NODES walks the primaries of the map', async () => {
  for (const node of cluster.nodes) {
    const admin = createClient({ socket: { port: node.port, host: '127.0.0.1' } })
    admin.on('error', () => {})
    await admin.connect()
    try {
      await admin.sendCommand([
        'ACL',
        'SETUSER',
        'walker',
        'on',
        '>walker-pw',
        '~*',
        '&*',
        '+@all',
        '-cluster|nodes',
      ])
    } finally {
      await admin.close()
    }
  }
  const location = cluster.seeds.map((seed) =>
    seed.replace('redis://', 'redis://walker:walker-pw@'),
  )
  const cache = createCache({ client: 'cluster', location, keyPrefix: uniquePrefix('walker') })
  opened.push(cache)
  await cache.setMany({ 'w:{7}:a': 1, b: 2, c: 3 })
  expect((await cache.keys('*')).sort()).toEqual(['b', 'c', 'w:{7}:a'])
  expect(await cache.keys('w:{7}:*')).toEqual(['w:{7}:a'])
  expect(await cache.deletePattern('*')).toBe(3)
})
