import * as zlib from 'node:zlib'
import { type Compressor, requireOptional } from '@cachex/core'
import { type CompressorOptions, defineCompressor } from './_zlib-family.ts'

/** Options of `zstdCompressor`. */
export interface ZstdOptions extends CompressorOptions {
  /** Compression level, 1–22. @default 3 (zstd's and Python's default) */
  level?: number
}

interface ZstdNapi {
  compress(data: Uint8Array, parameters?: { compressionLevel?: number }): Buffer
  decompress(data: Uint8Array): Buffer
}

/** `node:zlib` has zstd from Node 22.15 / 23.8 on. */
interface ZlibWithZstd {
  zstdCompressSync(data: Buffer, options: object): Buffer
  zstdDecompressSync(data: Buffer): Buffer
  constants: { ZSTD_c_compressionLevel: number }
}

/**
 * Zstandard, one frame with the content size and no checksum — byte-identical to Python's
 * `zstandard`/`pyzstd` at the same level. Level 3, values over 15 bytes. Uses `node:zlib` where
 * Node has zstd (22.15+), else the optional peer `zstd-napi`.
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
    const params = { [native.constants.ZSTD_c_compressionLevel]: level }
    const z = native as ZlibWithZstd
    compress = (data) => z.zstdCompressSync(data, { params })
    decompress = (data) => z.zstdDecompressSync(data)
  } else {
    const zstd = requireOptional<ZstdNapi>(
      'zstd-napi',
      'zstdCompressor (on Node < 22.15)',
      import.meta.url,
    )
    compress = (data) => zstd.compress(data, { compressionLevel: level })
    decompress = (data) => zstd.decompress(data)
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
