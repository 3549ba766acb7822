import { type Cache, createCache, InvalidArgumentError, ResponseError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('zl') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  describe('sorted sets', () => {
    it('zadd takes an object, a Map or [score, member] pairs; members are encoded', async () => {
      expect(await cache.zadd('z', { a: 1, b: 2 })).toBe(2)
      expect(
        await cache.zadd(
          'z',
          new Map<unknown, number>([
            [{ id: 7 }, 3],
            [42, 4],
          ]),
        ),
      ).toBe(2)
      expect(
        await cache.zadd('z', [
          [5, 'e'],
          [6, '42'],
        ]),
      ).toBe(2)
      expect(await cache.zrange('z', 0, -1)).toEqual(['a', 'b', { id: 7 }, 42, 'e', '42'])
      // 42 and '42' are distinct members: digits vs serialized string.
      const members = (await raw(cache, 'ZRANGE', cache.makeKey('z'), '0', '-1')) as Buffer[]
      expect(members.map(String)).toEqual(['"a"', '"b"', '{"id":7}', '42', '"e"', '"42"'])
      expect(await cache.zadd('z', { a: 10 })).toBe(0)
      expect(await cache.zscore('z', 'a')).toBe(10)
    })

    it('zscores of one tick each get their own score, over one sorted set and several', async () => {
      await cache.zadd('z', { a: 1.5, b: -2, 42: 3 })
      await cache.zadd('y', { a: 7 })
      const scores = await Promise.all([
        cache.zscore('z', 'a'),
        cache.zscore('y', 'a'),
        cache.zscore('z', 'b'),
        cache.zscore('z', 42),
        cache.zscore('z', 'nope'),
        cache.zscore('none', 'a'),
      ])
      expect(scores).toEqual([1.5, 7, -2, null, null, null])
    })

    it('zadd nx / xx', async () => {
      await cache.zadd('z', { a: 1 })
      expect(await cache.zadd('z', { a: 5, b: 2 }, { nx: true })).toBe(1)
      expect(await cache.zscore('z', 'a')).toBe(1)
      expect(await cache.zadd('z', { a: 5, c: 3 }, { xx: true })).toBe(0)
      expect(await cache.zscore('z', 'a')).toBe(5)
      expect(await cache.zscore('z', 'c')).toBeNull()
    })

    it('zadd gt / lt / ch', async () => {
      await cache.zadd('z', { a: 5, b: 5 })
      expect(await cache.zadd('z', { a: 3, b: 8 }, { gt: true, ch: true })).toBe(1)
      expect(await cache.zmscore('z', 'a', 'b')).toEqual([5, 8])
      expect(await cache.zadd('z', { a: 3, b: 9 }, { lt: true, ch: true })).toBe(1)
      expect(await cache.zmscore('z', 'a', 'b')).toEqual([3, 8])
      expect(await cache.zadd('z', { a: 4, c: 1 }, { ch: true })).toBe(2)
      expect(await cache.zadd('z', { a: 4, c: 1 }, { ch: true })).toBe(0)
    })

    it('zadd incr resolves the new score, or null when nx/xx prevents it', async () => {
      expect(await cache.zadd('z', { a: 2 }, { incr: true })).toBe(2)
      expect(await cache.zadd('z', { a: 1.5 }, { incr: true })).toBe(3.5)
      expect(await cache.zadd('z', { a: 1 }, { incr: true, nx: true })).toBeNull()
      expect(await cache.zadd('z', { b: 1 }, { incr: true, xx: true })).toBeNull()
      expect(await cache.zscore('z', 'a')).toBe(3.5)
      await expect(cache.zadd('z', { a: 1, b: 1 }, { incr: true })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    })

    it('zadd refuses conflicting or empty arguments', async () => {
      for (const options of [
        { nx: true, xx: true },
        { gt: true, lt: true },
        { nx: true, gt: true },
      ]) {
        await expect(cache.zadd('z', { a: 1 }, options)).rejects.toBeInstanceOf(
          InvalidArgumentError,
        )
      }
      await expect(cache.zadd('z', {})).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.zadd('z', { a: Number.NaN })).rejects.toBeInstanceOf(InvalidArgumentError)
      expect(await cache.zcard('z')).toBe(0)
    })

    it('infinite scores', async () => {
      await cache.zadd('z', { lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY, mid: 0 })
      expect(await cache.zrange('z', 0, -1, { withScores: true })).toEqual([
        ['lo', Number.NEGATIVE_INFINITY],
        ['mid', 0],
        ['hi', Number.POSITIVE_INFINITY],
      ])
    })

    it('zcard and zcount with numbers and range strings', async () => {
      await cache.zadd('z', { a: 1, b: 5, c: 7, d: 10 })
      expect(await cache.zcard('z')).toBe(4)
      expect(await cache.zcard('nokey')).toBe(0)
      expect(await cache.zcount('z', '-inf', '+inf')).toBe(4)
      expect(await cache.zcount('z', 5, 10)).toBe(3)
      expect(await cache.zcount('z', '(5', 10)).toBe(2)
      expect(await cache.zcount('z', '(5', '(10')).toBe(1)
      expect(await cache.zcount('z', Number.NEGATIVE_INFINITY, 5)).toBe(2)
    })

    it('zincrby', async () => {
      expect(await cache.zincrby('z', 2, 'a')).toBe(2)
      expect(await cache.zincrby('z', 0.5, 'a')).toBe(2.5)
      expect(await cache.zincrby('z', -3, 'a')).toBe(-0.5)
    })

    it('zrange with desc and withScores', async () => {
      await cache.zadd('z', { a: 1, b: 2, c: 3 })
      expect(await cache.zrange('z', 0, -1)).toEqual(['a', 'b', 'c'])
      expect(await cache.zrange('z', 0, 1)).toEqual(['a', 'b'])
      expect(await cache.zrange('z', 0, -1, { desc: true })).toEqual(['c', 'b', 'a'])
      expect(await cache.zrange('z', 0, -1, { withScores: true })).toEqual([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ])
      expect(await cache.zrange('z', 0, 1, { desc: true, withScores: true })).toEqual([
        ['c', 3],
        ['b', 2],
      ])
      expect(await cache.zrange('nokey', 0, -1)).toEqual([])
    })

    it('zrangebyscore with offset/count and withScores', async () => {
      await cache.zadd('z', { a: 1, b: 2, c: 3, d: 4, e: 5 })
      expect(await cache.zrangebyscore('z', 2, 4)).toEqual(['b', 'c', 'd'])
      expect(await cache.zrangebyscore('z', '(2', '+inf')).toEqual(['c', 'd', 'e'])
      expect(await cache.zrangebyscore('z', '-inf', '+inf', { offset: 1, count: 2 })).toEqual([
        'b',
        'c',
      ])
      expect(
        await cache.zrangebyscore('z', 2, 5, { offset: 1, count: 10, withScores: true }),
      ).toEqual([
        ['c', 3],
        ['d', 4],
        ['e', 5],
      ])
      expect(await cache.zrangebyscore('z', 1, 1, { withScores: true })).toEqual([['a', 1]])
      await expect(cache.zrangebyscore('z', 1, 2, { offset: 1 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    })

    it('zrank / zrevrank', async () => {
      await cache.zadd('z', { a: 1, b: 2, c: 3 })
      expect(await cache.zrank('z', 'a')).toBe(0)
      expect(await cache.zrank('z', 'c')).toBe(2)
      expect(await cache.zrevrank('z', 'a')).toBe(2)
      expect(await cache.zrevrank('z', 'c')).toBe(0)
      expect(await cache.zrank('z', 'missing')).toBeNull()
      expect(await cache.zrevrank('z', 'missing')).toBeNull()
    })

    it('zrem / zremrangebyrank', async () => {
      await cache.zadd('z', { a: 1, b: 2, c: 3, d: 4, e: 5 })
      expect(await cache.zrem('z', 'a', 'missing')).toBe(1)
      expect(await cache.zrem('z')).toBe(0)
      expect(await cache.zremrangebyrank('z', 0, 1)).toBe(2)
      expect(await cache.zrange('z', 0, -1)).toEqual(['d', 'e'])
      expect(await cache.zremrangebyrank('z', -1, -1)).toBe(1)
      expect(await cache.zrange('z', 0, -1)).toEqual(['d'])
    })

    it('zscore / zmscore', async () => {
      await cache.zadd('z', new Map<unknown, number>([[{ k: 1 }, 1.25]]))
      await cache.zadd('z', { b: -2 })
      expect(await cache.zscore('z', { k: 1 })).toBe(1.25)
      expect(await cache.zscore('z', 'missing')).toBeNull()
      expect(await cache.zmscore('z', { k: 1 }, 'missing', 'b')).toEqual([1.25, null, -2])
      expect(await cache.zmscore('z')).toEqual([])
    })
  })

  describe('lists', () => {
    it('rpush / lpush / llen / lrange, values encoded', async () => {
      expect(await cache.rpush('l', 'a', { b: 1 })).toBe(2)
      expect(await cache.lpush('l', 1, 2)).toBe(4)
      expect(await cache.llen('l')).toBe(4)
      expect(await cache.llen('nokey')).toBe(0)
      expect(await cache.lrange('l', 0, -1)).toEqual([2, 1, 'a', { b: 1 }])
      expect(await cache.lrange('l', 1, 2)).toEqual([1, 'a'])
      expect(await cache.lrange('nokey', 0, -1)).toEqual([])
      const stored = (await raw(cache, 'LRANGE', cache.makeKey('l'), '0', '-1')) as Buffer[]
      expect(stored.map(String)).toEqual(['2', '1', '"a"', '{"b":1}'])
      await expect(cache.rpush('l')).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.lpush('l')).rejects.toBeInstanceOf(InvalidArgumentError)
    })

    it('lpop / rpop with and without count', async () => {
      await cache.rpush('l', 'a', 'b', 'c', 'd', 'e')
      expect(await cache.lpop('l')).toBe('a')
      expect(await cache.rpop('l')).toBe('e')
      expect(await cache.lpop('l', 2)).toEqual(['b', 'c'])
      expect(await cache.rpop('l', 5)).toEqual(['d'])
      expect(await cache.lpop('l')).toBeNull()
      expect(await cache.rpop('l')).toBeNull()
      expect(await cache.lpop('l', 2)).toEqual([])
      expect(await cache.rpop('nokey', 2)).toEqual([])
    })

    it('lindex', async () => {
      await cache.rpush('l', 'a', 'b', 'c')
      expect(await cache.lindex('l', 0)).toBe('a')
      expect(await cache.lindex('l', -1)).toBe('c')
      expect(await cache.lindex('l', 10)).toBeNull()
      expect(await cache.lindex('nokey', 0)).toBeNull()
    })

    it('lset, and ResponseError out of range', async () => {
      await cache.rpush('l', 'a', 'b')
      expect(await cache.lset('l', 1, { new: true })).toBe(true)
      expect(await cache.lset('l', -2, 7)).toBe(true)
      expect(await cache.lrange('l', 0, -1)).toEqual([7, { new: true }])
      await expect(cache.lset('l', 5, 'x')).rejects.toBeInstanceOf(ResponseError)
      await expect(cache.lset('nokey', 0, 'x')).rejects.toBeInstanceOf(ResponseError)
      expect(await cache.lrange('l', 0, -1)).toEqual([7, { new: true }])
    })

    it('ltrim', async () => {
      await cache.rpush('l', 1, 2, 3, 4, 5)
      expect(await cache.ltrim('l', 1, 3)).toBe(true)
      expect(await cache.lrange('l', 0, -1)).toEqual([2, 3, 4])
      await cache.ltrim('l', 5, 10)
      expect(await cache.llen('l')).toBe(0)
    })

    it('lpos with rank, count and maxlen', async () => {
      await cache.rpush('l', 'a', 'b', 'c', 'b', 'd', 'b')
      expect(await cache.lpos('l', 'b')).toBe(1)
      expect(await cache.lpos('l', 'missing')).toBeNull()
      expect(await cache.lpos('l', 'b', { rank: 2 })).toBe(3)
      expect(await cache.lpos('l', 'b', { rank: -1 })).toBe(5)
      expect(await cache.lpos('l', 'b', { count: 0 })).toEqual([1, 3, 5])
      expect(await cache.lpos('l', 'b', { count: 2 })).toEqual([1, 3])
      expect(await cache.lpos('l', 'b', { count: 0, rank: -1 })).toEqual([5, 3, 1])
      expect(await cache.lpos('l', 'b', { count: 0, maxlen: 4 })).toEqual([1, 3])
      expect(await cache.lpos('l', 'd', { maxlen: 3 })).toBeNull()
      expect(await cache.lpos('l', 'missing', { count: 0 })).toEqual([])
      await cache.rpush('n', 1, '1', { x: 1 })
      expect(await cache.lpos('n', '1')).toBe(1)
      expect(await cache.lpos('n', 1)).toBe(0)
      expect(await cache.lpos('n', { x: 1 })).toBe(2)
    })

    it('lmove between lists and within one', async () => {
      await cache.rpush('src', 'a', 'b', 'c')
      expect(await cache.lmove('src', 'dst', 'LEFT', 'RIGHT')).toBe('a')
      expect(await cache.lmove('src', 'dst', 'RIGHT', 'LEFT')).toBe('c')
      expect(await cache.lmove('src', 'dst')).toBe('b')
      expect(await cache.lrange('dst', 0, -1)).toEqual(['c', 'a', 'b'])
      expect(await cache.llen('src')).toBe(0)
      expect(await cache.lmove('src', 'dst')).toBeNull()
      expect(await cache.lmove('dst', 'dst', 'LEFT', 'RIGHT')).toBe('c')
      expect(await cache.lrange('dst', 0, -1)).toEqual(['a', 'b', 'c'])
      await expect(
        cache.lmove('dst', 'src', 'UP' as unknown as 'LEFT', 'RIGHT'),
      ).rejects.toBeInstanceOf(InvalidArgumentError)
      // The destination goes through the key function too.
      expect(Number(await raw(cache, 'LLEN', cache.makeKey('dst')))).toBe(3)
    })

    it('a list command on a hash rejects with ResponseError', async () => {
      await cache.hset('h', 'f', 1)
      await expect(cache.lpush('h', 1)).rejects.toBeInstanceOf(ResponseError)
      await expect(cache.zadd('h', { a: 1 })).rejects.toBeInstanceOf(ResponseError)
    })
  })
})
