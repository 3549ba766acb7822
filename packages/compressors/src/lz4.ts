import { type Compressor, decompressionLimitError, defineCompressor } from '@cachex/core'
import { own, requireOptional } from '@cachex/core/internal'
import { refuseBeyond } from './_frames.ts'
import { lz4FrameBound } from './_lz4-frames.ts'
import type { CompressorOptions } from './types.ts'

/** The LZ4 frame magic number 0x184D2204, little-endian. */
const LZ4_MAGIC = Buffer.from([0x04, 0x22, 0x4d, 0x18])

interface Lz4Module {
  compressFrameSync(data: Buffer): Buffer
  decompressFrameSync(data: Buffer): Buffer
}

/**
 * LZ4 in the **frame** format — Python's `lz4.frame`, which django-redis's `Lz4Compressor` uses
 * (a bare LZ4 block is not what Django reads). Values over 15 bytes. Needs the optional peer
 * `lz4-napi`. Its frames carry no content size, so the bytes differ from Python's, but each side
 * reads the other's.
 *
 * `maxValueSize`: lz4-napi's `decompressFrameSync` (lz4_flex 0.11's `FrameDecoder`, read to the
 * end into one growing Vec) writes the whole output before returning, so the frames are walked
 * first (`lz4FrameBound`) and a value that would exceed the limit is refused without decoding.
 * What lz4_flex does with a frame's content size, read in its source: it allocates nothing from
 * it (its buffers are sized by the block maximum, at most 4 MiB, twice, plus 64 KiB) and compares
 * it with the output only at the end mark, after decoding every block; so a declared size is
 * neither a danger nor a bound, and the walk bounds the output by the blocks themselves.
 */
export function lz4Compressor(options: CompressorOptions = {}): Compressor {
  const lz4 = requireOptional<Lz4Module>('lz4-napi', 'lz4Compressor', import.meta.url)
  return defineCompressor({
    name: 'lz4',
    minLength: own(options, 'minLength') ?? 15,
    compress: (data) => lz4.compressFrameSync(data),
    decompress: (data, max) => {
      if (max === undefined) return lz4.decompressFrameSync(data)
      refuseBeyond('lz4', lz4FrameBound(data), max)
      const out = lz4.decompressFrameSync(data)
      if (out.length > max) throw decompressionLimitError('lz4', max)
      return out
    },
    magic: LZ4_MAGIC,
  })
}
