// The walk over LZ4 frames that bounds a value's output before lz4-napi decodes it (lz4.ts).
import { type FrameBound, FrameReader, isSkippable } from './_frames.ts'

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
