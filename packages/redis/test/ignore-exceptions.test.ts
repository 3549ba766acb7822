import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { type Cache, caches, createCache, type OrIgnored } from '../src/index.ts'

const { server, closeAfterTest } = useFailureHarness()

/** Every call is bounded by 0.5 s; the whole table runs concurrently. */
const FAST = { socketConnectTimeout: 0.5, socketTimeout: 0.5 }

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}

/**
 * Each method, called on a cache whose server is gone, and the fallback it must resolve under
 * `ignoreExceptions` — the table of docs/configuration.md, row for row.
 */
function calls(cache: Cache<true>): Array<[string, () => Promise<unknown>, unknown]> {
  return [
    ['get', () => cache.get('k'), null],
    ['get with a default', () => cache.get('k', 'default'), 'default'],
    ['set', () => cache.set('k', 1), false],
    ['set nx', () => cache.set('k', 1, { nx: true }), false],
    ['set timeout 0', () => cache.set('k', 1, { timeout: 0 }), false],
    ['set get', () => cache.set('k', 1, { get: true }), null],
    ['add', () => cache.add('k', 1), false],
    ['delete', () => cache.delete('k'), false],
    ['getMany', () => cache.getMany(['a', 'b']), new Map()],
    ['setMany', () => cache.setMany({ a: 1, b: 2 }), ['a', 'b']],
    ['setMany timeout', () => cache.setMany(new Map([['a', 1]]), { timeout: 5 }), ['a']],
    ['setMany timeout 0', () => cache.setMany({ a: 1 }, { timeout: 0 }), ['a']],
    ['deleteMany', () => cache.deleteMany(['a', 'b']), 0],
    ['clear', () => cache.clear(), undefined],
    ['hasKey', () => cache.hasKey('k'), false],
    ['incr', () => cache.incr('n'), null],
    ['decr', () => cache.decr('n', 2n), null],
    ['touch', () => cache.touch('k', 10), false],
    ['touch never', () => cache.touch('k', null), false],
    ['getOrSet', () => cache.getOrSet('k', () => 'computed'), 'computed'],
    ['incrVersion', () => cache.incrVersion('k'), null],
    ['decrVersion', () => cache.decrVersion('k'), null],
    ['ttl', () => cache.ttl('k'), 0],
    ['pttl', () => cache.pttl('k'), 0],
    ['expire', () => cache.expire('k', 10), false],
    ['pexpire', () => cache.pexpire('k', 10_000), false],
    ['expireAt', () => cache.expireAt('k', new Date(Date.now() + 10_000)), false],
    ['pexpireAt', () => cache.pexpireAt('k', Date.now() + 10_000), false],
    ['persist', () => cache.persist('k'), false],
    ['keys', () => cache.keys('*'), []],
    ['iterKeys', () => collect(cache.iterKeys('*')), []],
    ['deletePattern', () => cache.deletePattern('*'), 0],
    ['hset', () => cache.hset('h', 'f', 1), 0],
    ['hdel', () => cache.hdel('h', 'f', 'g'), 0],
    ['hexists', () => cache.hexists('h', 'f'), false],
    ['hget', () => cache.hget('h', 'f'), null],
    ['hgetall', () => cache.hgetall('h'), {}],
    ['hincrby', () => cache.hincrby('h', 'f'), null],
    ['hincrbyfloat', () => cache.hincrbyfloat('h', 'f', 0.5), null],
    ['hlen', () => cache.hlen('h'), 0],
    ['hmget', () => cache.hmget('h', 'f', 'g', 'h'), [null, null, null]],
    ['hmset', () => cache.hmset('h', { f: 1 }), false],
    ['hsetnx', () => cache.hsetnx('h', 'f', 1), false],
    ['hvals', () => cache.hvals('h'), []],
    ['hkeys', () => cache.hkeys('h'), []],
    ['zadd', () => cache.zadd('z', { a: 1 }), 0],
    ['zadd incr', () => cache.zadd('z', { a: 1 }, { incr: true }), null],
    ['zcard', () => cache.zcard('z'), 0],
    ['zcount', () => cache.zcount('z', '-inf', '+inf'), 0],
    ['zincrby', () => cache.zincrby('z', 1, 'a'), null],
    ['zrange', () => cache.zrange('z', 0, -1), []],
    ['zrange withScores', () => cache.zrange('z', 0, -1, { withScores: true }), []],
    ['zrangebyscore', () => cache.zrangebyscore('z', 0, 10), []],
    ['zrank', () => cache.zrank('z', 'a'), null],
    ['zrevrank', () => cache.zrevrank('z', 'a'), null],
    ['zrem', () => cache.zrem('z', 'a'), 0],
    ['zremrangebyrank', () => cache.zremrangebyrank('z', 0, 1), 0],
    ['zscore', () => cache.zscore('z', 'a'), null],
    ['zmscore', () => cache.zmscore('z', 'a', 'b'), [null, null]],
    ['llen', () => cache.llen('l'), 0],
    ['lpush', () => cache.lpush('l', 1), null],
    ['rpush', () => cache.rpush('l', 1, 2), null],
    ['lpop', () => cache.lpop('l'), null],
    ['lpop count', () => cache.lpop('l', 2), []],
    ['rpop', () => cache.rpop('l'), null],
    ['lindex', () => cache.lindex('l', 0), null],
    ['lrange', () => cache.lrange('l', 0, -1), []],
    ['lset', () => cache.lset('l', 0, 1), false],
    ['ltrim', () => cache.ltrim('l', 0, 1), false],
    ['lpos', () => cache.lpos('l', 1), null],
    ['lpos count', () => cache.lpos('l', 1, { count: 0 }), []],
    ['lmove', () => cache.lmove('l', 'm'), null],
    ['linsert', () => cache.linsert('l', 'before', 1, 2), null],
    ['lrem', () => cache.lrem('l', 0, 1), 0],
    ['blpop', () => cache.blpop(['l', 'm'], 0.1), null],
    ['brpop', () => cache.brpop('l', 0.1), null],
    ['blmove', () => cache.blmove('l', 'm', 0.1), null],
    ['zpopmin', () => cache.zpopmin('z'), []],
    ['zpopmax', () => cache.zpopmax('z', 2), []],
    ['zrevrange', () => cache.zrevrange('z', 0, -1), []],
    ['zrevrangebyscore', () => cache.zrevrangebyscore('z', 10, 0), []],
    ['zscan', () => collect(cache.zscan('z')), []],
    ['hset mapping', () => cache.hset('h', { f: 1, g: 2 }), 0],
    ['hscan', () => collect(cache.hscan('h')), []],
    ['type', () => cache.type('k'), null],
    ['rename', () => cache.rename('k', 'j'), false],
    ['renamenx', () => cache.renamenx('k', 'j'), false],
    ['info', () => cache.info(), {}],
    ['slowlogGet', () => cache.slowlogGet(), []],
    ['slowlogLen', () => cache.slowlogLen(), 0],
    ['slowlogReset', () => cache.slowlogReset(), false],
    ['clearAllVersions', () => cache.clearAllVersions(), 0],
    ['sadd', () => cache.sadd('s', 1), 0],
    ['srem', () => cache.srem('s', 1), 0],
    ['smembers', () => cache.smembers('s'), []],
    ['sismember', () => cache.sismember('s', 1), false],
    ['smismember', () => cache.smismember('s', 1, 2), [false, false]],
    ['scard', () => cache.scard('s'), 0],
    ['spop', () => cache.spop('s'), null],
    ['spop count', () => cache.spop('s', 2), []],
    ['srandmember', () => cache.srandmember('s'), null],
    ['srandmember count', () => cache.srandmember('s', 2), []],
    ['smove', () => cache.smove('s', 't', 1), false],
    ['sdiff', () => cache.sdiff('s', 't'), []],
    ['sinter', () => cache.sinter('s', 't'), []],
    ['sunion', () => cache.sunion('s', 't'), []],
    ['sdiffstore', () => cache.sdiffstore('d', 's', 't'), 0],
    ['sinterstore', () => cache.sinterstore('d', 's', 't'), 0],
    ['sunionstore', () => cache.sunionstore('d', 's', 't'), 0],
    ['sscan', () => collect(cache.sscan('s')), []],
    ['xadd', () => cache.xadd('x', { f: 1 }), null],
    ['xlen', () => cache.xlen('x'), 0],
    ['xrange', () => cache.xrange('x'), []],
    ['xrevrange', () => cache.xrevrange('x'), []],
    ['xread', () => cache.xread({ x: '0' }), []],
    ['xread block', () => cache.xread({ x: '$' }, { block: 100 }), []],
    ['xtrim', () => cache.xtrim('x', { maxlen: 1 }), 0],
    ['xdel', () => cache.xdel('x', '1-0'), 0],
    ['xgroupCreate', () => cache.xgroupCreate('x', 'g'), false],
    ['xgroupDestroy', () => cache.xgroupDestroy('x', 'g'), false],
    ['xreadgroup', () => cache.xreadgroup('g', 'c', { x: '>' }, { block: 100 }), []],
    ['xack', () => cache.xack('x', 'g', '1-0'), 0],
    [
      'xpending',
      () => cache.xpending('x', 'g'),
      { count: 0, smallest: null, largest: null, consumers: [] },
    ],
    ['xpending count', () => cache.xpending('x', 'g', { count: 10 }), []],
    ['xclaim', () => cache.xclaim('x', 'g', 'c', 0, ['1-0']), []],
    [
      'xautoclaim',
      () => cache.xautoclaim('x', 'g', 'c', 0),
      { nextId: '0-0', entries: [], deletedIds: [] },
    ],
    [
      'xautoclaim justid',
      () => cache.xautoclaim('x', 'g', 'c', 0, { justid: true }),
      { nextId: '0-0', ids: [], deletedIds: [] },
    ],
    ['xinfoStream', () => cache.xinfoStream('x'), null],
  ]
}

