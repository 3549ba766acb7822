import * as zlib from 'node:zlib'
import { type Compressor, decompressionLimitError, defineCompressor } from '@cachex/core'
import { own, requireOptional } from '@cachex/core/internal'
import { refuseBeyond } from './_frames.ts'
import { decompressBounded } from './_zlib-bounded.ts'
import { declaredSizesEnforced, withContentSize } from './_zstd-frames.ts'
import type { CompressorOptions } from './types.ts'

/** Options of `zstdCompressor`. */
export interface ZstdOptions extends CompressorOptions {
  /** Compression level, 1–22. @default 3 (zstd's and Python's default) */
  level?: number
}

/** The zstd frame magic number 0xFD2FB528, little-endian. */
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])

interface NodeZstd {
  Encoder: new (level: number) => { encodeSync(data: Buffer): Buffer }
  Decoder: new () => { decodeSync(data: Buffer): Buffer }
}

/** `node:zlib` has zstd from Node 22.15 / 23.8 on. */
interface ZlibWithZstd {
  zstdCompressSync(data: Buffer, options: object): Buffer
  zstdDecompressSync(
    data: Buffer,
    options?: { maxOutputLength?: number; chunkSize?: number },
  ): Buffer
  constants: { ZSTD_c_compressionLevel: number }
}

/**
 * Zstandard: one frame with the content size and no checksum, as Python's `zstandard` and
 * `pyzstd` write it (python-zstandard cannot read a frame without the content size). Level 3,
 * values over 15 bytes. Uses `node:zlib` where Node has zstd (22.15+), else the optional peer
 * `@toondepauw/node-zstd` (prebuilt binaries, nothing to compile).
 *
 * `maxValueSize`: the frames are walked first; a value whose frames declare more is refused at
 * once, and frames that declare a size are made to keep to it (`declaredSizesEnforced`).
 * `node:zlib` then stops at `maxOutputLength` by itself. node-zstd's `decodeSync` (the Rust `zstd`
 * crate's streaming `Decoder`, read to the end into one growing Vec) writes the whole output
 * before returning, so there a value that could produce more than the limit (by its declared
 * sizes, else its blocks) is refused without decoding. What node-zstd does with a declared content
 * size, read in its source and tried: it allocates nothing from it — libzstd's streaming decoder
 * sizes its buffers by the window (or the content size, when smaller), refuses a window beyond
 * 128 MiB ("Frame requires too much memory"), and reports a content size the blocks do not
 * produce as corruption; an 18-byte frame declaring 2^40 bytes fails in 0.1 ms with no memory
 * taken. libzstd also refuses any block larger than the window or 128 KiB.
 */
export function zstdCompressor(options: ZstdOptions = {}): Compressor {
  const level = own(options, 'level') ?? 3
  const native = zlib as unknown as Partial<ZlibWithZstd>
  let compress: (data: Buffer) => Buffer
  let decode: (data: Buffer, max: number | undefined) => Buffer
  if (
    typeof native.zstdCompressSync === 'function' &&
    native.zstdDecompressSync &&
    native.constants
  ) {
    const z = native as ZlibWithZstd
    const params = { [z.constants.ZSTD_c_compressionLevel]: level }
    compress = (data) => withContentSize(z.zstdCompressSync(data, { params }), data.length)
    decode = (data, max) => {
      if (max === undefined) return z.zstdDecompressSync(data)
      const { bound, input } = declaredSizesEnforced(data)
      // node:zlib stops at maxOutputLength by itself: refuse at once only what frames declare.
      refuseBeyond('zstd', { ...bound, bound: 0 }, max)
      return decompressBounded('zstd', input, max, (options) =>
        z.zstdDecompressSync(input, options),
      )
    }
  } else {
    const zstd = requireOptional<NodeZstd>(
      '@toondepauw/node-zstd',
      'zstdCompressor (on Node < 22.15)',
      import.meta.url,
    )
    const encoder = new zstd.Encoder(level)
    const decoder = new zstd.Decoder()
    compress = (data) => withContentSize(encoder.encodeSync(data), data.length)
    decode = (data, max) => {
      if (max === undefined) return decoder.decodeSync(data)
      // node-zstd decodes the whole value at once: refuse what could exceed the limit first.
      const { bound, input } = declaredSizesEnforced(data)
      refuseBeyond('zstd', bound, max)
      return decoder.decodeSync(input)
    }
  }
  return defineCompressor({
    name: 'zstd',
    minLength: own(options, 'minLength') ?? 15,
    compress,
    decompress: (data, max) => {
      if (max === undefined) return decode(data, undefined)
      const out = decode(data, max)
      if (out.length > max) throw decompressionLimitError('zstd', max)
      return out
    },
    magic: ZSTD_MAGIC,
  })
}
