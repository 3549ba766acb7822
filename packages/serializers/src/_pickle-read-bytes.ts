// The pickle reader's str and bytes opcodes: one method per kind (Python 2 str as latin-1, UTF-8
// str, bytes, bytearray, and protocol 0's quoted STRING and raw-unicode-escaped UNICODE lines),
// each reading its argument and returning the value the opcode loop (_pickle-reader.ts) pushes.
// A layer of the one Reader, over _pickle-read-objects.ts.

import { ObjectReader } from './_pickle-read-objects.ts'
import { fail } from './_pickle-read-rules.ts'
import { decodeEscapedString, decodeRawUnicodeEscape, decodeUtf8 } from './_pickle-read-text.ts'
import { unpooledCopy } from './_unpooled.ts'

/** The str and bytes opcodes of the pickle reader. */
export abstract class BytesReader extends ObjectReader {
  /** SHORT_BINSTRING, BINSTRING: a Python 2 str of a `width`-byte length, read as latin-1. */
  protected latin1(width: 1 | 4): string {
    const n = this.readSize(width)
    const at = this.need(n)
    return this.data.toString('latin1', at, at + n)
  }

  /** SHORT_BINUNICODE, BINUNICODE, BINUNICODE8: a str of a `width`-byte length, as UTF-8. */
  protected utf8(width: 1 | 4 | 8): string {
    const n = this.readSize(width)
    const at = this.need(n)
    return decodeUtf8(this.data, at, at + n)
  }

  /** SHORT_BINBYTES, BINBYTES, BINBYTES8: bytes of a `width`-byte length, as a copy of their own. */
  protected bytes(width: 1 | 4 | 8): Buffer {
    const n = this.readSize(width)
    const at = this.need(n)
    return unpooledCopy(this.data, at, at + n)
  }

  /** BYTEARRAY8: a bytearray, noted as one (`bytearrays`). */
  protected bytearray(): Buffer {
    const n = this.readSize(8)
    const at = this.need(n)
    const bytes = unpooledCopy(this.data, at, at + n)
    this.bytearrays.add(bytes)
    return bytes
  }

  /** STRING: a quoted line of Python string escapes. */
  protected quoted(): string {
    const data = this.data
    const lineEnd = this.longLineEnd()
    const q = data[this.pos] as number
    if (lineEnd - this.pos < 2 || (q !== 0x27 && q !== 0x22) || data[lineEnd - 1] !== q) {
      fail('the STRING opcode argument must be quoted')
    }
    const text = decodeEscapedString(data, this.pos + 1, lineEnd - 1)
    this.pos = lineEnd + 1
    return text
  }

  /** UNICODE: a line of raw-unicode-escaped text. */
  protected rawUnicode(): string {
    const lineEnd = this.longLineEnd()
    const text = decodeRawUnicodeEscape(this.data, this.pos, lineEnd)
    this.pos = lineEnd + 1
    return text
  }
}