describe('ignoreExceptions: every method resolves its fallback', () => {
  it('with the server stopped, each method resolves the fallback of its row', async () => {
    const s = await server()
    const cache = closeAfterTest(
      createCache({ location: s.url, keyPrefix: 'ie', ignoreExceptions: true, ...FAST }),
    )
    expect(await cache.set('k', 'stored')).toBe(true)
    await s.stop()
    const table = calls(cache)
    const results = await Promise.allSettled(table.map(([, call]) => call()))
    for (const [i, result] of results.entries()) {
      const [name, , fallback] = table[i] as [string, () => Promise<unknown>, unknown]
      expect(result, name).toEqual({ status: 'fulfilled', value: fallback })
    }
  })

  it('without a prefix, clear() (FLUSHDB) resolves undefined too', async () => {
    const s = await server()
    const cache = closeAfterTest(createCache({ location: s.url, ignoreExceptions: true, ...FAST }))
    await s.stop()
    expect(await cache.clear()).toBeUndefined()
  })

  it('the same calls reject without ignoreExceptions', async () => {
    const s = await server()
    const cache = closeAfterTest(createCache({ location: s.url, keyPrefix: 'ie', ...FAST }))
    await s.stop()
    // The table's cache type says Cache<true>; the calls are the same on a Cache<false>.
    const table = calls(cache as unknown as Cache<true>).filter(
      ([name]) => name !== 'get with a default',
    )
    const results = await Promise.allSettled(table.map(([, call]) => call()))
    for (const [i, result] of results.entries()) {
      expect(result.status, table[i]?.[0]).toBe('rejected')
    }
  })
})

