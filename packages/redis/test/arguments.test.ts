// One argument convention across the cache (issue 10): Django's positional timeout and the options
// object in the same position, `{ version }` on every method that takes a key, no option silently
// ignored, and the small type promises (a default makes `get` non-null, `incr` as a number).
import {
  type Cache,
  createCache,
  InvalidArgumentError,
  NotANumberError,
  ResponseError,
} from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, expectTypeOf, it } from 'vitest'
import { BACKENDS, backendServer, raw, rawGet, rawPttl } from './helpers.ts'

let server: { url: string; stop(): Promise<void> }
let cache: Cache<false>

beforeAll(async () => {
  server = await standaloneServer()
  cache = createCache({ location: server.url, keyPrefix: uniquePrefix('args'), timeout: 300 })
})

afterAll(async () => {
  await cache?.close()
  await server?.stop()
})

beforeEach(async () => {
  await cache.clear()
})

/** Asserts that Redis holds `key` (at `version`) with a PTTL close to `seconds`. */
async function expectTtl(key: string, seconds: number | null, version?: number): Promise<void> {
  const pttl = await rawPttl(cache, key, version)
  if (seconds === null) {
    expect(pttl, `${key} has no expiry`).toBe(-1)
  } else {
    expect(pttl, `${key} expires in about ${seconds} s`).toBeGreaterThan(seconds * 1000 - 2000)
    expect(pttl).toBeLessThanOrEqual(seconds * 1000)
  }
}

describe('timeouts: positional seconds and the options object, in the same position', () => {
  // Each method, each form, the PTTL Redis actually stored (the default is 300 s: 60 and null
  // are told apart from it).
  const forms = [
    ['positional seconds', 60, undefined],
    ['{ timeout }', { timeout: 60 }, undefined],
    ['positional seconds, then { version }', 60, { version: 1 }],
  ] as const

  it.each(forms)('set: %s', async (_, timeout, more) => {
    expect(await cache.set('k', 'v', timeout as never, more)).toBe(true)
    await expectTtl('k', 60)
  })

  it.each(forms)('add: %s', async (_, timeout, more) => {
    expect(await cache.add('k', 'v', timeout as never, more)).toBe(true)
    await expectTtl('k', 60)
    expect(await cache.add('k', 'w', timeout as never, more)).toBe(false)
  })

  it.each(forms)('touch: %s', async (_, timeout, more) => {
    await cache.set('k', 'v', null)
    expect(await cache.touch('k', timeout as never, more)).toBe(true)
    await expectTtl('k', 60)
  })

  it.each(forms)('getOrSet: %s', async (_, timeout, more) => {
    expect(await cache.getOrSet('k', () => 'v', timeout as never, more)).toBe('v')
    await expectTtl('k', 60)
  })

  it.each(forms)('setMany: %s', async (_, timeout, more) => {
    expect(await cache.setMany({ a: 1, b: 'x' }, timeout as never, more)).toEqual([])
    await expectTtl('a', 60)
    await expectTtl('b', 60)
  })

  it('null never expires and undefined is the default, in both forms', async () => {
    await cache.set('a', 1, null)
    await cache.set('b', 1, { timeout: null })
    await cache.set('c', 1, undefined)
    await cache.set('d', 1, {})
    await expectTtl('a', null)
    await expectTtl('b', null)
    await expectTtl('c', 300)
    await expectTtl('d', 300)
    await cache.setMany({ e: 1 }, null)
    await expectTtl('e', null)
    await cache.touch('c', null)
    await expectTtl('c', null)
    expect(await cache.getOrSet('f', 'v', null)).toBe('v')
    await expectTtl('f', null)
  })

  it('0 deletes the key in both forms, as in Django', async () => {
    await cache.set('a', 1)
    await cache.set('a', 2, 0)
    expect(await rawGet(cache, 'a')).toBeNull()
    await cache.set('a', 1)
    await cache.touch('a', { timeout: 0 })
    expect(await rawGet(cache, 'a')).toBeNull()
  })

  it('set takes nx/xx after positional seconds, and inside the options object', async () => {
    expect(await cache.set('k', 1, 60, { nx: true })).toBe(true)
    expect(await cache.set('k', 2, 60, { nx: true })).toBe(false)
    expect(await cache.set('k', 3, { timeout: 30, xx: true })).toBe(true)
    expect(await cache.get('k')).toBe(3)
    await expectTtl('k', 30)
  })

  it('the version given with positional seconds selects the key', async () => {
    await cache.set('k', 'v2', 60, { version: 2 })
    await cache.add('a', 'v2', 60, { version: 2 })
    await cache.setMany({ m: 1 }, 60, { version: 2 })
    expect(await rawGet(cache, 'k')).toBeNull()
    expect(await cache.get('k', null, { version: 2 })).toBe('v2')
    expect(await cache.get('a', null, { version: 2 })).toBe('v2')
    expect(await cache.get('m', null, { version: 2 })).toBe(1)
    await expectTtl('k', 60, 2)
    await cache.touch('k', 10, { version: 2 })
    await expectTtl('k', 10, 2)
    expect(await cache.getOrSet('g', 'x', 60, { version: 3 })).toBe('x')
    await expectTtl('g', 60, 3)
  })

  const bad: Array<[string, unknown]> = [
    ['a string', '60'],
    ['a boolean', true],
    ['an array', [60]],
    ['a function', () => 60],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['{ timeout: "x" }', { timeout: 'x' }],
    ['an unknown option', { timeuot: 60 }],
  ]

  it.each(bad)('%s is refused by every method, which stores nothing', async (what, timeout) => {
    const t = timeout as never
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['set', () => cache.set('k', 'v', t)],
      ['add', () => cache.add('k', 'v', t)],
      ['touch', () => cache.touch('k', t)],
      ['getOrSet', () => cache.getOrSet('k', 'v', t)],
      ['setMany', () => cache.setMany({ k: 'v' }, t)],
    ]
    for (const [method, call] of calls) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error, `${method}(${what})`).toBeInstanceOf(InvalidArgumentError)
      expect(String((error as Error).message), method).toContain(`${method}()`)
    }
    expect(await rawGet(cache, 'k')).toBeNull()
  })

  it('says what is accepted', async () => {
    await expect(cache.set('k', 'v', '60' as never)).rejects.toThrow(
      /set\(\) takes a timeout in seconds \(a number, or null for no expiry\) or an options object \{ timeout, version, nx, xx, get \}, got a string/,
    )
    await expect(cache.add('k', 'v', { nx: true } as never)).rejects.toThrow(
      /add\(\) does not take the option 'nx' \(it takes timeout, version\)/,
    )
    await expect(cache.set('k', 'v', 60, { timeout: 30 } as never)).rejects.toThrow(
      /set\(\) does not take the option 'timeout'/,
    )
    await expect(cache.set('k', 'v', { timeout: 60 } as never, { nx: true })).rejects.toThrow(
      /not two objects/,
    )
  })
})

