import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib'
import {
  type Cache,
  ConnectionError,
  type CreateCacheOptions,
  createCache,
  InvalidArgumentError,
  SerializationError,
  type Serializer,
} from '@cachex/redis'
import { freePort, standaloneServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { raw, rawGet } from './helpers.ts'

let server: { url: string; stop(): Promise<void> }
let cache: Cache
const opened: Cache[] = []

function make(options: CreateCacheOptions<false> = {}): Cache {
  const c = createCache({ location: server.url, keyPrefix: uniquePrefix('edge'), ...options })
  opened.push(c)
  return c
}

beforeAll(async () => {
  server = await standaloneServer()
  cache = make()
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await server?.stop()
})

/** A 10 KB JSON-able value that compresses well. */
function tenKilobytes(): { rows: Array<{ id: number; name: string; tags: string[] }> } {
  const rows = []
  for (let i = 0; i < 120; i++) rows.push({ id: i, name: `row number ${i}`, tags: ['a', 'b', 'c'] })
  const value = { rows }
  expect(JSON.stringify(value).length).toBeGreaterThan(5000)
  return value
}

describe('values round-trip', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['true', true],
    ['false', false],
    ['zero', 0],
    ['a negative integer', -42],
    ['the largest safe integer', Number.MAX_SAFE_INTEGER],
    ['a float', 1.5],
    ['a negative float', -0.25],
    ['a tiny float', 1e-7],
    ['a huge float', 1e300],
    ['pi', Math.PI],
    ['a string of digits', '123'],
    ['a negative digit string', '-5'],
    ['a zero string', '0'],
    ['a padded digit string', ' 42\n'],
    ['a plus digit string', '+5'],
    ['an underscored digit string', '1_000'],
    ['a leading-zero string', '007'],
    ['an empty string', ''],
    ['a space', ' '],
    ['unicode text', 'héllo wörld ✓ 日本 😀'],
    ['a NUL character', 'a\u0000b'],
    ['an empty object', {}],
    ['an empty array', []],
    ['a nested object', { a: { b: { c: [1, 'two', null, true, { d: 1.5 }] } }, e: '' }],
    ['an array of mixed values', [1, '1', true, null, [], {}, [[['deep']]]]],
  ])('%s', async (_, value) => {
    await cache.set('v', value)
    expect(await cache.get('v')).toEqual(value)
    const typeOf = (v: unknown) => (v === null ? 'null' : typeof v)
    expect(typeOf(await cache.get('v'))).toBe(typeOf(value))
  })

  it('integers beyond 2^53 come back as bigint', async () => {
    const big = 2n ** 70n
    await cache.set('b', big)
    expect(await cache.get('b')).toBe(big)
    await cache.set('neg', -big)
    expect(await cache.get('neg')).toBe(-big)
    await cache.set('small', 5n)
    expect(await cache.get('small')).toBe(5)
  })

  it('-0 is stored as 0', async () => {
    await cache.set('z', -0)
    expect((await rawGet(cache, 'z'))?.toString()).toBe('0')
    expect(Object.is(await cache.get('z'), 0)).toBe(true)
  })

  it('a 10 MB string', async () => {
    const chunk = 'The quick brown fox jumps over the lazy dog 0123456789. '
    const big = chunk.repeat(Math.ceil((10 * 1024 * 1024) / chunk.length))
    expect(big.length).toBeGreaterThanOrEqual(10 * 1024 * 1024)
    await cache.set('big', big)
    const back = await cache.get<string>('big')
    expect(back?.length).toBe(big.length)
    expect(back === big).toBe(true)
    expect(await cache.delete('big')).toBe(true)
  })
})

