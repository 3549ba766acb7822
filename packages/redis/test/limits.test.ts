// What one poisoned key can cost a reader: decompression bombs, oversized values, huge integers and
// deep JSON, each stored with a raw client in a real Redis and read with `get` (issue 8, items 1
// and 5). Time bounds only prove that nothing hangs, with margins for a busy machine; memory is
// what shows that a bomb was stopped rather than decoded.
import {
  type Cache,
  CachexError,
  CompressionError,
  type CompressorName,
  type CreateCacheOptions,
  createCache,
  DEFAULT_MAX_VALUE_SIZE,
  lz4Compressor,
  lzmaCompressor,
  SerializationError,
} from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { brotliBomb, gzipBomb, lz4Bomb, xzBomb, zlibBomb, zstdBomb } from '@cachex/test-utils/bombs'
import { RESP_TYPES } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

let server: { url: string; stop(): Promise<void> }
const opened: Cache[] = []

function make(options: CreateCacheOptions = {}): Cache {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('limits'), ...options })
  opened.push(cache)
  return cache
}

beforeAll(async () => {
  server = await standaloneServer()
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await server?.stop()
})

interface RawClient {
  sendCommand(args: Array<string | Buffer>, options?: object): Promise<unknown>
}

/** Stores `value` at the Redis key of `key` as is, as any writer with access to Redis could. */
async function storeRaw(cache: Cache, key: string, value: Buffer | string): Promise<void> {
  const client = (await cache.connection.client()) as RawClient
  await client.sendCommand(['SET', cache.makeKey(key), value], {
    typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer },
  })
}

/** How `get` ends, how long it took, and how much the process's RSS grew meanwhile. */
async function measuredGet(
  cache: Cache,
  key: string,
): Promise<{ value?: unknown; error?: Error; ms: number; rssGrowth: number }> {
  const rss = process.memoryUsage().rss
  const start = performance.now()
  try {
    const value = await cache.get(key)
    return { value, ms: performance.now() - start, rssGrowth: process.memoryUsage().rss - rss }
  } catch (error) {
    return {
      error: error as Error,
      ms: performance.now() - start,
      rssGrowth: process.memoryUsage().rss - rss,
    }
  }
}

const lz4 = lz4Compressor()
const lzma = lzmaCompressor()

describe('decompression bombs stop at the default maxValueSize (64 MiB)', () => {
  it.each<[Exclude<CompressorName, 'none'>, () => Buffer | Promise<Buffer>]>([
    ['zlib', () => zlibBomb(GiB)],
    ['gzip', () => gzipBomb(GiB)],
    ['brotli', () => brotliBomb(GiB)],
    ['lz4', () => lz4Bomb(GiB, (d) => lz4.compress(d))],
    ['zstd', () => zstdBomb(GiB)],
    ['lzma', () => xzBomb(GiB, (d) => lzma.compress(d))],
  ])(
    '%s: 1 GiB of zeros is refused with a CompressionError, without decoding it',
    async (name, build) => {
      const cache = make({ compressor: name })
      const bomb = await build()
      expect(bomb.length).toBeLessThan(5 * MiB)
      await storeRaw(cache, 'bomb', bomb)
      const { error, ms, rssGrowth } = await measuredGet(cache, 'bomb')
      expect(error).toBeInstanceOf(CompressionError)
      expect(error?.message).toBe(
        `cannot read key 'bomb': ${name}: decompressed value exceeds maxValueSize (67108864 bytes)`,
      )
      // Unbounded, this read took 10–40 s and 2–6 GB. A bound that proves no hang on a busy machine.
      expect(ms).toBeLessThan(5000)
      // At most the limit's worth of output is ever produced.
      expect(rssGrowth).toBeLessThan(2 * DEFAULT_MAX_VALUE_SIZE)
    },
  )
})

