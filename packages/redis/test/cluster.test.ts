import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import type { RedisClusterType } from '@redis/client'
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest'
import {
  type Cache,
  CrossSlotError,
  caches,
  configureCaches,
  createCache,
  getRedisConnection,
  InvalidArgumentError,
  KeyNotFoundError,
  keySlot,
  LockNotOwnedError,
  ResponseError,
} from '../src/index.ts'

let testCluster: TestCluster
let cache: Cache
const extra: Cache[] = []

function another(options: Parameters<typeof createCache<false>>[0] = {}): Cache {
  const c = createCache({ client: 'cluster', location: [...testCluster.seeds], ...options })
  extra.push(c)
  return c
}

/** Runs a raw command through the cache's own connection (routed by `key`). */
function raw(c: Cache, key: string, ...args: string[]): Promise<unknown> {
  return c.connection.command(args, { key })
}

/** How many primaries hold at least one of these Redis keys. */
async function shardsOf(redisKeys: string[]): Promise<number> {
  const sample = redisKeys.slice(0, 24)
  const ports = await Promise.all(sample.map(async (k) => (await testCluster.primaryFor(k)).port))
  return new Set(ports).size
}

const users = (n: number, prefix = 'u') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

beforeAll(async () => {
  testCluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
  cache = createCache({
    client: 'cluster',
    location: [...testCluster.seeds],
    keyPrefix: uniquePrefix('cl'),
  })
})

afterAll(async () => {
  await Promise.all([cache?.close(), ...extra.map((c) => c.close())])
  await testCluster?.stop()
})

beforeEach(async () => {
  await cache.clear()
})

