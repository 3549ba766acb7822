// Nothing read from Redis is trusted: a reply of a shape its command never gives (a proxy that
// rewrites or swaps replies, a server out of step) rejects with a typed error, never resolves a
// wrong value, and never has a write applied twice (an `incr` whose script reply is malformed is
// not sent down the read-add-write fallback). Each case goes through a RESP proxy in front of a
// real redis-server that rewrites one reply; the cache works again right after.
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
  expect(crashes).toEqual([])
})

function cacheFor(options: Record<string, unknown> = {}): Cache {
  const cache = createCache({ location: fx.proxy.url, socketTimeout: 5, ...options } as never)
  caches.push(cache)
  return cache
}

/**
 * Replaces the next reply to a command named one of `names` (whose arguments pass `match`) with
 * `reply`, once.
 */
function once(names: string[], reply: string, match: (args: string[]) => boolean = () => true) {
  fx.proxy.tamper = (args) => {
    if (!names.includes(args[0]?.toUpperCase() ?? '') || !match(args)) return undefined
    fx.proxy.tamper = undefined
    return reply
  }
}

/** An incr script's call: `EVAL` of a source with `INCRBY`, or an `EVALSHA` (a script loaded). */
const INCR_SCRIPTS = ['EVAL', 'EVALSHA']
const incrScript = (args: string[]) =>
  args[0]?.toUpperCase() === 'EVALSHA' || (args[1] ?? '').includes('INCRBY')

/** The error `promise` rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  let value: unknown
  try {
    value = await promise
  } catch (error) {
    expect(error).toBeInstanceOf(CachexError)
    return error as Error
  }
  const shown = value instanceof Map ? JSON.stringify([...value]) : String(value)
  throw new Error(`resolved ${shown} instead of rejecting`)
}

/** The cache reads and writes again. */
async function works(cache: Cache): Promise<void> {
  await cache.set('after', { ok: 1 })
  expect(await cache.get('after')).toEqual({ ok: 1 })
  await cache.setMany({ x: 1, y: 2 })
  expect(await cache.getMany(['x', 'y'])).toEqual(
    new Map([
      ['x', 1],
      ['y', 2],
    ]),
  )
}

const raw = (key: string) => redisCall(fx.redis.url, ['GET', `:1:${key}`])

