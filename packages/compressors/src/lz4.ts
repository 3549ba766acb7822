import { type Compressor, decompressionLimitError, requireOptional } from '@cachex/core'
import { type FrameBound, FrameReader, isSkippable, refuseBeyond } from './_frames.ts'
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
  return defineCompressor(
    'lz4',
    options.minLength ?? 15,
    (data) => lz4.compressFrameSync(data),
    (data, max) => {
      if (max === undefined) return lz4.decompressFrameSync(data)
      refuseBeyond('lz4', lz4FrameBound(data), max)
      const out = lz4.decompressFrameSync(data)
      if (out.length > max) throw decompressionLimitError('lz4', max)
      return out
    },
    // The LZ4 frame magic number 0x184D2204, little-endian.
    (data) =>
      data.length > 4 &&
      data[0] === 0x04 &&
      data[1] === 0x22 &&
      data[2] === 0x4d &&
      data[3] === 0x18,
  )
}

const LZ4_MAGIC = 0x184d2204
/** Block maximum sizes by the BD byte's 3-bit code; codes 0–3 are reserved. */
const LZ4_BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20] as const
/**
 * An LZ4 block never expands more than 255 times: a match's length grows by at most 255 per
 * input byte (its extension bytes), and a literal costs an input byte. With the token and the
 * offset, 256 × the block's size bounds its output.
 */
const LZ4_MAX_RATIO = 256

/**
 * Walks a value of LZ4 frames (frame format 1.6: magic, FLG/BD, optional content size and
 * dictionary id, header checksum, blocks with their 4-byte size words and optional checksums,
 * end mark, optional content checksum; skippable frames; several frames back to back) in linear
 * time without decoding, and bounds its output: an uncompressed block by its size, a compressed
 * one by min(block maximum, 256 × its size). Throws `NotAFrameError` on anything else (legacy
 * frames, reserved bits, a block larger than its frame allows, truncation). Checksums are left to
 * the decoder.
 */
export function lz4FrameBound(data: Buffer): FrameBound {
  const r = new FrameReader(data, 'lz4')
  let bound = 0
  let slack = 0
  let declared = 0
  while (!r.done) {
    const magic = r.u32()
    if (isSkippable(magic)) {
      r.skip(r.u32())
      continue
    }
    if (magic !== LZ4_MAGIC) r.fail('not an LZ4 frame')
    const flg = r.u8()
    const bd = r.u8()
    // FLG: version 01, reserved bit 1 clear; BD: only the block-size bits.
    if (flg >> 6 !== 1 || (flg & 0x02) !== 0 || (bd & 0x8f) !== 0) r.fail('bad frame header')
    const blockMax = LZ4_BLOCK_MAX[bd >> 4] ?? 0
    if (blockMax === 0) r.fail('reserved block size')
    if ((flg & 0x08) !== 0) declared += r.u64()
    if ((flg & 0x01) !== 0) r.skip(4) // dictionary id
    r.skip(1) // header checksum
    const blockChecksum = (flg & 0x10) !== 0 ? 4 : 0
    slack = Math.max(slack, blockMax)
    for (;;) {
      const word = r.u32()
      if (word === 0) break // end mark
      const size = word & 0x7fffffff
      if (size > blockMax) r.fail('block larger than the frame allows')
      r.skip(size + blockChecksum)
      bound += word >>> 31 === 1 ? size : Math.min(blockMax, size * LZ4_MAX_RATIO)
    }
    if ((flg & 0x04) !== 0) r.skip(4) // content checksum
  }
  return { bound, slack, declared }
}
