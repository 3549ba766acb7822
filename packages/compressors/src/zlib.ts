import { deflateSync, inflateSync } from 'node:zlib'
import { type Compressor, defineCompressor } from '@cachex/core'
import { decompressBounded } from './_zlib-bounded.ts'
import type { CompressorOptions } from './types.ts'

/** Options of `zlibCompressor`. */
export interface ZlibOptions extends CompressorOptions {
  /** zlib level, 0–9. @default 6 (Python's `zlib.compress` default, as django-redis uses it) */
  level?: number
}

/** zlib (RFC 1950), as django-redis's `ZlibCompressor`: level 6, values over 15 bytes. */
export function zlibCompressor(options: ZlibOptions = {}): Compressor {
  const level = options.level ?? 6
  return defineCompressor({
    name: 'zlib',
    minLength: options.minLength ?? 15,
    compress: (data) => deflateSync(data, { level }),
    decompress: (data, max) => decompressBounded('zlib', max, (limit) => inflateSync(data, limit)),
    // CMF 0x?8 (deflate) and a header checksum divisible by 31.
    matches: (data) =>
      data.length > 2 &&
      ((data[0] as number) & 0x0f) === 8 &&
      ((data[0] as number) * 256 + (data[1] as number)) % 31 === 0,
  })
}