describe('standard API on a cluster', () => {
  it('get / set / add / delete / hasKey', async () => {
    expect(await cache.set('a', { x: 1 })).toBe(true)
    expect(await cache.get('a')).toEqual({ x: 1 })
    expect(await cache.get('missing', 'dflt')).toBe('dflt')
    expect(await cache.add('a', 2)).toBe(false)
    expect(await cache.add('b', 2)).toBe(true)
    expect(await cache.set('a', 3, { xx: true })).toBe(true)
    expect(await cache.set('c', 3, { xx: true })).toBe(false)
    expect(await cache.hasKey('a')).toBe(true)
    expect(await cache.delete('a')).toBe(true)
    expect(await cache.delete('a')).toBe(false)
    expect(await cache.hasKey('a')).toBe(false)
    expect(await cache.set('gone', 1, { timeout: 0 })).toBe(false)
    expect(await cache.get('gone')).toBeNull()
  })

  it('getMany / setMany / deleteMany over keys on every shard', async () => {
    const keys = users(120)
    expect(await shardsOf(keys.map((k) => cache.makeKey(k)))).toBe(3)
    const entries = Object.fromEntries(keys.map((k, i) => [k, { i }]))
    expect(await cache.setMany(entries)).toEqual([])
    const found = await cache.getMany(['nope', ...keys, 'nope2'])
    expect(found.size).toBe(120)
    expect([...found.keys()]).toEqual(keys)
    expect(found.get('u77')).toEqual({ i: 77 })
    // With a timeout: one SET … PX per key, each on its own shard.
    expect(await cache.setMany(new Map(keys.map((k) => [k, k])), { timeout: 60 })).toEqual([])
    expect(await cache.get('u5')).toBe('u5')
    expect(await cache.ttl('u99')).toBeGreaterThan(50)
    expect(await cache.deleteMany([...keys.slice(0, 100), 'nope'])).toBe(100)
    expect((await cache.getMany(keys)).size).toBe(20)
    expect(await cache.setMany({ u110: 1, u111: 2 }, { timeout: 0 })).toEqual([])
    expect(await cache.hasKey('u110')).toBe(false)
  })

  it('clear removes every version of this prefix on every shard, and nothing else', async () => {
    const other = another({ keyPrefix: uniquePrefix('other') })
    await cache.setMany(Object.fromEntries(users(60).map((k) => [k, 1])))
    await cache.set('v2', 1, { version: 2 })
    await other.set('keep', 1)
    await cache.clear()
    expect(await cache.keys('*')).toEqual([])
    expect(await cache.get('v2', null, { version: 2 })).toBeNull()
    expect(await other.get('keep')).toBe(1)
  })

  it('clear without a prefix flushes every primary', async () => {
    const plain = another({ keyPrefix: '' })
    await plain.setMany(Object.fromEntries(users(30, 'plain').map((k) => [k, 1])))
    await plain.clear()
    for (const primary of await testCluster.primaries()) {
      const client = createCache({ location: primary.url })
      try {
        expect(await client.connection.command(['DBSIZE'])).toBe(0)
      } finally {
        await client.close()
      }
    }
  })

  it('incr / decr', async () => {
    await cache.set('n', 10)
    expect(await cache.incr('n')).toBe(11)
    expect(await cache.incr('n', 5)).toBe(16)
    expect(await cache.decr('n', 20)).toBe(-4)
    await expect(cache.incr('missing')).rejects.toThrow(KeyNotFoundError)
    await cache.set('f', 1.5)
    expect(await cache.incr('f')).toBe(2.5)
  })

  it('touch', async () => {
    await cache.set('t', 1, { timeout: null })
    expect(await cache.touch('t', 100)).toBe(true)
    expect(await cache.ttl('t')).toBeGreaterThan(90)
    expect(await cache.touch('t', null)).toBe(true)
    expect(await cache.ttl('t')).toBeNull()
    expect(await cache.touch('missing', null)).toBe(false)
    expect(await cache.touch('missing', 10)).toBe(false)
  })

  it('getOrSet', async () => {
    expect(await cache.getOrSet('g', () => 'computed')).toBe('computed')
    expect(await cache.getOrSet('g', () => 'again')).toBe('computed')
    expect(await cache.getOrSet('g2', async () => ({ ok: true }), { timeout: 30 })).toEqual({
      ok: true,
    })
  })

  it('incrVersion / decrVersion with a hash-tagged key', async () => {
    const key = 'user:{42}'
    expect(keySlot(cache.makeKey(key, 1))).toBe(keySlot(cache.makeKey(key, 2)))
    await cache.set(key, 'v', { timeout: 100 })
    expect(await cache.incrVersion(key)).toBe(2)
    expect(await cache.get(key)).toBeNull()
    expect(await cache.get(key, null, { version: 2 })).toBe('v')
    expect(await cache.pttl(key)).toBe(0)
    expect(await cache.decrVersion(key, 1, { version: 2 })).toBe(1)
    expect(await cache.get(key)).toBe('v')
    await expect(cache.incrVersion('user:{missing}')).rejects.toThrow(KeyNotFoundError)
  })

  it('incrVersion without a hash tag fails with a clear error and moves nothing', async () => {
    const key = 'plainkey'
    expect(keySlot(cache.makeKey(key, 1))).not.toBe(keySlot(cache.makeKey(key, 2)))
    await cache.set(key, 'v')
    const error = await cache.incrVersion(key).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CrossSlotError)
    expect(error).toBeInstanceOf(ResponseError)
    expect((error as Error).message).toMatch(/incrVersion.*different hash slots.*hash tag/)
    expect(await cache.get(key)).toBe('v')
  })

  it('rename across slots names a rename and the hash tag that joins two keys, not versions', async () => {
    expect(keySlot(cache.makeKey('s1'))).not.toBe(keySlot(cache.makeKey('s2')))
    await cache.set('s1', 'v')
    for (const call of [cache.rename('s1', 's2'), cache.renamenx('s1', 's2')]) {
      const error = await call.catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CrossSlotError)
      expect((error as Error).message).toMatch(
        /RENAME(NX)? across hash slots \(a rename\).*hash tag/,
      )
      expect((error as Error).message).not.toMatch(/version/)
    }
    expect(await cache.get('s1')).toBe('v')
  })
})