describe('wire format', () => {
  it('integers are ASCII digits; everything else is serialized', async () => {
    const cases: Array<[unknown, string]> = [
      [42, '42'],
      [-7, '-7'],
      [12345678901234567890n, '12345678901234567890'],
      ['42', '"42"'],
      [true, 'true'],
      [false, 'false'],
      [null, 'null'],
      [1.5, '1.5'],
      ['', '""'],
      [{ a: [1] }, '{"a":[1]}'],
    ]
    for (const [value, stored] of cases) {
      await cache.set('w', value)
      expect((await rawGet(cache, 'w'))?.toString()).toBe(stored)
    }
  })

  it('reads what Python writes: int() rules for digits', async () => {
    for (const [stored, value] of [
      [' 42\n', 42],
      ['+5', 5],
      ['1_000', 1000],
      ['007', 7],
      ['99999999999999999999', 99999999999999999999n],
    ] as const) {
      await raw(cache, 'SET', cache.makeKey('py'), stored)
      expect(await cache.get('py')).toBe(value)
    }
  })

  it('bytes nobody can read reject with SerializationError', async () => {
    await raw(cache, 'SET', cache.makeKey('junk'), '\u0001not json')
    await expect(cache.get('junk')).rejects.toBeInstanceOf(SerializationError)
  })
})

describe('compressors', () => {
  const magic: Record<string, (b: Buffer) => boolean> = {
    zlib: (b) => b[0] === 0x78,
    gzip: (b) => b[0] === 0x1f && b[1] === 0x8b,
    brotli: () => true,
  }
  const decompress: Record<string, (b: Buffer) => Buffer> = {
    zlib: inflateSync,
    gzip: gunzipSync,
    brotli: brotliDecompressSync,
  }

  describe.each(['zlib', 'gzip', 'brotli'] as const)('%s', (name) => {
    let c: Cache
    beforeAll(() => {
      c = make({ compressor: name })
    })

    it('stores a large value compressed and reads it back', async () => {
      const value = tenKilobytes()
      await c.set('big', value)
      const stored = (await rawGet(c, 'big')) as Buffer
      const json = JSON.stringify(value)
      expect(stored.length).toBeLessThan(json.length / 2)
      expect(magic[name]?.(stored)).toBe(true)
      expect(decompress[name]?.(stored).toString()).toBe(json)
      expect(await c.get('big')).toEqual(value)
      expect(Object.fromEntries(await c.getMany(['big']))).toEqual({ big: value })
    })

    it('compresses only when the serialized length is greater than 15', async () => {
      await c.set('s15', 'x'.repeat(13)) // "xxxxxxxxxxxxx" is 15 bytes
      expect((await rawGet(c, 's15'))?.toString()).toBe(`"${'x'.repeat(13)}"`)
      await c.set('s16', 'x'.repeat(14)) // 16 bytes
      const stored = (await rawGet(c, 's16')) as Buffer
      expect(stored.toString()).not.toBe(`"${'x'.repeat(14)}"`)
      expect(decompress[name]?.(stored).toString()).toBe(`"${'x'.repeat(14)}"`)
      expect(await c.get('s15')).toBe('x'.repeat(13))
      expect(await c.get('s16')).toBe('x'.repeat(14))
    })

    it('never compresses integers', async () => {
      await c.set('n', 12345678901234567890n)
      expect((await rawGet(c, 'n'))?.toString()).toBe('12345678901234567890')
      expect(await c.incr('n')).toBe(12345678901234567891n)
    })

    it('reads short raw values that look like compressed data', async () => {
      // Node's brotli decoder takes a first byte of `3`, `5`, `7`, `9`, `;`, `=` or `?` for an
      // empty stream and ignores the rest; such values must still read as themselves.
      const values = [3.5, 5.25, 7.125, 9.75, -3.5, '3', [3], { '3': 3 }, true, 'x', 0.5]
      for (const value of values) {
        await c.set('short', value)
        expect(await c.get('short')).toEqual(value)
      }
      for (const text of ['3 apples', '5', ';', '=x', '?']) {
        await raw(c, 'SET', c.makeKey('py'), JSON.stringify(text))
        expect(await c.get('py')).toBe(text)
        await raw(c, 'SET', c.makeKey('py'), `${text.length}.5`)
        expect(await c.get('py')).toBe(text.length + 0.5)
      }
    })

    it('reads long values written without compression', async () => {
      const plain = make({ keyPrefix: c.keyPrefix })
      const value = { long: 'y'.repeat(200), n: 3.5 }
      await plain.set('old', value)
      await plain.set('oldfloat', 3.0000000000000004)
      expect(await c.get('old')).toEqual(value)
      expect(await c.get('oldfloat')).toBe(3.0000000000000004)
    })

    it('round-trips every kind of value through hashes, sets and lists', async () => {
      const big = tenKilobytes()
      await c.hset('h', 'f', big)
      expect(await c.hget('h', 'f')).toEqual(big)
      await c.rpush('l', big, 3.5, 'x')
      expect(await c.lrange('l', 0, -1)).toEqual([big, 3.5, 'x'])
      await c.zadd('z', new Map<unknown, number>([[big, 1]]))
      expect(await c.zrange('z', 0, -1)).toEqual([big])
    })
  })

  it('a list of compressors writes with the first and reads all', async () => {
    const prefix = uniquePrefix('multi')
    const gz = make({ keyPrefix: prefix, compressor: 'gzip' })
    const zl = make({ keyPrefix: prefix, compressor: 'zlib' })
    const both = make({ keyPrefix: prefix, compressor: ['zlib', 'gzip'] })
    const value = tenKilobytes()
    await gz.set('g', value)
    await zl.set('z', value)
    await make({ keyPrefix: prefix }).set('p', value)
    expect(await both.get('g')).toEqual(value)
    expect(await both.get('z')).toEqual(value)
    expect(await both.get('p')).toEqual(value)
    await both.set('w', value)
    expect((await rawGet(both, 'w'))?.[0]).toBe(0x78)
  })

  it('by name: none stores raw', async () => {
    const none = make({ compressor: 'none' })
    const value = tenKilobytes()
    await none.set('k', value)
    expect((await rawGet(none, 'k'))?.toString()).toBe(JSON.stringify(value))
  })
})