describe('{ version } on every method that takes a key', () => {
  // Each method run at version 7 must touch the key of version 7 and leave version 1 alone.
  const at = { version: 7 }

  it('strings and expiry', async () => {
    await cache.set('k', 'seven', at)
    await cache.set('k', 'one')
    expect(await cache.get('k', null, at)).toBe('seven')
    expect(await cache.ttl('k', at)).toBeGreaterThan(290)
    expect(await cache.pttl('k', at)).toBeGreaterThan(290_000)
    expect(await cache.expire('k', 50, at)).toBe(true)
    await expectTtl('k', 50, 7)
    expect(await cache.pexpire('k', 40_000, at)).toBe(true)
    await expectTtl('k', 40, 7)
    expect(await cache.expireAt('k', Date.now() / 1000 + 30, at)).toBe(true)
    await expectTtl('k', 30, 7)
    expect(await cache.pexpireAt('k', Date.now() + 20_000, at)).toBe(true)
    await expectTtl('k', 20, 7)
    expect(await cache.persist('k', at)).toBe(true)
    await expectTtl('k', null, 7)
    // Version 1 kept its own value and default timeout.
    expect(await cache.get('k')).toBe('one')
    await expectTtl('k', 300)
    await cache.set('n', 1, at)
    expect(await cache.incr('n', 1, at)).toBe(2)
    expect(await cache.hasKey('n')).toBe(false)
    expect(await cache.incrVersion('n', 1, at)).toBe(8)
    expect(await cache.get('n', null, { version: 8 })).toBe(2)
  })

  it('keys, iterKeys and deletePattern', async () => {
    await cache.setMany({ 'u:1': 1, 'u:2': 2 }, at)
    await cache.set('u:3', 3)
    expect((await cache.keys('u:*', at)).sort()).toEqual(['u:1', 'u:2'])
    expect(await cache.keys('u:*')).toEqual(['u:3'])
    const seen: string[] = []
    for await (const key of cache.iterKeys('u:*', { ...at, itersize: 1 })) seen.push(key)
    expect(seen.sort()).toEqual(['u:1', 'u:2'])
    expect(await cache.deletePattern('u:*', at)).toBe(2)
    expect(await cache.keys('u:*')).toEqual(['u:3'])
  })

  it('hashes', async () => {
    expect(await cache.hset('h', 'a', 1, at)).toBe(1)
    expect(await cache.hmset('h', { b: 2, c: 3 }, at)).toBe(true)
    expect(await cache.hsetnx('h', 'd', 4, at)).toBe(true)
    expect(await cache.hexists('h', 'a', at)).toBe(true)
    expect(await cache.hget('h', 'a', at)).toBe(1)
    expect(await cache.hmget('h', 'a', 'b', at)).toEqual([1, 2])
    expect(await cache.hgetall('h', at)).toEqual({ a: 1, b: 2, c: 3, d: 4 })
    expect(await cache.hincrby('h', 'a', 5, at)).toBe(6)
    expect(await cache.hincrbyfloat('h', 'x', 0.5, at)).toBe(0.5)
    expect(await cache.hlen('h', at)).toBe(5)
    expect((await cache.hkeys('h', at)).sort()).toEqual(['a', 'b', 'c', 'd', 'x'])
    expect((await cache.hvals('h', at)).length).toBe(5)
    expect(await cache.hdel('h', 'a', 'b', at)).toBe(2)
    expect(await cache.hlen('h')).toBe(0)
    expect(await cache.hlen('h', at)).toBe(3)
  })

  it('sorted sets', async () => {
    expect(await cache.zadd('z', { a: 1, b: 2, c: 3 }, at)).toBe(3)
    expect(await cache.zcard('z', at)).toBe(3)
    expect(await cache.zcount('z', 2, '+inf', at)).toBe(2)
    expect(await cache.zincrby('z', 10, 'a', at)).toBe(11)
    expect(await cache.zrange('z', 0, -1, at)).toEqual(['b', 'c', 'a'])
    expect(await cache.zrangebyscore('z', 3, 20, { ...at, withScores: true })).toEqual([
      ['c', 3],
      ['a', 11],
    ])
    expect(await cache.zrank('z', 'a', at)).toBe(2)
    expect(await cache.zrevrank('z', 'a', at)).toBe(0)
    expect(await cache.zscore('z', 'a', at)).toBe(11)
    expect(await cache.zremrangebyrank('z', 0, 0, at)).toBe(1)
    expect(await cache.zcard('z')).toBe(0)
    expect(await cache.zcard('z', at)).toBe(2)
  })

  it('lists', async () => {
    await cache.rpush('l', 'x')
    // lpush/rpush/zrem/zmscore take values of any kind, so no options: they use the cache's version.
    await raw(cache, 'RPUSH', cache.makeKey('l', 7), '"a"', '"b"', '"c"')
    expect(await cache.llen('l', at)).toBe(3)
    expect(await cache.lindex('l', 0, at)).toBe('a')
    expect(await cache.lrange('l', 0, -1, at)).toEqual(['a', 'b', 'c'])
    expect(await cache.lset('l', 0, 'A', at)).toBe(true)
    expect(await cache.lpos('l', 'b', at)).toBe(1)
    expect(await cache.lpos('l', 'b', { ...at, count: 0 })).toEqual([1])
    expect(await cache.lmove('l', 'm', 'left', 'right', at)).toBe('A')
    expect(await cache.lrange('m', 0, -1, at)).toEqual(['A'])
    expect(await cache.lpop('l', undefined, at)).toBe('b')
    expect(await cache.rpop('l', 1, at)).toEqual(['c'])
    await raw(cache, 'RPUSH', cache.makeKey('l', 7), '1', '2', '3')
    expect(await cache.ltrim('l', 0, 0, at)).toBe(true)
    expect(await cache.llen('l', at)).toBe(1)
    expect(await cache.lrange('l', 0, -1)).toEqual(['x'])
  })

  it('sets', async () => {
    await cache.sadd('s', 'x')
    // sadd/srem/smismember take values of any kind, so no options: they use the cache's version.
    await raw(cache, 'SADD', cache.makeKey('s', 7), '"a"', '"b"', '"c"')
    expect(await cache.scard('s', at)).toBe(3)
    expect(await cache.sismember('s', 'a', at)).toBe(true)
    expect(((await cache.smembers<string>('s', at)) as string[]).sort()).toEqual(['a', 'b', 'c'])
    expect(await cache.smove('s', 't', 'a', at)).toBe(true)
    expect(await cache.smembers('t', at)).toEqual(['a'])
    expect(await cache.srandmember('t', undefined, at)).toBe('a')
    expect(await cache.srandmember('t', 2, at)).toEqual(['a'])
    expect(await cache.sinter('s', 't', at)).toEqual([])
    expect(await cache.sinterstore('i', 's', at)).toBe(2)
    expect(await cache.sdiffstore('i', 's', 'i', at)).toBe(0)
    expect(await cache.spop('t', undefined, at)).toBe('a')
    expect(await cache.spop('s', 5, at)).toHaveLength(2)
    expect(await cache.smembers('s')).toEqual(['x'])
  })

  it('an unknown or misplaced option is refused, never ignored', async () => {
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['ttl', () => cache.ttl('k', { versoin: 2 } as never)],
      ['hget', () => cache.hget('h', 'f', { timeout: 2 } as never)],
      ['zrange', () => cache.zrange('z', 0, -1, { withscores: true } as never)],
      ['get', () => cache.get('k', null, { version: 1, ttl: 5 } as never)],
      ['getMany', () => cache.getMany(['k'], { versions: 2 } as never)],
      ['keys', () => cache.keys('*', { count: 5 } as never)],
      ['incr', () => cache.incr('k', 1, { as: 'bigint' } as never)],
      ['lpos', () => cache.lpos('l', 'x', { limit: 2 } as never)],
      ['hdel', () => cache.hdel('h', 'a', { version: 2, x: 1 } as never)],
      ['sinter', () => cache.sinter('a', 'b', { version: 2, x: 1 } as never)],
      ['spop', () => cache.spop('s', 1, { count: 2 } as never)],
    ]
    for (const [method, call] of calls) {
      await expect(call(), method).rejects.toBeInstanceOf(InvalidArgumentError)
    }
    await expect(cache.ttl('k', { versoin: 2 } as never)).rejects.toThrow(
      /ttl\(\) does not take the option 'versoin' \(it takes version\)/,
    )
    expect(() => cache.lock('l', { retries: 3 } as never)).toThrow(InvalidArgumentError)
    expect(() => cache.iterKeys('*', { batch: 1 } as never)).toThrow(InvalidArgumentError)
    expect(() => cache.sscan('s', { itersize: 1 } as never)).toThrow(InvalidArgumentError)
    await expect(cache.get('k', null, { version: 'two' } as never)).rejects.toThrow(
      /version must be an integer/,
    )
  })
})

