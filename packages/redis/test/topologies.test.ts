// The cache API, every method, on each topology with replicas: a primary with read replicas
// (`location: [primary, replica, replica]`) and Redis Sentinel (`client: 'sentinel'`). Reads go
// to replicas, which replication reaches a moment after the write: `synced()` waits for it (WAIT)
// where a test reads what it just wrote.
import {
  type Cache,
  type CreateCacheOptions,
  caches,
  configureCaches,
  createCache,
  getRedisConnection,
  Lock,
} from '@cachex/redis'
import { type RedisServer, startReplicaSet, startSentinels, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

interface Deployment {
  /** The options that pick the topology. */
  options: CreateCacheOptions<false>
  primary: RedisServer
  replicas: readonly RedisServer[]
  stop(): Promise<void>
}

interface Topology {
  name: string
  start(): Promise<Deployment>
  /** Runs `INFO replication` on what `getRedisConnection` resolved, as a read or a write. */
  role(client: unknown): Promise<string>
}

type SendOne = { sendCommand(args: string[]): Promise<unknown> }

function roleIn(info: unknown): string {
  return /role:(\w+)/.exec(String(info))?.[1] ?? '?'
}

const topologies: Topology[] = [
  {
    name: 'primary + 2 replicas (client: default, location: [primary, replica, replica])',
    start: async () => {
      const set = await startReplicaSet({ replicas: 2 })
      return { options: { location: [...set.urls] }, ...set }
    },
    role: async (client) => roleIn(await (client as SendOne).sendCommand(['INFO', 'replication'])),
  },
  {
    name: "sentinel, primary + 2 replicas (client: 'sentinel')",
    start: async () => {
      const deployment = await startSentinels({ replicas: 2 })
      return {
        options: {
          client: 'sentinel',
          location: deployment.location,
          sentinels: deployment.addresses,
        },
        ...deployment,
      }
    },
    // getRedisConnection gives the primary's node-redis client, or a replica's for reads
    role: async (client) => roleIn(await (client as SendOne).sendCommand(['INFO', 'replication'])),
  },
]

describe.each(topologies)('$name', (topology) => {
  let deployment: Deployment
  let cache: Cache

  /** Waits until both replicas have applied every write so far. */
  const synced = async () => {
    await cache.connection.command(['WAIT', '2', '5000'])
  }

  beforeAll(async () => {
    deployment = await topology.start()
    cache = createCache({ ...deployment.options, keyPrefix: uniquePrefix('topo') })
  })

  afterAll(async () => {
    await caches.close()
    await cache?.close()
    await deployment?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  it('set, get, add, delete, hasKey', async () => {
    expect(await cache.set('a', { n: 1, s: 'x' })).toBe(true)
    expect(await cache.add('a', 'other')).toBe(false)
    expect(await cache.add('b', [1, 2, 3])).toBe(true)
    await synced()
    expect(await cache.get('a')).toEqual({ n: 1, s: 'x' })
    expect(await cache.get('b')).toEqual([1, 2, 3])
    expect(await cache.get('missing', 'dflt')).toBe('dflt')
    expect(await cache.hasKey('a')).toBe(true)
    expect(await cache.delete('a')).toBe(true)
    expect(await cache.delete('a')).toBe(false)
    await synced()
    expect(await cache.hasKey('a')).toBe(false)
    expect(await cache.get('a')).toBeNull()
  })

  it('getMany, setMany, deleteMany', async () => {
    expect(await cache.setMany({ k1: 1, k2: 'two', k3: { three: 3 } })).toEqual([])
    expect(await cache.setMany(new Map([['k4', 4]]), { timeout: 60 })).toEqual([])
    await synced()
    const found = await cache.getMany(['k1', 'k2', 'k3', 'k4', 'nope'])
    expect(Object.fromEntries(found)).toEqual({ k1: 1, k2: 'two', k3: { three: 3 }, k4: 4 })
    expect(await cache.deleteMany(['k1', 'k2', 'nope'])).toBe(2)
    await synced()
    expect([...(await cache.getMany(['k1', 'k2', 'k3'])).keys()]).toEqual(['k3'])
  })

  it('incr, decr, ttl, touch, persist', async () => {
    await cache.set('n', 10)
    expect(await cache.incr('n')).toBe(11)
    expect(await cache.incr('n', 5)).toBe(16)
    expect(await cache.decr('n', 6)).toBe(10)
    await cache.set('t', 'v', { timeout: 100 })
    await synced()
    const ttl = (await cache.ttl('t')) as number
    expect(ttl).toBeGreaterThan(90)
    expect(ttl).toBeLessThanOrEqual(100)
    expect(await cache.touch('t', 500)).toBe(true)
    await synced()
    expect(await cache.ttl('t')).toBeGreaterThan(400)
    expect(await cache.touch('t', null)).toBe(true)
    await synced()
    expect(await cache.ttl('t')).toBeNull()
    expect(await cache.ttl('missing')).toBe(0)
    expect(await cache.touch('missing', 10)).toBe(false)
    // what a replica reads matches what the primary wrote
    expect(await cache.get('n')).toBe(10)
  })

  it('keys, iterKeys, deletePattern, clear', async () => {
    for (let i = 0; i < 30; i++) await cache.set(`user:${i}`, i)
    await cache.set('other', 'o')
    const keys = await cache.keys('user:*')
    expect(keys.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `user:${i}`).sort())
    const iterated: string[] = []
    for await (const key of cache.iterKeys('user:1*', { itersize: 5 })) iterated.push(key)
    expect(iterated.sort()).toEqual(
      ['user:1', ...Array.from({ length: 10 }, (_, i) => `user:1${i}`)].sort(),
    )
    expect(await cache.deletePattern('user:2*')).toBe(11)
    expect((await cache.keys('*')).length).toBe(30 - 11 + 1)
    await cache.clear()
    expect(await cache.keys('*')).toEqual([])
    await synced()
    expect(await cache.get('other')).toBeNull()
  })

  it('hashes: hset, hgetall, hget', async () => {
    expect(await cache.hset('h', 'f1', { a: 1 })).toBe(1)
    expect(await cache.hset('h', 'f2', 'two')).toBe(1)
    expect(await cache.hset('h', 'f2', 'deux')).toBe(0)
    await synced()
    expect(await cache.hgetall('h')).toEqual({ f1: { a: 1 }, f2: 'deux' })
    expect(await cache.hget('h', 'f1')).toEqual({ a: 1 })
  })

  it('sorted sets: zadd, zrange', async () => {
    expect(await cache.zadd('z', { a: 1, b: 3, c: 2 })).toBe(3)
    await synced()
    expect(await cache.zrange('z', 0, -1)).toEqual(['a', 'c', 'b'])
    expect(await cache.zrange('z', 0, 1, { desc: true, withScores: true })).toEqual([
      ['b', 3],
      ['c', 2],
    ])
  })

  it('lists: rpush, lrange', async () => {
    expect(await cache.rpush('l', 'x', { y: 1 }, 3)).toBe(3)
    await synced()
    expect(await cache.lrange('l', 0, -1)).toEqual(['x', { y: 1 }, 3])
  })

  it('lock: acquire, contention, release', async () => {
    const lock = cache.lock('job', { timeout: 10 })
    expect(lock).toBeInstanceOf(Lock)
    expect(await lock.acquire()).toBe(true)
    expect(await lock.owned()).toBe(true)
    expect(await lock.locked()).toBe(true)
    const other = cache.lock('job', { timeout: 10 })
    expect(await other.acquire({ blocking: false })).toBe(false)
    await lock.release()
    expect(await lock.locked()).toBe(false)
    expect(await other.acquire({ blocking: false })).toBe(true)
    await other.release()
  })

  it('every other method: versions, expiry, getOrSet', async () => {
    expect(await cache.add('v', { n: 1 }, 60)).toBe(true)
    await synced()
    expect(await cache.getOrSet('v', () => 'never')).toEqual({ n: 1 })
    expect(await cache.getOrSet('computed', async () => 'made', { timeout: 60 })).toBe('made')
    expect(await cache.incrVersion('v')).toBe(2)
    await synced()
    expect(await cache.get('v', null, { version: 2 })).toEqual({ n: 1 })
    expect(await cache.decrVersion('v', 1, { version: 2 })).toBe(1)
    expect(await cache.expire('v', 100)).toBe(true)
    expect(await cache.pexpire('computed', 50_000)).toBe(true)
    await synced()
    const pttl = (await cache.pttl('computed')) as number
    expect(pttl).toBeGreaterThan(40_000)
    expect(pttl).toBeLessThanOrEqual(50_000)
    expect(await cache.expireAt('v', new Date(Date.now() + 200_000))).toBe(true)
    expect(await cache.pexpireAt('computed', Date.now() + 300_000)).toBe(true)
    await synced()
    expect(await cache.ttl('v')).toBeGreaterThan(150)
    expect(await cache.persist('v')).toBe(true)
    await synced()
    expect(await cache.ttl('v')).toBeNull()
    expect(await cache.deleteMany(['v', 'computed', 'none'])).toBe(2)
  })

  it('every other method: hashes', async () => {
    await cache.hmset('h', { a: 1, b: 'two', c: [3] })
    expect(await cache.hsetnx('h', 'a', 9)).toBe(false)
    expect(await cache.hsetnx('h', 'd', 4)).toBe(true)
    expect(await cache.hincrby('h', 'a', 5)).toBe(6)
    expect(await cache.hincrbyfloat('h', 'f', 1.5)).toBe(1.5)
    await synced()
    expect(await cache.hexists('h', 'b')).toBe(true)
    expect(await cache.hlen('h')).toBe(5)
    expect(await cache.hmget('h', 'a', 'b', 'zz')).toEqual([6, 'two', null])
    expect((await cache.hkeys('h')).sort()).toEqual(['a', 'b', 'c', 'd', 'f'])
    const byField: Record<string, unknown> = { a: 6, b: 'two', c: [3], d: 4, f: 1.5 }
    // HVALS and HKEYS walk the hash in the same order.
    expect(await cache.hvals('h')).toEqual((await cache.hkeys('h')).map((f) => byField[f]))
    expect(await cache.hdel('h', 'a', 'zz')).toBe(1)
    await synced()
    expect(await cache.hget('h', 'a')).toBeNull()
  })

  it('every other method: sorted sets', async () => {
    expect(
      await cache.zadd('z', [
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
        [4, 'd'],
      ]),
    ).toBe(4)
    expect(await cache.zincrby('z', 10, 'a')).toBe(11)
    await synced()
    expect(await cache.zcard('z')).toBe(4)
    expect(await cache.zcount('z', '(2', '+inf')).toBe(3)
    expect(await cache.zrangebyscore('z', 2, 4, { withScores: true })).toEqual([
      ['b', 2],
      ['c', 3],
      ['d', 4],
    ])
    expect(await cache.zrank('z', 'a')).toBe(3)
    expect(await cache.zrevrank('z', 'a')).toBe(0)
    expect(await cache.zscore('z', 'b')).toBe(2)
    expect(await cache.zmscore('z', 'b', 'nope')).toEqual([2, null])
    expect(await cache.zrem('z', 'b', 'nope')).toBe(1)
    expect(await cache.zremrangebyrank('z', 0, 0)).toBe(1)
    await synced()
    expect(await cache.zrange('z', 0, -1)).toEqual(['d', 'a'])
  })

  it('every other method: lists', async () => {
    expect(await cache.lpush('l', 'b', 'a')).toBe(2)
    expect(await cache.rpush('l', 'c', 'd', 'e')).toBe(5)
    expect(await cache.lset('l', 0, 'A')).toBe(true)
    expect(await cache.ltrim('l', 0, 3)).toBe(true)
    await synced()
    expect(await cache.llen('l')).toBe(4)
    expect(await cache.lindex('l', 0)).toBe('A')
    expect(await cache.lpos('l', 'c')).toBe(2)
    expect(await cache.lpos('l', 'c', { count: 0 })).toEqual([2])
    expect(await cache.lpop('l')).toBe('A')
    expect(await cache.rpop('l', 2)).toEqual(['d', 'c'])
    expect(await cache.lmove('l', 'l2', 'LEFT', 'RIGHT')).toBe('b')
    await synced()
    expect(await cache.lrange('l2', 0, -1)).toEqual(['b'])
    expect(await cache.llen('l')).toBe(0)
  })

  it('every other method: sets', async () => {
    expect(await cache.sadd('s', 'a', 'b', 'c')).toBe(3)
    expect(await cache.sadd('t', 'b', 'd')).toBe(2)
    expect(await cache.srem('s', 'c')).toBe(1)
    expect(await cache.smove('s', 't', 'a')).toBe(true)
    expect(await cache.sunionstore('u', 's', 't')).toBe(3)
    await synced()
    expect(await cache.smembers('s')).toEqual(['b'])
    expect(await cache.sismember('t', 'a')).toBe(true)
    expect(await cache.smismember('t', 'a', 'z')).toEqual([true, false])
    expect(await cache.scard('u')).toBe(3)
    expect(await cache.sinter('s', 't')).toEqual(['b'])
    expect((await cache.sdiff<string>('t', 's')).sort()).toEqual(['a', 'd'])
    const scanned: unknown[] = []
    for await (const member of cache.sscan('u')) scanned.push(member)
    expect(scanned.sort()).toEqual(['a', 'b', 'd'])
    expect(await cache.spop('s')).toBe('b')
  })

  it('sscan, zscan and hscan walk one node: every member once, over many cursor calls', async () => {
    // Each replica holds a big set, zset and hash in its own order: a cursor from one means
    // nothing to another, so a walk whose calls rotated among them skipped and repeated members.
    const n = 2000
    const names = Array.from({ length: n }, (_, i) => `m${i}`)
    await cache.sadd('s', ...names)
    await cache.zadd('z', Object.fromEntries(names.map((name, i) => [name, i])))
    await cache.hset('h', Object.fromEntries(names.map((name, i) => [name, i])))
    await synced()
    /** Every item of a walk, and how many distinct names (members, fields) it held. */
    const walked = async <T>(walk: AsyncIterable<T>, name: (item: T) => unknown) => {
      const items: T[] = []
      for await (const item of walk) items.push(item)
      return { count: items.length, distinct: new Set(items.map(name)).size, items }
    }
    const members = await walked(cache.sscan('s', { count: 20 }), (m) => m)
    expect([members.count, members.distinct]).toEqual([n, n])
    const scored = await walked(cache.zscan('z', { count: 20 }), ([m]) => m)
    expect([scored.count, scored.distinct]).toEqual([n, n])
    expect(new Map(scored.items).get('m1234')).toBe(1234)
    const fields = await walked(cache.hscan('h', { count: 20 }), ([f]) => f)
    expect([fields.count, fields.distinct]).toEqual([n, n])
    expect(new Map(fields.items).get('m77')).toBe(77)
  })

  it("every other method: django-cachex's additions", async () => {
    await cache.rpush('l', 'a', 'c')
    expect(await cache.linsert('l', 'after', 'a', 'b')).toBe(3)
    expect(await cache.lrem('l', 1, 'c')).toBe(1)
    await cache.rpush('q', 'job')
    expect(await cache.blpop(['none', 'q'], 1)).toEqual(['q', 'job'])
    expect(await cache.blmove('none', 'q', 0.2)).toBeNull()
    await cache.zadd('z', { a: 1, b: 2 })
    expect(await cache.hset('h', { f: 1 })).toBe(1)
    await cache.set('r', 1)
    expect(await cache.rename('r', 'r2')).toBe(true)
    await synced()
    expect(await cache.lrange('l', 0, -1)).toEqual(['a', 'b'])
    expect(await cache.zrevrange('z', 0, -1)).toEqual(['b', 'a'])
    expect(await cache.zrevrangebyscore('z', '+inf', 2)).toEqual(['b'])
    const pairs: unknown[] = []
    for await (const pair of cache.hscan('h')) pairs.push(pair)
    expect(pairs).toEqual([['f', 1]])
    expect(await cache.type('r2')).toBe('string')
    expect(await cache.zpopmin('z')).toEqual([['a', 1]])
    expect(typeof (await cache.info()).redis_version).toBe('string')
    expect(await cache.clearAllVersions()).toBeGreaterThan(0)
  })

  it('every other method: streams', async () => {
    const first = (await cache.xadd('st', { job: { n: 1 } }, { id: '1-0' })) as string
    await cache.xadd('st', { job: 'two' }, { id: '2-0' })
    expect(await cache.xgroupCreate('st', 'g', { id: '0' })).toBe(true)
    const read = await cache.xreadgroup('g', 'c', { st: '>' }, { count: 1 })
    expect(read).toEqual([{ key: 'st', entries: [{ id: first, fields: { job: { n: 1 } } }] }])
    expect(await cache.xclaim('st', 'g', 'd', 0, [first])).toHaveLength(1)
    expect((await cache.xautoclaim('st', 'g', 'e', 0, { justid: true })).ids).toEqual([first])
    expect(await cache.xack('st', 'g', first)).toBe(1)
    await synced()
    expect(await cache.xlen('st')).toBe(2)
    expect((await cache.xrange('st')).map((e) => e.fields.job)).toEqual([{ n: 1 }, 'two'])
    expect((await cache.xrevrange('st', '+', '-', { count: 1 }))[0]?.id).toBe('2-0')
    expect(await cache.xread({ st: '1-0' })).toEqual([
      { key: 'st', entries: [{ id: '2-0', fields: { job: 'two' } }] },
    ])
    expect((await cache.xpending('st', 'g')).count).toBe(0)
    expect((await cache.xinfoStream('st'))?.length).toBe(2)
    // A blocking read (on a replica: a read) is answered once the entry replicates.
    const waiting = cache.xread({ st: '2-0' }, { block: 20_000 })
    await new Promise((resolve) => setTimeout(resolve, 100))
    await cache.xadd('st', { job: 3 }, { id: '3-0' })
    expect((await waiting)[0]?.entries).toEqual([{ id: '3-0', fields: { job: 3 } }])
    expect(await cache.xdel('st', '1-0')).toBe(1)
    expect(await cache.xtrim('st', { maxlen: 1 })).toBe(1)
    expect(await cache.xgroupDestroy('st', 'g')).toBe(true)
  })

  it('pipelines and transactions run on the primary', async () => {
    await cache.set('p', 1)
    const results = await cache
      .pipeline()
      .set('p', 2, { get: true })
      .incr('p')
      .sadd('ps', 'a')
      .get('p')
      .exec()
    expect(results).toEqual([1, 3, 1, 3])
    const tx = await cache.transaction().hset('ph', { f: 1 }).hget('ph', 'f').incr('p').exec()
    expect(tx).toEqual([1, 1, 4])
    await synced()
    expect(await cache.get('p')).toBe(4)
  })

  it('reads run on the replicas, writes on the primary', async () => {
    await cache.set('routed', 'r')
    await synced()
    const nodes = await Promise.all(
      [deployment.primary, ...deployment.replicas].map(async (server) => {
        const client = createClient({ url: server.url })
        client.on('error', () => {})
        await client.connect()
        return client
      }),
    )
    try {
      for (const node of nodes) await node.sendCommand(['CONFIG', 'RESETSTAT'])
      for (let i = 0; i < 50; i++) expect(await cache.get('routed')).toBe('r')
      await cache.set('routed', 'again')
      const calls = await Promise.all(
        nodes.map(async (node) => {
          const stats = String(await node.sendCommand(['INFO', 'commandstats']))
          return {
            get: Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0),
            set: Number(/cmdstat_set:calls=(\d+)/.exec(stats)?.[1] ?? 0),
          }
        }),
      )
      const [primary, ...replicas] = calls as [(typeof calls)[0], ...typeof calls]
      expect(primary.get).toBe(0)
      expect(primary.set).toBe(1)
      expect(replicas.reduce((sum, r) => sum + r.get, 0)).toBe(50)
    } finally {
      for (const node of nodes) node.destroy()
    }
  })

  it('getRedisConnection gives a replica for reads, the primary for writes', async () => {
    const alias = uniquePrefix('alias')
    configureCaches({ [alias]: { ...deployment.options, keyPrefix: uniquePrefix('reg') } })
    const read = await getRedisConnection(alias, { write: false })
    expect(await topology.role(read)).toBe('slave')
    const write = await getRedisConnection(alias)
    expect(await topology.role(write)).toBe('master')
    await caches.close()
  })
})
