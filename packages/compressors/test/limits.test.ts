// maxOutputLength in every compressor, and the frame walks that enforce it for lz4 and zstd before
// their native decoders run. The same bombs against a real Redis: packages/redis/test/limits.test.ts.
import { CompressionError, type Compressor } from '@cachex/core'
import {
  brotliBombSync,
  gzipBomb,
  lz4Bomb,
  xzBomb,
  zlibBomb,
  zstdBomb,
} from '@cachex/test-utils/bombs'
import { describe, expect, it } from 'vitest'
import { NotAFrameError, refuseBeyond } from '../src/_frames.ts'
import { lz4FrameBound } from '../src/_lz4-frames.ts'
import { zstdFrameBound } from '../src/_zstd-frames.ts'
import {
  brotliCompressor,
  gzipCompressor,
  lz4Compressor,
  lzmaCompressor,
  zlibCompressor,
  zstdCompressor,
} from '../src/index.ts'

const MiB = 1024 * 1024
const lz4 = lz4Compressor()
const zstd = zstdCompressor()
const lzma = lzmaCompressor()

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

/** Bytes that compress, but not to nothing: `size` bytes of a repeating 997-byte pattern. */
function sample(size: number): Buffer {
  const pattern = Buffer.from(Array.from({ length: 997 }, (_, i) => (i * 31 + (i >> 3)) & 0xff))
  const out = Buffer.alloc(size)
  for (let at = 0; at < size; at += pattern.length) pattern.copy(out, at)
  return out
}

/** xxHash32 of a few bytes: the LZ4 frame header checksum is its second byte. */
function xxh32(data: Buffer): number {
  const P1 = 2654435761
  const P3 = 3266489917
  const P4 = 668265263
  const P5 = 374761393
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0
  let h = (P5 + data.length) >>> 0
  let i = 0
  for (; i + 4 <= data.length; i += 4) {
    h = (h + Math.imul(data.readUInt32LE(i), P3)) >>> 0
    h = Math.imul(rotl(h, 17), P4) >>> 0
  }
  for (; i < data.length; i++) {
    h = (h + Math.imul(data[i] as number, P5)) >>> 0
    h = Math.imul(rotl(h, 11), P1) >>> 0
  }
  h ^= h >>> 15
  h = Math.imul(h, 2246822519) >>> 0
  h ^= h >>> 13
  h = Math.imul(h, P3) >>> 0
  h ^= h >>> 16
  return h >>> 0
}

/** An LZ4 frame header: FLG, BD, optional content size, and its checksum. */
function lz4Header(flg: number, bd: number, contentSize?: bigint): Buffer {
  const descriptor = Buffer.alloc(contentSize === undefined ? 2 : 10)
  descriptor[0] = flg
  descriptor[1] = bd
  if (contentSize !== undefined) descriptor.writeBigUInt64LE(contentSize, 2)
  const magic = Buffer.from([0x04, 0x22, 0x4d, 0x18])
  return Buffer.concat([magic, descriptor, Buffer.from([(xxh32(descriptor) >>> 8) & 0xff])])
}

function u32(value: number): Buffer {
  const out = Buffer.alloc(4)
  out.writeUInt32LE(value >>> 0)
  return out
}

/** A zstd block header: Last_Block, Block_Type (0 raw, 1 RLE, 2 compressed), Block_Size. */
function zstdBlock(last: boolean, type: number, size: number, body: Buffer): Buffer {
  const header = Buffer.alloc(3)
  header.writeUIntLE((last ? 1 : 0) | (type << 1) | (size << 3), 0, 3)
  return Buffer.concat([header, body])
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])

