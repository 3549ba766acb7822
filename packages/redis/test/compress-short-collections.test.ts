// A collection of many short elements (stored uncompressed: not longer than the compressor's
// minLength) read by a cache with a compressor. Every element is offered to the compressor first,
// and a failed decompression cost 50–140 µs (a 16 KiB output buffer, then the error's stack trace,
// formatted by Node's zlib stream), 5–10× a successful one: 20,000 elements blocked the event loop
// for seconds. Brotli has no magic bytes, so it was tried on every element; zlib's header check
// took JSON text starting `80` (`80.5`) for a zlib header. Now bytes that cannot start a stream
// are not decoded (zlib's header as zlib writes it; brotli's window size and first meta-block
// header), and a failed decode costs about what a successful one does. A short JSON string
// (`"m1"`) can start a brotli stream: it still is decoded, and fails.

import { brotliCompressor, zlibCompressor } from '@cachex/compressors'
import { type Compressor, defineCompressor } from '@cachex/core'
import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const N = 20_000

let server: { url: string; stop(): Promise<void> }
const opened: Cache[] = []

beforeAll(async () => {
  server = await standaloneServer()
}, 60_000)

afterAll(async () => {
  await Promise.all(opened.map((cache) => cache.close()))
  await server?.stop()
})

function open(compressor: CreateCacheOptions['compressor']): Cache {
  const cache = createCache({
    location: server.url,
    serializer: 'json',
    compressor,
    keyPrefix: uniquePrefix('short-coll'),
  })
  opened.push(cache)
  return cache
}

/** `compressor`, counting the values it is asked to decompress. */
function counting(compressor: Compressor): { compressor: Compressor; calls: () => number } {
  let calls = 0
  const counted = defineCompressor({
    name: compressor.name,
    minLength: compressor.minLength,
    compress: (data) => compressor.compress(data),
    decompress: (data, max) => {
      calls++
      return compressor.decompress(data, max)
    },
    ...(compressor.matches ? { matches: compressor.matches } : {}),
  })
  return { compressor: counted, calls: () => calls }
}

async function fill(cache: Cache, values: readonly unknown[]): Promise<void> {
  for (let i = 0; i < values.length; i += 1000) {
    const slice = values.slice(i, i + 1000)
    await cache.rpush('l', ...slice)
    await cache.hset('h', Object.fromEntries(slice.map((value, j) => [`f${i + j}`, value])))
  }
}

/** Milliseconds of CPU (user + system) this process spent on `run`. */
async function cpu(run: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage()
  await run()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

/** The least CPU of three runs of `read` on `cache`, after one to warm up. */
async function leastCpu(cache: Cache, read: (cache: Cache) => Promise<unknown>): Promise<number> {
  await read(cache)
  return Math.min(
    await cpu(() => read(cache)),
    await cpu(() => read(cache)),
    await cpu(() => read(cache)),
  )
}

const READS = [
  ['lrange', (cache: Cache) => cache.lrange('l', 0, -1)],
  ['hgetall', (cache: Cache) => cache.hgetall('h')],
] as const

/** JSON strings `"m0"`…: short, and brotli's stream header cannot tell them from a stream. */
const strings = Array.from({ length: N }, (_, i) => `m${i}`)
/** 80.0001 … 80.9991: JSON text `80.…` passed zlib's old header check (0x38 0x30). */
const floats = Array.from({ length: N }, (_, i) => (800_001 + 10 * (i % 1000)) / 10_000)
/** Short JSON that cannot start a brotli stream: floats, booleans, null, small objects. */
const mixed = Array.from(
  { length: N },
  (_, i) => [floats[i], true, false, null, { a: i % 100 }][i % 5],
)

describe('a collection of short uncompressed elements', () => {
  // Before the fix (least CPU of 3 reads, this machine): 1,650–2,600 ms each, against 8–45 ms
  // with no compressor. Now zlib's `80.…` floats, and the values brotli's header check refuses,
  // cost about what they cost with no compressor; brotli still decodes a JSON string (a failed
  // decode, 15–25 µs in a burst of 20,000): 330–560 ms, with both cores busy too, under half
  // the bound of 1,200 ms (the no-compressor read, 8–20 ms, counts as 20).
  it.each([
    ['zlib', '80.… floats', 10, floats],
    ['brotli', 'floats, booleans, null, objects', 10, mixed],
    ['brotli', 'JSON strings', 60, strings],
  ] as const)(
    '%s, %s: reading it costs less than %i× the same read with no compressor',
    async (name, _, bound, values) => {
      const plain = open('none')
      const compressed = open(name)
      await fill(plain, values)
      await fill(compressed, values)
      expect(await compressed.lrange('l', 0, -1)).toEqual(values)
      expect(Object.keys(await compressed.hgetall('h'))).toHaveLength(N)
      for (const [what, read] of READS) {
        const none = await leastCpu(plain, read)
        const used = await leastCpu(compressed, read)
        expect(used, `${what}: ${used} ms of CPU, ${none} ms with no compressor`).toBeLessThan(
          bound * Math.max(none, 20),
        )
      }
    },
    120_000,
  )

  it.each([
    ['zlib', zlibCompressor(), floats],
    ['brotli', brotliCompressor(), mixed],
  ] as const)(
    '%s: short values that cannot be its format are never decompressed',
    async (_, real, values) => {
      const { compressor, calls } = counting(real)
      const cache = open(compressor)
      await fill(cache, values)
      expect(await cache.lrange('l', 0, -1)).toEqual(values)
      expect(Object.keys(await cache.hgetall('h'))).toHaveLength(N)
      expect(calls()).toBe(0)
      // A compressed value still is.
      const long = 'a value long enough to be compressed, '.repeat(4)
      await cache.rpush('l', long)
      expect(await cache.lrange('l', -1, -1)).toEqual([long])
      expect(calls()).toBe(1)
    },
    60_000,
  )
})
