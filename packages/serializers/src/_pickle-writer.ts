// The pickle writer: protocols 2–5, byte for byte what CPython 3.11's C pickler (`_pickle.c`,
// which `pickle.dumps` uses) writes for the same value: the same opcode choices, memo puts and
// gets, batches of 1000 (including the empty trailing batch CPython writes for dicts and sets of
// exactly n*1000 items), and protocol 4 framing (frames of at most ~64 KiB, committed at the
// start of an object, none under 4 bytes, large str/bytes payloads outside any frame).

import type { ClassEntry, ClassTable, PickledInstance } from './_pickle-classes.ts'
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
  BINUNICODE,
  BINUNICODE8,
  BUILD,
  EMPTY_DICT,
  EMPTY_LIST,
  EMPTY_SET,
  EMPTY_TUPLE,
  FRAME,
  GLOBAL,
  LONG_BINGET,
  LONG_BINPUT,
  LONG1,
  LONG4,
  MARK,
  MEMOIZE,
  NEWFALSE,
  NEWOBJ,
  NEWTRUE,
  NONE,
  POP,
  POP_MARK,
  PROTO,
  REDUCE,
  SETITEM,
  SETITEMS,
  SHORT_BINBYTES,
  SHORT_BINUNICODE,
  STACK_GLOBAL,
  STOP,
  TUPLE,
  TUPLE1,
} from './_pickle-opcodes.ts'
import { ALLOWED_GLOBALS } from './_pickle-reader.ts'
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PySafeString,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PyTuple,
  PytzTimezone,
  PyUUID,
  PyZoneInfo,
} from './py-values.ts'

const BATCHSIZE = 1000
const FRAME_SIZE_TARGET = 64 * 1024
const FRAME_SIZE_MIN = 4
const FRAME_HEADER_SIZE = 9
/** How deeply containers may nest (CPython's own limit is lower: its recursion limit). */
export const MAX_DEPTH = 2000

/**
 * A global the writer names. `internedName`: whether CPython's qualname string is an interned
 * object (a Python-defined class), which protocol 4's memo then shares with equal strings; the
 * qualname of a C type is a fresh string each time, never shared.
 */
interface GlobalSpec {
  readonly module: string
  readonly name: string
  readonly internedName: boolean
  /**
   * Whether the module name is a str of its own (a C function's `__module__`, such as getattr's
   * `'builtins'`), never shared with an equal str; a class's `__module__` is interned.
   */
  readonly freshModule?: boolean
}

const g = (module: string, name: string, internedName = false): GlobalSpec => ({
  module,
  name,
  internedName,
})
const DATETIME = g('datetime', 'datetime')
const DATE = g('datetime', 'date')
const TIME = g('datetime', 'time')
const TIMEDELTA = g('datetime', 'timedelta')
const TIMEZONE = g('datetime', 'timezone')
const DECIMAL = g('decimal', 'Decimal')
const UUID = g('uuid', 'UUID', true)
const SET = g('builtins', 'set')
const BYTES = g('builtins', 'bytes')
const CODECS_ENCODE = g('_codecs', 'encode')
// pytz's functions and Django's class are Python-defined (interned names); getattr and ZoneInfo
// are C-defined (a fresh name each time).
const PYTZ_UTC = g('pytz', '_UTC', true)
const PYTZ_P = g('pytz', '_p', true)
const GETATTR: GlobalSpec = { ...g('builtins', 'getattr'), freshModule: true }
const ZONEINFO = new PyGlobal('zoneinfo', 'ZoneInfo')
const SAFE_STRING = g('django.utils.safestring', 'SafeString', true)
const INTERNED_NAMES = new Set([
  'uuid.UUID',
  'copyreg._reconstructor',
  'pytz._UTC',
  'pytz._p',
  'django.utils.safestring.SafeString',
  'django.utils.safestring.SafeText',
])

// Python 3 module names as protocols 0–2 write them (fix_imports).
const PY2_MODULES: Readonly<Record<string, string>> = {
  builtins: '__builtin__',
  copyreg: 'copy_reg',
}

/** A str that CPython creates afresh (never shared through the memo with an equal str). */
class FreshStr {
  constructor(readonly text: string) {}
}

/**
 * A str that CPython shares with equal strs of one kind only, not with the others: pytz's zone
 * names (one object per zone, used by all its states, built at run time, so never one of the
 * application's strs).
 */
