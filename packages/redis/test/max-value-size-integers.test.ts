// Integers stored as digits are bounded by the 4,300-digit limit, not by maxValueSize: what the
// cache writes as digits (or Redis grows with INCRBY) it reads back, however small maxValueSize.

import { cacheInternals } from '@cachex/core/internal'
import { type Cache, type CreateCacheOptions, createCache, SerializationError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, type Backend, backendServer, raw } from './helpers.ts'

describe.each(BACKENDS)('%s: integers past maxValueSize', (backend: Backend) => {
  let server: { url: string; stop(): Promise<void> }
  const opened: Cache[] = []
  const make = (options: CreateCacheOptions = {}): Cache => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('mvi'),
      maxValueSize: 10,
      ...options,
    })
    opened.push(cache)
    return cache
  }

  beforeAll(async () => {
    server = await backendServer(backend)
  })
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()))
    await server?.stop()
  })

  it.each([
    ['json (read as text)', {}],
    ['zlib (read as bytes)', { compressor: 'zlib' }],
    ['msgpack', { serializer: 'msgpack' }],
    ['pickle', { serializer: 'pickle' }],
  ] as const)(
    '%s: a number of more digits than maxValueSize is written and read back',
    async (_, options) => {
      const cache = make(options)
      expect(await cache.set('j', 12345678901)).toBe(true)
      expect(await cache.get('j')).toBe(12345678901)
      expect(await cache.set('neg', -9007199254740991)).toBe(true)
      expect(await cache.get('neg')).toBe(-9007199254740991)
    },
  )

  it('bigints up to the digit limit read back; past it, the write is refused', async () => {
    const cache = make()
    const n = 10n ** 29n
    expect(await cache.set('b', n)).toBe(true)
    expect(await cache.get('b')).toBe(n)
    const longest = -(10n ** 4299n) // 4,300 digits and a sign: 4,301 bytes
    expect(await cache.set('long', longest)).toBe(true)
    expect(await cache.get('long')).toBe(longest)
    await expect(cache.set('over', 10n ** 4300n)).rejects.toThrow(
      /cannot store key 'over': an integer of more than 4300 digits/,
    )
  })

  it('incr grows a counter past maxValueSize digits, and it stays readable', async () => {
    const cache = make()
    await cache.set('c', 9999999999)
    expect(await cache.incr('c')).toBe(10000000000)
    expect(await cache.get('c')).toBe(10000000000)
    await cache.set('big', 10n ** 20n)
    expect(await cache.incr('big', 1)).toBe(10n ** 20n + 1n)
    expect(await cache.get('big')).toBe(10n ** 20n + 1n)
    expect(await cache.decr('big', 10n ** 20n)).toBe(1)
  })

  it('getMany, hashes and lists read such integers too', async () => {
    const cache = make()
    await cache.setMany({ a: 12345678901, b: 10n ** 30n, small: 7 })
    expect(await cache.getMany(['a', 'b', 'small', 'missing'])).toEqual(
      new Map<string, unknown>([
        ['a', 12345678901],
        ['b', 10n ** 30n],
        ['small', 7],
      ]),
    )
    await cache.hset('h', { f: 1 })
    expect(await cache.hincrby('h', 'f', 99999999999)).toBe(100000000000)
    expect(await cache.hget('h', 'f')).toBe(100000000000)
    expect(await cache.hgetall('h')).toEqual({ f: 100000000000 })
    await cache.rpush('l', 12345678901, 10n ** 25n)
    expect(await cache.lrange('l', 0, -1)).toEqual([12345678901, 10n ** 25n])
  })

  it("another writer's integer with whitespace and a sign reads past maxValueSize", async () => {
    const cache = make()
    await raw(cache, 'SET', cache.makeKey('w'), ' +12_345_678_901\n')
    expect(await cache.get('w')).toBe(12345678901)
  })

  it("the admin's inspect reads them as integers stored as digits", async () => {
    const cache = make({ compressor: 'zlib' })
    const { codec } = cacheInternals(cache)
    expect(codec.inspect(Buffer.from('100000000000'))).toEqual({
      value: 100000000000,
      serializer: null,
      compressor: null,
      kinds: undefined,
    })
    expect(codec.inspect(Buffer.from('1'.repeat(30)), codec.budget()).value).toBe(
      BigInt('1'.repeat(30)),
    )
    expect(() => codec.inspect(Buffer.from('"abcdefghij"'))).toThrow(/exceeds maxValueSize/)
  })

  it('other values past maxValueSize are still refused, written or read', async () => {
    const cache = make()
    await expect(cache.set('s', 'abcdefghijk')).rejects.toThrow(SerializationError)
    await expect(cache.set('f', 1.2345678901)).rejects.toThrow(SerializationError)
    await raw(cache, 'SET', cache.makeKey('s'), '"abcdefghij"')
    await expect(cache.get('s')).rejects.toThrow(
      "cannot read key 's': a stored value of 12 bytes exceeds maxValueSize (10 bytes)",
    )
    // Digits past the digit limit are no integer: the limit applies.
    await raw(cache, 'SET', cache.makeKey('d'), '9'.repeat(4301))
    await expect(cache.get('d')).rejects.toThrow(
      "cannot read key 'd': a stored value of 4301 bytes exceeds maxValueSize (10 bytes)",
    )
    // An integer padded past 8,600 bytes (the longest an integer's form can be) is refused.
    await raw(cache, 'SET', cache.makeKey('p'), `1${' '.repeat(8600)}`)
    await expect(cache.get('p')).rejects.toThrow(
      "cannot read key 'p': a stored value of 8601 bytes exceeds maxValueSize (10 bytes)",
    )
  })

  // The local tier holds what a tracking server invalidates: on a server only.
  if (backend === 'redis')
    it('the local tier reads and holds such integers', async () => {
      const keyPrefix = uniquePrefix('mvi-local')
      const writer = make({ keyPrefix })
      const local = make({ keyPrefix, local: {} })
      await writer.set('c', 9999999999)
      expect(await writer.incr('c')).toBe(10000000000)
      expect(await local.get('c')).toBe(10000000000)
      expect(await local.get('c')).toBe(10000000000)
      expect(await local.getMany(['c'])).toEqual(new Map([['c', 10000000000]]))
      expect(await local.set('b', 10n ** 29n)).toBe(true)
      expect(await local.get('b')).toBe(10n ** 29n)
      expect(await writer.get('b')).toBe(10n ** 29n)
    })
})
