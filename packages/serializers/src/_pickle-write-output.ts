// The pickle writer's output: a growing buffer, protocol 4 frames (committed at the start of an
// object, none under 4 bytes, large payloads outside any frame) and the memo, as CPython's
// `_Pickler_Write`, `_Pickler_CommitFrame` and `memo_put` / `memo_get` do them.

import type { ClassTable } from './_pickle-classes.ts'
import { BINGET, BINPUT, FRAME, LONG_BINGET, LONG_BINPUT, MEMOIZE } from './_pickle-opcodes.ts'
import { FRAME_HEADER_SIZE, FRAME_SIZE_MIN, FRAME_SIZE_TARGET } from './_pickle-write-support.ts'

/** The buffer, frames and memo of one `dumps` call; the rooms above add what they save. */
export abstract class PickleOutput {
  protected buf: Buffer = Buffer.allocUnsafe(256)
  protected len = 0
  protected framing = false
  protected frameStart = -1
  protected readonly proto: number
  // The memo: objects by identity; str by value (JS strings have no identity — as if every
  // str were interned); bytes of length 0 and 1 by value (CPython caches those); globals by name.
  protected memoLen = 0
  protected readonly memo = new Map<object, number>()
  protected readonly strMemo = new Map<string, number>()
  protected readonly smallBytesMemo = new Map<number, number>()
  protected readonly globalMemo = new Map<string, number>()
  // Named time zones by value: Python shares one object per pytz state and per cached zoneinfo
  // key (pytz.timezone() and ZoneInfo() return cached instances), so equal zones are one object.
  protected readonly zoneMemo = new Map<string, number>()
  protected readonly pytzNames = new Map<string, number>()
  protected depth = 0
  protected readonly classes: ClassTable | null

  constructor(proto: number, classes: ClassTable | null) {
    this.proto = proto
    this.classes = classes
  }

  // --- output -------------------------------------------------------------------------------

  protected grow(n: number): void {
    const needed = this.len + n
    if (needed <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  /** Room for `n` bytes; opens a frame first when framing and none is open (`_Pickler_Write`). */
  protected reserve(n: number): number {
    if (this.framing && this.frameStart === -1) {
      this.grow(FRAME_HEADER_SIZE + n)
      this.frameStart = this.len
      this.len += FRAME_HEADER_SIZE
    } else {
      this.grow(n)
    }
    const at = this.len
    this.len += n
    return at
  }

  protected op(code: number): void {
    const at = this.reserve(1)
    this.buf[at] = code
  }

  protected op1(code: number, arg: number): void {
    const at = this.reserve(2)
    this.buf[at] = code
    this.buf[at + 1] = arg
  }

  protected op4(code: number, arg: number): void {
    const at = this.reserve(5)
    this.buf[at] = code
    this.buf.writeUInt32LE(arg >>> 0, at + 1)
  }

  protected commitFrame(): void {
    if (!this.framing || this.frameStart === -1) return
    const start = this.frameStart
    const size = this.len - start - FRAME_HEADER_SIZE
    if (size >= FRAME_SIZE_MIN) {
      this.buf[start] = FRAME
      this.buf.writeUInt32LE(size, start + 1)
      this.buf.writeUInt32LE(0, start + 5)
    } else {
      this.buf.copy(this.buf, start, start + FRAME_HEADER_SIZE, this.len)
      this.len -= FRAME_HEADER_SIZE
    }
    this.frameStart = -1
  }

  /** `_Pickler_OpcodeBoundary`: before each object, close a frame that reached the target. */
  protected boundary(): void {
    if (
      this.frameStart !== -1 &&
      this.len - this.frameStart - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET
    ) {
      this.commitFrame()
    }
  }

  /**
   * `_Pickler_write_bytes`, first half: the opcode and its length. A payload of 64 KiB or more
   * goes outside any frame (the current one is committed first). Returns where the payload goes;
   * call `endSized(framing)` after writing it.
   */
  protected beginSized(code: number, width: 1 | 4 | 8, size: number): number {
    if (size >= FRAME_SIZE_TARGET) {
      this.commitFrame()
      this.framing = false
    }
    const at = this.reserve(1 + width)
    this.buf[at] = code
    if (width === 1) this.buf[at + 1] = size
    else {
      this.buf.writeUInt32LE(size % 0x100000000, at + 1)
      if (width === 8) this.buf.writeUInt32LE(Math.floor(size / 0x100000000), at + 5)
    }
    return this.reserve(size)
  }

  // --- memo ---------------------------------------------------------------------------------

  /** Writes MEMOIZE (protocol 4+) or BINPUT / LONG_BINPUT and returns the new index. */
  protected memoPut(): number {
    const index = this.memoLen++
    if (this.proto >= 4) this.op(MEMOIZE)
    else if (index < 256) this.op1(BINPUT, index)
    else this.op4(LONG_BINPUT, index)
    return index
  }

  protected memoGet(index: number): void {
    if (index < 256) this.op1(BINGET, index)
    else this.op4(LONG_BINGET, index)
  }

  /** The memo index of an object, if it was written already. */
  protected lookup(obj: object): number | undefined {
    if (obj instanceof Uint8Array && obj.length <= 1) {
      return this.smallBytesMemo.get(obj.length === 0 ? -1 : (obj[0] as number))
    }
    return this.memo.get(obj)
  }

  /** Memoizes an object just written. */
  protected remember(obj: object): void {
    if (obj instanceof Uint8Array && obj.length <= 1) {
      this.smallBytesMemo.set(obj.length === 0 ? -1 : (obj[0] as number), this.memoPut())
    } else {
      this.memo.set(obj, this.memoPut())
    }
  }
}
