// django-cachex's additions to the families that existed before (lists, sorted sets, hashes) and
// its key and server helpers (type, rename, renamenx, info, slowlog, clearAllVersions).
import {
  type Cache,
  createCache,
  InvalidArgumentError,
  KeyNotFoundError,
  ResponseError,
} from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('more'), scanItersize: 4 })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
    const items: T[] = []
    for await (const item of iterable) items.push(item)
    return items
  }

  describe('lists: linsert, lrem', () => {
    it('linsert before / after a pivot (any case); -1 without the pivot, 0 without the list', async () => {
      await cache.rpush('l', 'a', { id: 1 }, 'c')
      expect(await cache.linsert('l', 'BEFORE', { id: 1 }, 'b')).toBe(4)
      expect(await cache.linsert('l', 'after', 'c', 'd')).toBe(5)
      expect(await cache.lrange('l', 0, -1)).toEqual(['a', 'b', { id: 1 }, 'c', 'd'])
      expect(await cache.linsert('l', 'before', 'nope', 'x')).toBe(-1)
      expect(await cache.linsert('none', 'before', 'a', 'x')).toBe(0)
      await expect(cache.linsert('l', 'above' as never, 'a', 'x')).rejects.toThrow(
        /a list position is 'BEFORE' or 'AFTER' \(any case\), got 'above'/,
      )
    })

    it('lrem from the head, the tail, or all; values compared encoded', async () => {
      await cache.rpush('l', 1, '1', 1, 2, 1)
      expect(await cache.lrem('l', 1, 1)).toBe(1)
      expect(await cache.lrange('l', 0, -1)).toEqual(['1', 1, 2, 1])
      expect(await cache.lrem('l', -1, 1)).toBe(1)
      expect(await cache.lrange('l', 0, -1)).toEqual(['1', 1, 2])
      expect(await cache.lrem('l', 0, '1')).toBe(1)
      expect(await cache.lrange('l', 0, -1)).toEqual([1, 2])
      expect(await cache.lrem('none', 0, 1)).toBe(0)
      await expect(cache.lrem('l', 1.5, 1)).rejects.toBeInstanceOf(InvalidArgumentError)
    })
  })

  describe('sorted sets: zpopmin, zpopmax, zrevrange, zrevrangebyscore, zscan', () => {
    beforeEach(async () => {
      await cache.zadd('z', { a: 1, b: 2, c: 3, d: 4 })
    })

    it('zpopmin / zpopmax remove and return [member, score] pairs', async () => {
      expect(await cache.zpopmin('z')).toEqual([['a', 1]])
      expect(await cache.zpopmax('z', 2)).toEqual([
        ['d', 4],
        ['c', 3],
      ])
      expect(await cache.zrange('z', 0, -1)).toEqual(['b'])
      expect(await cache.zpopmin('z', 5)).toEqual([['b', 2]])
      expect(await cache.zpopmin('z')).toEqual([])
      expect(await cache.zpopmax('none', 3)).toEqual([])
    })

    it('zrevrange and zrevrangebyscore, highest first', async () => {
      expect(await cache.zrevrange('z', 0, 1)).toEqual(['d', 'c'])
      expect(await cache.zrevrange('z', 0, 0, { withScores: true })).toEqual([['d', 4]])
      expect(await cache.zrevrangebyscore('z', 3, '(1')).toEqual(['c', 'b'])
      expect(await cache.zrevrangebyscore('z', '+inf', '-inf', { offset: 1, count: 2 })).toEqual([
        'c',
        'b',
      ])
      expect(await cache.zrevrangebyscore('z', 4, 4, { withScores: true })).toEqual([['d', 4]])
      await expect(cache.zrevrangebyscore('z', 4, 0, { offset: 1 })).rejects.toThrow(
        /zrevrangebyscore\(\) takes offset and count together/,
      )
      await expect(cache.zrevrange('z', 0, 1, { desc: true } as never)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    })

    it('zscan walks every [member, score], decoded', async () => {
      const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`m${i}`, i]))
      await cache.zadd('big', many)
      const seen = await collect(cache.zscan<string>('big', { count: 25 }))
      expect(new Map(seen)).toEqual(new Map(Object.entries(many)))
      expect(await collect(cache.zscan('big', { match: '"m29*' }))).toHaveLength(11)
      expect(await collect(cache.zscan('none'))).toEqual([])
    })
  })

  describe('hashes: hset with a mapping, hscan', () => {
    it('hset(key, mapping) counts new fields; a Map too; the version after the mapping', async () => {
      expect(await cache.hset('h', { a: 1, b: { x: true } })).toBe(2)
      expect(
        await cache.hset(
          'h',
          new Map<string, unknown>([
            ['b', 2],
            ['c', 3],
          ]),
        ),
      ).toBe(1)
      expect(await cache.hgetall('h')).toEqual({ a: 1, b: 2, c: 3 })
      expect(await cache.hset('h', {})).toBe(0)
      expect(await cache.hset('h', { z: 26 }, { version: 2 })).toBe(1)
      expect(await cache.hget('h', 'z', { version: 2 })).toBe(26)
      expect(await cache.hget('h', 'z')).toBeNull()
      await expect(cache.hset('h', 5 as never, 1)).rejects.toBeInstanceOf(InvalidArgumentError)
      // A mapping then options, and nothing after them.
      const fourArguments = cache.hset as (...args: unknown[]) => Promise<number>
      await expect(
        fourArguments.call(cache, 'h', { a: 1 }, { version: 2 }, {}),
      ).rejects.toBeInstanceOf(InvalidArgumentError)
    })

    it('hscan walks every [field, value], match on field names; __proto__ stays a field', async () => {
      const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`f${i}`, { i }]))
      await cache.hset('big', many)
      await cache.hset('big', '__proto__', 'kept')
      const seen = await collect(cache.hscan<{ i: number } | string>('big', { count: 30 }))
      expect(seen).toHaveLength(201)
      expect(seen).toContainEqual(['__proto__', 'kept'])
      expect(seen).toContainEqual(['f7', { i: 7 }])
      expect((await collect(cache.hscan('big', { match: 'f19?' }))).map(([f]) => f).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `f19${i}`),
      )
      expect(({} as Record<string, unknown>).kept).toBeUndefined()
    })
  })

  describe('type, rename, renamenx', () => {
    it('type names the value at a key, null when there is none', async () => {
      await cache.set('s', 1)
      await cache.hset('h', 'f', 1)
      await cache.rpush('l', 1)
      await cache.sadd('set', 1)
      await cache.zadd('z', { a: 1 })
      await raw(cache, 'XADD', cache.makeKey('x'), '*', 'f', '1')
      expect(await cache.type('s')).toBe('string')
      expect(await cache.type('h')).toBe('hash')
      expect(await cache.type('l')).toBe('list')
      expect(await cache.type('set')).toBe('set')
      expect(await cache.type('z')).toBe('zset')
      expect(await cache.type('x')).toBe('stream')
      expect(await cache.type('none')).toBeNull()
      expect(await cache.type('s', { version: 2 })).toBeNull()
    })

    it('rename keeps the value and the TTL; versions per side; a missing source is KeyNotFoundError', async () => {
      await cache.set('a', { v: 1 }, 100)
      expect(await cache.rename('a', 'b')).toBe(true)
      expect(await cache.get('a')).toBeNull()
      expect(await cache.get('b')).toEqual({ v: 1 })
      expect(await cache.ttl('b')).toBeGreaterThan(90)

      expect(await cache.rename('b', 'b', { versionDst: 3 })).toBe(true)
      expect(await cache.get('b', null, { version: 3 })).toEqual({ v: 1 })
      expect(await cache.rename('b', 'c', { version: 3 })).toBe(true)
      expect(await cache.get('c', null, { version: 3 })).toEqual({ v: 1 })

      const error = await cache.rename('missing', 'x').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(KeyNotFoundError)
      expect((error as Error).message).toMatch(/rename\(\): the key 'missing' does not exist/)
      await expect(cache.rename('a', 'b', { versionSource: 1 } as never)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    })

    it('renamenx renames only onto a free name', async () => {
      await cache.set('a', 1)
      await cache.set('b', 2)
      expect(await cache.renamenx('a', 'b')).toBe(false)
      expect(await cache.get('a')).toBe(1)
      expect(await cache.renamenx('a', 'c')).toBe(true)
      expect(await cache.get('c')).toBe(1)
      await expect(cache.renamenx('a', 'd')).rejects.toBeInstanceOf(KeyNotFoundError)
    })

    it('with ignoreExceptions, a missing source still rejects (it is not a server failure)', async () => {
      const ignoring = createCache({
        location: server.url,
        keyPrefix: uniquePrefix('more-ie'),
        ignoreExceptions: true,
      })
      try {
        await expect(ignoring.rename('missing', 'x')).rejects.toBeInstanceOf(KeyNotFoundError)
      } finally {
        await ignoring.close()
      }
    })
  })

  describe('info, slowlog, clearAllVersions', () => {
    it('info parses sections into numbers and nested fields; own properties only', async () => {
      const all = await cache.info()
      expect(typeof all.redis_version).toBe('string')
      expect(typeof all.connected_clients).toBe('number')
      const memory = await cache.info('memory')
      expect(typeof memory.used_memory).toBe('number')
      expect(memory.redis_version).toBeUndefined()
      await cache.set('k', 1)
      const keyspace = await cache.info('keyspace')
      expect((keyspace.db0 as { keys: number }).keys).toBeGreaterThan(0)
      await expect(cache.info('')).rejects.toBeInstanceOf(InvalidArgumentError)
    })

    // memory:// has no CONFIG and logs no command as slow: its own case follows.
    it('slowlog: get, len, reset (memory:// logs nothing as slow)', async () => {
      if (backend === 'memory') {
        expect(await cache.slowlogReset()).toBe(true)
        await cache.set('slow', 'x')
        expect(await cache.slowlogLen()).toBe(0)
        expect(await cache.slowlogGet(10)).toEqual([])
        return
      }
      // The test's own server: log every command, then back to Redis's default.
      try {
        await raw(cache, 'CONFIG', 'SET', 'slowlog-log-slower-than', '0')
        expect(await cache.slowlogReset()).toBe(true)
        await cache.set('slow', 'x')
        expect(await cache.slowlogLen()).toBeGreaterThan(0)
        const entries = await cache.slowlogGet(50)
        const set = entries.find((e) => e.command[0]?.toUpperCase() === 'SET')
        expect(set).toBeDefined()
        expect(set?.command[1]).toBe(cache.makeKey('slow'))
        expect(typeof set?.startTime).toBe('number')
        expect(typeof set?.duration).toBe('number')
        expect(await cache.slowlogGet(1)).toHaveLength(1)
        await expect(cache.slowlogGet(-1)).rejects.toBeInstanceOf(InvalidArgumentError)
        await expect(cache.slowlogGet('10' as never)).rejects.toThrow(
          "slowlogGet() takes a count of entries (0 or more), got the string '10'",
        )
      } finally {
        await raw(cache, 'CONFIG', 'SET', 'slowlog-log-slower-than', '10000')
      }
    })

    it('clearAllVersions deletes every version of this prefix, and nothing else', async () => {
      const other = createCache({ location: server.url, keyPrefix: `${cache.keyPrefix}x` })
      try {
        await cache.set('a', 1)
        await cache.set('a', 2, { version: 2 })
        await cache.hset('h', 'f', 1, { version: 9 })
        await other.set('a', 3)
        expect(await cache.clearAllVersions()).toBe(3)
        expect(await cache.get('a')).toBeNull()
        expect(await cache.get('a', null, { version: 2 })).toBeNull()
        expect(await other.get('a')).toBe(3)
        expect(await cache.clearAllVersions({ itersize: 1 })).toBe(0)
        await expect(cache.clearAllVersions({ count: 1 } as never)).rejects.toBeInstanceOf(
          InvalidArgumentError,
        )
      } finally {
        await other.clear()
        await other.close()
      }
    })
  })

  describe('errors', () => {
    it('a key of another type rejects with a ResponseError naming it', async () => {
      await cache.set('str', 1)
      for (const call of [
        () => cache.linsert('str', 'before', 1, 2),
        () => cache.zpopmin('str'),
        () => collect(cache.zscan('str')),
        () => collect(cache.hscan('str')),
      ]) {
        const error = await call().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ResponseError)
        expect((error as Error).message).toMatch(/'str'/)
      }
    })
  })
})