describe('a list of serializers', () => {
  const tagged: Serializer = {
    name: 'tagged',
    serialize: (value) => `T1${JSON.stringify(value)}`,
    deserialize(data) {
      const text = data.toString('utf8')
      if (!text.startsWith('T1')) throw new Error('not tagged')
      return JSON.parse(text.slice(2))
    },
  }

  it('writes with the first and reads values written by any', async () => {
    const prefix = uniquePrefix('ser')
    const json = make({ keyPrefix: prefix })
    const both = make({ keyPrefix: prefix, serializer: [tagged, 'json'] })
    const onlyTagged = make({ keyPrefix: prefix, serializer: tagged })
    await json.set('from-json', { by: 'json' })
    await both.set('from-both', { by: 'both' })
    expect((await rawGet(both, 'from-both'))?.toString()).toBe('T1{"by":"both"}')
    expect(await both.get('from-json')).toEqual({ by: 'json' })
    expect(await both.get('from-both')).toEqual({ by: 'both' })
    expect(await onlyTagged.get('from-both')).toEqual({ by: 'both' })
    await expect(onlyTagged.get('from-json')).rejects.toBeInstanceOf(SerializationError)
    await expect(json.get('from-both')).rejects.toBeInstanceOf(SerializationError)
    // Integers skip the serializers, so every cache reads them.
    await both.set('n', 5)
    expect(await json.get('n')).toBe(5)
  })

  it('with a compressor too', async () => {
    const prefix = uniquePrefix('sercomp')
    const json = make({ keyPrefix: prefix, compressor: 'zlib' })
    const both = make({ keyPrefix: prefix, serializer: [tagged, 'json'], compressor: 'zlib' })
    const value = tenKilobytes()
    await json.set('a', value)
    await both.set('b', value)
    expect((await rawGet(both, 'b'))?.[0]).toBe(0x78)
    expect(await both.get('a')).toEqual(value)
    expect(await both.get('b')).toEqual(value)
  })
})

describe('concurrency', () => {
  it('1,000 concurrent mixed operations all resolve correctly', async () => {
    const c = make()
    const preset: Record<string, unknown> = {}
    for (let i = 0; i < 250; i++) preset[`pre:${i}`] = { i, s: `v${i}` }
    await c.setMany(preset)
    await c.set('counter', 0)
    const ops: Array<Promise<unknown>> = []
    const expectations: Array<(result: unknown) => void> = []
    for (let i = 0; i < 1000; i++) {
      switch (i % 4) {
        case 0:
          ops.push(c.incr('counter'))
          expectations.push((r) => expect(typeof r).toBe('number'))
          break
        case 1:
          ops.push(c.set(`new:${i}`, { i }))
          expectations.push((r) => expect(r).toBe(true))
          break
        case 2: {
          const k = `pre:${i % 250}`
          ops.push(c.get(k))
          expectations.push((r) => expect(r).toEqual(preset[k]))
          break
        }
        default:
          ops.push(c.set(`rw:${i}`, `value ${i}`).then(() => c.get(`rw:${i}`)))
          expectations.push((r) => expect(r).toBe(`value ${i}`))
      }
    }
    const results = await Promise.all(ops)
    results.forEach((r, i) => {
      expectations[i]?.(r)
    })
    const increments = results.filter((_, i) => i % 4 === 0) as number[]
    expect(new Set(increments).size).toBe(250)
    expect(Math.max(...increments)).toBe(250)
    expect(await c.get('counter')).toBe(250)
    const written = await c.getMany(Array.from({ length: 250 }, (_, j) => `new:${j * 4 + 1}`))
    expect(written.size).toBe(250)
    expect(written.get('new:997')).toEqual({ i: 997 })
  })
})