describe('keys, iterKeys and deletePattern with an empty pattern', () => {
  it('reject with InvalidArgumentError instead of matching nothing', async () => {
    await cache.set('a', 1)
    await expect(cache.keys('')).rejects.toThrow(/empty pattern, which matches no key: use '\*'/)
    await expect(cache.deletePattern('')).rejects.toBeInstanceOf(InvalidArgumentError)
    expect(() => cache.iterKeys('')).toThrow(InvalidArgumentError)
    expect(await cache.keys()).toEqual(['a'])
  })
})

describe('lmove sides', () => {
  it.each([
    ['LEFT', 'RIGHT'],
    ['left', 'right'],
    ['Left', 'rIGHT'],
  ])('%s / %s', async (from, to) => {
    await cache.rpush('src', 1, 2, 3)
    expect(await cache.lmove('src', 'dst', from as 'left', to as 'right')).toBe(1)
    expect(await cache.lrange('dst', 0, -1)).toEqual([1])
  })

  it('anything else is refused with the accepted values', async () => {
    await expect(cache.lmove('a', 'b', 'up' as never)).rejects.toThrow(
      /a list side is 'LEFT' or 'RIGHT' \(any case\), got 'up'/,
    )
  })
})

describe('get with a default', () => {
  it('resolves the default, typed without null', async () => {
    const theme = await cache.get('theme', 'light')
    expectTypeOf(theme).toEqualTypeOf<string>()
    expect(theme).toBe('light')
    const user = await cache.get<{ name: string }>('user')
    expectTypeOf(user).toEqualTypeOf<{ name: string } | null>()
    const orNull = await cache.get('k', null)
    expectTypeOf(orNull).toEqualTypeOf<unknown>()
    const maybe = 'x' as string | undefined
    const either = await cache.get('k', maybe)
    expectTypeOf(either).toEqualTypeOf<string | null>()
    expect(either).toBe('x')
    await cache.set('count', 0)
    expect(await cache.get('count', 5)).toBe(0)
  })
})

