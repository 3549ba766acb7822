// hincrby() resolves HINCRBY's own reply, read as its digits (node-redis would round an integer
// reply near 2^53): exact at and beyond 2^53, with no second command, so increments of one field
// in flight together each resolve their own result (a counter handing out ids never repeats
// one), in a pipeline and a transaction too, whatever the other commands sent with it.
import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import {
  startCluster,
  startReplicaSet,
  startSentinels,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw } from './helpers.ts'

const SAFE = Number.MAX_SAFE_INTEGER // 2^53 - 1
const INT64_MAX = 2n ** 63n - 1n

describe.each(BACKENDS)('%s: hincrby near 2^53', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let jsonCache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('hc') })
    // Its codec reads text: replies come as UTF-8 strings, but for a `digits` route.
    jsonCache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('hc-json'),
      serializer: 'json',
    })
  })

  afterAll(async () => {
    await cache?.close()
    await jsonCache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
    await jsonCache.clear()
  })

  it('two increments in flight together resolve two different results', async () => {
    const start = 2 ** 53 - 40
    await cache.hincrby('h', 'f', start)
    const results = await Promise.all([cache.hincrby('h', 'f', 1), cache.hincrby('h', 'f', 1)])
    expect(results.sort()).toEqual([start + 1, start + 2])
  })

  it('ten increments in flight together resolve ten distinct results (a counter handing out ids)', async () => {
    const start = 2 ** 53 - 20
    await cache.hincrby('h', 'g', start)
    const results = await Promise.all(Array.from({ length: 10 }, () => cache.hincrby('h', 'g', 1)))
    expect(new Set(results.map(String)).size).toBe(10)
    // Across 2^53: numbers up to 2^53 - 1, bigints from 2^53 on, every one of them.
    const all = results.map((n) => BigInt(n ?? Number.NaN)).sort((a, b) => (a < b ? -1 : 1))
    expect(all).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(start) + BigInt(i + 1)))
    for (const n of results)
      expect(typeof n).toBe(BigInt(n ?? 0) > BigInt(SAFE) ? 'bigint' : 'number')
  })

  it('a single increment to 2^53 - 1, 2^53, 2^53 + 1, -(2^53) - 1 and 2^63 - 1 resolves it exactly', async () => {
    expect(await cache.hincrby('h', 'a', SAFE)).toBe(SAFE)
    expect(await cache.hincrby('h', 'b', 2 ** 53 - 2)).toBe(2 ** 53 - 2)
    expect(await cache.hincrby('h', 'b', 2)).toBe(2n ** 53n)
    expect(await cache.hincrby('h', 'c', SAFE)).toBe(SAFE)
    expect(await cache.hincrby('h', 'c', 2)).toBe(2n ** 53n + 1n)
    expect(await cache.hincrby('h', 'd', -SAFE)).toBe(-SAFE)
    expect(await cache.hincrby('h', 'd', -2)).toBe(-(2n ** 53n) - 1n)
    await raw(cache, 'HSET', cache.makeKey('h'), 'e', String(INT64_MAX - 5n))
    expect(await cache.hincrby('h', 'e', 5)).toBe(INT64_MAX)
    await raw(cache, 'HSET', cache.makeKey('h'), 'm', String(-INT64_MAX))
    expect(await cache.hincrby('h', 'm', -1)).toBe(-INT64_MAX - 1n)
    await expect(cache.hincrby('h', 'e', 1)).rejects.toThrow(/overflow/)
  })

  it('a cache whose codec reads text gets the same exact results, and small ones as numbers', async () => {
    expect(await jsonCache.hincrby('h', 'f', SAFE - 1)).toBe(SAFE - 1)
    expect(await jsonCache.hincrby('h', 'f', 3)).toBe(2n ** 53n + 1n)
    expect(await jsonCache.hget('h', 'f')).toBe(2n ** 53n + 1n)
    expect(await jsonCache.hincrby('h', 'small', 7)).toBe(7)
  })

  it('through a pipeline: exact beyond 2^53, the other commands’ replies as they always are', async () => {
    for (const c of [cache, jsonCache]) {
      await c.set('s', 'text value')
      const results = await c
        .pipeline()
        .hset('h', 'v', { nested: ['x', 1] })
        .hincrby('h', 'f', SAFE - 3)
        .hincrby('h', 'f', 5)
        .hincrby('h', 'n', -SAFE)
        .hincrby('h', 'n', -7)
        .hincrby('h', 'c', 2)
        .hlen('h')
        .hexists('h', 'f')
        .hget('h', 'v')
        .hmget('h', 'v', 'missing')
        .get('s')
        .sadd('set', 'a', 'b')
        .smismember('set', 'a', 'z')
        .ttl('s') // the default timeout: 300 s
        .delete('nothing-here')
        .exec()
      expect(results).toEqual([
        1,
        SAFE - 3,
        2n ** 53n + 1n,
        -SAFE,
        -(2n ** 53n) - 6n,
        2,
        4,
        true,
        { nested: ['x', 1] },
        [{ nested: ['x', 1] }, null],
        'text value',
        2,
        [true, false],
        300,
        false,
      ])
    }
  })

  it('two pipelines in flight together resolve different results', async () => {
    await cache.hincrby('h', 'f', SAFE - 1)
    const [a, b] = await Promise.all([
      cache.pipeline().hincrby('h', 'f', 1).hlen('h').exec(),
      cache.pipeline().hincrby('h', 'f', 1).hlen('h').exec(),
    ])
    expect([a?.[0], b?.[0]].map(String).sort()).toEqual([String(SAFE), String(2n ** 53n)])
    expect([a?.[1], b?.[1]]).toEqual([1, 1])
  })

  it('through a transaction: exact beyond 2^53, the other replies as they always are', async () => {
    await cache.hincrby('h', 'f', SAFE)
    const results = await cache
      .transaction()
      .hincrby('h', 'f', 2)
      .hset('h', 'g', 'x')
      .hlen('h')
      .hincrby('h', 'f', -3)
      .exec()
    expect(results).toEqual([2n ** 53n + 1n, 1, 2, SAFE - 1])
  })

  it('the raw connection keeps integer replies as numbers unless a route asks for digits', async () => {
    const key = cache.makeKey('raw')
    expect(await cache.connection.command(['HINCRBY', key, 'f', '5'], { key })).toBe(5)
    expect(
      await cache.connection.command(['HINCRBY', key, 'f', String(SAFE)], { key, digits: true }),
    ).toBe(String(2n ** 53n + 4n))
    expect(await cache.connection.command(['HLEN', key], { key, digits: true })).toBe('1')
    expect(await cache.connection.command(['HLEN', key], { key })).toBe(1)
  })
})

