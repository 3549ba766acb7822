import { gunzipSync, gzipSync } from 'node:zlib'
import { type Compressor, defineCompressor } from '@cachex/core'
import { own } from '@cachex/core/internal'
import { decompressBounded } from './_zlib-bounded.ts'
import type { CompressorOptions } from './types.ts'

/** Options of `gzipCompressor`. */
export interface GzipOptions extends CompressorOptions {
  /** gzip level, 0–9. @default 9 (Python's `gzip.compress` default) */
  level?: number
}

/**
 * The gzip member header's ID1, ID2 and CM 8 (deflate, RFC 1952 §2.3.1), the only method zlib
 * reads ("unknown compression method" otherwise).
 */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08])

/** gzip (RFC 1952), as django-redis's `GzipCompressor`: level 9, values over 15 bytes. */
export function gzipCompressor(options: GzipOptions = {}): Compressor {
  const level = own(options, 'level') ?? 9
  return defineCompressor({
    name: 'gzip',
    minLength: own(options, 'minLength') ?? 15,
    compress: (data) => gzipSync(data, { level }),
    decompress: (data, max) =>
      decompressBounded('gzip', data, max, (options) => gunzipSync(data, options)),
    magic: GZIP_MAGIC,
  })
}