describe('every compressor stops at maxOutputLength', () => {
  const compressors: Array<[string, Compressor]> = [
    ['zlib', zlibCompressor()],
    ['gzip', gzipCompressor()],
    ['brotli', brotliCompressor({ quality: 5 })],
    ['lz4', lz4],
    ['zstd', zstd],
    ['lzma', lzma],
  ]

  it.each(compressors)('%s: exactly the limit reads, one byte less refuses', (name, c) => {
    for (const size of [1000, 300_000, MiB + 3]) {
      const data = sample(size)
      const compressed = c.compress(data)
      expect(c.decompress(compressed, size).equals(data)).toBe(true)
      expect(c.decompress(compressed).equals(data)).toBe(true)
      const error = thrown(() => c.decompress(compressed, size - 1))
      expect(error).toBeInstanceOf(CompressionError)
      expect(error.message).toBe(
        `${name}: decompressed value exceeds maxValueSize (${size - 1} bytes)`,
      )
    }
  })

  it.each<[string, Compressor, () => Buffer]>([
    ['zlib', compressors[0]?.[1] as Compressor, () => zlibBomb(256 * MiB)],
    ['gzip', compressors[1]?.[1] as Compressor, () => gzipBomb(256 * MiB)],
    ['brotli', compressors[2]?.[1] as Compressor, () => brotliBombSync(64 * MiB)],
    ['lz4', lz4, () => lz4Bomb(256 * MiB, (d) => lz4.compress(d))],
    ['zstd', zstd, () => zstdBomb(1024 * MiB)],
    ['lzma', lzma, () => xzBomb(256 * MiB, (d) => lzma.compress(d))],
  ])('%s: a bomb stops near a 1 MiB limit, with little memory', (name, c, build) => {
    const bomb = build()
    const before = process.memoryUsage().rss
    const error = thrown(() => c.decompress(bomb, MiB))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe(`${name}: decompressed value exceeds maxValueSize (1048576 bytes)`)
    // Unbounded, each would take 64 MiB to 1 GiB; bounded, a few MiB (and RSS is noisy).
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * MiB)
  })

  it('the bombs are valid: each decodes fully without a limit', () => {
    const size = 4 * MiB
    const zeros = (out: Buffer) => out.length === size && out.every((b) => b === 0)
    expect(zeros(zlibCompressor().decompress(zlibBomb(size)))).toBe(true)
    expect(zeros(gzipCompressor().decompress(gzipBomb(size)))).toBe(true)
    expect(zeros(brotliCompressor().decompress(brotliBombSync(size)))).toBe(true)
    expect(zeros(lz4.decompress(lz4Bomb(size, (d) => lz4.compress(d))))).toBe(true)
    expect(zeros(zstd.decompress(zstdBomb(size)))).toBe(true)
    expect(zeros(lzma.decompress(xzBomb(size, (d) => lzma.compress(d))))).toBe(true)
  })
})

describe('lz4FrameBound', () => {
  it('bounds lz4-napi frames between their size and one block more', () => {
    for (const size of [0, 16, 70_000, 300_000, 5 * MiB]) {
      const frame = lz4.compress(sample(size))
      const { bound, slack, declared } = lz4FrameBound(frame)
      expect(bound).toBeGreaterThanOrEqual(size)
      expect(bound).toBeLessThanOrEqual(size + slack)
      expect(declared).toBe(0) // lz4-napi writes no content size
    }
  })

  it('reads content sizes, checksums, skippable and concatenated frames', () => {
    const data = Buffer.from('hello, hello, hello')
    // FLG: version 01, independent blocks, block and content checksums, content size.
    const frame = Buffer.concat([
      lz4Header(0x40 | 0x20 | 0x10 | 0x08 | 0x04, 0x40, BigInt(data.length)),
      u32(0x80000000 | data.length), // uncompressed block
      data,
      u32(0), // its checksum (not verified by the walk)
      u32(0), // end mark
      u32(0), // content checksum
    ])
    expect(lz4FrameBound(frame)).toEqual({ bound: data.length, slack: 64 * 1024, declared: 19 })
    const skippable = Buffer.concat([u32(0x184d2a5f), u32(3), Buffer.from('abc')])
    const both = lz4FrameBound(Buffer.concat([skippable, frame, skippable, frame]))
    expect(both).toEqual({ bound: 38, slack: 64 * 1024, declared: 38 })
  })

  it('bounds a compressed block by 256 times its size, or the block maximum', () => {
    const head = lz4Header(0x60, 0x70) // 4 MiB blocks
    const block = (size: number) => Buffer.concat([u32(size), Buffer.alloc(size)])
    expect(lz4FrameBound(Buffer.concat([head, block(10), u32(0)])).bound).toBe(2560)
    expect(lz4FrameBound(Buffer.concat([head, block(20_000), u32(0)])).bound).toBe(4 * MiB)
  })

  it('refuses, as not LZ4, truncated frames and lying headers', () => {
    const valid = lz4.compress(sample(100_000))
    for (let cut = 0; cut < valid.length; cut += cut < 40 ? 1 : 997) {
      if (cut === 0) continue
      expect(() => lz4FrameBound(valid.subarray(0, cut))).toThrow(NotAFrameError)
    }
    const head = lz4Header(0x60, 0x40) // 64 KiB blocks
    for (const bad of [
      Buffer.concat([head, u32(64 * 1024 + 1), Buffer.alloc(64 * 1024 + 1), u32(0)]), // too big
      Buffer.concat([lz4Header(0x80, 0x40), u32(0)]), // version 10
      Buffer.concat([lz4Header(0x62, 0x40), u32(0)]), // reserved FLG bit
      Buffer.concat([lz4Header(0x60, 0x30), u32(0)]), // reserved block size
      Buffer.concat([lz4Header(0x60, 0x41), u32(0)]), // reserved BD bit
      Buffer.from([0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0]), // legacy frame
      Buffer.concat([head, u32(0), Buffer.from('junk')]), // trailing bytes
      Buffer.concat([u32(0x184d2a50), u32(100), Buffer.alloc(10)]), // short skippable frame
    ]) {
      expect(() => lz4FrameBound(bad)).toThrow(NotAFrameError)
    }
  })

  it('refuses a frame declaring an absurd content size before lz4-napi sees it', () => {
    // A valid header declaring 2^40 bytes, over one tiny uncompressed block.
    const frame = Buffer.concat([
      lz4Header(0x68, 0x40, 2n ** 40n),
      u32(0x80000001),
      Buffer.from('x'),
      u32(0),
    ])
    const error = thrown(() => lz4.decompress(frame, 64 * MiB))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toMatch(/maxValueSize \(67108864 bytes\)/)
    // Without a limit lz4-napi gets it: it allocates nothing from the declared size and fails at
    // the end mark, because the blocks did not produce it.
    const before = process.memoryUsage().rss
    expect(() => lz4.decompress(frame)).toThrow(/content length|expected/i)
    expect(process.memoryUsage().rss - before).toBeLessThan(16 * MiB)
  })

  it('refuses a value only beyond one block of slack; decodes and checks in between', () => {
    const limit = 100_000
    expect(() =>
      refuseBeyond('lz4', { bound: limit + 65_536, slack: 65_536, declared: 0 }, limit),
    ).not.toThrow()
    expect(() =>
      refuseBeyond('lz4', { bound: limit + 65_537, slack: 65_536, declared: 0 }, limit),
    ).toThrow(CompressionError)
    expect(() => refuseBeyond('lz4', { bound: 0, slack: 0, declared: limit + 1 }, limit)).toThrow(
      CompressionError,
    )
  })
})

