import * as zlib from 'node:zlib'
import { type Compressor, requireOptional } from '@cachex/core'
import { type CompressorOptions, defineCompressor } from './_zlib-family.ts'

/** Options of `zstdCompressor`. */
export interface ZstdOptions extends CompressorOptions {
  /** Compression level, 1–22. @default 3 (zstd's and Python's default) */
  level?: number
}

interface NodeZstd {
  Encoder: new (level: number) => { encodeSync(data: Buffer): Buffer }
  Decoder: new () => { decodeSync(data: Buffer): Buffer }
}

/** `node:zlib` has zstd from Node 22.15 / 23.8 on. */
interface ZlibWithZstd {
  zstdCompressSync(data: Buffer, options: object): Buffer
  zstdDecompressSync(data: Buffer): Buffer
  constants: { ZSTD_c_compressionLevel: number }
}

/**
 * Zstandard: one frame with the content size and no checksum, as Python's `zstandard` and
 * `pyzstd` write it (python-zstandard cannot read a frame without the content size). Level 3,
 * values over 15 bytes. Uses `node:zlib` where Node has zstd (22.15+), else the optional peer
 * `@toondepauw/node-zstd` (prebuilt binaries, nothing to compile).
 */
export function zstdCompressor(options: ZstdOptions = {}): Compressor {
  const level = options.level ?? 3
  const native = zlib as unknown as Partial<ZlibWithZstd>
  let compress: (data: Buffer) => Buffer
  let decompress: (data: Buffer) => Buffer
  if (
    typeof native.zstdCompressSync === 'function' &&
    native.zstdDecompressSync &&
    native.constants
  ) {
    const z = native as ZlibWithZstd
    const params = { [z.constants.ZSTD_c_compressionLevel]: level }
    compress = (data) => withContentSize(z.zstdCompressSync(data, { params }), data.length)
    decompress = (data) => z.zstdDecompressSync(data)
  } else {
    const zstd = requireOptional<NodeZstd>(
      '@toondepauw/node-zstd',
      'zstdCompressor (on Node < 22.15)',
      import.meta.url,
    )
    const encoder = new zstd.Encoder(level)
    const decoder = new zstd.Decoder()
    compress = (data) => withContentSize(encoder.encodeSync(data), data.length)
    decompress = (data) => decoder.decodeSync(data)
  }
  return defineCompressor(
    'zstd',
    options.minLength ?? 15,
    compress,
    decompress,
    // The zstd frame magic number 0xFD2FB528, little-endian.
    (data) =>
      data.length > 4 &&
      data[0] === 0x28 &&
      data[1] === 0xb5 &&
      data[2] === 0x2f &&
      data[3] === 0xfd,
  )
}

const DICT_ID_BYTES = [0, 1, 2, 4] as const

/**
 * Puts the content size into a zstd frame header that lacks it (RFC 8878 §3.1.1.1): a streaming
 * encoder leaves it out. The blocks are untouched; only the Frame_Header_Descriptor's
 * Frame_Content_Size_Flag is set and the 4- or 8-byte field is inserted after the window and
 * dictionary fields.
 */
export function withContentSize(frame: Buffer, size: number): Buffer {
  const descriptor = frame[4]
  if (frame.length < 6 || descriptor === undefined) return frame
  // Already has a content size, or is single-segment (which implies one): leave it.
  if ((descriptor & 0xc0) !== 0 || (descriptor & 0x20) !== 0) return frame
  const headerEnd = 6 + (DICT_ID_BYTES[descriptor & 0x03] ?? 0)
  const code = size < 2 ** 32 ? 2 : 3
  const field = Buffer.alloc(code === 2 ? 4 : 8)
  if (code === 2) field.writeUInt32LE(size)
  else field.writeBigUInt64LE(BigInt(size))
  const head = Buffer.from(frame.subarray(0, headerEnd))
  head[4] = descriptor | (code << 6)
  return Buffer.concat([head, field, frame.subarray(headerEnd)])
}
