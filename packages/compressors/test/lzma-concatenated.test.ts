// A value of several streams back to back (`xz -d` reads them all, and so does Python's
// `lzma.decompress`, which django-redis's `LzmaCompressor` uses) decodes to every stream's data
// in order, under the same `maxValueSize` bound as one stream, and as Python reads it where they
// are followed by what is no stream: ignored after a whole stream, a stream cut short refused.
import { CompressionError } from '@cachex/core'
import { xzBomb } from '@cachex/test-utils/bombs'
import { describe, expect, it } from 'vitest'
import { lzmaCompressor } from '../src/index.ts'

const MiB = 1024 * 1024
const lzma = lzmaCompressor()

describe('lzma: concatenated streams', () => {
  it('reads every stream, as Python does', () => {
    // Python: lzma.decompress(lzma.compress(b'a' * 150) + lzma.compress(b'b' * 150)) is 300 bytes.
    const value = Buffer.concat([
      lzma.compress(Buffer.from('a'.repeat(150))),
      lzma.compress(Buffer.from('b'.repeat(150))),
      lzma.compress(Buffer.from('c'.repeat(150))),
    ])
    expect(lzma.decompress(value).toString()).toBe(
      'a'.repeat(150) + 'b'.repeat(150) + 'c'.repeat(150),
    )
    expect(lzma.decompress(value, 450).toString()).toBe(
      'a'.repeat(150) + 'b'.repeat(150) + 'c'.repeat(150),
    )
  })

  it('refuses streams each under maxValueSize whose total passes it', () => {
    const value = Buffer.concat([
      lzma.compress(Buffer.from('a'.repeat(600))),
      lzma.compress(Buffer.from('b'.repeat(600))),
    ])
    expect(() => lzma.decompress(value, 1000)).toThrow(CompressionError)
    expect(() => lzma.decompress(value, 1000)).toThrow(
      /^lzma: decompressed value exceeds maxValueSize \(1000 bytes\)$/,
    )
    expect(lzma.decompress(value, 1200).length).toBe(1200)
  })

  it('reads what follows a stream as Python does (each case checked with lzma.decompress)', () => {
    const a = lzma.compress(Buffer.from('a'.repeat(150)))
    const b = lzma.compress(Buffer.from('b'.repeat(150)))
    // Python: lzma.compress(b'c' * 150, format=lzma.FORMAT_ALONE), a `.lzma` stream.
    const alone = Buffer.from('5d00008000ffffffffffffffff0031ef0307ffffffff80000000', 'hex')
    const corrupt = Buffer.concat([b.subarray(0, 20), Buffer.alloc(10, 0xff), b.subarray(30)])
    const zeros = (n: number) => Buffer.alloc(n)
    // Python's lengths, or its refusal of a stream cut short ("Compressed data ended before the
    // end-of-stream marker was reached").
    const cases: Array<[string, Buffer, number | 'cut']> = [
      ['bytes that are no stream', Buffer.concat([a, Buffer.from('junkjunk')]), 150],
      ['stream padding, then a stream', Buffer.concat([a, zeros(4), b]), 150],
      ['a .lzma stream after an .xz one', Buffer.concat([a, alone]), 300],
      ['a corrupt stream after a whole one', Buffer.concat([a, corrupt]), 150],
      ['three zero bytes', Buffer.concat([a, zeros(3)]), 'cut'],
      ['four zero bytes', Buffer.concat([a, zeros(4)]), 'cut'],
      ['a stream cut short after a whole one', Buffer.concat([a, b.subarray(0, -5)]), 'cut'],
    ]
    for (const [name, value, python] of cases) {
      for (const max of [undefined, MiB]) {
        if (python === 'cut') {
          expect(() => lzma.decompress(value, max), name).toThrow(/No progress is possible/)
        } else {
          expect(lzma.decompress(value, max).length, name).toBe(python)
        }
      }
    }
  })

  it('reads 10,000 streams, and refuses more (each has a decoder of its own)', () => {
    const empty = lzma.compress(Buffer.alloc(0))
    const many = Buffer.concat(new Array(10_000).fill(Buffer.concat([empty])))
    expect(lzma.decompress(many, MiB).length).toBe(0)
    const more = Buffer.concat([many, empty])
    expect(() => lzma.decompress(more, MiB)).toThrow(/more than 10000 streams/)
    expect(() => lzma.decompress(more)).toThrow(CompressionError)
    // Bytes after the 10,000th that are no stream are ignored, as after any stream (Python
    // checked: lzma.decompress(stream + b'hello') is b''; a stream + 8 NUL bytes fails).
    expect(lzma.decompress(Buffer.concat([many, Buffer.from('hello')]), MiB).length).toBe(0)
    expect(() => lzma.decompress(Buffer.concat([many, Buffer.alloc(8)]), MiB)).toThrow(
      /No progress is possible/,
    )
  })

  it('refuses a bomb in a later stream', () => {
    const value = Buffer.concat([
      lzma.compress(Buffer.from('a'.repeat(150))),
      xzBomb(64 * MiB, (d) => lzma.compress(d)),
    ])
    expect(() => lzma.decompress(value, MiB)).toThrow(CompressionError)
  })
})
