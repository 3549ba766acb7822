// The quick format checks (`matches`) that spare a decode of bytes that cannot be a compressor's
// output, and the cost of a decode that fails: a cache offers every value it reads to its
// compressors, most short values are stored uncompressed, and a failed decode cost 50–140 µs.
// A check must never refuse what the decoder reads: each refusal is checked against the decoder.
import { randomBytes } from 'node:crypto'
import { brotliCompressSync, constants, deflateSync, gzipSync, inflateSync } from 'node:zlib'
import { CompressionError } from '@cachex/core'
import { describe, expect, it } from 'vitest'
import { mayBeBrotli } from '../src/_brotli-header.ts'
import { brotliCompressor, gzipCompressor, zlibCompressor } from '../src/index.ts'

const zlib = zlibCompressor()
const gzip = gzipCompressor()
const brotli = brotliCompressor()

/** Whether `compressor` reads `data` as a value (the codec takes an empty result as "not it"). */
function reads(compressor: { decompress(data: Buffer): Buffer }, data: Buffer): boolean {
  try {
    return compressor.decompress(data).length > 0
  } catch {
    return false
  }
}

/** A deterministic generator (a 32-bit LCG), so a failure can be replayed. */
function numbers(seed: number): () => number {
  let state = seed
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0
    return state / 2 ** 32
  }
}

