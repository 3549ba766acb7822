// An `.xz` value of several streams back to back is valid `.xz` (`xz -d` reads them all, and so
// does Python's `lzma.decompress`, which django-redis's `LzmaCompressor` uses): it decodes to
// every stream's data in order, under the same `maxValueSize` bound as one stream.
import { CompressionError } from '@cachex/core'
import { xzBomb } from '@cachex/test-utils/bombs'
import { describe, expect, it } from 'vitest'
import { lzmaCompressor } from '../src/index.ts'

const MiB = 1024 * 1024
const lzma = lzmaCompressor()

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

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
    const error = thrown(() => lzma.decompress(value, 1000))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe('lzma: decompressed value exceeds maxValueSize (1000 bytes)')
    expect(lzma.decompress(value, 1200).length).toBe(1200)
  })

  it('refuses a bomb in a later stream', () => {
    const value = Buffer.concat([
      lzma.compress(Buffer.from('a'.repeat(150))),
      xzBomb(64 * MiB, (d) => lzma.compress(d)),
    ])
    const error = thrown(() => lzma.decompress(value, MiB))
    expect(error).toBeInstanceOf(CompressionError)
  })
})
