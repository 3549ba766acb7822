import { deflateSync, inflateSync } from 'node:zlib'
import { type Compressor, defineCompressor } from '@cachex/core'
import { own } from '@cachex/core/internal'
import { decompressBounded } from './_zlib-bounded.ts'
import type { CompressorOptions } from './types.ts'

/** Options of `zlibCompressor`. */
export interface ZlibOptions extends CompressorOptions {
  /** zlib level, 0–9. @default 6 (Python's `zlib.compress` default, as django-redis uses it) */
  level?: number
}

/** zlib (RFC 1950), as django-redis's `ZlibCompressor`: level 6, values over 15 bytes. */
export function zlibCompressor(options: ZlibOptions = {}): Compressor {
  const level = own(options, 'level') ?? 6
  return defineCompressor({
    name: 'zlib',
    minLength: own(options, 'minLength') ?? 15,
    compress: (data) => deflateSync(data, { level }),
    decompress: (data, max) =>
      decompressBounded('zlib', data, max, (options) => inflateSync(data, options)),
    matches: zlibHeader,
  })
}

/**
 * Whether `data` starts with a zlib header (RFC 1950 §2.2) as zlib writes it: CM 8 (deflate),
 * CINFO ≤ 7 (a window of at most 32 KiB), FDICT clear (no preset dictionary) and a header
 * checksum divisible by 31. zlib's `inflate` refuses the other headers (a larger window: "invalid
 * window size"; FDICT: "need dictionary", since no dictionary is given), and no writer cachex reads
 * sets them: Python's `zlib.compress` (django-redis's `ZlibCompressor`) and Node's `deflateSync`
 * write `0x78 0x9c` at level 6, `0x?8` with CINFO = window bits − 8 otherwise. Short text passed
 * the looser test: JSON `80.5` starts `0x38 0x30` (CINFO 3, FDICT set, checksum 0).
 */
function zlibHeader(data: Buffer): boolean {
  const cmf = data[0] as number
  const flg = data[1] as number
  return (
    data.length > 2 && (cmf & 0x8f) === 0x08 && (flg & 0x20) === 0 && (cmf * 256 + flg) % 31 === 0
  )
}