describe('a small maxValueSize: exactly at it reads, one byte more is refused', () => {
  const limit = 100_000
  it.each<CompressorName>(['none', 'zlib', 'gzip', 'brotli', 'lz4', 'zstd', 'lzma'])(
    '%s',
    async (compressor) => {
      const keyPrefix = uniquePrefix('limits')
      const limited = make({ keyPrefix, compressor, maxValueSize: limit })
      const unlimited = make({ keyPrefix, compressor, maxValueSize: null })
      const at = 'a'.repeat(limit - 2) // JSON: the quotes make it exactly `limit` bytes
      const over = 'b'.repeat(limit - 1)
      await limited.set('at', at)
      expect(await limited.get('at')).toBe(at)
      // Writing what it would refuse to read is refused too.
      await expect(limited.set('over', over)).rejects.toThrow(
        new SerializationError(
          `cannot store key 'over': the serialized value (${limit + 1} bytes) exceeds maxValueSize (${limit} bytes)`,
        ),
      )
      // Written by a cache without the limit, it cannot be read by one with it.
      await unlimited.set('over', over)
      expect(await unlimited.get('over')).toBe(over)
      const { error } = await measuredGet(limited, 'over')
      if (compressor === 'none') {
        expect(error).toBeInstanceOf(SerializationError)
        expect(error?.message).toBe(
          `cannot read key 'over': a stored value of ${limit + 1} bytes exceeds maxValueSize (${limit} bytes)`,
        )
      } else {
        expect(error).toBeInstanceOf(CompressionError)
        expect(error?.message).toBe(
          `cannot read key 'over': ${compressor}: decompressed value exceeds maxValueSize (${limit} bytes)`,
        )
      }
    },
  )

  it.each<CompressorName>(['none', 'zlib'])(
    '%s: a member over the limit that another cache stored can be looked up and removed',
    async (compressor) => {
      const keyPrefix = uniquePrefix('limits')
      const limited = make({ keyPrefix, compressor, maxValueSize: limit })
      const unlimited = make({ keyPrefix, compressor, maxValueSize: null })
      const over = 'b'.repeat(limit - 1)
      await unlimited.sadd('s', over, 'x')
      await unlimited.rpush('l', over, 'x', over)
      await unlimited.zadd('z', { [over]: 1, x: 2 })
      // Arguments that only match stored members store nothing: no limit applies to them.
      expect(await limited.sismember('s', over)).toBe(true)
      expect(await limited.smismember('s', over, 'y')).toEqual([true, false])
      expect(await limited.lpos('l', over)).toBe(0)
      expect(await limited.zscore('z', over)).toBe(1)
      expect(await limited.zmscore('z', over, 'x')).toEqual([1, 2])
      expect(await limited.zrank('z', over)).toBe(0)
      expect(await limited.zrevrank('z', over)).toBe(1)
      expect(await limited.linsert('l', 'AFTER', over, 'y')).toBe(4)
      expect(await limited.smove('s', 's2', over)).toBe(true)
      expect(await limited.srem('s2', over)).toBe(1)
      expect(await limited.lrem('l', 0, over)).toBe(2)
      expect(await limited.zrem('z', over)).toBe(1)
      expect(await limited.lrange('l', 0, -1)).toEqual(['y', 'x'])
      expect(await limited.smembers('s')).toEqual(['x'])
      expect(await limited.zrange('z', 0, -1)).toEqual(['x'])
      // What is stored is still checked: the value linsert adds, a member added.
      await expect(limited.linsert('l', 'AFTER', 'x', over)).rejects.toThrow(SerializationError)
      await expect(limited.sadd('s', over)).rejects.toThrow(SerializationError)
      await expect(limited.zincrby('z', 1, over)).rejects.toThrow(SerializationError)
    },
  )

  it('maxValueSize: null reads and writes values beyond the 64 MiB default', async () => {
    const keyPrefix = uniquePrefix('limits')
    const capped = make({ keyPrefix, compressor: 'zlib' })
    const open = make({ keyPrefix, compressor: 'zlib', maxValueSize: null })
    const big = 'c'.repeat(DEFAULT_MAX_VALUE_SIZE) // 64 MiB + 2 bytes of JSON
    await expect(capped.set('big', big)).rejects.toThrow(SerializationError)
    await open.set('big', big)
    // (=== rather than toBe: a failure must not print 64 MiB.)
    expect((await open.get('big')) === big).toBe(true)
    await expect(capped.get('big')).rejects.toThrow(CompressionError)
    await open.delete('big')
  })
})