describe('incr', () => {
  it('on a missing key rejects with KeyNotFoundError that says to store a number first', async () => {
    await expect(cache.incr('hits')).rejects.toThrow(
      /key 'hits' not found: incr\(\) and decr\(\) need a stored number \(as in Django\); store one first, e\.g\. add\('hits', 0\)/,
    )
    await cache.add('hits', 0)
    expect(await cache.incr('hits')).toBe(1)
  })

  it("with as: 'number' resolves a number, typed number", async () => {
    await cache.set('n', 41)
    const n = await cache.incr('n', 1, { as: 'number' })
    expectTypeOf(n).toEqualTypeOf<number>()
    expect(n).toBe(42)
    const either = await cache.incr('n')
    expectTypeOf(either).toEqualTypeOf<number | bigint>()
    const down = await cache.decr('n', 2, { as: 'number' })
    expectTypeOf(down).toEqualTypeOf<number>()
    expect(down).toBe(41)
  })

  it("with as: 'number' rejects beyond 2^53 and leaves the value and its TTL as they were", async () => {
    const max = Number.MAX_SAFE_INTEGER
    await cache.set('n', max - 1, 100)
    expect(await cache.incr('n', 1, { as: 'number' })).toBe(max)
    await expect(cache.incr('n', 1, { as: 'number' })).rejects.toBeInstanceOf(NotANumberError)
    await expect(cache.incr('n', 1, { as: 'number' })).rejects.toThrow(/left unchanged/)
    expect(String(await rawGet(cache, 'n'))).toBe(String(max))
    await expectTtl('n', 100)
    await cache.set('m', -max, 100)
    await expect(cache.decr('m', 1, { as: 'number' })).rejects.toBeInstanceOf(NotANumberError)
    expect(await cache.get('m')).toBe(-max)
    // Without it, the bigint.
    expect(await cache.incr('n')).toBe(BigInt(max) + 1n)
    // The read-add-write path (a value beyond 64 bits) refuses before writing, too.
    await cache.set('big', 2n ** 70n, 100)
    await expect(cache.incr('big', 1, { as: 'number' })).rejects.toBeInstanceOf(NotANumberError)
    expect(await cache.get('big')).toBe(2n ** 70n)
    // A float stays a number.
    await cache.set('f', 1.5)
    expect(await cache.incr('f', 1, { as: 'number' })).toBe(2.5)
  })

  it('resolves 0 and the bounds of the safe integers exactly, with and without as', async () => {
    const max = Number.MAX_SAFE_INTEGER
    await cache.set('z', 1)
    expect(await cache.decr('z', 1, { as: 'number' })).toBe(0)
    expect(await cache.incr('z', 0)).toBe(0)
    expect(await cache.incr('z', -max)).toBe(-max)
    expect(await cache.decr('z')).toBe(-(BigInt(max) + 1n))
    expect(await cache.incr('z', 1, { as: 'number' })).toBe(-max)
    expect(await cache.incr('z', BigInt(max) * 2n)).toBe(max)
    expect(await cache.incr('z')).toBe(BigInt(max) + 1n)
    expect(await cache.incr('z', -1)).toBe(max)
    expect(await cache.get('z')).toBe(max)
    // Where the script's reply changes from an integer to the digits, and where node-redis reads
    // integer replies inexactly (2^53 - 47 and up).
    for (const v of [2 ** 52 - 1, 2 ** 52, max - 48, max - 47, max - 1, max]) {
      // Toward the bound, from a safe integer: v from below, -v from above.
      for (const [n, step] of [
        [v, 1],
        [-v, -1],
      ] as const) {
        await cache.set('w', n - step)
        expect(await cache.incr('w', step)).toBe(n)
        expect(await cache.decr('w', step, { as: 'number' })).toBe(n - step)
        expect(await cache.incr('w', step, { as: 'number' })).toBe(n)
        expect(await cache.get('w')).toBe(n)
      }
    }
  })

  it('on a list rejects with a ResponseError naming the key and what it holds', async () => {
    await cache.rpush('l', 1)
    const error = await cache.incr('l').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseError)
    expect((error as Error).message).toMatch(
      /^incr\(\) on key 'l': it holds a list, which incr\(\) does not work on \(WRONGTYPE/,
    )
    await cache.hset('h', 'f', 1)
    await expect(cache.lpush('h', 1)).rejects.toThrow(
      /^lpush\(\) on key 'h': it holds a hash, which lpush\(\) does not work on \(WRONGTYPE/,
    )
    await expect(cache.zcard('h')).rejects.toThrow(/on key 'h': it holds a hash/)
    // get and set … get word it the same, alone and in a pipeline
    const words = /^get\(\) on key 'h': it holds a hash, which get\(\) does not work on \(WRONGTYPE/
    await expect(cache.get('h')).rejects.toThrow(words)
    const [queued] = await cache.pipeline().get('h').exec()
    expect((queued as Error).message).toMatch(words)
    await expect(cache.set('h', 1, { get: true })).rejects.toThrow(
      /^set\(\) on key 'h': it holds a hash, which set\(\) does not work on \(WRONGTYPE/,
    )
    expect(await cache.hget('h', 'f')).toBe(1)
  })
})

describe.each(BACKENDS)('arguments of the wrong kind (%s)', (backend) => {
  // What a JavaScript caller (or a value built at run time) can hand in despite the types. Each is
  // refused with InvalidArgumentError, which ignoreExceptions never turns into a default, and
  // nothing is written under the indexes of an array or a string.
  let where: { url: string; stop(): Promise<void> }
  let strict: Cache<false>
  let ignoring: Cache<true>

  beforeAll(async () => {
    where = await backendServer(backend)
    const keyPrefix = uniquePrefix('wrong-kind')
    strict = createCache({ location: where.url, keyPrefix })
    ignoring = createCache({ location: where.url, keyPrefix, ignoreExceptions: true })
  })

  afterAll(async () => {
    await strict?.close()
    await ignoring?.close()
    await where?.stop()
  })

  /** A pipeline's one slot, thrown if it holds an error (a call fails in its slot). */
  const slotError = ([slot]: unknown[]): unknown => {
    if (slot instanceof Error) throw slot
    return slot
  }

  const refused: Array<[string, (c: Cache<boolean>) => Promise<unknown>, RegExp]> = [
    [
      'getMany(undefined)',
      (c) => c.getMany(undefined as never),
      /getMany\(\) takes an array .* got undefined/,
    ],
    [
      'getMany(a string)',
      (c) => c.getMany('abc' as never),
      /getMany\(\) takes an array .* got a string/,
    ],
    ['getMany(an object)', (c) => c.getMany({ k: 1 } as never), /got an object/],
    [
      'getMany(an iterator that throws)',
      (c) =>
        c.getMany(
          (function* () {
            yield 'a'
            throw new Error('no more keys')
          })(),
        ),
      /getMany\(\): reading the keys failed: no more keys/,
    ],
    ['deleteMany(42)', (c) => c.deleteMany(42 as never), /deleteMany\(\) takes an array .* got 42/],
    [
      'setMany(entries)',
      (c) => c.setMany([['a', 1]] as never),
      /setMany\(\) takes an object or a Map .* got an array/,
    ],
    ['setMany(a string)', (c) => c.setMany('abc' as never), /got a string/],
    [
      'setMany(a revoked Proxy)',
      (c) => {
        const { proxy, revoke } = Proxy.revocable({ a: 1 }, {})
        revoke()
        return c.setMany(proxy)
      },
      /the mapping given to setMany\(\) could not be read: reading it threw \(a revoked Proxy/,
    ],
    [
      'setMany(entries with a getter that throws)',
      (c) =>
        c.setMany({
          get a(): number {
            throw new Error('not now')
          },
        }),
      /setMany\(\): reading the entries failed: not now/,
    ],
    ['setMany(undefined)', (c) => c.setMany(undefined as never), /got undefined/],
    [
      'pipeline setMany(a string)',
      (c) =>
        c
          .pipeline()
          .setMany('abc' as never)
          .exec()
          .then(slotError),
      /setMany\(\) takes an object or a Map/,
    ],
    [
      'pipeline getMany(42)',
      (c) =>
        c
          .pipeline()
          .getMany(42 as never)
          .exec()
          .then(slotError),
      /getMany\(\) takes an array/,
    ],
    [
      'hmset(an array)',
      (c) => c.hmset('h', ['a', 'b'] as never),
      /hmset\(\) takes an object or a Map/,
    ],
    ['hmset(5)', (c) => c.hmset('h', 5 as never), /got 5/],
    ['hset(an array)', (c) => c.hset('h', ['a'] as never), /hset\(\) takes an object or a Map/],
    ['zadd(not pairs)', (c) => c.zadd('z', [1] as never), /\[score, member\] pairs/],
    ['zadd(a Set)', (c) => c.zadd('z', new Set(['a']) as never), /got a Set/],
    ['blpop(42)', (c) => c.blpop(42 as never, 0.1), /blpop\(\) takes an array .* got 42/],
    ['hget(a number field)', (c) => c.hget('h', 42 as never), /must be a string or a Buffer/],
    [
      'hdel(an undefined field)',
      (c) => c.hdel('h', undefined as never),
      /must be a string or a Buffer/,
    ],
  ]

  it.each(refused)('%s rejects with InvalidArgumentError', async (_, call, message) => {
    await expect(call(strict)).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(call(strict)).rejects.toThrow(message)
    await expect(call(ignoring)).rejects.toBeInstanceOf(InvalidArgumentError)
    for (const key of ['0', '1', '2', 'a', 'h', 'z']) expect(await rawGet(strict, key)).toBeNull()
    expect(Number(await raw(strict, 'EXISTS', strict.makeKey('h'), strict.makeKey('z')))).toBe(0)
  })

  it('a keyFunction that throws or returns no string fails typed, even under ignoreExceptions', async () => {
    const throwing = createCache({
      location: where.url,
      ignoreExceptions: true,
      keyFunction: () => {
        throw new Error('no key for you')
      },
    })
    const numbering = createCache({ location: where.url, keyFunction: () => 42 as never })
    const unreversed = createCache({
      location: where.url,
      keyPrefix: uniquePrefix('rev'),
      keyFunction: (key, prefix, version) => `${prefix}:${version}:${key}`,
      reverseKeyFunction: () => {
        throw new Error('cannot reverse')
      },
    })
    try {
      // Without the check, ignoreExceptions took this for an outage and answered the default.
      await expect(throwing.get('k', 'fallback')).rejects.toThrow(
        /keyFunction failed: no key for you/,
      )
      await expect(throwing.getMany(['k'])).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(numbering.set('k', 1)).rejects.toThrow(
        /keyFunction must return a string, got 42/,
      )
      await unreversed.set('k', 1)
      await expect(unreversed.keys('*')).rejects.toThrow(
        /reverseKeyFunction failed: cannot reverse/,
      )
      expect(() => createCache({ location: where.url, keyFunction: 'x' as never })).toThrow(
        /keyFunction must be a function/,
      )
    } finally {
      await unreversed.clear()
      await Promise.all([throwing.close(), numbering.close(), unreversed.close()])
    }
  })

  it('a refused argument leaves the connection working (the bytes in flight stay counted right)', async () => {
    // A number among a command's arguments once made the count of bytes in flight NaN, and then
    // every command was refused with BackpressureError.
    for (let i = 0; i < 3; i++) {
      await expect(strict.hdel('h', 'a', 42 as never)).rejects.toBeInstanceOf(InvalidArgumentError)
    }
    await expect(
      strict.connection.command(['SET', strict.makeKey('n'), 1 as never]),
    ).rejects.toBeInstanceOf(InvalidArgumentError)
    await strict.set('k', 'v')
    expect(await strict.get('k')).toBe('v')
    expect(await strict.hset('h', 'f', 1)).toBe(1)
    expect(await strict.hget('h', 'f')).toBe(1)
    await strict.deleteMany(['k', 'h'])
  })
})