describe('extended API on a cluster', () => {
  it('ttl / pttl / expire / pexpire / expireAt / pexpireAt / persist', async () => {
    await cache.set('e', 1, { timeout: null })
    expect(await cache.ttl('e')).toBeNull()
    expect(await cache.ttl('missing')).toBe(0)
    expect(await cache.expire('e', 100)).toBe(true)
    expect(await cache.ttl('e')).toBeGreaterThan(90)
    expect(await cache.pexpire('e', 50_000)).toBe(true)
    expect(await cache.pttl('e')).toBeGreaterThan(40_000)
    expect(await cache.expireAt('e', new Date(Date.now() + 200_000))).toBe(true)
    expect(await cache.ttl('e')).toBeGreaterThan(190)
    expect(await cache.pexpireAt('e', Date.now() + 300_000)).toBe(true)
    expect(await cache.ttl('e')).toBeGreaterThan(290)
    expect(await cache.persist('e')).toBe(true)
    expect(await cache.ttl('e')).toBeNull()
    expect(await cache.expire('missing', 10)).toBe(false)
  })

  it('keys / iterKeys / deletePattern over keys on every shard', async () => {
    const keys = users(150, 'item:')
    expect(await shardsOf(keys.map((k) => cache.makeKey(k)))).toBe(3)
    await cache.setMany(Object.fromEntries(keys.map((k) => [k, 1])))
    await cache.setMany({ 'other:1': 1, 'other:2': 2 })
    expect((await cache.keys('item:*')).sort()).toEqual([...keys].sort())
    const iterated: string[] = []
    for await (const key of cache.iterKeys('item:1*', { itersize: 10 })) iterated.push(key)
    expect(iterated.sort()).toEqual(keys.filter((k) => k.startsWith('item:1')).sort())
    expect(await cache.deletePattern('item:*', { itersize: 20 })).toBe(150)
    expect((await cache.keys('*')).sort()).toEqual(['other:1', 'other:2'])
  })

  it('keys of a hash-tagged pattern come from its one slot', async () => {
    await cache.setMany({ 'cart:{7}:a': 1, 'cart:{7}:b': 2, 'cart:{8}:a': 3 })
    expect((await cache.keys('cart:{7}:*')).sort()).toEqual(['cart:{7}:a', 'cart:{7}:b'])
    expect(await cache.deletePattern('cart:{7}:*')).toBe(2)
    expect(await cache.keys('cart:*')).toEqual(['cart:{8}:a'])
  })
})

describe('hashes on a cluster', () => {
  it('every hash method', async () => {
    expect(await cache.hset('h', 'a', { v: 1 })).toBe(1)
    expect(await cache.hset('h', 'a', { v: 2 })).toBe(0)
    expect(await cache.hget('h', 'a')).toEqual({ v: 2 })
    expect(await cache.hexists('h', 'a')).toBe(true)
    expect(await cache.hsetnx('h', 'a', 9)).toBe(false)
    expect(await cache.hsetnx('h', 'b', 'two')).toBe(true)
    await cache.hmset('h', { c: 3, d: [4] })
    expect(await cache.hmget('h', 'a', 'nope', 'c')).toEqual([{ v: 2 }, null, 3])
    expect(await cache.hgetall('h')).toEqual({ a: { v: 2 }, b: 'two', c: 3, d: [4] })
    expect(await cache.hlen('h')).toBe(4)
    expect((await cache.hkeys('h')).sort()).toEqual(['a', 'b', 'c', 'd'])
    expect(await cache.hvals('h')).toHaveLength(4)
    expect(await cache.hincrby('h', 'n', 5)).toBe(5)
    expect(await cache.hincrbyfloat('h', 'fl', 1.5)).toBe(1.5)
    expect(await cache.hdel('h', 'a', 'b', 'nope')).toBe(2)
  })
})

describe('sorted sets on a cluster', () => {
  it('every sorted-set method', async () => {
    expect(await cache.zadd('z', { a: 1, b: 2, c: 3 })).toBe(3)
    expect(await cache.zadd('z', [[4, 'd']])).toBe(1)
    expect(await cache.zcard('z')).toBe(4)
    expect(await cache.zcount('z', 2, '+inf')).toBe(3)
    expect(await cache.zincrby('z', 10, 'a')).toBe(11)
    expect(await cache.zrange('z', 0, -1)).toEqual(['b', 'c', 'd', 'a'])
    expect(await cache.zrange('z', 0, 0, { desc: true, withScores: true })).toEqual([['a', 11]])
    expect(await cache.zrangebyscore('z', '(2', 4)).toEqual(['c', 'd'])
    expect(await cache.zrangebyscore('z', 0, 100, { offset: 1, count: 1 })).toEqual(['c'])
    expect(await cache.zrank('z', 'b')).toBe(0)
    expect(await cache.zrevrank('z', 'b')).toBe(3)
    expect(await cache.zscore('z', 'd')).toBe(4)
    expect(await cache.zmscore('z', 'd', 'nope')).toEqual([4, null])
    expect(await cache.zrem('z', 'd', 'nope')).toBe(1)
    expect(await cache.zremrangebyrank('z', 0, 0)).toBe(1)
    expect(await cache.zrange('z', 0, -1)).toEqual(['c', 'a'])
  })
})