describe('incr with a script reply of the wrong shape', () => {
  for (const [label, reply] of [
    ['an empty array', '*0\r\n'],
    ['an array of integers', '*2\r\n:1\r\n:2\r\n'],
    ['an array of one integer', '*1\r\n:5\r\n'],
    ['an array of two values', '*2\r\n$1\r\n5\r\n$1\r\n5\r\n'],
    ['a double', ',1.5\r\n'],
    ['a boolean', '#t\r\n'],
    ['a map', '%1\r\n:1\r\n:2\r\n'],
  ] as const) {
    it(`${label}: rejects, the increment applied once`, async () => {
      const cache = cacheFor()
      await cache.set('n', 5)
      once(INCR_SCRIPTS, reply, incrScript)
      const error = await rejection(cache.incr('n', 1))
      expect(error).toBeInstanceOf(ResponseError)
      expect(error.message).toMatch(/not the script's.*may or may not have been applied/)
      // The script ran INCRBY once (5 -> 6): nothing read or added again.
      expect(await raw('n')).toBe('6')
      expect(await cache.incr('n', 1)).toBe(7)
      await works(cache)
    })
  }

  it('as: number: an integer other than 0 rejects', async () => {
    const cache = cacheFor()
    await cache.set('m', 5)
    once(INCR_SCRIPTS, ':9\r\n', incrScript)
    expect(await rejection(cache.incr('m', 1, { as: 'number' }))).toBeInstanceOf(ResponseError)
    expect(await raw('m')).toBe('6')
    await works(cache)
  })

  it('gathered over several keys: entries of the wrong shape reject their callers', async () => {
    const cache = cacheFor()
    await cache.setMany({ p: 5, q: 5, r: 5 })
    // One script for the three keys: `[]` with no refused step before it, `[1, 2]`, a double.
    once(INCR_SCRIPTS, '*3\r\n*0\r\n*2\r\n:1\r\n:2\r\n,1.5\r\n', incrScript)
    const errors = await Promise.all(['p', 'q', 'r'].map((k) => rejection(cache.incr(k, 1))))
    for (const error of errors) expect(error).toBeInstanceOf(ResponseError)
    expect([await raw('p'), await raw('q'), await raw('r')]).toEqual(['6', '6', '6'])
    await works(cache)
  })

  it('gathered on one key: `[]` entries without a refused step before them reject', async () => {
    const cache = cacheFor()
    await cache.set('s', 5)
    once(INCR_SCRIPTS, '*2\r\n*0\r\n*0\r\n', incrScript)
    const errors = await Promise.all([rejection(cache.incr('s', 1)), rejection(cache.incr('s', 1))])
    for (const error of errors) expect(error).toBeInstanceOf(ResponseError)
    // Both INCRBYs ran (5 -> 7), nothing added again.
    expect(await raw('s')).toBe('7')
    await works(cache)
  })
})

describe('getMany with an MGET reply of the wrong shape', () => {
  for (const coalesceReads of [true, false]) {
    for (const [label, reply] of [
      ['an integer', ':3\r\n'],
      ['fewer values than keys', '*1\r\n$1\r\n1\r\n'],
      ['more values than keys', '*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n'],
      ['a nil', '_\r\n'],
    ] as const) {
      it(`${label} (coalesceReads: ${coalesceReads}): rejects`, async () => {
        const cache = cacheFor({ coalesceReads })
        await cache.setMany({ a: 1, b: 2, c: 3 })
        once(['MGET'], reply)
        const error = await rejection(cache.getMany(['a', 'b', 'c']))
        expect(error).toBeInstanceOf(ResponseError)
        expect(error.message).toMatch(/^MGET of 3 keys replied /)
        await works(cache)
      })
    }
  }

  it('calls that share one MGET all reject', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, b: 2 })
    once(['MGET'], '*1\r\n$1\r\n1\r\n')
    const errors = await Promise.all([
      rejection(cache.getMany(['a', 'b'])),
      rejection(cache.getMany(['a', 'b'])),
    ])
    for (const error of errors) expect(error).toBeInstanceOf(ResponseError)
    await works(cache)
  })

  it('gets gathered into one MGET reject when it has fewer values', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, b: 2, c: 3 })
    once(['MGET'], '*1\r\n$1\r\n1\r\n')
    const errors = await Promise.all(['a', 'b', 'c'].map((k) => rejection(cache.get(k))))
    for (const error of errors) expect(error).toBeInstanceOf(ResponseError)
    await works(cache)
  })

  it("a pipeline's getMany rejects", async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, b: 2, c: 3 })
    once(['MGET'], '*1\r\n$1\r\n1\r\n')
    const [result] = await cache.pipeline().getMany(['a', 'b', 'c']).exec()
    expect(result).toBeInstanceOf(ResponseError)
    expect((result as Error).message).toMatch(/^MGET of 3 keys replied 1 values/)
    await works(cache)
  })
})

