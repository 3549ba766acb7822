// Argument checks at the edges of what Redis holds, on a real redis-server and on memory://:
// blocking and expiry timeouts too large for Redis's 64-bit milliseconds (refused with
// InvalidArgumentError before anything is sent, nothing lost, nothing hanging), score bounds that
// `strtod` would misread, HINCRBYFLOAT's formatting, makeKey's version, and the messages of
// multi-key WRONGTYPE replies, of a pipelined blocking read and of bad seconds.
import { type Cache, createCache, InvalidArgumentError, ResponseError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw, rawPttl } from './helpers.ts'

/** Generous: a refusal is immediate, a blocked call would wait far longer than this. */
const PROMPT_MS = 3000

/** Rejects with what `promise` rejects with, and how long that took. */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = performance.now()
  try {
    await promise
  } catch (error) {
    return { error, ms: performance.now() - start }
  }
  throw new Error('expected a rejection')
}

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('edges2') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  describe('blocking timeouts past what Redis holds are refused at once', () => {
    const huge = [1e16, 9.3e15, 1e20, 9.1e12, Number.MAX_VALUE]

    it.each(huge)('blpop, brpop and blmove with %d seconds', async (timeout) => {
      await cache.rpush('l', 'a')
      for (const call of [
        () => cache.blpop(['missing'], timeout),
        () => cache.brpop(['missing', 'other'], timeout),
        () => cache.blmove('missing', 'dst', timeout, 'left', 'right'),
        () => cache.blpop(['l'], timeout),
        () => cache.blmove('l', 'dst', timeout, 'left', 'right'),
      ]) {
        const { error, ms } = await rejection(call())
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(/timeout of .* seconds is out of range/)
        expect(ms).toBeLessThan(PROMPT_MS)
      }
      // Nothing was popped or moved.
      expect(await cache.lrange('l', 0, -1)).toEqual(['a'])
      expect(await cache.llen('dst')).toBe(0)
    })

    it('a timeout just inside the bound is sent, and answers with the data there', async () => {
      await cache.rpush('l', 'a', 'b')
      expect(await cache.blpop(['l'], 9e12)).toEqual(['l', 'a'])
      expect(await cache.blmove('l', 'dst', 9e12, 'left', 'right')).toBe('b')
    })
  })

  describe('expiry timeouts past what Redis holds are InvalidArgumentError', () => {
    // Positive: a duration of 0 or less expires at once however negative (Django's rule; see
    // timeout-arguments-contract.test.ts), while a point in time keeps its bound both ways.
    const huge = [9.3e15, 1e17, 1e300, 9.1e12]

    it.each(huge)(
      'every expiry: set, add, setMany, touch, getOrSet, expire…, pexpireAt with %d',
      async (t) => {
        await cache.set('k', 'kept', null)
        const calls = [
          () => cache.set('k', 'v', t),
          () => cache.set('k', 'v', { timeout: t }),
          () => cache.add('new', 'v', t),
          () => cache.setMany({ k: 'v', other: 'w' }, t),
          () => cache.touch('k', t),
          () => cache.getOrSet('new', () => 'v', t),
          () => cache.expire('k', t),
          () => cache.expireAt('k', t),
          () => cache.pexpire('k', t * 1000),
          () => cache.pexpireAt('k', t * 1000),
          // A pipeline answers each entry: its refusal is the entry's result.
          async () => {
            throw (
              await cache
                .pipeline()
                .pexpire('k', t * 1000)
                .exec()
            )[0]
          },
          async () => {
            throw (
              await cache
                .pipeline()
                .pexpireAt('k', t * 1000)
                .exec()
            )[0]
          },
          () => cache.getOrSet('new', () => 'v', { lockTimeout: Math.abs(t), distributed: true }),
          () => cache.getOrSet('new', () => 'v', { grace: Math.abs(t) }),
        ]
        for (const call of calls) {
          const { error } = await rejection(call())
          expect(error).toBeInstanceOf(InvalidArgumentError)
          expect((error as Error).message).toMatch(/is out of range/)
          // No Redis error, no script text.
          expect((error as Error).message).not.toMatch(/ERR|redis\.call/)
        }
        // Nothing was written, nothing expired.
        expect(await cache.get('k')).toBe('kept')
        expect(await rawPttl(cache, 'k')).toBe(-1)
        expect(await cache.hasKey('new')).toBe(false)
        expect(await cache.hasKey('other')).toBe(false)
      },
    )

    it('a point in time far before 1970 is out of range; such a duration deletes', async () => {
      await cache.set('k', 'kept', null)
      for (const call of [
        () => cache.expireAt('k', -1e300),
        () => cache.pexpireAt('k', -1e300),
        async () => {
          throw (await cache.pipeline().pexpireAt('k', -1e300).exec())[0]
        },
      ]) {
        const { error } = await rejection(call())
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(/is out of range/)
      }
      expect(await cache.get('k')).toBe('kept')
      expect(await cache.set('k', 'v', -1e300)).toBe(true)
      expect(await cache.hasKey('k')).toBe(false)
    })

    it('a timeout just inside the bound is stored', async () => {
      expect(await cache.set('k', 'v', 9e12)).toBe(true)
      expect(await rawPttl(cache, 'k')).toBeGreaterThan(8.9e15)
      expect(await cache.expire('k', 9e12)).toBe(true)
      expect(await cache.touch('k', 9e12)).toBe(true)
    })

    it('createCache refuses such a default timeout', () => {
      for (const timeout of [1e300, 9.3e15]) {
        expect(() => createCache({ location: server.url, timeout })).toThrow(InvalidArgumentError)
      }
    })

    it('lock timeouts too', async () => {
      for (const timeout of [1e17, 9.3e15]) {
        const { error } = await rejection(
          (async () => {
            const lock = cache.lock('n', { timeout })
            await lock.acquire()
          })(),
        )
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).not.toMatch(/redis\.call/)
      }
      expect(await cache.hasKey('n')).toBe(false)
    })
  })

  describe('score bounds: what strtod would misread is refused', () => {
    beforeEach(async () => {
      await cache.zadd('z', { a: 0, b: 1, c: 16, d: 20 })
    })

    const refused = ['', '(', ' 1', '\t1', '0x10', '1 ', 'nan', '((1', '( 5', 'abc', '1e', '.']

    it.each(refused)('%j', async (text) => {
      for (const call of [
        () => cache.zcount('z', text, '+inf'),
        () => cache.zcount('z', '-inf', text),
        () => cache.zrangebyscore('z', text, '+inf'),
        () => cache.zrevrangebyscore('z', '+inf', text),
      ]) {
        const { error } = await rejection(call())
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(/score bound/)
      }
    })

    it.each([
      ['(1', '+inf', 2],
      ['-inf', '(16', 2],
      ['INF', '+Inf', 0],
      ['(-inf', 'infinity', 4],
      ['1e1', '2E1', 2],
      ['+.5', '16.', 2],
      ['-1', '(0', 0],
    ])('%j to %j reads as Redis reads it', async (min, max, count) => {
      expect(await cache.zcount('z', min, max)).toBe(count)
      expect(await cache.zrangebyscore('z', min, max)).toHaveLength(count)
      expect(await cache.zrevrangebyscore('z', max, min)).toHaveLength(count)
    })
  })

  describe('hincrbyfloat stores what Redis 7.0 prints', () => {
    it.each([
      [1e21, '1000000000000000000000'],
      [1e-20, '0'],
      [0.1, '0.1'],
      [1.5, '1.5'],
      // cachex sends String(x) (here '123456789.12345679'), which Redis reads as a long double.
      [123456789.12345679, '123456789.12345679000281962'],
      [2 ** -18, '0.00000381469726562'],
    ])('%d', async (amount, text) => {
      await cache.hincrbyfloat('h', 'f', amount)
      expect(String(await raw(cache, 'HGET', cache.makeKey('h'), 'f'))).toBe(text)
    })

    it('an infinite increment gets Redis error, and changes nothing', async () => {
      await cache.hincrbyfloat('h', 'f', 2)
      for (const amount of [Infinity, -Infinity]) {
        const { error } = await rejection(cache.hincrbyfloat('h', 'f', amount))
        expect(error).toBeInstanceOf(ResponseError)
        expect((error as Error).message).toMatch(/value is NaN or Infinity/)
      }
      expect(String(await raw(cache, 'HGET', cache.makeKey('h'), 'f'))).toBe('2')
    })
  })

  describe('makeKey and makePattern', () => {
    it("null is the cache's version, as make_key(key, None)", () => {
      expect(cache.makeKey('v', null)).toBe(cache.makeKey('v'))
      expect(cache.makeKey('v', null)).toBe(cache.makeKey('v', cache.version))
      expect(cache.makePattern('v*', null)).toBe(cache.makePattern('v*'))
      expect(cache.makeKey('v', 2)).not.toBe(cache.makeKey('v'))
    })

    it.each([1.5, Number.NaN, Infinity, '2', {}])('version %s is refused', (version) => {
      expect(() => cache.makeKey('v', version as never)).toThrow(InvalidArgumentError)
      expect(() => cache.makePattern('v*', version as never)).toThrow(InvalidArgumentError)
      expect(() => cache.makeKey('v', version as never)).toThrow(/version must be an integer/)
    })
  })

  describe('messages', () => {
    it('WRONGTYPE on a method of several keys blames none of them', async () => {
      await cache.set('str', 'x')
      await cache.sadd('set', 'a')
      await cache.rpush('list', 'a')
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['sinter', () => cache.sinter('missing', 'str')],
        ['sunionstore', () => cache.sunionstore('dest', 'missing', 'str')],
        ['sinter', () => cache.sinter('set', 'str')],
        ['smove', () => cache.smove('set', 'str', 'a')],
        ['lmove', () => cache.lmove('list', 'str', 'left', 'right')],
        ['blpop', () => cache.blpop(['missing', 'str'], 0.1)],
      ]
      for (const [method, call] of calls) {
        const { error } = await rejection(call())
        expect(error).toBeInstanceOf(ResponseError)
        const message = (error as Error).message
        expect(message).toContain(`${method}(): one of its keys`)
        expect(message).toContain('WRONGTYPE')
        expect(message).not.toContain("'missing'")
        expect(message).not.toContain("'set'")
      }
      // Nothing moved.
      expect(await cache.smembers('set')).toEqual(['a'])
      expect(await cache.lrange('list', 0, -1)).toEqual(['a'])
      // A method of one key still names it and what it holds, and so does one of several keys
      // whose first key is the one at fault.
      const { error } = await rejection(cache.llen('str'))
      expect((error as Error).message).toContain("llen() on key 'str': it holds a string")
      const first = await rejection(cache.sinter('str', 'set'))
      expect((first.error as Error).message).toContain("sinter() on key 'str': it holds a string")
    })

    it('a pipelined blocking read names its method', async () => {
      await cache.xadd('s', { a: 1 })
      const results = await cache
        .pipeline()
        .xread({ s: '0' }, { block: 10 })
        .exec()
        .then(
          (r) => r,
          (e: unknown) => [e],
        )
      const error = results.find((r) => r instanceof Error)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(/^xread\(\) with block cannot be pipelined/)
    })

    it('bad seconds are described with the right words', async () => {
      const cases: Array<[unknown, string]> = [
        [null, 'seconds must be a finite number of seconds, got null'],
        [undefined, 'seconds must be a finite number of seconds, got undefined'],
        [{}, 'seconds must be a finite number of seconds, got an object'],
        [[], 'seconds must be a finite number of seconds, got an array'],
        ['', 'seconds must be a finite number of seconds, got an empty string'],
        ['60', 'seconds must be a finite number of seconds, got a string'],
      ]
      for (const [seconds, message] of cases) {
        const { error } = await rejection(cache.expire('k', seconds as never))
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toBe(message)
      }
      // Where null is taken, the message says so.
      const { error } = await rejection(cache.set('k', 'v', { timeout: 'x' as never }))
      expect((error as Error).message).toContain('or null')
    })
  })
})