describe('zlib matches', () => {
  // zlib.compress(data, level, wbits) for every level (-1…9) and wbits (9…15), Python 3.11
  // (django-redis's ZlibCompressor: zlib.compress(value, 6), `78 9c`).
  const PYTHON = ['1819', '1857', '1895', '18d3', '2815', '2853', '2891', '28cf', '3811', '384f']
    .concat(['388d', '38cb', '480d', '484b', '4889', '48c7', '5809', '5847', '5885', '58c3'])
    .concat(['6805', '6843', '6881', '68de', '7801', '785e', '789c', '78da'])

  it('accepts every header Python and Node write', () => {
    const body = deflateSync(Buffer.from('x'.repeat(40))).subarray(2)
    for (const header of PYTHON) {
      const data = Buffer.concat([Buffer.from(header, 'hex'), body])
      expect(zlib.matches?.(data), header).toBe(true)
    }
    for (let level = -1; level <= 9; level++) {
      for (let windowBits = 8; windowBits <= 15; windowBits++) {
        const data = deflateSync(Buffer.from('abc'.repeat(20)), { level, windowBits })
        expect(zlib.matches?.(data), `level ${level}, windowBits ${windowBits}`).toBe(true)
      }
    }
  })

  it('refuses JSON text that starts like a zlib header', () => {
    for (const text of ['80.5', '800.25', '80.0001', '8000.5e3', '80,1']) {
      expect(zlib.matches?.(Buffer.from(text)), text).toBe(false)
    }
  })

  it('refuses only headers zlib refuses too (a window over 32 KiB, a preset dictionary)', () => {
    const body = deflateSync(Buffer.from('y'.repeat(40))).subarray(2)
    let refused = 0
    for (let cmf = 0; cmf < 256; cmf++) {
      for (let flg = 0; flg < 256; flg++) {
        const data = Buffer.concat([Buffer.from([cmf, flg]), body])
        const loose = (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0
        if (!loose || zlib.matches?.(data)) continue
        refused++
        expect(() => inflateSync(data), `${cmf.toString(16)} ${flg.toString(16)}`).toThrow(
          /invalid window size|Missing dictionary/,
        )
      }
    }
    // Of the 132 headers the CM and checksum test let through, 100 (CINFO > 7 or FDICT); the 32
    // left are the 28 Python writes and the 4 of CINFO 0 (a 256-byte window: zlib reads it, but
    // writes windowBits 8 as 9).
    expect(refused).toBe(100)
  })
})

describe('gzip magic', () => {
  it('is ID1 ID2 CM=8, as Python and Node write it', () => {
    expect(gzip.matches?.(gzipSync(Buffer.from('hello world hello world')))).toBe(true)
    // gzip.compress(b'hello world') in Python 3.11 (at every level): 1f 8b 08 00 …
    expect(
      gzip.matches?.(Buffer.from('1f8b0800bbb19f6902ffcb48cdc9c95728cf2fca490100', 'hex')),
    ).toBe(true)
    expect(gzip.matches?.(Buffer.from('1f8b0700000000000000', 'hex'))).toBe(false)
  })
})

/** Bits written least significant first (RFC 7932 §2), for brotli streams made by hand. */
class BitWriter {
  readonly #bytes: number[] = []
  #at = 0
  put(value: number, count: number): this {
    for (let i = 0; i < count; i++, this.#at++) {
      if ((this.#at & 7) === 0) this.#bytes.push(0)
      const last = this.#bytes.length - 1
      this.#bytes[last] = (this.#bytes[last] as number) | (((value >> i) & 1) << (this.#at & 7))
    }
    return this
  }
  /** Fill bits to the byte boundary, `fill` (must be 0 in a valid stream). */
  align(fill = 0): this {
    const count = (8 - (this.#at & 7)) & 7
    return this.put(fill, count)
  }
  bytes(data: Buffer): this {
    for (const byte of data) this.put(byte, 8)
    return this
  }
  get buffer(): Buffer {
    return Buffer.from(this.#bytes)
  }
}

/** A non-last metadata block of `data` (MSKIPBYTES 1): header and bytes. */
function metadata(out: BitWriter, data: Buffer, reserved = 0): BitWriter {
  return out
    .put(0, 1)
    .put(3, 2)
    .put(reserved, 1)
    .put(1, 2)
    .put(data.length - 1, 8)
    .align()
    .bytes(data)
}

/** A non-last uncompressed meta-block of `data` (MNIBBLES 4). */
function uncompressed(out: BitWriter, data: Buffer, fill = 0): BitWriter {
  return out
    .put(0, 1)
    .put(0, 2)
    .put(data.length - 1, 16)
    .put(1, 1)
    .align(fill)
    .bytes(data)
}

/** The last, empty meta-block (ISLAST, ISLASTEMPTY), then zero fill. */
function lastEmpty(out: BitWriter): BitWriter {
  return out.put(1, 1).put(1, 1).align()
}

describe('brotli matches (mayBeBrotli)', () => {
  it('accepts real streams: sizes 0…100 KB, every quality, window and mode', () => {
    const random = numbers(7)
    const words = ['"key": ', 'lorem ', 'ipsum', '{', '}', '123', ', ', 'user@example.com']
    const content = (size: number, kind: number): Buffer => {
      if (kind === 0) return randomBytes(size)
      if (kind === 1) return Buffer.alloc(size, 'a')
      let text = ''
      while (text.length < size) text += words[Math.floor(random() * words.length)]
      return Buffer.from(text.slice(0, size))
    }
    let streams = 0
    for (let quality = 0; quality <= 11; quality++) {
      for (const window of [10, 16, 17, 18, 22, 24]) {
        for (let kind = 0; kind < 3; kind++) {
          const large = quality >= 10 ? 20_000 : 100_000
          for (const size of [0, Math.floor(random() * 64), Math.floor(random() * large)]) {
            const params = {
              [constants.BROTLI_PARAM_QUALITY]: quality,
              [constants.BROTLI_PARAM_LGWIN]: window,
              [constants.BROTLI_PARAM_MODE]: kind === 2 ? constants.BROTLI_MODE_TEXT : 0,
              [constants.BROTLI_PARAM_SIZE_HINT]: size,
            }
            const stream = brotliCompressSync(content(size, kind), { params })
            expect(mayBeBrotli(stream), `q${quality} w${window} ${size} B`).toBe(true)
            streams++
          }
        }
      }
    }
    expect(streams).toBe(12 * 6 * 3 * 3)
    expect(brotli.matches?.(brotli.compress(Buffer.from('"a string long enough"')))).toBe(true)
  })

  it('accepts streams of metadata and uncompressed meta-blocks, and WBITS 17', () => {
    const hello = Buffer.from('hello')
    const streams = [
      lastEmpty(uncompressed(metadata(new BitWriter().put(0, 1), Buffer.from('meta')), hello)),
      lastEmpty(uncompressed(new BitWriter().put(0, 1), hello)),
      // WBITS 17: 1, 000, 000.
      lastEmpty(uncompressed(new BitWriter().put(1, 1).put(0, 3).put(0, 3), hello)),
    ]
    for (const { buffer } of streams) {
      expect(brotli.decompress(buffer)).toEqual(hello)
      expect(mayBeBrotli(buffer), buffer.toString('hex')).toBe(true)
    }
    expect(mayBeBrotli(brotliCompressSync(Buffer.alloc(0)))).toBe(true)
  })

  it('refuses malformed headers, which the decoder refuses too', () => {
    const hello = Buffer.from('hello')
    const bad = {
      'large window': lastEmpty(uncompressed(new BitWriter().put(1, 1).put(0, 3).put(1, 3), hello)),
      'metadata reserved bit': lastEmpty(metadata(new BitWriter().put(0, 1), hello, 1)),
      'exuberant nibble': new BitWriter()
        .put(0, 1)
        .put(0, 1)
        .put(1, 2)
        .put(7, 16)
        .put(0, 4)
        .put(0, 1),
      'non-zero fill': lastEmpty(uncompressed(new BitWriter().put(0, 1), hello, 1)),
      'uncompressed, then nothing': uncompressed(new BitWriter().put(0, 1), hello),
      'metadata past the end': metadata(new BitWriter().put(0, 1), Buffer.from('metadata')),
      'ends before the input': lastEmpty(new BitWriter().put(0, 1)).put(0x41, 8),
    }
    for (const [name, writer] of Object.entries(bad)) {
      let data = writer.buffer
      if (name === 'metadata past the end') data = data.subarray(0, data.length - 2)
      expect(mayBeBrotli(data), name).toBe(false)
      expect(reads(brotli, data), name).toBe(false)
    }
  })

  it('refuses most short JSON and msgpack values, and never what the decoder reads', () => {
    const refused = ['80.5', '1.25', 'true', 'false', 'null', '{"a":1}', '{}']
    for (const text of refused) expect(mayBeBrotli(Buffer.from(text)), text).toBe(false)
    // msgpack {"a": 1}, nil, true.
    for (const hex of ['81a16101', 'c0', 'c3']) {
      expect(mayBeBrotli(Buffer.from(hex, 'hex')), hex).toBe(false)
    }
    // A JSON string reads as the start of a compressed meta-block: only decoding tells.
    expect(mayBeBrotli(Buffer.from('"member"'))).toBe(true)
    const random = numbers(11)
    const short = Array.from({ length: 200 }, (_, i) =>
      brotliCompressSync(
        randomBytes(1 + (i % 40)).map((b) => (i % 2 ? 97 + (b % 4) : b)),
        {
          params: { [constants.BROTLI_PARAM_QUALITY]: i % 12 },
        },
      ),
    )
    let refusedCount = 0
    let readCount = 0
    for (let i = 0; i < 60_000; i++) {
      let data: Buffer
      if (i % 3 === 0) data = randomBytes(1 + Math.floor(random() * 24))
      else {
        data = Buffer.from(short[i % short.length] as Buffer)
        for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) {
          const at = Math.floor(random() * data.length)
          data[at] = (data[at] as number) ^ (1 << Math.floor(random() * 8))
        }
        if (random() < 0.2) data = data.subarray(0, 1 + Math.floor(random() * data.length))
      }
      const read = reads(brotli, data)
      if (read) readCount++
      if (!mayBeBrotli(data)) {
        refusedCount++
        expect(read, data.toString('hex')).toBe(false)
      }
    }
    // Both kinds are well represented: the check refuses many, the decoder reads many.
    expect(refusedCount).toBeGreaterThan(10_000)
    expect(readCount).toBeGreaterThan(10_000)
  }, 60_000)
})

describe('a failed decompression', () => {
  const cases = [
    ['zlib', zlib, Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff])],
    ['gzip', gzip, Buffer.from('1f8b0800000000000000ffffff', 'hex')],
    ['brotli', brotli, Buffer.from('"m123"')],
  ] as const

  it.each(cases)(
    '%s: throws its error and restores Error.stackTraceLimit',
    (_, compressor, data) => {
      const limit = Error.stackTraceLimit
      expect(() => compressor.decompress(data, 1000)).toThrow(Error)
      expect(Error.stackTraceLimit).toBe(limit)
      expect(compressor.decompress(compressor.compress(Buffer.alloc(100, 'z')), 1000)).toEqual(
        Buffer.alloc(100, 'z'),
      )
      expect(Error.stackTraceLimit).toBe(limit)
    },
  )

  it.each(cases)(
    '%s: a short bomb still stops at the limit, with a stack trace',
    (_, compressor) => {
      // Short (under 256 bytes: decoded into 4 KiB chunks), expanding to 200 KB.
      const bomb = compressor.compress(Buffer.alloc(200_000))
      expect(bomb.length).toBeLessThan(256)
      let error: unknown
      try {
        compressor.decompress(bomb, 100_000)
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(CompressionError)
      expect((error as Error).stack).toMatch(/\n\s+at /)
    },
  )

  it('works where Error.stackTraceLimit cannot be written', () => {
    const descriptor = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')
    Object.defineProperty(Error, 'stackTraceLimit', {
      value: 10,
      writable: false,
      configurable: true,
    })
    try {
      expect(() => brotli.decompress(Buffer.from('"m123"'))).toThrow(Error)
      expect(zlib.decompress(zlib.compress(Buffer.alloc(50, 'q')))).toEqual(Buffer.alloc(50, 'q'))
    } finally {
      if (descriptor) Object.defineProperty(Error, 'stackTraceLimit', descriptor)
    }
  })
})
