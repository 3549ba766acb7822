import type { Compressor } from '@cachex/core'

/** Options every compressor takes. */
export interface CompressorOptions {
  /** Values of this many bytes or fewer are stored uncompressed. @default 15 */
  minLength?: number
}

/** Builds a `Compressor` from sync compress/decompress functions. */
export function defineCompressor(
  name: string,
  minLength: number,
  compress: (data: Buffer) => Buffer,
  decompress: (data: Buffer) => Buffer,
  matches?: (data: Buffer) => boolean,
): Compressor {
  if (!Number.isInteger(minLength) || minLength < 0) {
    throw new TypeError(`${name}: minLength must be a non-negative integer`)
  }
  return matches === undefined
    ? { name, minLength, compress, decompress }
    : { name, minLength, compress, decompress, matches }
}
