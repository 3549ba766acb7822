import { decompressionLimitError } from '@cachex/core'

// Walkers over the frame structure of LZ4 and Zstandard values. Their native decoders write the
// whole output before returning it, so `maxValueSize` is enforced before decoding: one linear
// pass over the frame and block headers (no decoding) bounds the output.

/** What a walk over the frames of one value found. */
export interface FrameBound {
  /**
   * An upper bound on the decompressed size that the decoder enforces: each block's output is
   * limited by its header (exactly, for raw and RLE blocks), whatever the frame header claims.
   */
  bound: number
  /**
   * The largest block maximum among the frames. A writer fills every block of a frame but the
   * last, so a legitimate value's `bound` is at most its real size plus this.
   */
  slack: number
  /** The content sizes the frames declare, summed; a frame without one adds nothing. */
  declared: number
}

/** Thrown by the walkers for bytes that are not a well-formed frame: "not this format". */
export class NotAFrameError extends Error {}

/** The magic numbers 0x184D2A50–0x184D2A5F: skippable frames, in both LZ4 and Zstandard. */
export function isSkippable(magic: number): boolean {
  return magic >>> 4 === 0x184d2a5
}

/**
 * Before decoding: throws the `CompressionError` naming `maxValueSize` when the value certainly
 * decompresses beyond `limit` — a frame declares more, or the bound exceeds the limit by more
 * than one block, which no legitimate writer produces. Between `limit` and `limit + slack`, the
 * caller decodes (at most that much memory) and checks the output length.
 */
export function refuseBeyond(name: string, walk: FrameBound, limit: number): void {
  if (walk.declared > limit || walk.bound > limit + walk.slack) {
    throw decompressionLimitError(name, limit)
  }
}

/** Reads a value's bytes in order, failing with `NotAFrameError` past the end. */
export class FrameReader {
  pos = 0
  constructor(
    readonly data: Buffer,
    readonly format: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.data.length
  }

  need(n: number): void {
    if (this.pos + n > this.data.length) throw new NotAFrameError(`truncated ${this.format} frame`)
  }

  u8(): number {
    this.need(1)
    return this.data[this.pos++] as number
  }

  u16(): number {
    this.need(2)
    const v = this.data.readUInt16LE(this.pos)
    this.pos += 2
    return v
  }

  u24(): number {
    this.need(3)
    const v = this.data.readUIntLE(this.pos, 3)
    this.pos += 3
    return v
  }

  u32(): number {
    this.need(4)
    const v = this.data.readUInt32LE(this.pos)
    this.pos += 4
    return v
  }

  /** A 64-bit size as a number (beyond 2^53 it loses precision, which no comparison here minds). */
  u64(): number {
    this.need(8)
    const v = Number(this.data.readBigUInt64LE(this.pos))
    this.pos += 8
    return v
  }

  skip(n: number): void {
    this.need(n)
    this.pos += n
  }

  fail(what: string): never {
    throw new NotAFrameError(`${this.format}: ${what}`)
  }
}