describe('hostile plain values', () => {
  it.each(['json', 'msgpack', 'pickle'] as const)(
    '%s: 32 million 9s are no integer; the read ends at once with a value or a typed error',
    async (serializer) => {
      const cache = make({ serializer })
      await storeRaw(cache, 'nines', Buffer.alloc(32_000_000, '9'))
      const { value, error, ms } = await measuredGet(cache, 'nines')
      // Before the 4,300-digit cap, this spent 10 s in BigInt.
      expect(ms).toBeLessThan(5000)
      if (error !== undefined) expect(error).toBeInstanceOf(CachexError)
      else expect(typeof value).not.toBe('bigint')
      if (serializer === 'json') {
        expect(error).toBeInstanceOf(SerializationError)
        expect(error?.message).toMatch(/integer of more than 4300 digits/)
      }
    },
  )

  it('an integer of 4,300 digits still reads as one, as Python reads it', async () => {
    const cache = make()
    const digits = '8'.repeat(4300)
    await storeRaw(cache, 'int', digits)
    expect(await cache.get('int')).toBe(BigInt(digits))
    await storeRaw(cache, 'int', `8${digits}`)
    await expect(cache.get('int')).rejects.toThrow(SerializationError)
  })

  it('an integer padded with whitespace beyond maxValueSize is refused, not read', async () => {
    for (const compressor of ['none', 'zlib'] as const) {
      const cache = make({ compressor, maxValueSize: 10_000 })
      await storeRaw(cache, 'int', `1${' '.repeat(10_100)}`)
      await expect(cache.get('int')).rejects.toThrow(
        new SerializationError(
          "cannot read key 'int': a stored value of 10101 bytes exceeds maxValueSize (10000 bytes)",
        ),
      )
      // Padded up to the limit, it is an integer still.
      await storeRaw(cache, 'int', `1${' '.repeat(9_999)}`)
      expect(await cache.get('int')).toBe(1)
    }
  })

  it('bytes that are not UTF-8 are measured as stored, read as text or as bytes alike', async () => {
    const keyPrefix = uniquePrefix('limits')
    const text = make({ keyPrefix, maxValueSize: 10_000 })
    const bytes = make({ keyPrefix, maxValueSize: 10_000, compressor: 'zlib' })
    // 4,002 bytes, each 0xff read as U+FFFD (3 bytes of UTF-8 once decoded).
    await storeRaw(
      text,
      'bad',
      Buffer.concat([Buffer.from('"'), Buffer.alloc(4000, 0xff), Buffer.from('"')]),
    )
    expect(await text.get('bad')).toBe('\ufffd'.repeat(4000))
    expect(await bytes.get('bad')).toBe('\ufffd'.repeat(4000))
    // Beyond the limit in stored bytes, it is refused by both.
    await storeRaw(
      text,
      'bad',
      Buffer.concat([Buffer.from('"'), Buffer.alloc(10_000, 0xff), Buffer.from('"')]),
    )
    await expect(text.get('bad')).rejects.toThrow(
      /a stored value of at least 10002 bytes exceeds maxValueSize/,
    )
    await expect(bytes.get('bad')).rejects.toThrow(
      /a stored value of 10002 bytes exceeds maxValueSize/,
    )
  })

  it('a million nested JSON arrays are a SerializationError, not a stack overflow', async () => {
    for (const compressor of ['none', 'zlib'] as const) {
      const cache = make({ compressor })
      await storeRaw(cache, 'deep', `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`)
      const { error, ms } = await measuredGet(cache, 'deep')
      expect(error).toBeInstanceOf(SerializationError)
      expect(error?.message).toMatch(/nested deeper than 4096 levels/)
      expect(ms).toBeLessThan(5000)
    }
  })

  it('"__proto__" in stored JSON stays an own property on every parse path', async () => {
    const cache = make()
    for (const tail of ['1', 'NaN', '12345678901234567890']) {
      await storeRaw(cache, 'proto', `{"__proto__": {"isAdmin": true}, "n": ${tail}}`)
      const value = (await cache.get('proto')) as Record<string, unknown>
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
      expect(value.isAdmin).toBeUndefined()
      expect(Object.keys(value)).toEqual(['__proto__', 'n'])
    }
  })
})