describe('zstdFrameBound', () => {
  it('bounds frames as written, with the content size they declare', () => {
    for (const size of [0, 16, 70_000, 300_000, 5 * MiB]) {
      const frame = zstd.compress(sample(size))
      const { bound, declared } = zstdFrameBound(frame)
      expect(declared).toBe(size)
      expect(bound).toBeGreaterThanOrEqual(size)
    }
  })

  it('reads a value at exactly its size even when zstd split its blocks (level 19)', () => {
    const rows = Array.from({ length: 6_000 }, (_, i) => ({
      id: i,
      name: `row ${i}`,
      tags: ['a'],
    }))
    const data = Buffer.from(JSON.stringify(rows))
    const strong = zstdCompressor({ level: 19 })
    const frame = strong.compress(data)
    // The block bound is several times the size: the declared content size is what holds.
    expect(zstdFrameBound(frame).bound).toBeGreaterThan(2 * data.length)
    expect(strong.decompress(frame, data.length).equals(data)).toBe(true)
    expect(() => strong.decompress(frame, data.length - 1)).toThrow(CompressionError)
    // Several frames, skippable ones between them, each its own declared size.
    const skippable = Buffer.concat([u32(0x184d2a50), u32(4), Buffer.from('skip')])
    const two = Buffer.concat([frame, skippable, zstd.compress(sample(1000)), skippable])
    const both = Buffer.concat([data, sample(1000)])
    expect(strong.decompress(two, both.length).equals(both)).toBe(true)
    expect(() => strong.decompress(two, both.length - 1)).toThrow(CompressionError)
  })

  it('stops a frame whose blocks produce more than it declares at the declared size', () => {
    // Declares 1 MiB (8-byte field, window 128 KiB), then 1 GiB of RLE blocks.
    const liar = Buffer.concat([
      ZSTD_MAGIC,
      Buffer.from([0xc0, 0x38]),
      Buffer.from([0, 0, 0x10, 0, 0, 0, 0, 0]),
      zstdBomb(1024 * MiB).subarray(6),
    ])
    const before = process.memoryUsage().rss
    const start = performance.now()
    const error = thrown(() => zstd.decompress(liar, 64 * MiB))
    // Proves nothing hangs; memory is what shows the decoder stopped (1 GiB without the rewrite).
    expect(performance.now() - start).toBeLessThan(5000)
    expect(process.memoryUsage().rss - before).toBeLessThan(48 * MiB)
    // Corrupt, not over the limit: the codec reads such bytes as not zstd.
    expect(error).not.toBeInstanceOf(CompressionError)
  })

  it('reads raw, RLE and compressed blocks, windows, dictionary ids, checksums, skippable and concatenated frames', () => {
    // No content size, window 2^10 = 1 KiB, a 1-byte dictionary id, a content checksum.
    const frame = Buffer.concat([
      ZSTD_MAGIC,
      Buffer.from([0x04 | 0x01, 0x00, 0x07]),
      zstdBlock(false, 0, 5, Buffer.from('hello')),
      zstdBlock(false, 1, 1000, Buffer.from('x')),
      zstdBlock(true, 2, 3, Buffer.from([1, 2, 3])),
      Buffer.alloc(4),
    ])
    expect(zstdFrameBound(frame)).toEqual({ bound: 5 + 1000 + 1024, slack: 1024, declared: 0 })
    // Single segment: the window is the content size (1 byte field).
    const single = Buffer.concat([
      ZSTD_MAGIC,
      Buffer.from([0x20, 200]),
      zstdBlock(true, 2, 50, Buffer.alloc(50)),
    ])
    expect(zstdFrameBound(single)).toEqual({ bound: 200, slack: 200, declared: 200 })
    const skippable = Buffer.concat([u32(0x184d2a53), u32(2), Buffer.from('ok')])
    expect(zstdFrameBound(Buffer.concat([frame, skippable, single]))).toEqual({
      bound: 2029 + 200,
      slack: 1024,
      declared: 200,
    })
    // Content-size fields of 2 (+256), 4 and 8 bytes.
    for (const [flag, field, value] of [
      [1, Buffer.from([0x10, 0x00]), 0x10 + 256],
      [2, u32(70_000), 70_000],
      [3, Buffer.from([1, 0, 0, 0, 1, 0, 0, 0]), 2 ** 32 + 1],
    ] as const) {
      const sized = Buffer.concat([
        ZSTD_MAGIC,
        Buffer.from([flag << 6, 0x38]),
        field,
        zstdBlock(true, 1, 10, Buffer.from('z')),
      ])
      expect(zstdFrameBound(sized).declared).toBe(value)
    }
  })

  it('refuses, as not zstd, truncated frames and lying headers', () => {
    const valid = zstd.compress(sample(300_000))
    for (let cut = 1; cut < valid.length; cut += cut < 40 ? 1 : 997) {
      expect(() => zstdFrameBound(valid.subarray(0, cut))).toThrow(NotAFrameError)
    }
    const head = Buffer.concat([ZSTD_MAGIC, Buffer.from([0x00, 0x00])]) // 1 KiB window
    for (const bad of [
      Buffer.concat([head, zstdBlock(true, 1, 1025, Buffer.from('x'))]), // RLE beyond the window
      Buffer.concat([head, zstdBlock(true, 2, 1025, Buffer.alloc(1025))]), // compressed beyond it
      Buffer.concat([
        ZSTD_MAGIC,
        Buffer.from([0x00, 0x50]),
        zstdBlock(true, 0, 131_073, Buffer.alloc(131_073)),
      ]), // beyond 128 KiB
      Buffer.concat([head, zstdBlock(true, 3, 0, Buffer.alloc(0))]), // reserved block type
      Buffer.concat([
        ZSTD_MAGIC,
        Buffer.from([0x08, 0x00]),
        zstdBlock(true, 0, 0, Buffer.alloc(0)),
      ]), // reserved bit
      Buffer.concat([head, zstdBlock(false, 0, 0, Buffer.alloc(0))]), // no last block
      Buffer.concat([head, zstdBlock(true, 0, 0, Buffer.alloc(0)), Buffer.from('junk')]),
    ]) {
      expect(() => zstdFrameBound(bad)).toThrow(NotAFrameError)
    }
  })

  it('refuses a tiny frame declaring 2^40 bytes at once, and the decoder allocates nothing for it', () => {
    const frame = Buffer.concat([
      ZSTD_MAGIC,
      Buffer.from([0xc0, 0x50]), // 8-byte content size, window 1 MiB
      Buffer.from([0, 0, 0, 0, 0, 1, 0, 0]), // 2^40
      zstdBlock(true, 1, 100, Buffer.from('a')),
    ])
    expect(frame.length).toBe(18)
    const error = thrown(() => zstd.decompress(frame, 64 * MiB))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe('zstd: decompressed value exceeds maxValueSize (67108864 bytes)')
    const before = process.memoryUsage().rss
    const start = performance.now()
    expect(() => zstd.decompress(frame)).toThrow() // corruption: the blocks do not make 2^40
    expect(performance.now() - start).toBeLessThan(1000)
    expect(process.memoryUsage().rss - before).toBeLessThan(16 * MiB)
  })
})

describe('lzma: decoding in slices', () => {
  it('refuses a bomb at any limit, small or large', () => {
    const bomb = xzBomb(64 * MiB, (d) => lzma.compress(d))
    for (const limit of [1, 1000, MiB, 8 * MiB]) {
      const error = thrown(() => lzma.decompress(bomb, limit))
      expect(error).toBeInstanceOf(CompressionError)
    }
  })

  it('reads values of any ratio up to the limit', () => {
    for (const data of [sample(3 * MiB), Buffer.alloc(8 * MiB), Buffer.from('x'.repeat(150))]) {
      const compressed = lzma.compress(data)
      expect(lzma.decompress(compressed, data.length).equals(data)).toBe(true)
    }
  })
})
