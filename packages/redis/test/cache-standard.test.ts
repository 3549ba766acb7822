import {
  type Cache,
  ClosedError,
  createCache,
  InvalidArgumentError,
  KeyNotFoundError,
  NotANumberError,
  ResponseError,
  SerializationError,
} from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { BACKENDS, backendServer, rawGet, rawPttl } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  const extra: Cache[] = []

  /** A second cache on the same server, closed in afterAll. */
  function another(options: Parameters<typeof createCache<false>>[0] = {}): Cache {
    const c = createCache({ location: server.url, keyPrefix: uniquePrefix(), ...options })
    extra.push(c)
    return c
  }

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('std') })
  })

  afterAll(async () => {
    await Promise.all([cache?.close(), ...extra.map((c) => c.close())])
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  describe('get / set', () => {
    it('stores and reads values under prefix:version:key', async () => {
      expect(await cache.set('foo', { a: 1 })).toBe(true)
      expect(await cache.get('foo')).toEqual({ a: 1 })
      expect(cache.makeKey('foo')).toBe(`${cache.keyPrefix}:1:foo`)
      expect((await rawGet(cache, 'foo'))?.toString()).toBe('{"a":1}')
    })

    it('uses :1:key without a prefix', () => {
      const plain = another({ keyPrefix: '' })
      expect(plain.makeKey('foo')).toBe(':1:foo')
      expect(plain.makeKey('foo', 7)).toBe(':7:foo')
    })

    it('gives null, or the default, for a missing key', async () => {
      expect(await cache.get('missing')).toBeNull()
      expect(await cache.get('missing', 'dflt')).toBe('dflt')
      expect(await cache.get('missing', 0)).toBe(0)
    })

    it('overwrites an existing value', async () => {
      await cache.set('k', 'one')
      await cache.set('k', 'two')
      expect(await cache.get('k')).toBe('two')
    })
  })

  describe('timeouts', () => {
    it('undefined uses the default of 300 seconds', async () => {
      expect(cache.defaultTimeout).toBe(300)
      await cache.set('k', 1)
      const ttl = await cache.ttl('k')
      expect(ttl).toBeGreaterThanOrEqual(299)
      expect(ttl).toBeLessThanOrEqual(300)
    })

    it('the cache-level timeout option is the default', async () => {
      const short = another({ timeout: 60 })
      await short.set('k', 1)
      const ttl = await short.ttl('k')
      expect(ttl).toBeGreaterThanOrEqual(59)
      expect(ttl).toBeLessThanOrEqual(60)
      const never = another({ timeout: null })
      await never.set('k', 1)
      expect(await never.ttl('k')).toBeNull()
    })

    it('null never expires', async () => {
      await cache.set('k', 'v', { timeout: null })
      expect(await cache.ttl('k')).toBeNull()
      expect(await cache.pttl('k')).toBeNull()
      expect(await rawPttl(cache, 'k')).toBe(-1)
    })

    it('a positive timeout sets the TTL in seconds', async () => {
      await cache.set('k', 'v', { timeout: 10 })
      const pttl = await cache.pttl('k')
      expect(pttl).toBeGreaterThan(9000)
      expect(pttl).toBeLessThanOrEqual(10_000)
    })

    it('0 deletes the key and stores nothing', async () => {
      await cache.set('k', 'old', { timeout: null })
      expect(await cache.set('k', 'new', { timeout: 0 })).toBe(true)
      expect(await cache.hasKey('k')).toBe(false)
      expect(await cache.get('k')).toBeNull()
      // Nothing to delete: resolves false, still nothing stored.
      expect(await cache.set('k', 'new', { timeout: 0 })).toBe(false)
      expect(await cache.hasKey('k')).toBe(false)
    })

    it('a negative timeout deletes the key and stores nothing', async () => {
      await cache.set('k', 'old')
      expect(await cache.set('k', 'new', { timeout: -5 })).toBe(true)
      expect(await cache.hasKey('k')).toBe(false)
      expect(await cache.add('k', 'new', -1)).toBe(true)
      expect(await cache.hasKey('k')).toBe(false)
    })

    it('0 with nx resolves whether the key was absent, and never deletes', async () => {
      expect(await cache.set('absent', 'v', { timeout: 0, nx: true })).toBe(true)
      expect(await cache.hasKey('absent')).toBe(false)
      await cache.set('present', 'kept')
      expect(await cache.set('present', 'v', { timeout: 0, nx: true })).toBe(false)
      expect(await cache.get('present')).toBe('kept')
    })

    it('a fractional timeout is kept to the millisecond and expires', async () => {
      await cache.set('k', 'v', { timeout: 0.5 })
      const pttl = await cache.pttl('k')
      expect(pttl).toBeGreaterThan(0)
      expect(pttl).toBeLessThanOrEqual(500)
      await vi.waitFor(
        async () => {
          expect(await cache.hasKey('k')).toBe(false)
        },
        { timeout: 5000, interval: 50 },
      )
    })

    it.each([
      ['a string', '10'],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['-Infinity', Number.NEGATIVE_INFINITY],
      ['an object', { seconds: 1 }],
    ])('%s rejects with InvalidArgumentError and stores nothing', async (_, timeout) => {
      const t = timeout as unknown as number
      await expect(cache.set('bad', 'v', { timeout: t })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(await cache.hasKey('bad')).toBe(false)
      await cache.set('kept', 'old')
      await expect(cache.set('kept', 'new', { timeout: t })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(await cache.get('kept')).toBe('old')
      await expect(cache.add('bad', 'v', t)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.setMany({ bad: 1 }, { timeout: t })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(cache.touch('kept', t)).rejects.toBeInstanceOf(InvalidArgumentError)
      expect(await cache.hasKey('bad')).toBe(false)
      expect(await cache.ttl('kept')).toBeGreaterThan(290)
    })

    it('a non-numeric cache-level timeout is refused', () => {
      expect(() =>
        createCache({ location: server.url, timeout: '10' as unknown as number }),
      ).toThrow(InvalidArgumentError)
    })
  })

  describe('nx / xx / add', () => {
    it('nx only sets a missing key', async () => {
      expect(await cache.set('k', 1, { nx: true })).toBe(true)
      expect(await cache.set('k', 2, { nx: true })).toBe(false)
      expect(await cache.get('k')).toBe(1)
    })

    it('xx only sets an existing key', async () => {
      expect(await cache.set('k', 1, { xx: true })).toBe(false)
      expect(await cache.hasKey('k')).toBe(false)
      await cache.set('k', 1)
      expect(await cache.set('k', 2, { xx: true, timeout: 30 })).toBe(true)
      expect(await cache.get('k')).toBe(2)
      expect(await cache.ttl('k')).toBeGreaterThan(28)
    })

    it('nx and xx together reject', async () => {
      await expect(cache.set('k', 1, { nx: true, xx: true })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(await cache.hasKey('k')).toBe(false)
    })

    it('add stores only once, with its timeout', async () => {
      expect(await cache.add('k', 'first', 20)).toBe(true)
      expect(await cache.add('k', 'second', 20)).toBe(false)
      expect(await cache.get('k')).toBe('first')
      const ttl = await cache.ttl('k')
      expect(ttl).toBeGreaterThan(18)
      expect(ttl).toBeLessThanOrEqual(20)
      expect(await cache.add('forever', 'v', null)).toBe(true)
      expect(await cache.ttl('forever')).toBeNull()
      expect(await cache.add('dflt', 'v')).toBe(true)
      expect(await cache.ttl('dflt')).toBeGreaterThan(298)
    })
  })

  describe('delete / deleteMany / hasKey', () => {
    it('delete resolves whether the key existed', async () => {
      await cache.set('k', 1)
      expect(await cache.delete('k')).toBe(true)
      expect(await cache.delete('k')).toBe(false)
      expect(await cache.hasKey('k')).toBe(false)
    })

    it('deleteMany counts the keys that existed', async () => {
      await cache.setMany({ a: 1, b: 2, c: 3 })
      expect(await cache.deleteMany(['a', 'b', 'nope'])).toBe(2)
      expect(await cache.hasKey('a')).toBe(false)
      expect(await cache.hasKey('c')).toBe(true)
      expect(await cache.deleteMany([])).toBe(0)
      expect(await cache.deleteMany(new Set(['c']))).toBe(1)
    })

    it('hasKey is true for a stored null', async () => {
      expect(await cache.hasKey('k')).toBe(false)
      await cache.set('k', null)
      expect(await cache.hasKey('k')).toBe(true)
      expect(await cache.get('k', 'dflt')).toBeNull()
    })

    it('hasKey calls of one tick each get their own answer: all there, none, some', async () => {
      await cache.setMany({ a: 1, b: 2, c: null })
      await cache.sadd('s', 'm')
      const ask = (keys: string[]) => Promise.all(keys.map((k) => cache.hasKey(k)))
      expect(await ask(['a', 'b', 'c', 's', 'a'])).toEqual([true, true, true, true, true])
      expect(await ask(['x', 'y', 'z'])).toEqual([false, false, false])
      expect(await ask(['a', 'x', 's', 'y', 'a'])).toEqual([true, false, true, false, true])
      // The next ticks, some apart, some whole, answer the same.
      for (let i = 0; i < 20; i++) {
        expect(await ask(['x', 'a', 'y'])).toEqual([false, true, false])
        expect(await ask(['a', 'b'])).toEqual([true, true])
      }
    })
  })

  describe('getMany / setMany', () => {
    it('getMany gives found keys only, decoded', async () => {
      await cache.set('a', 1)
      await cache.set('b', 'two')
      await cache.set('c', { three: [3] })
      const found = await cache.getMany(['a', 'b', 'missing', 'c'])
      expect(found).toBeInstanceOf(Map)
      expect([...found.entries()]).toEqual([
        ['a', 1],
        ['b', 'two'],
        ['c', { three: [3] }],
      ])
      expect(found.has('missing')).toBe(false)
    })

    it('getMany of no keys is an empty Map', async () => {
      const found = await cache.getMany([])
      expect(found).toBeInstanceOf(Map)
      expect(found.size).toBe(0)
    })

    it('setMany takes an object, without timeout uses the default', async () => {
      expect(await cache.setMany({ a: 1, b: 'x', c: [1, 2] })).toEqual([])
      expect(Object.fromEntries(await cache.getMany(['a', 'b', 'c']))).toEqual({
        a: 1,
        b: 'x',
        c: [1, 2],
      })
      for (const key of ['a', 'b', 'c']) expect(await cache.ttl(key)).toBeGreaterThan(298)
    })

    it('setMany takes a Map and a timeout', async () => {
      const entries = new Map<string, unknown>([
        ['m1', { x: 1 }],
        ['m2', '123'],
      ])
      expect(await cache.setMany(entries, { timeout: 10 })).toEqual([])
      expect(await cache.get('m1')).toEqual({ x: 1 })
      expect(await cache.get('m2')).toBe('123')
      for (const key of ['m1', 'm2']) {
        const ttl = await cache.ttl(key)
        expect(ttl).toBeGreaterThan(8)
        expect(ttl).toBeLessThanOrEqual(10)
      }
    })

    it('setMany with timeout null never expires', async () => {
      expect(await cache.setMany({ a: 1, b: 2 }, { timeout: null })).toEqual([])
      expect(await cache.ttl('a')).toBeNull()
      expect(await cache.ttl('b')).toBeNull()
      expect(await cache.get('b')).toBe(2)
    })

    it('setMany with timeout 0 deletes the keys and stores nothing', async () => {
      await cache.set('a', 'old')
      expect(await cache.setMany({ a: 1, b: 2 }, { timeout: 0 })).toEqual([])
      expect(await cache.hasKey('a')).toBe(false)
      expect(await cache.hasKey('b')).toBe(false)
    })

    it('setMany of nothing resolves []', async () => {
      expect(await cache.setMany({})).toEqual([])
      expect(await cache.setMany(new Map())).toEqual([])
    })
  })

  describe('clear', () => {
    it('with a prefix removes every version of this cache and nothing else', async () => {
      const prefix = uniquePrefix('clr')
      const mine = another({ keyPrefix: prefix })
      // A prefix that starts with ours must survive: the pattern is `${prefix}:*`.
      const neighbour = another({ keyPrefix: `${prefix}2` })
      await mine.set('a', 1)
      await mine.set('a', 2, { version: 2 })
      await mine.set('b', 3, { version: 99 })
      await neighbour.set('a', 'theirs')
      await cache.set('a', 'also theirs')
      await mine.clear()
      expect(await mine.hasKey('a')).toBe(false)
      expect(await mine.hasKey('a', { version: 2 })).toBe(false)
      expect(await mine.hasKey('b', { version: 99 })).toBe(false)
      expect(await neighbour.get('a')).toBe('theirs')
      expect(await cache.get('a')).toBe('also theirs')
    })
  })

  describe('touch', () => {
    it('resets to the default timeout', async () => {
      await cache.set('k', 1, { timeout: 10 })
      expect(await cache.touch('k')).toBe(true)
      expect(await cache.ttl('k')).toBeGreaterThan(298)
    })

    it('sets a given timeout', async () => {
      await cache.set('k', 1, { timeout: null })
      expect(await cache.touch('k', 5)).toBe(true)
      const pttl = await cache.pttl('k')
      expect(pttl).toBeGreaterThan(4000)
      expect(pttl).toBeLessThanOrEqual(5000)
    })

    it('null persists the key', async () => {
      await cache.set('k', 1, { timeout: 10 })
      expect(await cache.touch('k', null)).toBe(true)
      expect(await cache.ttl('k')).toBeNull()
      expect(await cache.get('k')).toBe(1)
    })

    it('0 deletes the key', async () => {
      await cache.set('k', 1)
      await cache.touch('k', 0)
      expect(await cache.hasKey('k')).toBe(false)
    })

    it('resolves false for a missing key', async () => {
      expect(await cache.touch('missing')).toBe(false)
      expect(await cache.touch('missing', 10)).toBe(false)
      expect(await cache.touch('missing', null)).toBe(false)
      expect(await cache.hasKey('missing')).toBe(false)
    })
  })

  describe('incr / decr', () => {
    it('adds 1 by default and a given delta', async () => {
      await cache.set('n', 10)
      expect(await cache.incr('n')).toBe(11)
      expect(await cache.incr('n', 5)).toBe(16)
      expect(await cache.incr('n', -20)).toBe(-4)
      expect(await cache.get('n')).toBe(-4)
      expect((await rawGet(cache, 'n'))?.toString()).toBe('-4')
    })

    it('decr subtracts', async () => {
      await cache.set('n', 10)
      expect(await cache.decr('n')).toBe(9)
      expect(await cache.decr('n', 4)).toBe(5)
      expect(await cache.decr('n', 10n)).toBe(-5)
      expect(await cache.get('n')).toBe(-5)
    })

    it('rejects with KeyNotFoundError on a missing key and creates nothing', async () => {
      await expect(cache.incr('missing')).rejects.toBeInstanceOf(KeyNotFoundError)
      await expect(cache.decr('missing')).rejects.toBeInstanceOf(KeyNotFoundError)
      expect(await cache.hasKey('missing')).toBe(false)
    })

    it('keeps the TTL', async () => {
      await cache.set('n', 1, { timeout: 100 })
      expect(await cache.incr('n')).toBe(2)
      const ttl = await cache.ttl('n')
      expect(ttl).toBeGreaterThan(98)
      expect(ttl).toBeLessThanOrEqual(100)
    })

    it('adds to a float through read-modify-write, keeping the TTL', async () => {
      await cache.set('f', 1.5, { timeout: 100 })
      expect(await cache.incr('f')).toBe(2.5)
      expect(await cache.get('f')).toBe(2.5)
      expect(await cache.decr('f', 3)).toBe(-0.5)
      const ttl = await cache.ttl('f')
      expect(ttl).toBeGreaterThan(98)
      expect(ttl).toBeLessThanOrEqual(100)
      await cache.set('g', 1.5, { timeout: null })
      expect(await cache.incr('g')).toBe(2.5)
      expect(await cache.ttl('g')).toBeNull()
    })

    it.each([
      ['a string', 'abc'],
      ['an object', { n: 1 }],
      ['an array', [1]],
      ['a string of digits', '123'],
    ])('rejects with NotANumberError on %s and leaves it', async (_, value) => {
      await cache.set('v', value)
      await expect(cache.incr('v')).rejects.toBeInstanceOf(NotANumberError)
      expect(await cache.get('v')).toEqual(value)
    })

    it('rejects with ResponseError on a hash', async () => {
      await cache.hset('h', 'f', 1)
      await expect(cache.incr('h')).rejects.toBeInstanceOf(ResponseError)
    })

    it('answers each of the incrs of one tick over several keys as if it ran alone', async () => {
      await cache.setMany({ a: 1, b: 10, f: 1.5, big: Number.MAX_SAFE_INTEGER })
      await cache.hset('h', 'f', 1)
      const results = await Promise.allSettled([
        cache.incr('a'),
        cache.incr('b', 5),
        cache.incr('missing'),
        cache.incr('a', 2),
        cache.incr('f'),
        cache.incr('h'),
        cache.incr('big'),
        cache.decr('b'),
      ])
      const values = results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason))
      expect(values[0]).toBe(2)
      expect(values[1]).toBe(15)
      expect(values[2]).toBeInstanceOf(KeyNotFoundError)
      expect(values[3]).toBe(4)
      expect(values[4]).toBe(2.5)
      expect(values[5]).toBeInstanceOf(ResponseError)
      expect(values[6]).toBe(9007199254740992n)
      expect(values[7]).toBe(14)
      expect(await cache.getMany(['a', 'b', 'f', 'missing'])).toEqual(
        new Map<string, unknown>([
          ['a', 4],
          ['b', 14],
          ['f', 2.5],
        ]),
      )
    })

    it('goes beyond 2^53 with bigint results', async () => {
      await cache.set('n', Number.MAX_SAFE_INTEGER)
      const next = await cache.incr('n')
      expect(next).toBe(9007199254740992n)
      expect(await cache.get('n')).toBe(9007199254740992n)
      expect(await cache.incr('n', 10n)).toBe(9007199254741002n)
      expect(await cache.decr('n', 10)).toBe(9007199254740992n)
      // Back in the safe range: a number again.
      expect(await cache.decr('n', 2)).toBe(Number.MAX_SAFE_INTEGER - 1)
    })

    it('goes beyond int64 through read-modify-write, keeping every digit and the TTL', async () => {
      const max = 9223372036854775807n
      await cache.set('n', max, { timeout: 100 })
      expect((await rawGet(cache, 'n'))?.toString()).toBe('9223372036854775807')
      expect(await cache.incr('n')).toBe(max + 1n)
      expect((await rawGet(cache, 'n'))?.toString()).toBe('9223372036854775808')
      expect(await cache.incr('n', 1000n)).toBe(max + 1001n)
      expect(await cache.get('n')).toBe(max + 1001n)
      expect(await cache.ttl('n')).toBeGreaterThan(98)
      const min = -9223372036854775808n
      await cache.set('m', min)
      expect(await cache.decr('m')).toBe(min - 1n)
      expect(await cache.get('m')).toBe(min - 1n)
    })

    it.each([
      ['1.5', 1.5],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['a string', '1'],
      ['2^53', 2 ** 53],
    ])('rejects a delta of %s with InvalidArgumentError', async (_, delta) => {
      await cache.set('n', 1)
      await expect(cache.incr('n', delta as number)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.decr('n', delta as number)).rejects.toBeInstanceOf(InvalidArgumentError)
      expect(await cache.get('n')).toBe(1)
    })
  })

  describe('getOrSet', () => {
    it('stores and resolves a plain value', async () => {
      expect(await cache.getOrSet('k', 'v')).toBe('v')
      expect(await cache.get('k')).toBe('v')
      expect(await cache.ttl('k')).toBeGreaterThan(298)
    })

    it('calls a sync factory once', async () => {
      const factory = vi.fn(() => ({ computed: true }))
      expect(await cache.getOrSet('k', factory, { timeout: 20 })).toEqual({ computed: true })
      expect(await cache.getOrSet('k', factory, { timeout: 20 })).toEqual({ computed: true })
      expect(factory).toHaveBeenCalledTimes(1)
      expect(await cache.ttl('k')).toBeGreaterThan(18)
    })

    it('awaits an async factory', async () => {
      const value = await cache.getOrSet('k', async () => {
        await new Promise((r) => setTimeout(r, 10))
        return [1, 2, 3]
      })
      expect(value).toEqual([1, 2, 3])
      expect(await cache.get('k')).toEqual([1, 2, 3])
    })

    it('does not call the factory when the key is present', async () => {
      await cache.set('k', 'existing')
      const factory = vi.fn(() => 'computed')
      expect(await cache.getOrSet('k', factory)).toBe('existing')
      expect(factory).not.toHaveBeenCalled()
    })

    it('resolves the winner when another writer stores first', async () => {
      const other = createCache({ location: server.url, keyPrefix: cache.keyPrefix })
      extra.push(other)
      const value = await cache.getOrSet('race', async () => {
        await other.set('race', 'winner')
        return 'loser'
      })
      expect(value).toBe('winner')
      expect(await cache.get('race')).toBe('winner')
    })

    it('honours a version option', async () => {
      await cache.set('k', 'v1')
      expect(await cache.getOrSet('k', 'v2', { version: 2 })).toBe('v2')
      expect(await cache.get('k')).toBe('v1')
      expect(await cache.get('k', undefined, { version: 2 })).toBe('v2')
    })
  })

  describe('incrVersion / decrVersion', () => {
    it('moves the value and its TTL to the next version and resolves it', async () => {
      await cache.set('k', { v: 1 }, { timeout: 100 })
      expect(await cache.incrVersion('k')).toBe(2)
      expect(await cache.hasKey('k')).toBe(false)
      expect(await rawGet(cache, 'k', 1)).toBeNull()
      expect(await cache.get('k', undefined, { version: 2 })).toEqual({ v: 1 })
      const pttl = await rawPttl(cache, 'k', 2)
      expect(pttl).toBeGreaterThan(98_000)
      expect(pttl).toBeLessThanOrEqual(100_000)
    })

    it('moves by a delta, from a given version', async () => {
      await cache.set('k', 'v', { timeout: null })
      expect(await cache.incrVersion('k', 3)).toBe(4)
      expect(await cache.get('k', undefined, { version: 4 })).toBe('v')
      expect(await rawPttl(cache, 'k', 4)).toBe(-1)
      expect(await cache.decrVersion('k', 2, { version: 4 })).toBe(2)
      expect(await cache.hasKey('k', { version: 4 })).toBe(false)
      expect(await cache.decrVersion('k', 1, { version: 2 })).toBe(1)
      expect(await cache.get('k')).toBe('v')
    })

    it.each([
      ['1.5', 1.5],
      ['a string', '1'],
      ['NaN', Number.NaN],
    ])('rejects a delta of %s with InvalidArgumentError and moves nothing', async (_, delta) => {
      await cache.set('k', 'v')
      await expect(cache.incrVersion('k', delta as number)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(cache.decrVersion('k', delta as number, { version: 2 })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      expect(await cache.get('k')).toBe('v')
      expect(await cache.keys('*')).toEqual(['k'])
    })

    it('rejects with KeyNotFoundError on a missing key', async () => {
      await expect(cache.incrVersion('missing')).rejects.toBeInstanceOf(KeyNotFoundError)
      await expect(cache.decrVersion('missing')).rejects.toBeInstanceOf(KeyNotFoundError)
    })
  })

  describe('per-call version', () => {
    it('every standard method takes { version }', async () => {
      await cache.set('k', 'v1')
      await cache.set('k', 'v2', { version: 2 })
      expect(await cache.get('k')).toBe('v1')
      expect(await cache.get('k', undefined, { version: 2 })).toBe('v2')
      expect(await cache.add('k', 'x', undefined, { version: 2 })).toBe(false)
      expect(await cache.add('k', 'v3', undefined, { version: 3 })).toBe(true)
      expect(Object.fromEntries(await cache.getMany(['k'], { version: 3 }))).toEqual({ k: 'v3' })
      await cache.setMany({ a: 5, b: 6 }, { version: 2 })
      expect(await cache.hasKey('a')).toBe(false)
      expect(await cache.hasKey('a', { version: 2 })).toBe(true)
      expect(await cache.incr('a', 1, { version: 2 })).toBe(6)
      expect(await cache.decr('a', 2, { version: 2 })).toBe(4)
      expect(await cache.touch('a', null, { version: 2 })).toBe(true)
      expect(await rawPttl(cache, 'a', 2)).toBe(-1)
      expect(await cache.deleteMany(['a', 'b'], { version: 2 })).toBe(2)
      expect(await cache.delete('k', { version: 3 })).toBe(true)
      expect(await cache.get('k')).toBe('v1')
      expect(await cache.get('k', undefined, { version: 2 })).toBe('v2')
    })

    it('a cache with another default version reads its own keys', async () => {
      const v2 = createCache({ location: server.url, keyPrefix: cache.keyPrefix, version: 2 })
      extra.push(v2)
      await cache.set('k', 'v2', { version: 2 })
      expect(v2.version).toBe(2)
      expect(await v2.get('k')).toBe('v2')
      expect(v2.makeKey('k')).toBe(`${cache.keyPrefix}:2:k`)
    })
  })

  describe('keys are strings', () => {
    it.each([
      ['a number', 1],
      ['null', null],
      ['an object', {}],
      ['undefined', undefined],
    ])('%s as a key rejects with InvalidArgumentError', async (_, key) => {
      const k = key as unknown as string
      await expect(cache.set(k, 'v')).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.get(k)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.delete(k)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.hasKey(k)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.incr(k)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.getMany(['ok', k])).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(cache.setMany(new Map([[k, 1]]))).rejects.toBeInstanceOf(InvalidArgumentError)
      expect(await cache.keys('*')).toEqual([])
    })
  })

  describe('values that cannot be stored', () => {
    const circular: Record<string, unknown> = { a: 1 }
    circular.self = circular

    it.each([
      ['a circular object', circular],
      ['a function', () => 1],
      ['a symbol', Symbol('s')],
      ['undefined', undefined],
    ])('%s rejects with SerializationError and writes nothing', async (_, value) => {
      await expect(cache.set('bad', value)).rejects.toBeInstanceOf(SerializationError)
      await expect(cache.set('bad', value, { timeout: 0 })).rejects.toBeInstanceOf(
        SerializationError,
      )
      await expect(cache.add('bad', value)).rejects.toBeInstanceOf(SerializationError)
      expect(await cache.hasKey('bad')).toBe(false)
      await cache.set('kept', 'old')
      await expect(cache.set('kept', value)).rejects.toBeInstanceOf(SerializationError)
      await expect(cache.set('kept', value, { timeout: 0 })).rejects.toBeInstanceOf(
        SerializationError,
      )
      expect(await cache.get('kept')).toBe('old')
    })

    it('setMany with one bad value stores none of them', async () => {
      const entries = { a: 1, b: 'two', bad: circular, c: 3 }
      await expect(cache.setMany(entries)).rejects.toBeInstanceOf(SerializationError)
      await expect(cache.setMany(entries, { timeout: null })).rejects.toBeInstanceOf(
        SerializationError,
      )
      await expect(cache.setMany(new Map(Object.entries(entries)), { timeout: 0 })).rejects.toThrow(
        SerializationError,
      )
      expect((await cache.getMany(['a', 'b', 'bad', 'c'])).size).toBe(0)
    })

    it('getOrSet with a factory giving a bad value rejects and stores nothing', async () => {
      await expect(cache.getOrSet('k', () => () => 1)).rejects.toBeInstanceOf(SerializationError)
      expect(await cache.hasKey('k')).toBe(false)
    })
  })

  describe('close', () => {
    it('later calls reject with ClosedError', async () => {
      const c = createCache({ location: server.url, keyPrefix: uniquePrefix() })
      await c.set('k', 1)
      await c.close()
      await expect(c.get('k')).rejects.toBeInstanceOf(ClosedError)
      await expect(c.set('k', 2)).rejects.toBeInstanceOf(ClosedError)
      // close is idempotent
      await expect(c.close()).resolves.toBeUndefined()
    })
  })
})