describe('lists on a cluster', () => {
  it('every list method', async () => {
    expect(await cache.rpush('l', 'a', 'b', 'c')).toBe(3)
    expect(await cache.lpush('l', 'z')).toBe(4)
    expect(await cache.llen('l')).toBe(4)
    expect(await cache.lrange('l', 0, -1)).toEqual(['z', 'a', 'b', 'c'])
    expect(await cache.lindex('l', 1)).toBe('a')
    expect(await cache.lset('l', 1, 'A')).toBe(true)
    expect(await cache.lpos('l', 'b')).toBe(2)
    expect(await cache.lpos('l', 'b', { count: 0 })).toEqual([2])
    expect(await cache.lpop('l')).toBe('z')
    expect(await cache.rpop('l')).toBe('c')
    expect(await cache.rpush('l', 'x', 'y')).toBe(4)
    expect(await cache.ltrim('l', 0, 2)).toBe(true)
    expect(await cache.lpop('l', 2)).toEqual(['A', 'b'])
    expect(await cache.rpop('l', 5)).toEqual(['x'])
    expect(await cache.rpop('l')).toBeNull()
  })

  it('lmove within one slot, and a clear error across slots', async () => {
    await cache.rpush('jobs:{mail}:pending', 'j1', 'j2')
    expect(await cache.lmove('jobs:{mail}:pending', 'jobs:{mail}:done', 'LEFT', 'RIGHT')).toBe('j1')
    expect(await cache.lrange('jobs:{mail}:done', 0, -1)).toEqual(['j1'])
    expect(keySlot(cache.makeKey('src'))).not.toBe(keySlot(cache.makeKey('dst')))
    await cache.rpush('src', 'v')
    const error = await cache.lmove('src', 'dst').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CrossSlotError)
    expect((error as Error).message).toMatch(/LMOVE across hash slots.*hash tag/)
    expect(await cache.llen('src')).toBe(1)
  })

  it('under ignoreExceptions, keys of one call in several slots still reject: no retry fixes them', async () => {
    const lenient = createCache({
      client: 'cluster',
      location: [...testCluster.seeds],
      ignoreExceptions: true,
      keyPrefix: cache.keyPrefix,
    })
    extra.push(lenient as unknown as Cache)
    await lenient.set('src', 1)
    await expect(lenient.rename('src', 'dst')).rejects.toBeInstanceOf(CrossSlotError)
    await expect(lenient.transaction().set('src', 2).set('dst', 2).exec()).rejects.toBeInstanceOf(
      CrossSlotError,
    )
    expect(await lenient.get('src')).toBe(1)
  })
})

describe('sets on a cluster', () => {
  it('every set method; several sets in one slot by a hash tag, a clear error across slots', async () => {
    expect(await cache.sadd('s', 'a', 'b', 'c')).toBe(3)
    expect(await cache.srem('s', 'c')).toBe(1)
    expect((await cache.smembers<string>('s')).sort()).toEqual(['a', 'b'])
    expect(await cache.sismember('s', 'a')).toBe(true)
    expect(await cache.smismember('s', 'a', 'z')).toEqual([true, false])
    expect(await cache.scard('s')).toBe(2)
    expect(['a', 'b']).toContain(await cache.srandmember('s'))
    const members = Array.from({ length: 200 }, (_, i) => i)
    await cache.sadd('big', ...members)
    const seen: unknown[] = []
    for await (const member of cache.sscan('big', { count: 20 })) seen.push(member)
    expect((seen as number[]).sort((a, b) => a - b)).toEqual(members)

    await cache.sadd('{team}:a', 1, 2, 3)
    await cache.sadd('{team}:b', 2, 3, 4)
    expect(await cache.sdiff('{team}:a', '{team}:b')).toEqual([1])
    expect((await cache.sinter<number>('{team}:a', '{team}:b')).sort()).toEqual([2, 3])
    expect(await cache.sunionstore('{team}:all', '{team}:a', '{team}:b')).toBe(4)
    expect(await cache.smove('{team}:a', '{team}:b', 1)).toBe(true)
    expect(await cache.spop('{team}:a', 5)).toHaveLength(2)

    expect(keySlot(cache.makeKey('x'))).not.toBe(keySlot(cache.makeKey('y')))
    await cache.sadd('x', 1)
    for (const call of [
      () => cache.sinter('x', 'y'),
      () => cache.sunionstore('x', 'y'),
      () => cache.smove('x', 'y', 1),
    ]) {
      const error = await call().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CrossSlotError)
      expect((error as Error).message).toMatch(/across hash slots.*hash tag/)
    }
    expect(await cache.smembers('x')).toEqual([1])
  })
})

