import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib'
import { type Compressor, defineCompressor } from '@cachex/core'
import { decompressBounded } from './_zlib-bounded.ts'
import type { CompressorOptions } from './types.ts'

/** Options of `brotliCompressor`. */
export interface BrotliOptions extends CompressorOptions {
  /** Brotli quality, 0–11. @default 11 (Python `brotli.compress`'s default) */
  quality?: number
}

/**
 * Brotli decoding that rejects input it did not consume entirely: Node's decoder "succeeds" on a
 * few bytes such as `3.5` (reading an empty stream and ignoring the rest), and a short value
 * stored uncompressed must not be mistaken for brotli. With `maxOutputLength`, Node stops once
 * the output passes it: brotli has no magic bytes, so this runs on every value a brotli cache
 * reads, and a 1.6 KB stream can expand to 2.2 GB. (Bytes that were never brotli could only hit
 * the limit by being a valid brotli stream that long, that is, a bomb.)
 */
function decompressWhole(data: Buffer, maxOutputLength?: number): Buffer {
  return decompressBounded('brotli', maxOutputLength, (limit) => {
    const { buffer, engine } = brotliDecompressSync(data, {
      info: true,
      ...limit,
    } as object) as unknown as { buffer: Buffer; engine: { bytesWritten: number } }
    if (engine.bytesWritten !== data.length) throw new Error('not a whole brotli stream')
    return buffer
  })
}

/**
 * Brotli: quality 11 (Python `brotli.compress`'s default), values over 15 bytes, in the pattern of
 * django-redis's compressors (neither django-redis 5.x nor django-cachex ships a brotli one: the
 * Django side needs a small `BaseCompressor` doing `brotli.compress`/`brotli.decompress`). Brotli
 * has no magic bytes, so on read it is tried on every value that is not an integer.
 */
export function brotliCompressor(options: BrotliOptions = {}): Compressor {
  const quality = options.quality ?? 11
  const params = { [constants.BROTLI_PARAM_QUALITY]: quality }
  return defineCompressor({
    name: 'brotli',
    minLength: options.minLength ?? 15,
    compress: (data) => brotliCompressSync(data, { params }),
    decompress: decompressWhole,
  })
}