describe('types', () => {
  it('methods with no neutral fallback say null only where errors may be ignored', () => {
    const ignoring = createCache({ ignoreExceptions: true, location: 'redis://127.0.0.1:1' })
    const strict = createCache({ location: 'redis://127.0.0.1:1' })
    const explicit = createCache({ ignoreExceptions: false, location: 'redis://127.0.0.1:1' })
    const flag = Math.random() > 2
    const either = createCache({ ignoreExceptions: flag, location: 'redis://127.0.0.1:1' })
    expectTypeOf(ignoring).toEqualTypeOf<Cache<true>>()
    expectTypeOf(strict).toEqualTypeOf<Cache<false>>()
    // The bare name is any cache.
    expectTypeOf<Cache>().toEqualTypeOf<Cache<boolean>>()
    expectTypeOf(explicit).toEqualTypeOf<Cache<false>>()
    expectTypeOf(either).toEqualTypeOf<Cache<boolean>>()
    expectTypeOf<ReturnType<typeof ignoring.incr>>().toEqualTypeOf<
      Promise<number | bigint | null>
    >()
    expectTypeOf<ReturnType<typeof strict.incr>>().toEqualTypeOf<Promise<number | bigint>>()
    expectTypeOf<ReturnType<typeof either.incr>>().toEqualTypeOf<Promise<number | bigint | null>>()
    expectTypeOf(caches.get).returns.toEqualTypeOf<Cache<boolean>>()
    expectTypeOf<ReturnType<typeof ignoring.decr>>().toEqualTypeOf<
      Promise<number | bigint | null>
    >()
    expectTypeOf(ignoring.incrVersion).returns.toEqualTypeOf<Promise<number | null>>()
    expectTypeOf(strict.incrVersion).returns.toEqualTypeOf<Promise<number>>()
    expectTypeOf(ignoring.hincrby).returns.toEqualTypeOf<Promise<number | bigint | null>>()
    expectTypeOf(ignoring.hincrbyfloat).returns.toEqualTypeOf<Promise<number | null>>()
    expectTypeOf(ignoring.zincrby).returns.toEqualTypeOf<Promise<number | null>>()
    expectTypeOf(ignoring.lpush).returns.toEqualTypeOf<Promise<number | null>>()
    expectTypeOf(strict.rpush).returns.toEqualTypeOf<Promise<number>>()
    // Methods with a fallback of their own type keep it either way.
    const plainSet = (c: typeof ignoring) => c.set('k', 1, { nx: true })
    const getSet = (c: typeof strict) => c.set<string>('k', 1, { get: true })
    expectTypeOf(plainSet).returns.toEqualTypeOf<Promise<boolean>>()
    expectTypeOf(getSet).returns.toEqualTypeOf<Promise<string | null>>()
    expectTypeOf(ignoring.deleteMany).returns.toEqualTypeOf<Promise<number>>()
    expectTypeOf(ignoring.setMany).returns.toEqualTypeOf<Promise<string[]>>()
    expectTypeOf<OrIgnored<boolean, number>>().toEqualTypeOf<number | null>()
    // A Cache<true> must not pass for a Cache<false>, nor a Cache<boolean>; every cache passes for a Cache.
    expectTypeOf(ignoring).not.toMatchTypeOf<Cache<false>>()
    expectTypeOf(either).not.toMatchTypeOf<Cache<false>>()
    expectTypeOf(strict).toMatchTypeOf<Cache>()
    expectTypeOf(ignoring).toMatchTypeOf<Cache>()
    // Nothing connected: close the caches without a server.
    return Promise.all([ignoring.close(), strict.close(), explicit.close(), either.close()])
  })
})
