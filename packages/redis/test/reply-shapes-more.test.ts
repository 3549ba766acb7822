// More replies of a shape their command never gives (see reply-shapes.test.ts): coalesced
// `hasKey`s, the keys and cursors of `SCAN` walks (and `HSCAN`/`SSCAN`/`ZSCAN`), a pipeline's
// `incr` (never sent down the read-add-write fallback on a malformed reply), an `incr` answered
// `[]` while another fallback of its key is under way, and the counts of pipelines and pattern
// deletes. Each rejects with a typed error, every caller settled; the cache works again after.
import { type Cache, CachexError, createCache, ResponseError } from '@cachex/redis'
import { redisCall } from '@cachex/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { proxiedRedis } from './_resp-proxy.ts'

const fx = proxiedRedis()
const { crashes } = fx
const caches: Cache[] = []

afterEach(async () => {
  fx.proxy.tamper = undefined
  for (const cache of caches.splice(0)) await cache.close()
  await redisCall(fx.redis.url, ['FLUSHALL'])
  expect(crashes).toEqual([])
})

function cacheFor(options: Record<string, unknown> = {}): Cache {
  const cache = createCache({ location: fx.proxy.url, socketTimeout: 5, ...options } as never)
  caches.push(cache)
  return cache
}

/** Replaces the next reply to a command named `name` (whose arguments pass `match`), once. */
function once(name: string, reply: string, match: (args: string[]) => boolean = () => true) {
  fx.proxy.tamper = (args) => {
    if (args[0]?.toUpperCase() !== name || !match(args)) return undefined
    fx.proxy.tamper = undefined
    return reply
  }
}

/** The error `promise` rejects with (a `CachexError`); fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  let value: unknown
  try {
    value = await promise
  } catch (error) {
    expect(error).toBeInstanceOf(CachexError)
    return error as Error
  }
  throw new Error(`resolved ${JSON.stringify(value)} instead of rejecting`)
}

/** Every item of an async iterable. */
async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = []
  for await (const item of items) all.push(item)
  return all
}

/** The cache reads and writes again. */
async function works(cache: Cache): Promise<void> {
  await cache.set('after', { ok: 1 })
  expect(await cache.get('after')).toEqual({ ok: 1 })
  expect(await cache.hasKey('after')).toBe(true)
}

const raw = (key: string) => redisCall(fx.redis.url, ['GET', `:1:${key}`])

describe('coalesced hasKey answered with a count of another type', () => {
  for (const [label, reply] of [
    ['a string', '$3\r\nabc\r\n'],
    ['the digits of 1', '$1\r\n1\r\n'],
    ['an array', '*1\r\n:1\r\n'],
  ] as const) {
    it(`a lone call answered ${label}: rejects`, async () => {
      const cache = cacheFor()
      await cache.set('a', 1)
      once('EXISTS', reply)
      expect(await rejection(cache.hasKey('a'))).toBeInstanceOf(ResponseError)
      await works(cache)
    })
  }

  for (const [label, reply] of [
    ['the digits of the count', '$1\r\n2\r\n'],
    ['an array', '*1\r\n:1\r\n'],
    ['a double', ',1.5\r\n'],
  ] as const) {
    it(`a batch answered ${label}: every caller rejects`, async () => {
      const cache = cacheFor()
      await cache.setMany({ a: 1, b: 2 })
      once('EXISTS', reply, (args) => args.length === 3)
      const errors = await Promise.all([rejection(cache.hasKey('a')), rejection(cache.hasKey('b'))])
      for (const error of errors) expect(error).toBeInstanceOf(ResponseError)
      await works(cache)
    })
  }

  it('a key asked again on its own, answered with a string: only its caller rejects', async () => {
    const cache = cacheFor()
    await cache.set('a', 1)
    // `a` there, `b` not: a count in between, each key asked again with its own EXISTS.
    once('EXISTS', '$1\r\n1\r\n', (args) => args.length === 2 && args[1] === ':1:a')
    const [a, b] = await Promise.allSettled([cache.hasKey('a'), cache.hasKey('b')])
    expect(a.status).toBe('rejected')
    expect((a as PromiseRejectedResult).reason).toBeInstanceOf(ResponseError)
    expect(b).toEqual({ status: 'fulfilled', value: false })
    await works(cache)
  })
})