describe('createCache by name', () => {
  it.each<[string, CreateCacheOptions]>([
    ['an unknown serializer', { serializer: 'yaml' as 'json' }],
    ['an unknown serializer in a list', { serializer: ['json', 'yaml' as 'json'] }],
    ['an unknown compressor', { compressor: 'snappy' as 'zlib' }],
    ['an unknown client', { client: 'mesh' as 'default' }],
    ['a non-numeric timeout', { timeout: '5' as unknown as number }],
    ['a non-integer version', { version: 1.5 }],
    ['a zero scanItersize', { scanItersize: 0 }],
  ])('%s rejects with InvalidArgumentError', (_, options) => {
    expect(() => createCache({ location: server.url, ...options })).toThrow(InvalidArgumentError)
  })

  it('names the choices in the message', () => {
    expect(() => createCache({ location: server.url, serializer: 'yaml' as 'json' })).toThrow(
      /unknown serializer 'yaml'.*json/,
    )
    expect(() => createCache({ location: server.url, compressor: 'snappy' as 'zlib' })).toThrow(
      /unknown compressor 'snappy'.*zlib/,
    )
  })
})

describe('ignoreExceptions', () => {
  it('turns connection errors into defaults and logs them', async () => {
    const port = await freePort()
    const logged: string[] = []
    const dead = createCache({
      location: `redis://127.0.0.1:${port}`,
      keyPrefix: 'dead',
      socketConnectTimeout: 0.3,
      ignoreExceptions: true,
      logIgnoredExceptions: true,
      logger: { error: (message: string) => logged.push(message) },
    })
    opened.push(dead)
    expect(await dead.get('k', 'fallback')).toBe('fallback')
    expect(await dead.get('k')).toBeNull()
    const many = await dead.getMany(['a', 'b'])
    expect(many).toBeInstanceOf(Map)
    expect(many.size).toBe(0)
    expect(await dead.set('k', 1)).toBe(false)
    expect(await dead.incr('k')).toBeNull()
    expect(await dead.hget('h', 'f')).toBeNull()
    expect(await dead.keys('*')).toEqual([])
    // Seven failed calls, logged once per kind of error (not once per call).
    expect(logged.length).toBeGreaterThanOrEqual(1)
    expect(logged.length).toBeLessThan(7)
    expect(logged[0]).toMatch(/cachex: ignored/)
    // Programming errors still surface.
    await expect(dead.set('k', () => 1)).rejects.toBeInstanceOf(SerializationError)
    await expect(dead.set('k', 1, { timeout: Number.NaN })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
  })

  it('without it, connection errors reject typed', async () => {
    const port = await freePort()
    const dead = createCache({ location: `redis://127.0.0.1:${port}`, socketConnectTimeout: 0.3 })
    opened.push(dead)
    await expect(dead.get('k')).rejects.toBeInstanceOf(ConnectionError)
  })
})

describe('clear without a prefix', () => {
  it('flushes the whole database of a dedicated server', async () => {
    const own = await startRedis()
    const plain = createCache({ location: own.url })
    try {
      await plain.setMany({ a: 1, b: 2 }, { timeout: null })
      await plain.set('c', 3, { version: 5 })
      await raw(plain, 'SET', 'foreign', 'x')
      expect(Number(await raw(plain, 'DBSIZE'))).toBe(4)
      await plain.clear()
      expect(Number(await raw(plain, 'DBSIZE'))).toBe(0)
    } finally {
      await plain.close()
      await own.stop()
    }
  })
})
