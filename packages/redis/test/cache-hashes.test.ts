import { type Cache, createCache, InvalidArgumentError, ResponseError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('hash') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  describe('hashes', () => {
    it('hset / hget: key prefixed, field raw, value encoded', async () => {
      expect(await cache.hset('h', 'a', { x: 1 })).toBe(1)
      expect(await cache.hset('h', 'a', { x: 2 })).toBe(0)
      expect(await cache.hset('h', 'n', 5)).toBe(1)
      expect(await cache.hset('h', 'digits', '123')).toBe(1)
      expect(await cache.hget('h', 'a')).toEqual({ x: 2 })
      expect(await cache.hget('h', 'n')).toBe(5)
      expect(await cache.hget('h', 'digits')).toBe('123')
      expect(await cache.hget('h', 'missing')).toBeNull()
      expect(await cache.hget('nokey', 'a')).toBeNull()
      const fields = (await raw(cache, 'HKEYS', cache.makeKey('h'))) as Buffer[]
      expect(fields.map(String).sort()).toEqual(['a', 'digits', 'n'])
      const stored = (await raw(cache, 'HGET', cache.makeKey('h'), 'digits')) as Buffer
      expect(stored.toString()).toBe('"123"')
      expect(String(await raw(cache, 'HGET', cache.makeKey('h'), 'n'))).toBe('5')
    })

    it('hgets of one tick each get their own field, over one hash and several', async () => {
      await cache.hmset('h', { a: 1, b: [2], c: null })
      await cache.hset('g', 'a', 'ga')
      const values = await Promise.all([
        cache.hget('h', 'a'),
        cache.hget('g', 'a'),
        cache.hget('h', 'b'),
        cache.hget('h', 'c'),
        cache.hget('h', 'zz'),
        cache.hget('gone', 'a'),
        cache.hget('h', 'a'),
      ])
      expect(values).toEqual([1, 'ga', [2], null, null, null, 1])
    })

    it('hdel counts the fields that existed', async () => {
      await cache.hmset('h', { a: 1, b: 2, c: 3 })
      expect(await cache.hdel('h', 'a', 'b', 'zz')).toBe(2)
      expect(await cache.hdel('h')).toBe(0)
      expect(await cache.hkeys('h')).toEqual(['c'])
    })

    it('hexists', async () => {
      await cache.hset('h', 'a', null)
      expect(await cache.hexists('h', 'a')).toBe(true)
      expect(await cache.hexists('h', 'b')).toBe(false)
      expect(await cache.hexists('nokey', 'a')).toBe(false)
    })

    it('hgetall gives a record of decoded values', async () => {
      await cache.hmset('h', { a: 1, b: 'two', c: [3], d: { e: true }, 'f:g': null })
      expect(await cache.hgetall('h')).toEqual({
        a: 1,
        b: 'two',
        c: [3],
        d: { e: true },
        'f:g': null,
      })
      expect(await cache.hgetall('nokey')).toEqual({})
    })

    it('hincrby adds integers', async () => {
      expect(await cache.hincrby('h', 'n')).toBe(1)
      expect(await cache.hincrby('h', 'n', 10)).toBe(11)
      expect(await cache.hincrby('h', 'n', -20)).toBe(-9)
      expect(await cache.hget('h', 'n')).toBe(-9)
      await cache.hset('h', 'm', 100)
      expect(await cache.hincrby('h', 'm', 5)).toBe(105)
      await expect(cache.hincrby('h', 'n', 1.5)).rejects.toBeInstanceOf(InvalidArgumentError)
      await cache.hset('h', 's', 'text')
      await expect(cache.hincrby('h', 's', 1)).rejects.toBeInstanceOf(ResponseError)
      expect(await cache.hget('h', 'n')).toBe(-9)
    })

    it('hincrbyfloat adds floats', async () => {
      expect(await cache.hincrbyfloat('h', 'f', 1.5)).toBe(1.5)
      expect(await cache.hincrbyfloat('h', 'f', 2.25)).toBe(3.75)
      expect(await cache.hincrbyfloat('h', 'f')).toBe(4.75)
      expect(await cache.hget('h', 'f')).toBe(4.75)
      await cache.hset('h', 'i', 2)
      expect(await cache.hincrbyfloat('h', 'i', -0.5)).toBe(1.5)
      await expect(cache.hincrbyfloat('h', 'f', Number.NaN)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    })

    it('hlen', async () => {
      expect(await cache.hlen('h')).toBe(0)
      await cache.hmset('h', { a: 1, b: 2 })
      expect(await cache.hlen('h')).toBe(2)
    })

    it('hmget gives null for missing fields', async () => {
      await cache.hmset('h', { a: 1, b: 'x' })
      expect(await cache.hmget('h', 'a', 'missing', 'b')).toEqual([1, null, 'x'])
      expect(await cache.hmget('h')).toEqual([])
      expect(await cache.hmget('nokey', 'a', 'b')).toEqual([null, null])
    })

    it('hmset takes an object or a Map', async () => {
      expect(await cache.hmset('h', { a: 1, b: { c: 2 } })).toBe(true)
      expect(
        await cache.hmset(
          'h',
          new Map<string, unknown>([
            ['b', 'replaced'],
            ['c', [1, 2]],
          ]),
        ),
      ).toBe(true)
      expect(await cache.hgetall('h')).toEqual({ a: 1, b: 'replaced', c: [1, 2] })
      expect(await cache.hmset('h', {})).toBe(true)
      expect(await cache.hlen('h')).toBe(3)
    })

    it('hsetnx only sets a new field', async () => {
      expect(await cache.hsetnx('h', 'a', 'first')).toBe(true)
      expect(await cache.hsetnx('h', 'a', 'second')).toBe(false)
      expect(await cache.hget('h', 'a')).toBe('first')
    })

    it('hvals and hkeys line up', async () => {
      await cache.hmset('h', { a: 1, b: 'two', c: { three: 3 } })
      const keys = await cache.hkeys('h')
      const vals = await cache.hvals('h')
      expect(Object.fromEntries(keys.map((k, i) => [k, vals[i]]))).toEqual({
        a: 1,
        b: 'two',
        c: { three: 3 },
      })
      expect(await cache.hvals('nokey')).toEqual([])
      expect(await cache.hkeys('nokey')).toEqual([])
    })

    it('unicode fields', async () => {
      await cache.hset('h', '字段', '值')
      await cache.hset('h', '🔑', { ok: true })
      expect(await cache.hgetall('h')).toEqual({ 字段: '值', '🔑': { ok: true } })
    })

    it('a hash command on a string rejects with ResponseError', async () => {
      await cache.set('s', 'text')
      await expect(cache.hset('s', 'f', 1)).rejects.toBeInstanceOf(ResponseError)
      await expect(cache.hget('s', 'f')).rejects.toBeInstanceOf(ResponseError)
      expect(await cache.get('s')).toBe('text')
    })

    it('a hash value that cannot be encoded writes nothing', async () => {
      await expect(cache.hset('h', 'f', () => 1)).rejects.toThrow(/cannot serialize/)
      await expect(cache.hmset('h', { ok: 1, bad: Symbol('x') })).rejects.toThrow(
        /cannot serialize/,
      )
      expect(await cache.hlen('h')).toBe(0)
    })
  })

  describe('field names that are Object.prototype names stay data', () => {
    const NAMES = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString']

    it('hset("__proto__", …) never reaches the prototype of hgetall()', async () => {
      expect(await cache.hset('p', '__proto__', { isAdmin: true })).toBe(1)
      const result = await cache.hgetall<unknown>('p')
      expect((result as { isAdmin?: unknown }).isAdmin).toBeUndefined()
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
      expect(Object.keys(result)).toEqual(['__proto__'])
      expect(Object.getOwnPropertyDescriptor(result, '__proto__')?.value).toEqual({ isAdmin: true })
      expect(({} as { isAdmin?: unknown }).isAdmin).toBeUndefined()
    })

    it('hgetall() holds every such name as an own, enumerable property', async () => {
      const mapping = new Map(NAMES.map((name, i) => [name, { i }]))
      await cache.hmset('names', mapping)
      for (const name of NAMES)
        expect(await cache.hget('names', name)).toEqual({ i: NAMES.indexOf(name) })
      const result = await cache.hgetall<{ i: number }>('names')
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype)
      expect(Object.keys(result).sort()).toEqual([...NAMES].sort())
      for (const [i, name] of NAMES.entries()) {
        expect(Object.hasOwn(result, name)).toBe(true)
        expect(Object.getOwnPropertyDescriptor(result, name)).toEqual({
          value: { i },
          writable: true,
          enumerable: true,
          configurable: true,
        })
      }
      expect(new Map(Object.entries(result))).toEqual(mapping)
      expect(await cache.hkeys('names')).toEqual(expect.arrayContaining(NAMES))
      expect(await cache.hmget('names', ...NAMES)).toEqual(NAMES.map((_, i) => ({ i })))
    })

    it('hmset() from a plain object with an own "__proto__" writes that field', async () => {
      const mapping = JSON.parse('{"__proto__": 1, "constructor": 2}') as Record<string, number>
      await cache.hmset('fromjson', mapping)
      const result = await cache.hgetall('fromjson')
      expect(Object.keys(result).sort()).toEqual(['__proto__', 'constructor'])
      expect(result).toEqual(mapping)
    })
  })

  describe('field names that no string field can be are refused, nothing sent', () => {
    // A Map key that is not a string was written as String(key): two object keys became one
    // field '[object Object]', the first value lost, and hset resolved 1.
    const objectKeys = (): Map<string, unknown> =>
      new Map<unknown, unknown>([
        [{ id: 1 }, 'first'],
        [{ id: 2 }, 'second'],
      ]) as Map<string, unknown>

    it('hset and hmset with a Map whose keys are not strings reject before writing', async () => {
      await expect(cache.hset('h', objectKeys())).rejects.toThrow(
        /^hset\(\): a field name must be a string, got an object$/,
      )
      await expect(cache.hmset('h', objectKeys())).rejects.toThrow(
        /^hmset\(\): a field name must be a string, got an object$/,
      )
      // Every pair is checked before anything is sent: the good field before the bad one too.
      const numbered = new Map<unknown, unknown>([
        ['ok', 1],
        [1, 'x'],
      ]) as Map<string, unknown>
      await expect(cache.hset('h', numbered)).rejects.toThrow(/hset\(\).*got 1$/)
      await expect(cache.hmset('h', numbered)).rejects.toBeInstanceOf(InvalidArgumentError)
      const symbols = new Map([[Symbol('s'), 1]]) as unknown as Map<string, unknown>
      await expect(cache.hset('h', symbols)).rejects.toThrow(/got a symbol/)
      expect(await cache.hlen('h')).toBe(0)
      expect(await cache.hgetall('h')).toEqual({})
    })

    it('a pipeline and a transaction refuse such an hset the same way', async () => {
      const [slot, after] = await cache.pipeline().hset('h', objectKeys()).hlen('h').exec()
      expect(slot).toBeInstanceOf(InvalidArgumentError)
      expect((slot as Error).message).toMatch(/^hset\(\): a field name must be a string/)
      expect(after).toBe(0)
      await expect(
        cache.transaction().hset('h', 'ok', 1).hmset('h', objectKeys()).exec(),
      ).rejects.toThrow(/^hmset\(\): a field name must be a string/)
      expect(await cache.hlen('h')).toBe(0)
    })

    // UTF-8 has no form for a lone surrogate: sent, it became U+FFFD, and 'a\ud800' wrote, read
    // and deleted the field 'a\ufffd' (redis-py raises UnicodeEncodeError on such a name).
    const LONE = ['a\ud800', '\udc00', 'x\ud83d', 'a\ude00b']
    const refusals: Array<[string, (field: string) => Promise<unknown>]> = [
      ['hset', (field) => cache.hset('h', field, 'lone')],
      ['hset', (field) => cache.hset('h', { ok: 1, [field]: 'lone' })],
      ['hset', (field) => cache.hset('h', new Map([[field, 'lone']]))],
      ['hmset', (field) => cache.hmset('h', { [field]: 'lone', ok: 1 })],
      ['hsetnx', (field) => cache.hsetnx('h', field, 'lone')],
      ['hget', (field) => cache.hget('h', field)],
      ['hmget', (field) => cache.hmget('h', 'ok', field)],
      ['hdel', (field) => cache.hdel('h', 'a\ufffd', field)],
      ['hexists', (field) => cache.hexists('h', field)],
      ['hincrby', (field) => cache.hincrby('h', field, 1)],
      ['hincrbyfloat', (field) => cache.hincrbyfloat('h', field, 0.5)],
    ]

    it('a field name with a lone surrogate: every hash method rejects, the U+FFFD field kept', async () => {
      await cache.hset('h', 'a\ufffd', 'replacement')
      for (const [method, call] of refusals) {
        for (const field of LONE) {
          const error = await call(field).then(
            (value) => new Error(`${method} resolved ${String(value)}`),
            (e: unknown) => e,
          )
          expect(error).toBeInstanceOf(InvalidArgumentError)
          expect((error as Error).message).toMatch(
            new RegExp(`^${method}\\(\\) on key 'h': a field name holds a lone surrogate`),
          )
        }
      }
      expect(await cache.hgetall('h')).toEqual({ 'a\ufffd': 'replacement' })
      // A well-formed pair (an emoji) is a name like any other, and U+FFFD itself is one.
      expect(await cache.hset('h', { 'a\ud83d\ude00': 'emoji' })).toBe(1)
      expect(await cache.hget('h', 'a\ud83d\ude00')).toBe('emoji')
      expect(await cache.hgetall('h')).toEqual({
        'a\ufffd': 'replacement',
        'a\ud83d\ude00': 'emoji',
      })
    })

    it('one refused hget among coalesced ones fails alone; a pipeline refuses it too', async () => {
      await cache.hset('h', { a: 1, 'a\ufffd': 2 })
      const results = await Promise.allSettled([
        cache.hget('h', 'a'),
        cache.hget('h', 'a\ud800'),
        cache.hget('h', 'a\ufffd'),
      ])
      expect(results[0]).toEqual({ status: 'fulfilled', value: 1 })
      expect(results[1]?.status).toBe('rejected')
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidArgumentError)
      expect(results[2]).toEqual({ status: 'fulfilled', value: 2 })
      const [set, read, count] = await cache
        .pipeline()
        .hset('h', 'a\ud800', 'lone')
        .hget('h', 'a\ud800')
        .hlen('h')
        .exec()
      expect(set).toBeInstanceOf(InvalidArgumentError)
      expect(read).toBeInstanceOf(InvalidArgumentError)
      expect(count).toBe(2)
      expect(await cache.hgetall('h')).toEqual({ a: 1, 'a\ufffd': 2 })
    })
  })
})
