import { type Compressor, requireOptional } from '@cachex/core'
import { type CompressorOptions, defineCompressor } from './_zlib-family.ts'

interface Lz4Module {
  compressFrameSync(data: Buffer): Buffer
  decompressFrameSync(data: Buffer): Buffer
}

/**
 * LZ4 in the **frame** format — Python's `lz4.frame`, which django-redis's `Lz4Compressor` uses
 * (a bare LZ4 block is not what Django reads). Values over 15 bytes. Needs the optional peer
 * `lz4-napi`. Its frames carry no content size, so the bytes differ from Python's, but each side
 * reads the other's.
 */
export function lz4Compressor(options: CompressorOptions = {}): Compressor {
  const lz4 = requireOptional<Lz4Module>('lz4-napi', 'lz4Compressor', import.meta.url)
  return defineCompressor(
    'lz4',
    options.minLength ?? 15,
    (data) => lz4.compressFrameSync(data),
    (data) => lz4.decompressFrameSync(data),
    // The LZ4 frame magic number 0x184D2204, little-endian.
    (data) =>
      data.length > 4 &&
      data[0] === 0x04 &&
      data[1] === 0x22 &&
      data[2] === 0x4d &&
      data[3] === 0x18,
  )
}
