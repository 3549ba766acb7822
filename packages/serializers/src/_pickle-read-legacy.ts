// The pickle reader's opcodes off the binary path: protocol 0's text lines (INT, LONG, FLOAT,
// STRING, UNICODE, GET, PUT, GLOBAL) and the opcodes it refuses (out-of-band buffers, INST/OBJ,
// persistent IDs, the extension registry, an unknown byte). The opcode loop (_pickle-reader.ts)
// hands each opcode it has no case for to `otherOpcode`, so that the loop over a binary pickle
// keeps only the cases such a pickle holds. A layer of the one Reader, over _pickle-read-bytes.ts.

import {
  BINPERSID,
  EXT1,
  EXT2,
  EXT4,
  FLOAT,
  GET,
  GLOBAL,
  INST,
  INT,
  LONG,
  NEXT_BUFFER,
  OBJ,
  PERSID,
  PUT,
  READONLY_BUFFER,
  STRING,
  UNICODE,
} from './_pickle-opcodes.ts'
import { BytesReader } from './_pickle-read-bytes.ts'
import { parseFloatText, parseIndex, parseIntText } from './_pickle-read-numbers.ts'
import {
  fail,
  MAX_FLOAT_LINE,
  MAX_INDEX_LINE,
  MAX_INT_LINE,
  MAX_NAME_LINE,
} from './_pickle-read-rules.ts'

/** The text and refused opcodes of the pickle reader. */
export abstract class LegacyReader extends BytesReader {
  /** A float read (FLOAT, BINFLOAT), as the value holds it (see `Reader`). */
  protected abstract float(x: number): unknown

  /**
   * An opcode the loop has no case for: a text opcode is read (its value pushed, or memoized);
   * any other is refused with a `SerializationError`.
   */
  protected otherOpcode(op: number): void {
    const stack = this.stack
    switch (op) {
      case INT: {
        const line = this.readLine(MAX_INT_LINE, 'INT')
        const { value, viaStrtol } = parseIntText(line, 'INT', true)
        // Protocol 0/1 booleans are "I01" and "I00" (CPython: 2 characters read as 0 or 1).
        if (viaStrtol && line.length === 2 && (value === 0 || value === 1)) stack.push(value === 1)
        else stack.push(value)
        break
      }
      case LONG: {
        // Python 2 writes a trailing L.
        let line = this.readLine(MAX_INT_LINE + 1, 'LONG')
        if (line.endsWith('L')) line = line.slice(0, -1)
        stack.push(parseIntText(line, 'LONG', false).value)
        break
      }
      case FLOAT: {
        const x = parseFloatText(this.readLine(MAX_FLOAT_LINE, 'FLOAT'))
        stack.push(this.float(x))
        break
      }
      case STRING:
        stack.push(this.quoted())
        break
      case UNICODE:
        stack.push(this.rawUnicode())
        break
      case NEXT_BUFFER:
        fail('NEXT_BUFFER: out-of-band buffers are not available')
        break
      case READONLY_BUFFER:
        fail('READONLY_BUFFER: out-of-band buffers are not available')
        break
      case GET:
        stack.push(
          this.reuse(this.memoGet(parseIndex(this.readLine(MAX_INDEX_LINE, 'GET'), 'GET'))),
        )
        break
      case PUT: {
        this.memoPut(parseIndex(this.readLine(MAX_INDEX_LINE, 'PUT'), 'PUT'), this.top())
        break
      }
      case GLOBAL: {
        const module = this.readUtf8Line(MAX_NAME_LINE, 'GLOBAL')
        const name = this.readUtf8Line(MAX_NAME_LINE, 'GLOBAL')
        stack.push(this.global(module, name))
        break
      }
      case INST:
      case OBJ:
        fail(
          `refusing the ${op === INST ? 'INST' : 'OBJ'} opcode (it instantiates arbitrary classes)`,
        )
        break
      case PERSID:
      case BINPERSID:
        fail('persistent IDs (PERSID/BINPERSID) are not supported')
        break
      case EXT1:
      case EXT2:
      case EXT4:
        fail('the extension registry (EXT1/EXT2/EXT4) is not supported')
        break
      default:
        fail(
          `invalid load key, 0x${op.toString(16).padStart(2, '0')} at offset ${this.pos - 1}` +
            ' (not a pickle, or a corrupt one)',
        )
    }
  }
}