describe('streams on a cluster', () => {
  it('every stream method; several streams in one slot by a hash tag, a clear error across slots', async () => {
    const id = await cache.xadd('st', { job: { n: 1 } })
    expect(await cache.xlen('st')).toBe(1)
    expect(await cache.xrange('st')).toEqual([{ id, fields: { job: { n: 1 } } }])
    expect(await cache.xrevrange('st')).toHaveLength(1)
    expect(await cache.xgroupCreate('st', 'g', { id: '0' })).toBe(true)
    const read = await cache.xreadgroup('g', 'c', { st: '>' })
    expect(read).toEqual([{ key: 'st', entries: [{ id, fields: { job: { n: 1 } } }] }])
    expect((await cache.xpending('st', 'g')).count).toBe(1)
    expect(await cache.xclaim('st', 'g', 'd', 0, [id as string], { justid: true })).toEqual([id])
    expect((await cache.xautoclaim('st', 'g', 'e', 0)).entries).toHaveLength(1)
    expect(await cache.xack('st', 'g', id as string)).toBe(1)
    expect((await cache.xinfoStream('st'))?.groups).toBe(1)
    expect(await cache.xgroupDestroy('st', 'g')).toBe(true)
    expect(await cache.xdel('st', id as string)).toBe(1)
    expect(await cache.xtrim('st', { maxlen: 0 })).toBe(0)

    await cache.xadd('{feed}:a', { n: 1 }, { id: '1-0' })
    await cache.xadd('{feed}:b', { n: 2 }, { id: '1-0' })
    expect(await cache.xread({ '{feed}:a': '0', '{feed}:b': '0' })).toEqual([
      { key: '{feed}:a', entries: [{ id: '1-0', fields: { n: 1 } }] },
      { key: '{feed}:b', entries: [{ id: '1-0', fields: { n: 2 } }] },
    ])
    // A blocking read runs on a dedicated client of the slot's primary, answered by a later xadd.
    const waiting = cache.xread({ '{feed}:a': '1-0' }, { block: 20_000 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await cache.get('other')).toBeNull()
    await another({ keyPrefix: cache.keyPrefix }).xadd('{feed}:a', { n: 3 }, { id: '2-0' })
    expect(await waiting).toEqual([{ key: '{feed}:a', entries: [{ id: '2-0', fields: { n: 3 } }] }])

    expect(keySlot(cache.makeKey('x'))).not.toBe(keySlot(cache.makeKey('y')))
    for (const call of [
      () => cache.xread({ x: '0', y: '0' }),
      () => cache.xread({ x: '0', y: '0' }, { block: 100 }),
      () => cache.xreadgroup('g', 'c', { x: '>', y: '>' }),
    ]) {
      const error = await call().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(CrossSlotError)
      expect((error as Error).message).toMatch(/across hash slots.*hash tag/)
    }
  })
})

describe("django-cachex's additions on a cluster", () => {
  it('lists, sorted sets, hashes and key helpers; rename within a slot, a clear error across', async () => {
    await cache.rpush('l', 'a', 'c')
    expect(await cache.linsert('l', 'before', 'c', 'b')).toBe(3)
    expect(await cache.lrem('l', 0, 'a')).toBe(1)
    expect(await cache.blpop('l', 1)).toEqual(['l', 'b'])
    await cache.rpush('{q}:a', 1)
    expect(await cache.brpop(['{q}:b', '{q}:a'], 1)).toEqual(['{q}:a', 1])
    await cache.rpush('{q}:a', 2)
    expect(await cache.blmove('{q}:a', '{q}:b', 1)).toBe(2)
    const crossing = await cache.blpop(['src', 'dst'], 1).catch((e: unknown) => e)
    expect(crossing).toBeInstanceOf(CrossSlotError)
    await cache.zadd('z', { a: 1, b: 2, c: 3 })
    expect(await cache.zrevrange('z', 0, 0)).toEqual(['c'])
    expect(await cache.zrevrangebyscore('z', 2, 1)).toEqual(['b', 'a'])
    expect(await cache.zpopmax('z')).toEqual([['c', 3]])
    expect(await cache.zpopmin('z')).toEqual([['a', 1]])
    const scanned: unknown[] = []
    for await (const pair of cache.zscan('z')) scanned.push(pair)
    expect(scanned).toEqual([['b', 2]])
    expect(await cache.hset('h', { f: 1, g: 2 })).toBe(2)
    const fields: unknown[] = []
    for await (const [field] of cache.hscan('h')) fields.push(field)
    expect(fields.sort()).toEqual(['f', 'g'])
    expect(await cache.type('h')).toBe('hash')
    expect(typeof (await cache.info('server')).redis_version).toBe('string')
    expect(await cache.slowlogLen()).toBeGreaterThanOrEqual(0)

    await cache.set('{acct}:a', 1)
    expect(await cache.rename('{acct}:a', '{acct}:b')).toBe(true)
    expect(await cache.get('{acct}:b')).toBe(1)
    expect(keySlot(cache.makeKey('src'))).not.toBe(keySlot(cache.makeKey('dst')))
    await cache.set('src', 1)
    const error = await cache.rename('src', 'dst').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CrossSlotError)
    expect(await cache.get('src')).toBe(1)

    // Every primary is walked: keys of every slot, in every version, go.
    await cache.set('v', 1, { version: 5 })
    expect(await cache.clearAllVersions()).toBeGreaterThanOrEqual(5)
    expect(await cache.keys('*')).toEqual([])
    expect(await cache.get('v', null, { version: 5 })).toBeNull()
  })
})