describe('SCAN replies whose keys or cursor are not strings', () => {
  const nilKey = '*2\r\n$1\r\n0\r\n*2\r\n$4\r\n:1:a\r\n$-1\r\n'
  const intKey = '*2\r\n$1\r\n0\r\n*2\r\n$4\r\n:1:a\r\n:5\r\n'
  const nilCursor = '*2\r\n$-1\r\n*1\r\n$4\r\n:1:a\r\n'
  for (const [label, reply] of [
    ['a nil key', nilKey],
    ['an integer key', intKey],
    ['a nil cursor', nilCursor],
  ] as const) {
    it(`${label}: keys(), iterKeys() and deletePattern() reject; no key "null" deleted`, async () => {
      const cache = cacheFor()
      await cache.setMany({ a: 1, b: 2 })
      await redisCall(fx.redis.url, ['SET', 'null', 'other'])
      await redisCall(fx.redis.url, ['SET', '5', 'other'])
      once('SCAN', reply)
      expect(await rejection(cache.keys('*'))).toBeInstanceOf(ResponseError)
      once('SCAN', reply)
      expect(await rejection(collect(cache.iterKeys('*')))).toBeInstanceOf(ResponseError)
      once('SCAN', reply)
      expect(await rejection(cache.deletePattern('*'))).toBeInstanceOf(ResponseError)
      expect(await redisCall(fx.redis.url, ['GET', 'null'])).toBe('other')
      expect(await redisCall(fx.redis.url, ['GET', '5'])).toBe('other')
      expect((await cache.keys('*')).sort()).toEqual(['a', 'b'])
      await works(cache)
    })
  }

  for (const [command, label, reply] of [
    ['HSCAN', 'a nil field', '*2\r\n$1\r\n0\r\n*2\r\n$-1\r\n$1\r\n1\r\n'],
    ['HSCAN', 'an integer field', '*2\r\n$1\r\n0\r\n*2\r\n:7\r\n$1\r\n1\r\n'],
    ['HSCAN', 'an integer', ':5\r\n'],
    ['HSCAN', 'a nil cursor', '*2\r\n$-1\r\n*0\r\n'],
    ['SSCAN', 'a nil member', '*2\r\n$1\r\n0\r\n*1\r\n$-1\r\n'],
    ['SSCAN', 'a string', '$1\r\n0\r\n'],
    ['ZSCAN', 'a nil score', '*2\r\n$1\r\n0\r\n*2\r\n$3\r\n"m"\r\n$-1\r\n'],
    ['ZSCAN', 'an integer cursor', '*2\r\n:0\r\n*0\r\n'],
  ] as const) {
    it(`${command} answered with ${label}: rejects`, async () => {
      const cache = cacheFor()
      await cache.hset('h', 'f', 1)
      await cache.sadd('s', 'm')
      await cache.zadd('z', { m: 1 })
      once(command, reply)
      const walk =
        command === 'HSCAN'
          ? cache.hscan('h')
          : command === 'SSCAN'
            ? cache.sscan('s')
            : cache.zscan('z')
      expect(await rejection(collect(walk as AsyncIterable<unknown>))).toBeInstanceOf(ResponseError)
      expect(await collect(cache.hscan('h'))).toEqual([['f', 1]])
      await works(cache)
    })
  }
})

describe("a pipeline's incr answered with a script reply of the wrong shape", () => {
  for (const [label, reply] of [
    ['an empty array', '*0\r\n'],
    ['an array of integers', '*2\r\n:1\r\n:2\r\n'],
    ['an array of two strings', '*2\r\n$1\r\n5\r\n$1\r\n5\r\n'],
    ['an array of one integer', '*1\r\n:5\r\n'],
  ] as const) {
    it(`${label}: its entry is a ResponseError, the increment applied once`, async () => {
      const cache = cacheFor()
      await cache.set('n', 5)
      once('EVAL', reply, (args) => (args[1] ?? '').includes('INCRBY'))
      const [result, after] = await cache.pipeline().incr('n', 1).get('n').exec()
      expect(result).toBeInstanceOf(ResponseError)
      expect((result as Error).message).toMatch(
        /not the script's.*may or may not have been applied/,
      )
      expect(after).toBe(6)
      expect(await raw('n')).toBe('6')
      expect(await cache.incr('n', 1)).toBe(7)
      await works(cache)
    })
  }

  it("a float's refused step still takes the fallback", async () => {
    const cache = cacheFor()
    await cache.set('f', 1.5)
    const [result] = await cache.pipeline().incr('f', 1).exec()
    expect(result).toBe(2.5)
    expect(await raw('f')).toBe('2.5')
  })
})