describe('GET answered with a reply type GET never has', () => {
  for (const coalesceReads of [true, false]) {
    for (const [label, reply] of [
      ['an integer', ':42\r\n'],
      ['a boolean', '#t\r\n'],
      ['a double', ',1.5\r\n'],
      ['a big number', '(12345678901234567890\r\n'],
    ] as const) {
      it(`${label} (coalesceReads: ${coalesceReads}): rejects`, async () => {
        const cache = cacheFor({ coalesceReads })
        await cache.set('a', 'stored')
        once(['GET'], reply)
        const error = await rejection(cache.get('a'))
        expect(error).toBeInstanceOf(ResponseError)
        expect(error.message).toMatch(
          /^Redis replied (an integer|a boolean|a double|a big number) where a string \(bulk\) reply was expected/,
        )
        await works(cache)
      })
    }
  }

  // Replies read as bytes (pickle: no text route), and over RESP3 (the JSON codec reads text).
  for (const [label, options] of [
    ['pickle', { serializer: 'pickle' }],
    ['RESP3', { clientOptions: { RESP: 3 } }],
  ] as const) {
    it(`${label}: an integer rejects; bulk values still read`, async () => {
      const cache = cacheFor(options)
      await cache.set('a', 'stored', null)
      once(['GET'], ':42\r\n')
      expect(await rejection(cache.get('a'))).toBeInstanceOf(ResponseError)
      expect(await cache.get('a')).toBe('stored')
      await cache.set('n', 5)
      once(INCR_SCRIPTS, '*0\r\n', incrScript)
      expect(await rejection(cache.incr('n', 1))).toBeInstanceOf(ResponseError)
      expect(await cache.incr('n', 1)).toBe(7)
      expect(await cache.ttl('a')).toBe(null)
      await works(cache)
    })
  }

  it('an MGET value of another type rejects its caller', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, b: 2 })
    once(['MGET'], '*2\r\n:1\r\n$1\r\n2\r\n')
    expect(await rejection(cache.getMany(['a', 'b']))).toBeInstanceOf(ResponseError)
    await works(cache)
  })

  it('replies swapped (GET and TTL): neither resolves the other reply', async () => {
    const cache = cacheFor({ coalesceReads: false })
    await cache.set('a', 'stored', 300)
    let held: Buffer | undefined
    fx.proxy.tamper = (args, reply) => {
      if (args[0] === 'GET' && held === undefined) {
        held = reply
        return Buffer.alloc(0)
      }
      if (args[0] === 'TTL' && held !== undefined) {
        fx.proxy.tamper = undefined
        return Buffer.concat([reply, held])
      }
      return undefined
    }
    const [get, ttl] = await Promise.all([rejection(cache.get('a')), rejection(cache.ttl('a'))])
    expect(get).toBeInstanceOf(ResponseError)
    expect(ttl).toBeInstanceOf(ResponseError)
    await works(cache)
  })
})

describe('integer replies of another type', () => {
  for (const [command, label, reply] of [
    ['TTL', 'a string', '$3\r\nabc\r\n'],
    ['TTL', 'an array', '*1\r\n:1\r\n'],
    ['TTL', 'a nil', '_\r\n'],
    ['PTTL', 'a string', '$3\r\nabc\r\n'],
    ['PTTL', 'a boolean', '#t\r\n'],
  ] as const) {
    it(`${command} answered ${label}: rejects`, async () => {
      const cache = cacheFor()
      await cache.set('a', 1, 300)
      once([command], reply)
      const call = command === 'TTL' ? cache.ttl('a') : cache.pttl('a')
      expect(await rejection(call)).toBeInstanceOf(ResponseError)
      await works(cache)
    })
  }

  for (const [label, reply] of [
    ['a string', '$3\r\nabc\r\n'],
    ['an array', '*1\r\n:1\r\n'],
  ] as const) {
    it(`EXISTS answered ${label} (coalesceReads: false): rejects`, async () => {
      const cache = cacheFor({ coalesceReads: false })
      await cache.set('a', 1)
      once(['EXISTS'], reply)
      expect(await rejection(cache.hasKey('a'))).toBeInstanceOf(ResponseError)
      await works(cache)
    })
  }

  it('PEXPIRE answered with a string: rejects', async () => {
    const cache = cacheFor()
    await cache.set('a', 1)
    once(['PEXPIRE'], '$1\r\n1\r\n')
    expect(await rejection(cache.expire('a', 100))).toBeInstanceOf(ResponseError)
    await works(cache)
  })

  it('UNLINK of many keys answered with a string: rejects', async () => {
    const cache = cacheFor()
    await cache.setMany({ a: 1, b: 2 })
    once(['UNLINK'], '$1\r\n2\r\n')
    expect(await rejection(cache.deleteMany(['a', 'b']))).toBeInstanceOf(ResponseError)
    await works(cache)
  })

  it('HLEN answered with a string: rejects', async () => {
    const cache = cacheFor()
    await cache.hset('h', 'f', 1)
    once(['HLEN'], '$1\r\n1\r\n')
    expect(await rejection(cache.hlen('h'))).toBeInstanceOf(ResponseError)
    await works(cache)
  })
})
