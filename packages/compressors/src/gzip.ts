import { gunzipSync, gzipSync } from 'node:zlib'
import type { Compressor } from '@cachex/core'
import { type CompressorOptions, decompressBounded, defineCompressor } from './_zlib-family.ts'

/** Options of `gzipCompressor`. */
export interface GzipOptions extends CompressorOptions {
  /** gzip level, 0–9. @default 9 (Python's `gzip.compress` default) */
  level?: number
}

/** gzip (RFC 1952), as django-redis's `GzipCompressor`: level 9, values over 15 bytes. */
export function gzipCompressor(options: GzipOptions = {}): Compressor {
  const level = options.level ?? 9
  return defineCompressor(
    'gzip',
    options.minLength ?? 15,
    (data) => gzipSync(data, { level }),
    (data, max) => decompressBounded('gzip', max, (limit) => gunzipSync(data, limit)),
    (data) => data.length > 2 && data[0] === 0x1f && data[1] === 0x8b,
  )
}