describe('incr answered [] while another fallback of its key is under way', () => {
  it('rejects: its increment is not added again', async () => {
    const cache = cacheFor()
    await cache.set('f', 4)
    // The script loaded for the key's slot: the calls below send EVALSHA (a first use, EVAL).
    expect(await cache.incr('f', 1)).toBe(5)
    let sha: string | undefined
    let second: Promise<Error> | undefined
    fx.proxy.tamper = (args) => {
      if (args[0]?.toUpperCase() !== 'EVALSHA') return undefined
      if (sha === undefined) {
        // The first call's script ran INCRBY (5 -> 6): answered as if it refused 5, so that its
        // fallback runs (its swap finds 6, reads again) while the second call's reply comes.
        sha = args[1]
        second = rejection(cache.incr('f', 1))
        return '*1\r\n$1\r\n5\r\n'
      }
      if (args[1] !== sha) return undefined
      // The second call's script ran INCRBY too: answered `[]`, no refused step before it.
      fx.proxy.tamper = undefined
      return '*0\r\n'
    }
    const first = await cache.incr('f', 1)
    const error = (await second) as Error
    expect(error).toBeInstanceOf(ResponseError)
    expect(error.message).toMatch(/not the script's/)
    // Both INCRBYs ran (5 -> 7), the first call's fallback added once more: 8; not 9.
    expect(first).toBe(8)
    expect(await raw('f')).toBe('8')
    await works(cache)
  })

  it('gathered on one key: the steps after a refused one still take the fallback in turn', async () => {
    const cache = cacheFor()
    await cache.set('g', 1.5)
    const sums = await Promise.all([cache.incr('g', 1), cache.incr('g', 2), cache.incr('g', 3)])
    expect(sums).toEqual([2.5, 4.5, 7.5])
    await cache.setMany({ h: 1.5, i: 1 })
    const mixed = await Promise.all([
      cache.incr('h', 1),
      cache.incr('i', 1),
      cache.incr('h', 1),
      cache.incr('i', 1),
    ])
    expect(mixed).toEqual([2.5, 2, 3.5, 3])
  })
})

describe('counts of another type', () => {
  for (const [label, reply] of [
    ['a string', '$3\r\nabc\r\n'],
    ['an array', '*1\r\n:1\r\n'],
  ] as const) {
    it(`a pipeline's ttl and pttl answered ${label}: their entries reject`, async () => {
      const cache = cacheFor()
      await cache.set('a', 1, 300)
      once('TTL', reply)
      const [ttl] = await cache.pipeline().ttl('a').exec()
      expect(ttl).toBeInstanceOf(ResponseError)
      once('PTTL', reply)
      const [pttl] = await cache.pipeline().pttl('a').exec()
      expect(pttl).toBeInstanceOf(ResponseError)
      await works(cache)
    })
  }

  it("a pipeline's deleteMany answered with the digits: rejects", async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, b: 2 })
    once('UNLINK', '$1\r\n2\r\n')
    const [deleted] = await cache.pipeline().deleteMany(['a', 'b']).exec()
    expect(deleted).toBeInstanceOf(ResponseError)
    await works(cache)
  })

  for (const [label, reply] of [
    ['the digits', '$1\r\n2\r\n'],
    ['an array', '*1\r\n:2\r\n'],
  ] as const) {
    it(`deletePattern whose UNLINK is answered ${label}: rejects`, async () => {
      const cache = cacheFor()
      await cache.setMany({ a: 1, b: 2 })
      once('UNLINK', reply)
      expect(await rejection(cache.deletePattern('*'))).toBeInstanceOf(ResponseError)
      await works(cache)
    })
  }
})