describe('cluster: hincrby near 2^53', () => {
  let cluster: TestCluster
  let cache: Cache

  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('hc-cluster'),
    })
  })

  afterAll(async () => {
    await cache?.close()
    await cluster?.stop()
  })

  it('concurrent increments on the node of each key resolve distinct exact results', async () => {
    for (const key of ['a', 'b', 'c']) {
      await cache.hincrby(key, 'f', SAFE - 3)
      const results = await Promise.all(Array.from({ length: 6 }, () => cache.hincrby(key, 'f', 1)))
      expect(results.map(String).sort()).toEqual(
        Array.from({ length: 6 }, (_, i) => String(BigInt(SAFE - 3) + BigInt(i + 1))).sort(),
      )
    }
  })

  it('a pipeline over several nodes: exact increments, a split delete still counted as a number', async () => {
    await cache.setMany({ x: 1, y: 2, z: 3, w: 4 })
    const results = await cache
      .pipeline()
      .hincrby('a', 'g', SAFE)
      .hincrby('b', 'g', SAFE)
      .hincrby('a', 'g', 2)
      .hincrby('b', 'g', 3)
      .deleteMany(['x', 'y', 'z', 'w'])
      .hlen('c')
      .exec()
    expect(results).toEqual([SAFE, SAFE, 2n ** 53n + 1n, 2n ** 53n + 2n, 4, 1])
  })
})

const replicated: Array<{
  name: string
  start(): Promise<{ options: CreateCacheOptions<false>; stop(): Promise<void> }>
}> = [
  {
    name: 'primary + replica',
    start: async () => {
      const set = await startReplicaSet({ replicas: 1 })
      return { options: { location: [...set.urls] }, stop: () => set.stop() }
    },
  },
  {
    name: 'sentinel',
    start: async () => {
      const deployment = await startSentinels({ replicas: 1 })
      const options: CreateCacheOptions<false> = {
        client: 'sentinel',
        location: deployment.location,
        sentinels: deployment.addresses,
      }
      return { options, stop: () => deployment.stop() }
    },
  },
]

describe.each(replicated)('$name: hincrby near 2^53', (topology) => {
  let stop: (() => Promise<void>) | undefined
  let cache: Cache

  beforeAll(async () => {
    const deployment = await topology.start()
    stop = () => deployment.stop()
    cache = createCache({ ...deployment.options, keyPrefix: uniquePrefix('hc-topo') })
  })

  afterAll(async () => {
    await cache?.close()
    await stop?.()
  })

  it('concurrent increments, a pipeline and a transaction resolve exact results', async () => {
    await cache.hincrby('h', 'f', SAFE - 2)
    const results = await Promise.all(Array.from({ length: 4 }, () => cache.hincrby('h', 'f', 1)))
    expect(results.map(String).sort()).toEqual(
      [SAFE - 1, SAFE, 2n ** 53n, 2n ** 53n + 1n].map(String).sort(),
    )
    expect(await cache.pipeline().hincrby('h', 'f', 1).hlen('h').exec()).toEqual([
      2n ** 53n + 2n,
      1,
    ])
    expect(await cache.transaction().hincrby('h', 'f', 1).hlen('h').exec()).toEqual([
      2n ** 53n + 3n,
      1,
    ])
  })
})
