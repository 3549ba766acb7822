// The pickle reader: a stack machine over protocols 0–5 that rebuilds plain data and a fixed
// allow-list of classes without running any code. Iterative (no recursion on nesting depth),
// bounded: every length is checked against the input before anything is allocated, the work
// done beyond one pass over the input (copies made by constructors) is metered, text opcodes
// are parsed by one-pass scanners within line caps, and nesting stops at MAX_READ_DEPTH.
//
// The rooms: _pickle-read-state.ts (input, stack, memo, globals), _pickle-read-objects.ts
// (containers, calls, BUILD), _pickle-read-bytes.ts (str and bytes opcodes) and
// _pickle-read-legacy.ts (protocol 0's text opcodes, the refused ones) are layers of the one
// Reader, whose opcode loop is here (_pickle-inspect.ts extends it for inspection tools: whole
// floats boxed); _pickle-read-rules.ts (caps, allow-lists), -text, -numbers, -classes and
// -containers hold the one-pass scanners and builders they use.

import { tooManyItemsError } from '@cachex/core/internal'
import type { ClassTable } from './_pickle-classes.ts'
import {
  ADDITEMS,
  APPEND,
  APPENDS,
  BINBYTES,
  BINBYTES8,
  BINFLOAT,
  BINGET,
  BININT,
  BININT1,
  BININT2,
  BINPUT,
  BINSTRING,
  BINUNICODE,
  BINUNICODE8,
  BUILD,
  BYTEARRAY8,
  DICT,
  DUP,
  EMPTY_DICT,
  EMPTY_LIST,
  EMPTY_SET,
  EMPTY_TUPLE,
  FRAME,
  FROZENSET,
  LIST,
  LONG_BINGET,
  LONG_BINPUT,
  LONG1,
  LONG4,
  MAKES,
  MARK,
  MEMOIZE,
  NEWFALSE,
  NEWOBJ,
  NEWOBJ_EX,
  NEWTRUE,
  NONE,
  POP,
  POP_MARK,
  PROTO,
  REDUCE,
  SETITEM,
  SETITEMS,
  SHORT_BINBYTES,
  SHORT_BINSTRING,
  SHORT_BINUNICODE,
  STACK_GLOBAL,
  STOP,
  TUPLE,
  TUPLE1,
  TUPLE2,
  TUPLE3,
} from './_pickle-opcodes.ts'
import { addPy, isPlainDict } from './_pickle-read-containers.ts'
import { LegacyReader } from './_pickle-read-legacy.ts'
import { decodeLong, describe } from './_pickle-read-numbers.ts'
import { checkProtocol, fail, MAX_READ_DEPTH } from './_pickle-read-rules.ts'

export {
  ALLOWED_GLOBALS,
  MAX_INT_DIGITS,
  MAX_READ_DEPTH,
  RESERVED_GLOBALS,
} from './_pickle-read-rules.ts'

/** The pickle reader: `run()` reads one value. `_pickle-inspect.ts` extends it for inspection. */
export class Reader extends LegacyReader {
  /** Values it may still make (one an opcode, keys too): bounded for inspection (`maxItems`). */
  protected itemsLeft = Number.POSITIVE_INFINITY
  protected maxItems = Number.POSITIVE_INFINITY

  /** After `run()`: the tuples, frozensets and bytearrays of the value read, by kind. */
  kinds(): Map<object, string> {
    const kinds = new Map<object, string>()
    for (const tuple of this.tuples) kinds.set(tuple, 'tuple')
    for (const set of this.frozensets) kinds.set(set, 'frozenset')
    for (const bytes of this.bytearrays) kinds.set(bytes, 'bytearray')
    return kinds
  }

  /** A float read (FLOAT, BINFLOAT), as the value holds it: the number itself. */
  protected override float(x: number): unknown {
    return x
  }

  /** The items `from` to `to` of `items`, about to go into a set: as they are. */
  protected setMembers(_items: unknown[], _from: number, _to: number): void {}

  // --- the loop -----------------------------------------------------------------------------

