import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib'
import { type Compressor, defineCompressor } from '@cachex/core'
import { own } from '@cachex/core/internal'
import { mayBeBrotli } from './_brotli-header.ts'
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
 * reads whose first bits may start a stream (`mayBeBrotli`), and a 1.6 KB stream can expand to
 * 2.2 GB. (Bytes that were never brotli could only hit the limit by being a valid brotli stream
 * that long, that is, a bomb.)
 */
function decompressWhole(data: Buffer, maxOutputLength?: number): Buffer {
  return decompressBounded('brotli', data, maxOutputLength, (options) => {
    const { buffer, engine } = brotliDecompressSync(data, {
      info: true,
      ...options,
    } as object) as unknown as { buffer: Buffer; engine: { bytesWritten: number } }
    if (engine.bytesWritten !== data.length) throw new Error('not a whole brotli stream')
    return buffer
  })
}

/**
 * Brotli: quality 11 (Python `brotli.compress`'s default), values over 15 bytes, in the pattern of
 * django-redis's compressors (neither django-redis 5.x nor django-cachex ships a brotli one: the
 * Django side needs a small `BaseCompressor` doing `brotli.compress`/`brotli.decompress`). Brotli
 * has no magic bytes: on read, every value that is not an integer and whose first bits may start
 * a brotli stream (its window size and first meta-block header, `mayBeBrotli`) is decoded. A short
 * JSON string (`"…"`) may, and a value stored uncompressed then costs a failed decode (a few µs).
 */
export function brotliCompressor(options: BrotliOptions = {}): Compressor {
  const quality = own(options, 'quality') ?? 11
  const params = { [constants.BROTLI_PARAM_QUALITY]: quality }
  return defineCompressor({
    name: 'brotli',
    minLength: own(options, 'minLength') ?? 15,
    compress: (data) => brotliCompressSync(data, { params }),
    decompress: decompressWhole,
    matches: mayBeBrotli,
  })
}