class ScopedStr {
  constructor(
    readonly text: string,
    readonly scope: Map<string, number>,
  ) {}
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const nativeWellFormed =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'

function isWellFormed(text: string): boolean {
  return nativeWellFormed
    ? (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : !LONE_SURROGATE.test(text)
}

/** UTF-8 length with `surrogatepass`: a lone surrogate takes 3 bytes. */
function surrogatepassLength(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

/** Python's `str.encode('utf-8', 'surrogatepass')`, into `buf` at `at`. */
function encodeSurrogatepass(text: string, buf: Buffer, at: number): void {
  let p = at
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
        i++
      }
    }
    if (c < 0x80) buf[p++] = c
    else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6)
      buf[p++] = 0x80 | (c & 0x3f)
    } else if (c < 0x10000) {
      buf[p++] = 0xe0 | (c >> 12)
      buf[p++] = 0x80 | ((c >> 6) & 0x3f)
      buf[p++] = 0x80 | (c & 0x3f)
    } else {
      buf[p++] = 0xf0 | (c >> 18)
      buf[p++] = 0x80 | ((c >> 12) & 0x3f)
      buf[p++] = 0x80 | ((c >> 6) & 0x3f)
      buf[p++] = 0x80 | (c & 0x3f)
    }
  }
}

function fail(message: string): never {
  throw new Error(`pickle: ${message}`)
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  if (Array.isArray(value)) return 'Array'
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? name : 'object'
}

/** Python needs set items and dict keys to be hashable: no lists, dicts or sets. */
function assertHashable(value: unknown, where: string): void {
  const todo: unknown[] = [value]
  while (todo.length > 0) {
    const v = todo.pop()
    if (typeof v !== 'object' || v === null) continue
    if (v instanceof PyTuple) {
      for (const item of v.items) todo.push(item)
      continue
    }
    if (
      v instanceof Uint8Array ||
      v instanceof Date ||
      v instanceof PyDateTime ||
      v instanceof PyDate ||
      v instanceof PyTime ||
      v instanceof PyTimeDelta ||
      v instanceof PyTimezone ||
      v instanceof PyDecimal ||
      v instanceof PyUUID ||
      v instanceof PyGlobal ||
      v instanceof PySafeString ||
      v instanceof PyZoneInfo ||
      v instanceof PytzTimezone
    ) {
      continue
    }
    fail(
      `${where} must be hashable in Python; got ${typeName(v)} (use a PyTuple instead of an array)`,
    )
  }
}

class Writer {
  private buf: Buffer = Buffer.allocUnsafe(256)
  private len = 0
  private framing = false
  private frameStart = -1
  private readonly proto: number
  // The memo: objects by identity; str by value (JS strings have no identity — as if every
  // str were interned); bytes of length 0 and 1 by value (CPython caches those); globals by name.
  private memoLen = 0
  private readonly memo = new Map<object, number>()
  private readonly strMemo = new Map<string, number>()
  private readonly smallBytesMemo = new Map<number, number>()
  private readonly globalMemo = new Map<string, number>()
  // Named time zones by value: Python shares one object per pytz state and per cached zoneinfo
  // key (pytz.timezone() and ZoneInfo() return cached instances), so equal zones are one object.
  private readonly zoneMemo = new Map<string, number>()
  private readonly pytzNames = new Map<string, number>()
  private depth = 0
  private readonly classes: ClassTable | null

  constructor(proto: number, classes: ClassTable | null) {
    this.proto = proto
    this.classes = classes
  }

  // --- output -------------------------------------------------------------------------------

  private grow(n: number): void {
    const needed = this.len + n
    if (needed <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(needed, this.buf.length * 2))
    this.buf.copy(next, 0, 0, this.len)
    this.buf = next
  }