  run(): unknown {
    const data = this.data
    const stack = this.stack
    const end = data.length
    for (;;) {
      if (this.pos >= end) fail('pickle data was truncated (no STOP opcode)')
      const op = data[this.pos++] as number
      if (MAKES[op] === 1 && --this.itemsLeft < 0) {
        throw tooManyItemsError('pickle', this.maxItems)
      }
      switch (op) {
        case PROTO: {
          const at = this.need(1)
          checkProtocol(data[at] as number, at)
          break
        }
        case FRAME: {
          const size = this.readSize(8)
          // The frame must be there; its contents are read as usual.
          if (size > end - this.pos) fail('pickle data was truncated (frame)')
          break
        }
        case STOP: {
          let value = this.pop()
          if (this.pendingUuids !== null && this.pendingUuids.size > 0) {
            fail('uuid.UUID created without its state')
          }
          value = this.resolve(value)
          this.handOut(value, true)
          this.checkDepth(value)
          return value
        }
        case MARK:
          // Every open MARK is a container being built, inside the one of the MARK before.
          if (this.marks.length >= MAX_READ_DEPTH) {
            fail(`value nested more than ${MAX_READ_DEPTH} levels deep (MARK)`)
          }
          this.marks.push(stack.length)
          this.fence = stack.length
          break
        case POP:
          if (this.marks.length > 0 && this.marks[this.marks.length - 1] === stack.length) {
            this.popMark()
          } else {
            this.pop()
          }
          break
        case POP_MARK:
          this.truncate(this.popMark())
          break
        case DUP:
          stack.push(this.reuse(this.top()))
          break
        case NONE:
          stack.push(null)
          break
        case NEWTRUE:
          stack.push(true)
          break
        case NEWFALSE:
          stack.push(false)
          break
        case BININT:
          stack.push(data.readInt32LE(this.need(4)))
          break
        case BININT1:
          stack.push(data[this.need(1)])
          break
        case BININT2:
          stack.push(data.readUInt16LE(this.need(2)))
          break
        case LONG1: {
          const n = this.readSize(1)
          stack.push(decodeLong(data, this.need(n), n))
          break
        }
        case LONG4: {
          const n = data.readInt32LE(this.need(4))
          if (n < 0) fail('LONG pickle has negative byte count')
          stack.push(decodeLong(data, this.need(n), n))
          break
        }
        case BINFLOAT: {
          const x = data.readDoubleBE(this.need(8))
          stack.push(this.float(x))
          break
        }
        case BINSTRING:
          stack.push(this.latin1(4))
          break
        case SHORT_BINSTRING:
          stack.push(this.latin1(1))
          break
        case SHORT_BINUNICODE:
          stack.push(this.utf8(1))
          break
        case BINUNICODE:
          stack.push(this.utf8(4))
          break
        case BINUNICODE8:
          stack.push(this.utf8(8))
          break
        case SHORT_BINBYTES:
          stack.push(this.bytes(1))
          break
        case BINBYTES:
          stack.push(this.bytes(4))
          break
        case BINBYTES8:
          stack.push(this.bytes(8))
          break
        case BYTEARRAY8:
          stack.push(this.bytearray())
          break
        case EMPTY_LIST:
          this.containers++
          stack.push([])
          break
        case LIST: {
          this.containers++
          const items = this.popToMark()
          stack.push(items)
          break
        }
        case APPEND: {
          const value = this.pop()
          const list = this.under(stack.length)
          if (!Array.isArray(list) || this.tuples.has(list))
            fail(`APPEND to ${describe(list)}, not a list`)
          list.push(value)
          this.written(list, list.length - 1)
          break
        }
        case APPENDS: {
          const mark = this.popMark()
          const list = this.under(mark)
          if (!Array.isArray(list) || this.tuples.has(list)) {
            fail(`APPENDS to ${describe(list)}, not a list`)
          }
          for (let i = mark; i < stack.length; i++) {
            list.push(stack[i])
            this.written(list, list.length - 1)
          }
          this.truncate(mark)
          break
        }
        case EMPTY_TUPLE:
          stack.push(this.tuple([]))
          break
        case TUPLE:
          stack.push(this.tuple(this.popToMark()))
          break
        case TUPLE1:
          stack.push(this.tuple([this.pop()]))
          break
        case TUPLE2: {
          const b = this.pop()
          const a = this.pop()
          stack.push(this.tuple([a, b]))
          break
        }
        case TUPLE3: {
          const c = this.pop()
          const b = this.pop()
          const a = this.pop()
          stack.push(this.tuple([a, b, c]))
          break
        }
        case EMPTY_DICT:
          this.containers++
          stack.push({})
          break
        case DICT: {
          const items = this.popToMark()
          if (items.length % 2 !== 0) fail('odd number of items for DICT')
          this.containers++
          stack.push({})
          this.setItems(stack[stack.length - 1], items, 0, items.length, stack.length - 1)
          break
        }
        case SETITEM: {
          if (stack.length - 3 < this.fence) fail('unpickling stack underflow')
          const slot = stack.length - 3
          this.setItems(this.under(stack.length - 2), stack, slot + 1, slot + 3, slot)
          this.truncate(slot + 1)
          break
        }
        case SETITEMS: {
          const mark = this.popMark()
          if ((stack.length - mark) % 2 !== 0) fail('odd number of items for SETITEMS')
          this.setItems(this.under(mark), stack, mark, stack.length, mark - 1)
          this.truncate(mark)
          break
        }
        case EMPTY_SET:
          this.containers++
          stack.push(new Set())
          break
        case ADDITEMS: {
          const mark = this.popMark()
          const set = this.under(mark)
          if (!(set instanceof Set) || this.frozensets.has(set)) {
            fail(`ADDITEMS to ${describe(set)}, not a set`)
          }
          this.checkHashables(stack, mark, stack.length, 1)
          this.setMembers(stack, mark, stack.length)
          for (let i = mark; i < stack.length; i++) {
            addPy(set, stack[i])
            this.written(set, stack[i])
          }
          this.truncate(mark)
          break
        }
        case FROZENSET: {
          const items = this.popToMark()
          this.checkHashables(items, 0, items.length, 1)
          this.setMembers(items, 0, items.length)
          const set = new Set<unknown>()
          for (const item of items) addPy(set, item)
          this.containers++
          this.frozensets.add(set)
          stack.push(set)
          break
        }
        case BINGET:
          stack.push(this.reuse(this.memoGet(this.readSize(1))))
          break
        case LONG_BINGET:
          stack.push(this.reuse(this.memoGet(this.readSize(4))))
          break
        case BINPUT:
          this.memoPut(this.readSize(1), this.top())
          break
        case LONG_BINPUT:
          this.memoPut(this.readSize(4), this.top())
          break
        case MEMOIZE:
          // Python's memo_len: the number of entries.
          this.memoPut(this.memoCount, this.top())
          break
        case STACK_GLOBAL: {
          const name = this.pop()
          const module = this.pop()
          if (typeof module !== 'string' || typeof name !== 'string') {
            fail('STACK_GLOBAL requires str')
          }
          stack.push(this.global(module, name))
          break
        }
        case REDUCE: {
          const args = this.pop()
          const callable = this.pop()
          stack.push(this.construct(callable, args, false))
          break
        }
        case NEWOBJ: {
          const args = this.pop()
          const cls = this.pop()
          stack.push(this.construct(cls, args, true))
          break
        }
        case NEWOBJ_EX: {
          const kwargs = this.resolve(this.pop())
          const args = this.pop()
          const cls = this.pop()
          const empty =
            (kwargs instanceof Map && kwargs.size === 0) ||
            (isPlainDict(kwargs) && Object.keys(kwargs).length === 0)
          if (!empty) fail('NEWOBJ_EX with keyword arguments is not supported')
          stack.push(this.construct(cls, args, true))
          break
        }
        case BUILD: {
          const state = this.pop()
          this.build(this.top(), state)
          break
        }
        default:
          // Protocol 0's text opcodes, and those refused.
          this.otherOpcode(op)
      }
    }
  }
}

/** Reads one pickle (protocols 0–5). Throws a `SerializationError` on anything it does not accept. */
export function loadPickle(data: Uint8Array, classes: ClassTable | null = null): unknown {
  const buffer = Buffer.isBuffer(data)
    ? data
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return new Reader(buffer, classes).run()
}
