// The walk over Zstandard frames that bounds a value's output before it is decoded (zstd.ts).
import { type FrameBound, FrameReader, isSkippable } from './_frames.ts'

/** Bytes of the Dictionary_ID field by the descriptor's two low bits (RFC 8878 §3.1.1.1.1). */
export const DICT_ID_BYTES = [0, 1, 2, 4] as const

const ZSTD_MAGIC = 0xfd2fb528
/** The largest block of any frame (RFC 8878 §3.1.1.2.4): Block_Maximum_Size ≤ 128 KiB. */
const ZSTD_BLOCK_MAX = 128 << 10
/**
 * The largest window libzstd decodes by default (ZSTD_WINDOWLOG_LIMIT_DEFAULT, 2^27 bytes): a
 * single-segment frame's window is its content size, so only frames up to this size can be
 * made single-segment (`asSingleSegment`).
 */
const ZSTD_SINGLE_SEGMENT_MAX = 2 ** 27

/** One Zstandard frame of a value, as the walk found it. */
interface ZstdFrame {
  /** Where the frame starts and ends in the value. */
  start: number
  end: number
  /** The Frame_Header_Descriptor. */
  descriptor: number
  /** Frame_Content_Size, when the frame declares one. */
  contentSize: number | undefined
  /** The most its blocks can produce: raw and RLE exactly, compressed up to `blockMax`. */
  bound: number
  /** Block_Maximum_Size: min(window, 128 KiB). */
  blockMax: number
}

/**
 * Walks a value of Zstandard frames (RFC 8878: magic, frame header with its window, dictionary
 * id and optional Frame_Content_Size, 3-byte block headers, optional checksum; skippable frames
 * are passed over; several frames back to back) in linear time without decoding. Throws
 * `NotAFrameError` on anything else (reserved bits or block type, a block beyond
 * Block_Maximum_Size, which libzstd refuses too, truncation).
 */
function zstdFrames(data: Buffer): ZstdFrame[] {
  const r = new FrameReader(data, 'zstd')
  const frames: ZstdFrame[] = []
  while (!r.done) {
    const start = r.pos
    const magic = r.u32()
    if (isSkippable(magic)) {
      r.skip(r.u32())
      continue
    }
    if (magic !== ZSTD_MAGIC) r.fail('not a Zstandard frame')
    const descriptor = r.u8()
    if ((descriptor & 0x08) !== 0) r.fail('reserved bit set')
    const singleSegment = (descriptor & 0x20) !== 0
    let window = 0
    if (!singleSegment) {
      const w = r.u8()
      const base = 2 ** (10 + (w >> 3))
      window = base + (base / 8) * (w & 0x07)
    }
    r.skip(DICT_ID_BYTES[descriptor & 0x03] ?? 0)
    const sizeFlag = descriptor >> 6
    let contentSize: number | undefined
    if (sizeFlag === 1) contentSize = r.u16() + 256
    else if (sizeFlag === 2) contentSize = r.u32()
    else if (sizeFlag === 3) contentSize = r.u64()
    else if (singleSegment) contentSize = r.u8()
    // A single-segment frame's window is its content size.
    const blockMax = Math.min(singleSegment ? (contentSize as number) : window, ZSTD_BLOCK_MAX)
    let bound = 0
    for (;;) {
      const header = r.u24()
      const type = (header >> 1) & 0x03
      const size = header >>> 3
      if (type === 3) r.fail('reserved block type')
      if (size > blockMax) r.fail('block larger than the frame allows')
      // Raw: size bytes, copied; RLE: one byte, repeated size times; compressed: size bytes.
      r.skip(type === 1 ? 1 : size)
      bound += type === 2 ? blockMax : size
      if ((header & 0x01) !== 0) break // Last_Block
    }
    if ((descriptor & 0x04) !== 0) r.skip(4) // content checksum
    frames.push({ start, end: r.pos, descriptor, contentSize, bound, blockMax })
  }
  return frames
}

/**
 * The output bound of a value of Zstandard frames by their blocks alone: raw and RLE blocks
 * exactly, compressed blocks by Block_Maximum_Size (libzstd refuses a block beyond it). zstd's
 * block splitter (levels 16 and up, now and then below) writes compressed blocks smaller than the
 * maximum, so this bound may be several times a legitimate value's size; `zstdCompressor` relies
 * on the content size instead where a frame declares one.
 */
export function zstdFrameBound(data: Buffer): FrameBound {
  let bound = 0
  let slack = 0
  let declared = 0
  for (const frame of zstdFrames(data)) {
    bound += frame.bound
    slack = Math.max(slack, frame.blockMax)
    declared += frame.contentSize ?? 0
  }
  return { bound, slack, declared }
}

/**
 * The value rewritten so that libzstd keeps to the content sizes its frames declare, and the bound
 * that follows. A frame that declares its content size (every frame Python and cachex write) is
 * decoded as a single-segment frame — the same blocks, the window byte dropped — so libzstd's
 * output buffer is exactly that size and a frame whose blocks produce more fails at the block that
 * crosses it ("Destination buffer is too small"; tried: a frame declaring 64 MiB over 1 GiB of
 * blocks stops after 64 MiB). Without the rewrite libzstd decodes into a ring buffer the size of
 * the window and notices a wrong content size only at the end, after producing all of it. Frames
 * without a content size are bounded by their blocks.
 */
export function declaredSizesEnforced(data: Buffer): { bound: FrameBound; input: Buffer } {
  let bound = 0
  let slack = 0
  let declared = 0
  const parts: Buffer[] = []
  let copied = 0
  for (const frame of zstdFrames(data)) {
    const size = frame.contentSize
    declared += size ?? 0
    if (size === undefined || size > ZSTD_SINGLE_SEGMENT_MAX) {
      bound += frame.bound
      slack = Math.max(slack, frame.blockMax)
      continue
    }
    bound += size
    if ((frame.descriptor & 0x20) !== 0) continue // already single-segment
    // magic | descriptor | window byte | rest  →  magic | descriptor + Single_Segment | rest
    parts.push(
      data.subarray(copied, frame.start + 4),
      Buffer.from([frame.descriptor | 0x20]),
      data.subarray(frame.start + 6, frame.end),
    )
    copied = frame.end
  }
  const input = parts.length === 0 ? data : Buffer.concat([...parts, data.subarray(copied)])
  return { bound: { bound, slack, declared }, input }
}

/**
 * Puts the content size into a zstd frame header that lacks it (RFC 8878 §3.1.1.1): a streaming
 * encoder leaves it out. The blocks are untouched; only the Frame_Header_Descriptor's
 * Frame_Content_Size_Flag is set and the 4- or 8-byte field is inserted after the window and
 * dictionary fields.
 */
export function withContentSize(frame: Buffer, size: number): Buffer {
  const descriptor = frame[4]
  if (frame.length < 6 || descriptor === undefined) return frame
  // Already has a content size, or is single-segment (which implies one): leave it.
  if ((descriptor & 0xc0) !== 0 || (descriptor & 0x20) !== 0) return frame
  const headerEnd = 6 + (DICT_ID_BYTES[descriptor & 0x03] ?? 0)
  const code = size < 2 ** 32 ? 2 : 3
  const field = Buffer.alloc(code === 2 ? 4 : 8)
  if (code === 2) field.writeUInt32LE(size)
  else field.writeBigUInt64LE(BigInt(size))
  const head = Buffer.from(frame.subarray(0, headerEnd))
  head[4] = descriptor | (code << 6)
  return Buffer.concat([head, field, frame.subarray(headerEnd)])
}
