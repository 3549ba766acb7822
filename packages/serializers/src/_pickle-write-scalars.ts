import {
  BINBYTES,
  BINBYTES8,
  BINFLOAT,
  BININT,
  BININT1,
  BININT2,
  BINUNICODE,
  BINUNICODE8,
  LONG1,
  LONG4,
  SHORT_BINBYTES,
  SHORT_BINUNICODE,
} from './_pickle-opcodes.ts'
import { PickleOutput } from './_pickle-write-output.ts'
import type { GlobalSpec } from './_pickle-write-support.ts'
import {
  BYTES,
  CODECS_ENCODE,
  encodeSurrogatepass,
  FreshStr,
  fail,
  isWellFormed,
  surrogatepassLength,
} from './_pickle-write-support.ts'

/** Saves ints, floats, strs and bytes, over the output. */
export abstract class ScalarWriter extends PickleOutput {
  /** Saves `callable(*args)` for `obj` (`_pickle-write-python.ts`): bytes under protocol 3. */
  protected abstract saveReduce(callable: GlobalSpec, args: unknown[], obj: object): void

  protected saveInt(n: number): void {
    if (n >= 0 && n <= 0xff) this.op1(BININT1, n)
    else if (n >= 0 && n <= 0xffff) {
      const at = this.reserve(3)
      this.buf[at] = BININT2
      this.buf.writeUInt16LE(n, at + 1)
    } else if (n >= -0x80000000 && n <= 0x7fffffff) {
      const at = this.reserve(5)
      this.buf[at] = BININT
      this.buf.writeInt32LE(n, at + 1)
    } else {
      this.saveLong(BigInt(n))
    }
  }

  /** LONG1 / LONG4: little-endian two's complement, as short as CPython makes it. */
  protected saveLong(x: bigint): void {
    const negative = x < 0n
    const magnitude = negative ? -x : x
    const nbits = magnitude.toString(2).length
    let nbytes = (nbits >> 3) + 1
    const v = negative ? (1n << BigInt(nbytes * 8)) + x : x
    const hex = v.toString(16).padStart(nbytes * 2, '0')
    const bytes = Buffer.from(hex, 'hex').reverse()
    if (
      negative &&
      nbytes > 1 &&
      bytes[nbytes - 1] === 0xff &&
      ((bytes[nbytes - 2] as number) & 0x80) !== 0
    ) {
      nbytes--
    }
    if (nbytes < 256) this.op1(LONG1, nbytes)
    else this.op4(LONG4, nbytes)
    const at = this.reserve(nbytes)
    bytes.copy(this.buf, at, 0, nbytes)
  }

  protected saveFloat(x: number): void {
    const at = this.reserve(9)
    this.buf[at] = BINFLOAT
    this.buf.writeDoubleBE(x, at + 1)
  }

  /** Writes a str and memoizes it; returns its memo index. */
  protected saveStr(text: string): number {
    const n = text.length
    if (n <= 64) {
      // Short ASCII, the common case: one pass, no native call.
      let ascii = true
      for (let i = 0; i < n; i++) {
        if (text.charCodeAt(i) >= 0x80) {
          ascii = false
          break
        }
      }
      if (ascii) {
        const at = this.strHeader(n)
        const buf = this.buf
        for (let i = 0; i < n; i++) buf[at + i] = text.charCodeAt(i)
        return this.memoPut()
      }
    }
    const framing = this.framing
    // (strHeader may replace this.buf when it grows: take the position first.)
    if (isWellFormed(text)) {
      const size = Buffer.byteLength(text, 'utf8')
      const at = this.strHeader(size)
      this.buf.write(text, at, size, 'utf8')
    } else {
      const at = this.strHeader(surrogatepassLength(text))
      encodeSurrogatepass(text, this.buf, at)
    }
    this.framing = framing
    return this.memoPut()
  }

  /** SHORT_BINUNICODE, BINUNICODE or BINUNICODE8 for `size` bytes; returns where they go. */
  protected strHeader(size: number): number {
    if (size <= 0xff && this.proto >= 4) return this.beginSized(SHORT_BINUNICODE, 1, size)
    if (size <= 0xffffffff) return this.beginSized(BINUNICODE, 4, size)
    if (this.proto >= 4) return this.beginSized(BINUNICODE8, 8, size)
    return fail('a str larger than 4 GiB needs pickle protocol 4 or higher')
  }

  protected saveBytes(data: Uint8Array): void {
    if (this.proto < 3) {
      // No bytes opcode before protocol 3: CPython writes bytes() or _codecs.encode(latin-1 str).
      if (data.length === 0) this.saveReduce(BYTES, [], data)
      else {
        const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1')
        this.saveReduce(CODECS_ENCODE, [new FreshStr(text), 'latin1'], data)
      }
      return
    }
    const size = data.length
    const framing = this.framing
    let at: number
    if (size <= 0xff) at = this.beginSized(SHORT_BINBYTES, 1, size)
    else if (size <= 0xffffffff) at = this.beginSized(BINBYTES, 4, size)
    else at = this.beginSized(BINBYTES8, 8, size)
    this.buf.set(data, at)
    this.framing = framing
    this.remember(data)
  }
}