  /** Room for `n` bytes; opens a frame first when framing and none is open (`_Pickler_Write`). */
  private reserve(n: number): number {
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

  private op(code: number): void {
    const at = this.reserve(1)
    this.buf[at] = code
  }

  private op1(code: number, arg: number): void {
    const at = this.reserve(2)
    this.buf[at] = code
    this.buf[at + 1] = arg
  }

  private op4(code: number, arg: number): void {
    const at = this.reserve(5)
    this.buf[at] = code
    this.buf.writeUInt32LE(arg >>> 0, at + 1)
  }

  private commitFrame(): void {
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
  private boundary(): void {
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
  private beginSized(code: number, width: 1 | 4 | 8, size: number): number {
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
  private memoPut(): number {
    const index = this.memoLen++
    if (this.proto >= 4) this.op(MEMOIZE)
    else if (index < 256) this.op1(BINPUT, index)
    else this.op4(LONG_BINPUT, index)
    return index
  }

  private memoGet(index: number): void {
    if (index < 256) this.op1(BINGET, index)
    else this.op4(LONG_BINGET, index)
  }

  /** The memo index of an object, if it was written already. */
  private lookup(obj: object): number | undefined {
    if (obj instanceof Uint8Array && obj.length <= 1) {
      return this.smallBytesMemo.get(obj.length === 0 ? -1 : (obj[0] as number))
    }
    return this.memo.get(obj)
  }

  /** Memoizes an object just written. */
  private remember(obj: object): void {
    if (obj instanceof Uint8Array && obj.length <= 1) {
      this.smallBytesMemo.set(obj.length === 0 ? -1 : (obj[0] as number), this.memoPut())
    } else {
      this.memo.set(obj, this.memoPut())
    }
  }

  // --- save ---------------------------------------------------------------------------------

  dump(value: unknown): Buffer {
    const at = this.reserve(2)
    this.buf[at] = PROTO
    this.buf[at + 1] = this.proto
    this.framing = this.proto >= 4
    this.save(value)
    this.op(STOP)
    this.commitFrame()
    this.framing = false
    return this.buf.subarray(0, this.len)
  }

  private save(value: unknown): void {
    this.boundary()
    switch (typeof value) {
      case 'boolean':
        this.op(value ? NEWTRUE : NEWFALSE)
        return
      case 'number':
        if (Number.isSafeInteger(value) && !Object.is(value, -0)) this.saveInt(value)
        else this.saveFloat(value)
        return
      case 'bigint':
        if (value >= -2147483648n && value <= 2147483647n) this.saveInt(Number(value))
        else this.saveLong(value)
        return
      case 'string': {
        const index = this.strMemo.get(value)
        if (index !== undefined) this.memoGet(index)
        else this.strMemo.set(value, this.saveStr(value))
        return
      }
      case 'object':
        break
      case 'undefined':
        fail('cannot pickle undefined (use null for None)')
        break
      default:
        fail(`cannot pickle a ${typeof value}`)
    }
    if (value === null) {
      this.op(NONE)
      return
    }
    let index = this.memo.get(value)
    if (index === undefined && value instanceof Uint8Array && value.length <= 1) {
      index = this.smallBytesMemo.get(value.length === 0 ? -1 : (value[0] as number))
    }
    if (index !== undefined) {
      this.memoGet(index)
      return
    }
    if (++this.depth > MAX_DEPTH) fail(`value is nested more than ${MAX_DEPTH} levels deep`)
    const proto = Object.getPrototypeOf(value)
    if (proto === Object.prototype || proto === null) {
      this.saveObject(value as Record<string, unknown>)
    } else if (Array.isArray(value)) this.saveList(value)
    else if (value instanceof Uint8Array) this.saveBytes(value)
    else if (value instanceof FreshStr) this.saveStr(value.text)
    else if (value instanceof ScopedStr) {
      const index = value.scope.get(value.text)
      if (index !== undefined) this.memoGet(index)
      else value.scope.set(value.text, this.saveStr(value.text))
    } else if (value instanceof PyTuple) this.saveTuple(value, value.items)
    else if (value instanceof Map) this.saveMap(value)
    else if (value instanceof Set) this.saveSet(value)
    else if (value instanceof PyDateTime) this.saveDatetime(value, value)
    else if (value instanceof Date) this.saveDatetime(PyDateTime.fromDate(value), value)
    else if (value instanceof PyDate) this.saveDate(value)
    else if (value instanceof PyTime) this.saveTime(value)
    else if (value instanceof PyTimeDelta) {
      this.saveReduce(TIMEDELTA, [value.days, value.seconds, value.microseconds], value)
    } else if (value instanceof PyTimezone) {
      const args = value.name === null ? [value.offset] : [value.offset, value.name]
      this.saveReduce(TIMEZONE, args, value)
    } else if (value instanceof PyDecimal) {
      // Decimal.__reduce__ is (Decimal, (str(self),)): a new str each time.
      this.saveReduce(DECIMAL, [new FreshStr(value.value)], value)
    } else if (value instanceof PyUUID) this.saveUuid(value)
    else if (value instanceof PyGlobal) this.saveGlobalRef(value)
    else if (value instanceof PySafeString) this.saveSafeString(value)
    else if (value instanceof PyZoneInfo) this.saveZoneInfo(value)
    else if (value instanceof PytzTimezone) this.savePytz(value)
    else {
      const entry = this.classes?.writers.find(
        (e) => value instanceof (e.handler.type as abstract new (...args: never[]) => unknown),
      )
      if (entry === undefined) {
        fail(
          `cannot pickle an instance of ${typeName(value)}: only null, booleans, numbers, bigints, ` +
            'strings, Buffer/Uint8Array, arrays, plain objects, Map, Set, Date, the Py* classes ' +
            'and the classes given to pickleSerializer({ classes })',
        )
      }
      this.saveHandled(entry, value)
    }
    this.depth--
  }

  private saveInt(n: number): void {
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
  private saveLong(x: bigint): void {
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

  private saveFloat(x: number): void {
    const at = this.reserve(9)
    this.buf[at] = BINFLOAT
    this.buf.writeDoubleBE(x, at + 1)
  }

  /** Writes a str and memoizes it; returns its memo index. */
  private saveStr(text: string): number {
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
  private strHeader(size: number): number {
    if (size <= 0xff && this.proto >= 4) return this.beginSized(SHORT_BINUNICODE, 1, size)
    if (size <= 0xffffffff) return this.beginSized(BINUNICODE, 4, size)
    if (this.proto >= 4) return this.beginSized(BINUNICODE8, 8, size)
    return fail('a str larger than 4 GiB needs pickle protocol 4 or higher')
  }

  private saveBytes(data: Uint8Array): void {
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

  private saveList(list: readonly unknown[]): void {
    this.op(EMPTY_LIST)
    this.remember(list)
    const n = list.length
    if (n === 0) return
    if (n === 1) {
      this.save(list[0])
      this.op(APPEND)
      return
    }
    let total = 0
    do {
      this.op(MARK)
      let batch = 0
      while (total < n) {
        this.save(list[total])
        total++
        if (++batch === BATCHSIZE) break
      }
      this.op(APPENDS)
    } while (total < n)
  }

  private saveTuple(tuple: object, items: readonly unknown[]): void {
    const n = items.length
    if (n === 0) {
      this.op(EMPTY_TUPLE)
      return
    }
    if (n <= 3) {
      for (const item of items) this.save(item)
      const index = this.lookup(tuple)
      if (index !== undefined) {
        // The tuple contains itself (through a list): drop the items, fetch it from the memo.
        for (let i = 0; i < n; i++) this.op(POP)
        this.memoGet(index)
        return
      }
      this.op(TUPLE1 + n - 1)
    } else {
      this.op(MARK)
      for (const item of items) this.save(item)
      const index = this.lookup(tuple)
      if (index !== undefined) {
        this.op(POP_MARK)
        this.memoGet(index)
        return
      }
      this.op(TUPLE)
    }
    this.remember(tuple)
  }

  /** A plain object as a dict (batch_dict_exact). */
  private saveObject(obj: Record<string, unknown>): void {
    this.op(EMPTY_DICT)
    this.remember(obj)
    const keys = Object.keys(obj)
    const n = keys.length
    if (n === 0) return
    if (n === 1) {
      const key = keys[0] as string
      this.save(key)
      this.save(obj[key])
      this.op(SETITEM)
      return
    }
    // A dict of exactly n*1000 items ends with an empty MARK SETITEMS, as in CPython.
    let i = 0
    let count: number
    do {
      count = 0
      this.op(MARK)
      while (i < n) {
        const key = keys[i++] as string
        this.save(key)
        this.save(obj[key])
        if (++count === BATCHSIZE) break
      }
      this.op(SETITEMS)
    } while (count === BATCHSIZE)
  }

  /** A Map as a dict, in insertion order; its keys must be hashable in Python. */
  private saveMap(map: Map<unknown, unknown>): void {
    for (const key of map.keys()) assertHashable(key, 'a Map key')
    this.op(EMPTY_DICT)
    this.remember(map)
    if (map.size === 0) return
    const entries = map.entries()
    if (map.size === 1) {
      const [key, value] = entries.next().value as [unknown, unknown]
      this.save(key)
      this.save(value)
      this.op(SETITEM)
      return
    }
    let count: number
    do {
      count = 0
      this.op(MARK)
      for (let step = entries.next(); step.done !== true; step = entries.next()) {
        this.save(step.value[0])
        this.save(step.value[1])
        if (++count === BATCHSIZE) break
      }
      this.op(SETITEMS)
    } while (count === BATCHSIZE)
  }

  private saveSet(set: Set<unknown>): void {
    for (const item of set) assertHashable(item, 'a Set item')
    if (this.proto < 4) {
      this.saveReduce(SET, [Array.from(set)], set)
      return
    }
    this.op(EMPTY_SET)
    this.remember(set)
    if (set.size === 0) return
    const items = set.values()
    let count: number
    do {
      count = 0
      this.op(MARK)
      for (let step = items.next(); step.done !== true; step = items.next()) {
        this.save(step.value)
        if (++count === BATCHSIZE) break
      }
      this.op(ADDITEMS)
    } while (count === BATCHSIZE)
  }

  private saveGlobal(spec: GlobalSpec): void {
    this.boundary()
    const key = `${spec.module}.${spec.name}`
    const index = this.globalMemo.get(key)
    if (index !== undefined) {
      this.memoGet(index)
      return
    }
    if (this.proto >= 4) {
      this.save(spec.freshModule === true ? new FreshStr(spec.module) : spec.module)
      this.save(spec.internedName ? spec.name : new FreshStr(spec.name))
      this.op(STACK_GLOBAL)
    } else {
      let module = spec.module
      if (this.proto < 3 && Object.hasOwn(PY2_MODULES, module))
        module = PY2_MODULES[module] as string
      const text = `${module}\n${spec.name}\n`
      const at = this.reserve(1 + text.length)
      this.buf[at] = GLOBAL
      this.buf.write(text, at + 1, 'latin1')
    }
    this.globalMemo.set(key, this.memoPut())
  }

  private saveGlobalRef(ref: PyGlobal): void {
    const key = `${ref.module}.${ref.name}`
    const ours = this.classes?.byGlobal.has(`${ref.module}\n${ref.name}`) === true
    if (!ALLOWED_GLOBALS.has(key) && !ours) {
      fail(`refusing to write global ${key}: not on the allow-list`)
    }
    this.saveGlobal(g(ref.module, ref.name, ours || INTERNED_NAMES.has(key)))
  }

  /** `save_reduce(callable, args, obj=obj)` with a global callable. */
  private saveReduce(callable: GlobalSpec, args: unknown[], obj: object): void {
    this.saveGlobal(callable)
    this.save(new PyTuple(args))
    this.op(REDUCE)
    const index = this.lookup(obj)
    if (index !== undefined) {
      this.op(POP)
      this.memoGet(index)
    } else {
      this.remember(obj)
    }
  }

  private saveDatetime(dt: PyDateTime, obj: object): void {
    const fold = dt.fold === 1 && this.proto > 3 ? 0x80 : 0
    const us = dt.microsecond
    const state = Buffer.from([
      dt.year >> 8,
      dt.year & 0xff,
      dt.month | fold,
      dt.day,
      dt.hour,
      dt.minute,
      dt.second,
      us >> 16,
      (us >> 8) & 0xff,
      us & 0xff,
    ])
    this.saveReduce(DATETIME, dt.tzinfo === null ? [state] : [state, dt.tzinfo], obj)
  }

  private saveDate(date: PyDate): void {
    const state = Buffer.from([date.year >> 8, date.year & 0xff, date.month, date.day])
    this.saveReduce(DATE, [state], date)
  }

  private saveTime(time: PyTime): void {
    const fold = time.fold === 1 && this.proto > 3 ? 0x80 : 0
    const us = time.microsecond
    const state = Buffer.from([
      time.hour | fold,
      time.minute,
      time.second,
      us >> 16,
      (us >> 8) & 0xff,
      us & 0xff,
    ])
    this.saveReduce(TIME, time.tzinfo === null ? [state] : [state, time.tzinfo], time)
  }

  /** A time zone Python shares by value: BINGET when an equal one was written, else `write()`. */
  private saveSharedZone(key: string, zone: object, write: () => void): void {
    const index = this.zoneMemo.get(key)
    if (index !== undefined) {
      this.memoGet(index)
      return
    }
    write()
    const written = this.memo.get(zone)
    if (written !== undefined) this.zoneMemo.set(key, written)
  }

  /**
   * `ZoneInfo.__reduce__`: `(ZoneInfo._unpickle, (key, from_cache))`, the bound classmethod being
   * pickled as `getattr(ZoneInfo, '_unpickle')` (its name a fresh str each time).
   */
  private saveZoneInfo(zone: PyZoneInfo): void {
    const write = () => {
      this.saveGlobal(GETATTR)
      this.save(new PyTuple([ZONEINFO, new FreshStr('_unpickle')]))
      this.op(REDUCE)
      this.memoPut() // the bound method: a new object each time, never fetched again
      this.save(new PyTuple([zone.key, zone.fromCache ? 1 : 0]))
      this.op(REDUCE)
      this.remember(zone)
    }
    // ZoneInfo.no_cache() makes a new object each time: shared only by identity.
    if (zone.fromCache) this.saveSharedZone(`zoneinfo\n${zone.key}`, zone, write)
    else write()
  }

  /** pytz's `__reduce__`: `pytz._UTC()`, `pytz._p(zone)` or `pytz._p(zone, utcoffset, dst, tzname)`. */
  private savePytz(zone: PytzTimezone): void {
    if (zone.isUtc) {
      this.saveSharedZone('pytz-utc', zone, () => this.saveReduce(PYTZ_UTC, [], zone))
      return
    }
    // The abbreviation of each state is a str of its own (read from the zone's file).
    const name = new ScopedStr(zone.zone, this.pytzNames)
    const args =
      zone.utcoffsetSeconds === null
        ? [name]
        : [name, zone.utcoffsetSeconds, zone.dstSeconds, new FreshStr(zone.tzname as string)]
    const key = `pytz\n${zone.zone}\n${zone.utcoffsetSeconds}\n${zone.dstSeconds}\n${zone.tzname}`
    this.saveSharedZone(key, zone, () => this.saveReduce(PYTZ_P, args, zone))
  }

  /**
   * A str subclass from protocol 2 on: `cls.__new__(cls, str(self))`, a fresh copy of the text
   * (but the empty str, which CPython never copies: its one empty str is shared).
   */
  private saveSafeString(text: PySafeString): void {
    const copy = text.valueOf()
    this.saveGlobal(SAFE_STRING)
    this.save(new PyTuple([copy === '' ? copy : new FreshStr(copy)]))
    this.op(NEWOBJ)
    this.remember(text)
  }

  /** An instance of an application's class: its handler's `write`, as `save_reduce` writes it. */
  private saveHandled(entry: ClassEntry, value: object): void {
    let out: PickledInstance
    try {
      out = (entry.handler.write as (value: unknown) => PickledInstance)(value)
    } catch (error) {
      throw new Error(
        `pickle: the handler of ${entry.module}.${entry.name} could not write a value: ${(error as Error)?.message ?? error}`,
        { cause: error },
      )
    }
    if (typeof out !== 'object' || out === null || !Array.isArray(out.args)) {
      fail(`the handler of ${entry.module}.${entry.name} must return { args: [...] } from write()`)
    }
    if (out.kind !== undefined && out.kind !== 'new' && out.kind !== 'reduce') {
      fail(`the handler of ${entry.module}.${entry.name} returned kind ${String(out.kind)}`)
    }
    this.saveGlobal(g(entry.module, entry.name, true))
    this.save(new PyTuple(out.args))
    this.op(out.kind === 'reduce' ? REDUCE : NEWOBJ)
    const index = this.lookup(value)
    if (index !== undefined) {
      this.op(POP)
      this.memoGet(index)
    } else {
      this.remember(value)
    }
    // As CPython: a state of None writes no BUILD.
    if (out.state !== undefined && out.state !== null) {
      this.save(out.state)
      this.op(BUILD)
    }
  }

  /** `object.__reduce_ex__`: NEWOBJ with no arguments, then BUILD with `UUID.__getstate__()`. */
  private saveUuid(uuid: PyUUID): void {
    this.saveGlobal(UUID)
    this.save(new PyTuple([]))
    this.op(NEWOBJ)
    this.remember(uuid)
    const state: Record<string, unknown> = { int: uuid.int }
    if (uuid.isSafe !== null) state.is_safe = uuid.isSafe
    this.save(state)
    this.op(BUILD)
  }
}

/** Pickles `value` with `protocol` (2–5), byte for byte as CPython 3.11's `pickle.dumps`. */
export function dumpPickle(
  value: unknown,
  protocol: number,
  classes: ClassTable | null = null,
): Buffer {
  return new Writer(protocol, classes).dump(value)
}