describe('lock on a cluster', () => {
  it('acquires, extends, reacquires and releases', async () => {
    const lock = cache.lock('job', { timeout: 5 })
    expect(await lock.acquire()).toBe(true)
    expect(await lock.locked()).toBe(true)
    expect(await lock.owned()).toBe(true)
    expect(await cache.lock('job').acquire({ blocking: false })).toBe(false)
    expect(await lock.extend(5)).toBe(true)
    expect(await raw(cache, lock.name, 'PTTL', lock.name)).toBeGreaterThan(5000)
    expect(await lock.reacquire()).toBe(true)
    await lock.release()
    expect(await lock.locked()).toBe(false)
    const stolen = cache.lock('job2', { timeout: 5 })
    await stolen.acquire()
    await raw(cache, stolen.name, 'SET', stolen.name, 'someone-else')
    await expect(stolen.release()).rejects.toThrow(LockNotOwnedError)
    expect(await cache.lock('job3').withLock(() => 'done')).toBe('done')
  })
})

describe('the cluster client', () => {
  it("getRedisConnection(alias, { client: 'cluster' }) resolves the RedisCluster, typed", async () => {
    const alias = uniquePrefix('alias')
    configureCaches({ [alias]: { client: 'cluster', location: [...testCluster.seeds] } })
    try {
      const cluster = await getRedisConnection(alias, { client: 'cluster' })
      expectTypeOf(cluster).toEqualTypeOf<RedisClusterType>()
      expect(cluster.masters.length).toBe(3)
      await cluster.set('{typed}k', 'v')
      expect(await cluster.get('{typed}k')).toBe('v')
      await expect(getRedisConnection(alias, { client: 'default' })).rejects.toThrow(
        /runs on a Redis Cluster \(client: 'cluster'\)/,
      )
      await expect(getRedisConnection(alias, { client: 'sentinel' })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    } finally {
      await caches.close()
    }
  })

  it('getRedisConnection-style client() gives the node-redis cluster', async () => {
    const client = (await cache.connection.client()) as { get(key: string): Promise<unknown> }
    await cache.set('visible', 7)
    expect(await client.get(cache.makeKey('visible'))).toBe('7')
  })
})
