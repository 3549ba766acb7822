// The pickle reader: a stack machine over protocols 0–5 that rebuilds plain data and a fixed
// allow-list of classes without running any code. Iterative (no recursion on nesting depth),
// bounded: every length is checked against the input before anything is allocated, the work
// done beyond one pass over the input (copies made by constructors) is metered, text opcodes
// are parsed by one-pass scanners within line caps, and nesting stops at MAX_READ_DEPTH.

import { SerializationError } from '@cachex/core'
import type { ClassEntry, ClassTable, PickleCallKind } from './_pickle-classes.ts'
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
  BINPERSID,
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
  EXT1,
  EXT2,
  EXT4,
  FLOAT,
  FRAME,
  FROZENSET,
  GET,
  GLOBAL,
  INST,
  INT,
  LIST,
  LONG,
  LONG_BINGET,
  LONG_BINPUT,
  LONG1,
  LONG4,
  MARK,
  MEMOIZE,
  NEWFALSE,
  NEWOBJ,
  NEWOBJ_EX,
  NEWTRUE,
  NEXT_BUFFER,
  NONE,
  OBJ,
  PERSID,
  POP,
  POP_MARK,
  PROTO,
  PUT,
  READONLY_BUFFER,
  REDUCE,
  SETITEM,
  SETITEMS,
  SHORT_BINBYTES,
  SHORT_BINSTRING,
  SHORT_BINUNICODE,
  STACK_GLOBAL,
  STOP,
  STRING,
  TUPLE,
  TUPLE1,
  TUPLE2,
  TUPLE3,
  UNICODE,
} from './_pickle-opcodes.ts'
import {
  initUuid,
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PySafeString,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PytzTimezone,
  PyUUID,
  PyZoneInfo,
  unpickledZone,
} from './py-values.ts'

const HIGHEST_PROTOCOL = 5
// Python 3.11 refuses to convert decimal text of more digits than this to an int (and V8's
// BigInt parsing and printing of decimal text is superlinear beyond it).
export const MAX_INT_DIGITS = 4300
/**
 * How deeply containers (lists, tuples, dicts, sets) may nest in a value read: the pickle
 * writer's own limit, so that every value read can be written back. CPython reads any depth, but
 * its pickler stops at its recursion limit (about 500 nested lists by default).
 */
export const MAX_READ_DEPTH = 2000
// The longest line each text opcode may have (the newline excluded). CPython has no caps; every
// pickle CPython writes fits these with room to spare: INT/LONG hold at most MAX_INT_DIGITS digits
// (Python's int() refuses more), a float's repr is at most 24 characters, a memo index at most
// 10 digits, and a GLOBAL names a module and a class of the allow-list. STRING and UNICODE lines
// are bounded by the input only (protocol 0 writes whole strings on one line): their decoding is
// one linear pass.
const MAX_INT_LINE = MAX_INT_DIGITS + 32
const MAX_FLOAT_LINE = 64
const MAX_INDEX_LINE = 64
const MAX_NAME_LINE = 256

/** The globals the reader rebuilds, in Python 3 spelling. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'datetime.datetime',
  'datetime.date',
  'datetime.time',
  'datetime.timedelta',
  'datetime.timezone',
  'decimal.Decimal',
  'uuid.UUID',
  'collections.OrderedDict',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytearray',
  'builtins.bytes',
  'builtins.object',
  '_codecs.encode',
  'codecs.encode',
  'copyreg._reconstructor',
  // Time zones as Django stores them: pytz.utc (Django 3.2's timezone.now()), pytz zones, and
  // zoneinfo zones (Django 4+), each read only in the exact shape its pickler writes.
  'pytz._UTC',
  'pytz._p',
  'zoneinfo.ZoneInfo',
  // Django's text marked safe for HTML (format_html, mark_safe, {% cache %} fragments).
  'django.utils.safestring.SafeString',
  'django.utils.safestring.SafeText',
])

/**
 * The globals the reader handles itself, which an application's class table cannot replace:
 * the allow-list, and `builtins.getattr`, which it reads only as `getattr(zoneinfo.ZoneInfo,
 * '_unpickle')` (how CPython pickles a zoneinfo zone) and never gives out as a value.
 */
export const RESERVED_GLOBALS: ReadonlySet<string> = new Set([
  ...ALLOWED_GLOBALS,
  'builtins.getattr',
])

/**
 * A callable that the reader knows but never gives out as a value: `builtins.getattr` and the
 * `ZoneInfo._unpickle` it returns. Either left anywhere but in the callable position of a REDUCE
 * (in a container, as the value read) is refused.
 */
class Internal {
  constructor(readonly what: string) {}
}

const GETATTR = new Internal('builtins.getattr')
const ZONEINFO_UNPICKLE = new Internal('zoneinfo.ZoneInfo._unpickle')

// Python 2 module names, as Python 3's unpickler maps them (fix_imports).
const PY2_MODULES: Readonly<Record<string, string>> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
}

function fail(message: string): never {
  throw new SerializationError(`pickle: ${message}`)
}

/** At most `max` characters of `text` for an error message, with an ellipsis when cut. */
function clip(text: string, max = 40): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`
}

/** The error for a global off the allow-list: what it is, and the two ways forward. */
function refuseGlobal(global: string): never {
  return fail(
    `refusing to load global ${global}: the pickle reader never runs code and rebuilds only known ` +
      "classes (datetime, Decimal, UUID, Django's SafeString, pytz and zoneinfo zones…). Store " +
      'plain data (dicts, lists, str, numbers) from Python instead, or read this global with a ' +
      'handler of your own (pickleSerializer({ classes }), createCache({ pickleClasses })): see ' +
      'docs/sharing-with-django.md',
  )
}

function isPlainDict(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

// A string key that a JS object orders before the others (an array index).
function isIndexKey(key: string): boolean {
  const c = key.charCodeAt(0)
  if (!(c >= 0x30 && c <= 0x39)) return false
  if (key.length > 10 || (c === 0x30 && key.length > 1)) return false
  for (let i = 1; i < key.length; i++) {
    const d = key.charCodeAt(i)
    if (d < 0x30 || d > 0x39) return false
  }
  return Number(key) < 4294967295
}

/** Whether `value` is a container the reader builds: a list or tuple, a dict, a set. */
function isContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false
  return Array.isArray(value) || value instanceof Map || value instanceof Set || isPlainDict(value)
}

/** The values a container holds (a Map's keys and values both). */
function childrenOf(node: object): readonly unknown[] {
  if (Array.isArray(node)) return node
  if (node instanceof Set) return [...node]
  if (node instanceof Map) {
    const out: unknown[] = []
    for (const [key, value] of node) out.push(key, value)
    return out
  }
  return Object.values(node)
}

/**
 * The key already in `keys` that Python would find equal to `key`: `True == 1` and `False == 0`
 * (ints and floats are both JS numbers already, so `1 == 1.0` holds by itself).
 */
function pyEqualKey(keys: { has(value: unknown): boolean }, key: unknown): unknown {
  if (typeof key === 'boolean') {
    const n = key ? 1 : 0
    return keys.has(n) ? n : key
  }
  if (key === 0 || key === 1) {
    const b = key === 1
    return keys.has(b) ? b : key
  }
  return key
}

/** `set.add(item)` with Python's equality: an item equal to one already there is dropped. */
function addPy(set: Set<unknown>, item: unknown): void {
  set.add(pyEqualKey(set, item))
}

/** `dict[key] = value` with Python's equality: an equal key keeps its first form. */
function setPy(map: Map<unknown, unknown>, key: unknown, value: unknown): void {
  map.set(pyEqualKey(map, key), value)
}

// ---------------------------------------------------------------------------------------------
// Text decoding.

/** Strict UTF-8 with Python's `surrogatepass`: lone surrogates (ED A0..BF xx) are allowed. */
function decodeUtf8Strict(bytes: Uint8Array, start: number, end: number): string {
  const parts: string[] = []
  let units: number[] = []
  let i = start
  while (i < end) {
    const b0 = bytes[i] as number
    let cp: number
    if (b0 < 0x80) {
      cp = b0
      i += 1
    } else {
      let need: number
      let lo = 0x80
      let hi = 0xbf
      if (b0 >= 0xc2 && b0 <= 0xdf) {
        need = 1
        cp = b0 & 0x1f
      } else if (b0 >= 0xe0 && b0 <= 0xef) {
        need = 2
        cp = b0 & 0x0f
        if (b0 === 0xe0) lo = 0xa0
      } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        need = 3
        cp = b0 & 0x07
        if (b0 === 0xf0) lo = 0x90
        if (b0 === 0xf4) hi = 0x8f
      } else {
        fail(`invalid UTF-8 start byte 0x${b0.toString(16)} in a str`)
      }
      for (let k = 1; k <= need; k++) {
        const b = i + k < end ? (bytes[i + k] as number) : -1
        const min = k === 1 ? lo : 0x80
        const max = k === 1 ? hi : 0xbf
        if (b < min || b > max) fail('invalid UTF-8 continuation in a str')
        cp = (cp << 6) | (b & 0x3f)
      }
      i += need + 1
    }
    if (cp >= 0x10000) {
      cp -= 0x10000
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff))
    } else {
      units.push(cp)
    }
    if (units.length >= 8192) {
      parts.push(String.fromCharCode(...units))
      units = []
    }
  }
  parts.push(String.fromCharCode(...units))
  return parts.join('')
}

/** Python's `bytes.decode('utf-8', 'surrogatepass')`: throws on malformed UTF-8. */
export function decodeUtf8(bytes: Buffer, start: number, end: number): string {
  const text = bytes.toString('utf8', start, end)
  // U+FFFD appears when the input was malformed (or really contains U+FFFD): check strictly.
  if (text.indexOf('\uFFFD') === -1) return text
  return decodeUtf8Strict(bytes, start, end)
}

/** Whether `text` holds a surrogate that is not half of a pair (UTF-8 cannot encode it). */
function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    if (c > 0xdbff) return true // a low surrogate with no high one before it
    const next = text.charCodeAt(i + 1)
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true
    i++ // a pair
  }
  return false
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30
  if (c >= 0x61 && c <= 0x66) return c - 0x57
  if (c >= 0x41 && c <= 0x46) return c - 0x37
  return -1
}

/**
 * Python's `raw_unicode_escape` decoding (protocol 0's UNICODE opcode): `\uXXXX` and `\UXXXXXXXX`
 * after an odd run of backslashes are escapes, every other byte is its latin-1 character. One
 * pass; the output never has more UTF-16 units than the input has bytes.
 */
function decodeRawUnicodeEscape(bytes: Buffer, start: number, end: number): string {
  const first = bytes.indexOf(0x5c, start)
  if (first === -1 || first >= end) return bytes.toString('latin1', start, end)
  const units = new Uint16Array(end - start)
  let n = 0
  let i = start
  while (i < end) {
    const c = bytes[i] as number
    if (c !== 0x5c) {
      units[n++] = c
      i++
      continue
    }
    const run = i
    while (i < end && bytes[i] === 0x5c) {
      units[n++] = 0x5c
      i++
    }
    const u = i < end ? (bytes[i] as number) : -1
    if ((i - run) % 2 === 0 || (u !== 0x75 && u !== 0x55)) continue
    n-- // the escape's own backslash
    const digits = u === 0x75 ? 4 : 8
    if (i + digits >= end) fail('truncated \\uXXXX escape in a UNICODE opcode')
    let cp = 0
    for (let k = 1; k <= digits; k++) {
      const h = hexValue(bytes[i + k] as number)
      if (h < 0) fail('truncated \\uXXXX escape in a UNICODE opcode')
      cp = cp * 16 + h
    }
    if (cp > 0x10ffff) fail('\\Uxxxxxxxx out of range in a UNICODE opcode')
    if (cp >= 0x10000) {
      cp -= 0x10000
      units[n++] = 0xd800 + (cp >> 10)
      units[n++] = 0xdc00 + (cp & 0x3ff)
    } else {
      units[n++] = cp
    }
    i += digits + 1
  }
  return unitsToString(units, n)
}

/** The string of `units[0..n)`, in chunks (an argument list has a size limit). */
function unitsToString(units: Uint16Array, n: number): string {
  const CHUNK = 8192
  if (n <= CHUNK)
    return String.fromCharCode.apply(null, units.subarray(0, n) as unknown as number[])
  const parts: string[] = []
  for (let k = 0; k < n; k += CHUNK) {
    const chunk = units.subarray(k, Math.min(n, k + CHUNK))
    parts.push(String.fromCharCode.apply(null, chunk as unknown as number[]))
  }
  return parts.join('')
}

function isOctalDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x37
}

/**
 * Python's bytes-literal escapes (`PyBytes_DecodeEscape`, protocol 0's STRING opcode) of
 * `bytes[start..end)`, giving latin-1 text. One pass; the output is never longer than the input.
 */
function decodeEscapedString(bytes: Buffer, start: number, end: number): string {
  const first = bytes.indexOf(0x5c, start)
  if (first === -1 || first >= end) return bytes.toString('latin1', start, end)
  const out = Buffer.allocUnsafe(end - start)
  let n = 0
  let i = start
  while (i < end) {
    const c = bytes[i++] as number
    if (c !== 0x5c) {
      out[n++] = c
      continue
    }
    if (i >= end) fail('trailing \\ in a STRING opcode')
    const e = bytes[i++] as number
    switch (e) {
      case 0x5c: // \\ \' \"
      case 0x27:
      case 0x22:
        out[n++] = e
        break
      case 0x6e: // \n
        out[n++] = 0x0a
        break
      case 0x72: // \r
        out[n++] = 0x0d
        break
      case 0x74: // \t
        out[n++] = 0x09
        break
      case 0x61: // \a
        out[n++] = 0x07
        break
      case 0x62: // \b
        out[n++] = 0x08
        break
      case 0x66: // \f
        out[n++] = 0x0c
        break
      case 0x76: // \v
        out[n++] = 0x0b
        break
      case 0x0a: // an escaped newline is dropped
        break
      case 0x78: {
        // \xHH: exactly two hex digits
        const h1 = i < end ? hexValue(bytes[i] as number) : -1
        const h2 = i + 1 < end ? hexValue(bytes[i + 1] as number) : -1
        if (h1 < 0 || h2 < 0) fail('invalid \\x escape in a STRING opcode')
        out[n++] = h1 * 16 + h2
        i += 2
        break
      }
      default:
        if (isOctalDigit(e)) {
          // \O, \OO or \OOO, truncated to a byte as C does.
          let value = e - 0x30
          for (let k = 0; k < 2 && i < end && isOctalDigit(bytes[i] as number); k++) {
            value = value * 8 + (bytes[i++] as number) - 0x30
          }
          out[n++] = value & 0xff
        } else {
          // Not an escape: the backslash and the character stay.
          out[n++] = 0x5c
          out[n++] = e
        }
    }
  }
  return out.toString('latin1', 0, n)
}

// ---------------------------------------------------------------------------------------------
// Numbers. Hand-written scanners, one pass each: a regex over attacker-chosen text can backtrack.

function toIntValue(value: bigint): number | bigint {
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value
}

/** ASCII whitespace, as C's isspace() and Python's int() skip: space, \t \n \v \f \r. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function isBinaryDigit(c: number): boolean {
  return c === 0x30 || c === 0x31
}

function isHexDigit(c: number): boolean {
  return hexValue(c) >= 0
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * Parses the text of protocol 0's INT and LONG opcodes as CPython does. INT first tries C's
 * `strtol(text, 0)` (a leading 0 means octal; it must fit 64 bits and end the line), and
 * otherwise — as LONG always does — Python's `int(text, 0)` (leading zeros refused).
 * `viaStrtol` tells which one read it: only `strtol`'s "00"/"01" are the booleans.
 *
 * Accepted: ASCII whitespace, a sign, then `0x…`, `0o…`, `0b…`, `0[0-7]*` or `[1-9][0-9]*`, then
 * ASCII whitespace; at most MAX_INT_DIGITS characters of number.
 */
function parseIntText(
  text: string,
  opcode: string,
  tryStrtol: boolean,
): { value: number | bigint; viaStrtol: boolean } {
  const invalid = (): never => fail(`invalid ${opcode} literal ${JSON.stringify(clip(text))}`)
  const n = text.length
  let i = 0
  while (i < n && isSpace(text.charCodeAt(i))) i++
  let negative = false
  let c = text.charCodeAt(i)
  if (c === 0x2b || c === 0x2d) {
    negative = c === 0x2d
    i++
  }
  const bodyStart = i
  c = text.charCodeAt(i)
  let prefix = 0 // 'x', 'o' or 'b' (lower case) after a leading 0
  if (c === 0x30) {
    const p = text.charCodeAt(i + 1) | 0x20
    const isRadixDigit =
      p === 0x78 ? isHexDigit : p === 0x6f ? isOctalDigit : p === 0x62 ? isBinaryDigit : null
    if (isRadixDigit !== null) {
      i += 2
      const from = i
      while (i < n && isRadixDigit(text.charCodeAt(i))) i++
      if (i === from) invalid()
      prefix = p
    } else {
      i++
      while (i < n && isOctalDigit(text.charCodeAt(i))) i++
    }
  } else if (c >= 0x31 && c <= 0x39) {
    i++
    while (i < n && isDigit(text.charCodeAt(i))) i++
  } else {
    invalid()
  }
  const bodyEnd = i
  while (i < n && isSpace(text.charCodeAt(i))) i++
  if (i !== n) invalid()
  const body = text.slice(bodyStart, bodyEnd)
  if (body.length > MAX_INT_DIGITS) fail(`${opcode} literal longer than ${MAX_INT_DIGITS} digits`)
  // "0" followed by octal digits: strtol's octal, a syntax error for int().
  const leadingZero = prefix === 0 && body.length > 1 && body.charCodeAt(0) === 0x30
  if (tryStrtol && bodyEnd === n && prefix !== 0x6f && prefix !== 0x62) {
    let value = BigInt(leadingZero ? `0o${body.slice(1)}` : body)
    if (negative) value = -value
    if (value >= INT64_MIN && value <= INT64_MAX)
      return { value: toIntValue(value), viaStrtol: true }
  }
  if (leadingZero) {
    for (let k = 1; k < body.length; k++) {
      if (body.charCodeAt(k) !== 0x30) fail(`invalid ${opcode} literal with leading zeros`)
    }
  }
  let value = BigInt(leadingZero ? '0' : body)
  if (negative) value = -value
  return { value: toIntValue(value), viaStrtol: false }
}

/** A memo index of protocol 0's GET and PUT: decimal, with ASCII whitespace around it. */
function parseIndex(text: string, opcode: string): number {
  const n = text.length
  let i = 0
  while (i < n && isSpace(text.charCodeAt(i))) i++
  const from = i
  while (i < n && isDigit(text.charCodeAt(i))) i++
  const digits = i - from
  while (i < n && isSpace(text.charCodeAt(i))) i++
  if (digits === 0 || digits > 15 || i !== n) {
    fail(`invalid ${opcode} index ${JSON.stringify(clip(text))}`)
  }
  return Number(text)
}

/**
 * PyOS_string_to_double, as protocol 0's FLOAT opcode reads its text: no surrounding whitespace;
 * `[+-]` then digits with an optional point (at least one digit) and an optional exponent, or
 * `inf`, `infinity`, `nan` in any case. Out of range is an error, as in CPython.
 */
function parseFloatText(text: string): number {
  const invalid = (): never => fail(`invalid FLOAT literal ${JSON.stringify(clip(text))}`)
  const n = text.length
  let i = 0
  const sign = text.charCodeAt(0)
  if (sign === 0x2b || sign === 0x2d) i = 1
  const letter = text.charCodeAt(i) | 0x20
  if (letter === 0x69 || letter === 0x6e) {
    const word = text.slice(i).toLowerCase()
    if (word === 'inf' || word === 'infinity') return sign === 0x2d ? -Infinity : Infinity
    if (word === 'nan') return Number.NaN
    invalid()
  }
  const intStart = i
  while (i < n && isDigit(text.charCodeAt(i))) i++
  let digits = i - intStart
  if (text.charCodeAt(i) === 0x2e) {
    i++
    const fracStart = i
    while (i < n && isDigit(text.charCodeAt(i))) i++
    digits += i - fracStart
  }
  if (digits === 0) invalid()
  if ((text.charCodeAt(i) | 0x20) === 0x65) {
    i++
    const s = text.charCodeAt(i)
    if (s === 0x2b || s === 0x2d) i++
    const expStart = i
    while (i < n && isDigit(text.charCodeAt(i))) i++
    if (i === expStart) invalid()
  }
  if (i !== n) invalid()
  const value = Number(text)
  if (!Number.isFinite(value)) fail(`FLOAT literal out of range ${JSON.stringify(clip(text))}`)
  return value
}

/** Little-endian two's-complement bytes (LONG1/LONG4) to an int. */
function decodeLong(bytes: Uint8Array, start: number, n: number): number | bigint {
  if (n === 0) return 0
  if (n <= 6) {
    let value = 0
    for (let i = n - 1; i >= 0; i--) value = value * 256 + (bytes[start + i] as number)
    if ((bytes[start + n - 1] as number) & 0x80) value -= 2 ** (8 * n)
    return value
  }
  // Big-endian hex (native copy, reverse and encoding), which BigInt parses in linear time.
  const hex = Buffer.from(bytes.subarray(start, start + n))
    .reverse()
    .toString('hex')
  let value = BigInt(`0x${hex}`)
  if ((bytes[start + n - 1] as number) & 0x80) value -= 1n << BigInt(8 * n)
  return toIntValue(value)
}

function asInteger(value: unknown, what: string): number {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  return fail(`${what} must be an int, got ${describe(value)}`)
}

function describe(value: unknown): string {
  if (value === null) return 'None'
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float'
  if (typeof value === 'bigint') return 'int'
  if (typeof value === 'string') return 'str'
  if (typeof value === 'boolean') return 'bool'
  if (Array.isArray(value)) return 'a list or tuple'
  if (Buffer.isBuffer(value)) return 'bytes'
  if (value instanceof PyGlobal) return `global ${value.module}.${value.name}`
  if (value instanceof Internal) return value.what
  if (value instanceof Map || isPlainDict(value)) return 'a dict'
  if (value instanceof Set) return 'a set'
  if (typeof value === 'object') {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name
    return typeof name === 'string' ? name : 'an object'
  }
  return typeof value
}

// ---------------------------------------------------------------------------------------------
// Rebuilding allow-listed classes.

/** Bytes of a pickled state: `bytes`, or a str of latin-1 characters (Python 2 pickles). */
function stateBytes(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return null
    return Buffer.from(value, 'latin1')
  }
  return null
}

function asTzinfo(value: unknown): PyTimezone | PyZoneInfo | PytzTimezone | null {
  if (value === undefined || value === null) return null
  if (value instanceof PyTimezone || value instanceof PyZoneInfo || value instanceof PytzTimezone) {
    return value
  }
  return fail(
    `tzinfo must be None, a datetime.timezone, a zoneinfo.ZoneInfo or a pytz zone, got ${describe(value)}`,
  )
}

function makeDatetime(args: unknown[]): PyDateTime {
  const state = args.length >= 1 && args.length <= 2 ? stateBytes(args[0]) : null
  if (state !== null && state.length === 10 && ((state[2] as number) & 0x7f) >= 1) {
    const [yh = 0, yl = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, u1 = 0, u2 = 0, u3 = 0] = state
    const tz = asTzinfo(args[1])
    const fold = mo & 0x80 ? 1 : 0
    return new PyDateTime(
      yh * 256 + yl,
      mo & 0x7f,
      d,
      h,
      mi,
      sec,
      (u1 << 16) | (u2 << 8) | u3,
      tz,
      fold,
    )
  }
  if (args.length < 3 || args.length > 8) fail('datetime.datetime() takes 3 to 8 arguments')
  const n = (i: number, name: string) => (args.length > i ? asInteger(args[i], name) : 0)
  return new PyDateTime(
    n(0, 'year'),
    n(1, 'month'),
    n(2, 'day'),
    n(3, 'hour'),
    n(4, 'minute'),
    n(5, 'second'),
    n(6, 'microsecond'),
    asTzinfo(args[7]),
  )
}

function makeDate(args: unknown[]): PyDate {
  const state = args.length === 1 ? stateBytes(args[0]) : null
  if (state !== null && state.length === 4) {
    const [yh = 0, yl = 0, mo = 0, d = 0] = state
    return new PyDate(yh * 256 + yl, mo, d)
  }
  if (args.length !== 3) fail('datetime.date() takes 3 arguments')
  return new PyDate(
    asInteger(args[0], 'year'),
    asInteger(args[1], 'month'),
    asInteger(args[2], 'day'),
  )
}

function makeTime(args: unknown[]): PyTime {
  const state = args.length >= 1 && args.length <= 2 ? stateBytes(args[0]) : null
  if (state !== null && state.length === 6 && ((state[0] as number) & 0x7f) < 24) {
    const [h = 0, mi = 0, sec = 0, u1 = 0, u2 = 0, u3 = 0] = state
    const fold = h & 0x80 ? 1 : 0
    return new PyTime(h & 0x7f, mi, sec, (u1 << 16) | (u2 << 8) | u3, asTzinfo(args[1]), fold)
  }
  if (args.length > 5) fail('datetime.time() takes at most 5 arguments')
  const n = (i: number, name: string) => (args.length > i ? asInteger(args[i], name) : 0)
  return new PyTime(
    n(0, 'hour'),
    n(1, 'minute'),
    n(2, 'second'),
    n(3, 'microsecond'),
    asTzinfo(args[4]),
  )
}

function makeTimedelta(args: unknown[]): PyTimeDelta {
  if (args.length > 3) fail('datetime.timedelta() takes at most 3 positional arguments')
  const n = (i: number, name: string) => (args.length > i ? asInteger(args[i], name) : 0)
  return new PyTimeDelta(n(0, 'days'), n(1, 'seconds'), n(2, 'microseconds'))
}

function makeTimezone(args: unknown[]): PyTimezone {
  if (args.length < 1 || args.length > 2) fail('datetime.timezone() takes 1 or 2 arguments')
  const offset = args[0]
  if (!(offset instanceof PyTimeDelta)) fail('datetime.timezone() offset must be a timedelta')
  const name = args[1]
  if (name !== undefined && typeof name !== 'string') fail('datetime.timezone() name must be a str')
  if (name === undefined && offset.totalMicroseconds() === 0n) return PyTimezone.utc
  return new PyTimezone(offset, name ?? null)
}

const MAX_INT_DECIMAL = 10n ** BigInt(MAX_INT_DIGITS)

function makeDecimal(args: unknown[]): PyDecimal {
  if (args.length > 1) fail('decimal.Decimal() takes at most 1 argument here')
  const value = args.length === 0 ? '0' : args[0]
  if (typeof value === 'string') return new PyDecimal(value)
  if (typeof value === 'number' && Number.isInteger(value)) return new PyDecimal(String(value))
  if (typeof value === 'bigint') {
    // Printing a bigint in decimal is superlinear (a 1 MB LONG4 takes a second): Python's limit.
    if (value >= MAX_INT_DECIMAL || value <= -MAX_INT_DECIMAL) {
      fail(`decimal.Decimal() of an int of more than ${MAX_INT_DIGITS} digits`)
    }
    return new PyDecimal(String(value))
  }
  return fail(`decimal.Decimal() argument must be a str or an int, got ${describe(value)}`)
}

function uuidFromState(state: unknown): { int: bigint; isSafe: number | null } {
  // A dict, or (dict, slots) as object.__reduce_ex__ writes for classes with __slots__.
  let merged: Record<string, unknown> = {}
  const parts = Array.isArray(state) && state.length === 2 ? state : [state]
  for (const part of parts) {
    if (part === null) continue
    if (!isPlainDict(part)) fail(`uuid.UUID state must be a dict, got ${describe(part)}`)
    merged = { ...merged, ...part }
  }
  const raw = merged.int
  let value: bigint
  if (typeof raw === 'bigint') value = raw
  else if (typeof raw === 'number' && Number.isSafeInteger(raw)) value = BigInt(raw)
  else return fail('uuid.UUID state has no int')
  if (value < 0n || value >= 1n << 128n) fail('uuid.UUID int out of range')
  const safe = Object.hasOwn(merged, 'is_safe') ? merged.is_safe : null
  if (safe !== null && safe !== 0 && safe !== -1) fail('uuid.UUID is_safe must be 0, -1 or None')
  return { int: value, isSafe: safe }
}

function describeArgument(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(clip(value)) : describe(value)
}

/** `getattr(target, attribute)`: only `getattr(zoneinfo.ZoneInfo, '_unpickle')`. */
function callGetattr(args: unknown[]): Internal {
  const [target, attribute] = args
  if (
    args.length === 2 &&
    target instanceof PyGlobal &&
    target.module === 'zoneinfo' &&
    target.name === 'ZoneInfo' &&
    attribute === '_unpickle'
  ) {
    return ZONEINFO_UNPICKLE
  }
  const shown = args.map(describeArgument).join(', ')
  return fail(
    `refusing builtins.getattr(${clip(shown, 200)}): getattr is read only as ` +
      "getattr(zoneinfo.ZoneInfo, '_unpickle'), the way CPython pickles a zoneinfo time zone",
  )
}

/** `ZoneInfo._unpickle(key, from_cache)`: the zone `ZoneInfo(key)` or `ZoneInfo.no_cache(key)`. */
function makeZoneInfo(args: unknown[]): PyZoneInfo {
  const [key, fromCache] = args
  if (args.length !== 2 || typeof key !== 'string' || (fromCache !== 0 && fromCache !== 1)) {
    fail('zoneinfo.ZoneInfo._unpickle() takes (key: str, from_cache: 0 or 1)')
  }
  return unpickledZone('zoneinfo', key, fromCache === 1)
}

/**
 * `pytz._p(zone)` (a zone with one fixed offset, or UTC) and `pytz._p(zone, utcoffset, dst,
 * tzname)` (one state of a zone with daylight saving time), the two forms pytz pickles.
 */
function makePytz(args: unknown[]): PytzTimezone {
  const [zone, utcoffset, dst, tzname] = args
  if (args.length === 1 && typeof zone === 'string') return unpickledZone('pytz', zone)
  if (
    args.length === 4 &&
    typeof zone === 'string' &&
    Number.isSafeInteger(utcoffset) &&
    Number.isSafeInteger(dst) &&
    typeof tzname === 'string'
  ) {
    return unpickledZone('pytz', zone, {
      utcoffsetSeconds: utcoffset as number,
      dstSeconds: dst as number,
      tzname,
    })
  }
  const shown = args.map(describeArgument).join(', ')
  return fail(
    `pytz._p() takes (zone: str) or (zone: str, utcoffset: int, dst: int, tzname: str), got (${clip(shown, 200)})`,
  )
}

// ---------------------------------------------------------------------------------------------
// Nesting depth of a finished value.

function tooDeep(): never {
  return fail(`value nested more than ${MAX_READ_DEPTH} levels deep`)
}

/**
 * Throws when a value without shared containers (a tree: each container once, no cycle) nests
 * more than MAX_READ_DEPTH deep. Iterative, each container visited once: should more than the
 * `containers` made turn up, the value is not a tree after all and the general check takes over.
 */
function treeDepthCheck(root: object, containers: number): void {
  // Pairs of (object, its depth); leaves are pushed too and skipped when popped, which is
  // cheaper than telling them apart before.
  const stack: unknown[] = [root, 1]
  let visits = 0
  while (stack.length > 0) {
    const depth = stack.pop() as number
    const node = stack.pop() as object
    let dict = false
    if (!Array.isArray(node)) {
      const proto = Object.getPrototypeOf(node)
      dict = proto === Object.prototype || proto === null
      if (!dict && proto !== Map.prototype && proto !== Set.prototype) continue // a leaf
    }
    if (depth > MAX_READ_DEPTH) tooDeep()
    if (++visits > containers) {
      longestChainCheck(root)
      return
    }
    const next = depth + 1
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const item = node[i]
        if (typeof item === 'object' && item !== null) stack.push(item, next)
      }
    } else if (dict) {
      const object = node as Record<string, unknown>
      for (const key in object) {
        const item = object[key]
        if (typeof item === 'object' && item !== null) stack.push(item, next)
      }
    } else {
      for (const item of childrenOf(node)) {
        if (typeof item === 'object' && item !== null) stack.push(item, next)
      }
    }
  }
}

/**
 * Throws when the longest chain of containers in `root`, each inside the one before, is longer
 * than MAX_READ_DEPTH: a shared container counts on every chain it is on (as a recursive walk
 * of the value meets it), and the reference that closes a cycle ends a chain. Iterative, each
 * container once, with its height remembered.
 */
function longestChainCheck(root: object): void {
  const heights = new Map<object, number>() // 0 while the container is on the current chain
  const path: object[] = []
  const items: (readonly unknown[])[] = []
  const next: number[] = []
  const best: number[] = []
  const enter = (node: object) => {
    if (path.length >= MAX_READ_DEPTH) tooDeep()
    heights.set(node, 0)
    path.push(node)
    items.push(childrenOf(node))
    next.push(0)
    best.push(0)
  }
  enter(root)
  while (path.length > 0) {
    const top = path.length - 1
    const list = items[top] as readonly unknown[]
    const i = next[top] as number
    if (i < list.length) {
      next[top] = i + 1
      const child = list[i]
      if (!isContainer(child)) continue
      const height = heights.get(child)
      if (height === undefined) enter(child)
      else if (height > (best[top] as number)) best[top] = height
      continue
    }
    const height = (best[top] as number) + 1
    if (height > MAX_READ_DEPTH) tooDeep()
    heights.set(path[top] as object, height)
    path.pop()
    items.pop()
    next.pop()
    best.pop()
    if (top > 0 && height > (best[top - 1] as number)) best[top - 1] = height
  }
}

// ---------------------------------------------------------------------------------------------
// The machine.

class Reader {
  private readonly data: Buffer
  private pos = 0
  private readonly stack: unknown[] = []
  private readonly marks: number[] = []
  private fence = 0
  // The memo: an array, and a Map for indices far beyond it (PUT takes any index). No stored
  // value is ever `undefined`, so `undefined` means "not set".
  private readonly memo: unknown[] = []
  private memoFar: Map<number, unknown> | null = null
  private memoCount = 0
  // Dicts that started as plain objects and became Maps when a non-str key arrived.
  private converted: Map<object, Map<unknown, unknown>> | null = null
  // Insertion order of plain-object dicts that have array-index keys (JS objects reorder those).
  private indexKeyOrder: Map<object, string[]> | null = null
  // UUIDs made by __new__ that still wait for their state.
  private pendingUuids: Set<PyUUID> | null = null
  // What JS values cannot tell apart: which arrays are tuples (lists are the others), which
  // Sets are frozensets, which Buffers are bytearrays. Python refuses to append to a tuple, to
  // call with a list of arguments, or to hash a list, dict, set or bytearray (a dict key or set
  // item); so does this reader.
  private readonly tuples = new Set<unknown[]>()
  private readonly frozensets = new Set<Set<unknown>>()
  private readonly bytearrays = new Set<Buffer>()
  private readonly hashableTuples = new Set<unknown[]>()
  // Work beyond reading the input: items copied by constructors, dict conversions, fix-ups.
  private budget: number
  // How many containers (lists, tuples, dicts, sets) were made: no value nests deeper. And
  // whether a container was taken again from the memo or by DUP (containers may then be shared
  // and hold cycles).
  private containers = 0
  private shared = false
  // The application's classes (pickleSerializer's `classes`), and the values their handlers
  // made (a BUILD on one goes to its handler's setState).
  private readonly classes: ClassTable | null
  private handled: Map<object, ClassEntry> | null = null
  // Whether builtins.getattr was loaded: the value read must then be checked for leftovers.
  private internals = false

  constructor(data: Buffer, classes: ClassTable | null) {
    this.data = data
    this.classes = classes
    this.budget = 16 * data.length + 1_000_000
  }

  /** Resolves a global by name: the allow-list, getattr, the application's classes. */
  private global(module: string, name: string): PyGlobal | Internal {
    const mod = Object.hasOwn(PY2_MODULES, module) ? (PY2_MODULES[module] as string) : module
    const key = `${mod}.${name}`
    if (ALLOWED_GLOBALS.has(key) || this.classes?.byGlobal.has(`${mod}\n${name}`) === true) {
      return new PyGlobal(mod, name)
    }
    if (key === 'builtins.getattr') {
      this.internals = true
      return GETATTR
    }
    return refuseGlobal(`${clip(mod, 100)}.${clip(name, 100)}`)
  }

  /** Throws when `root` holds getattr, or what it returned, anywhere but where it was called. */
  private checkNoInternals(root: unknown): void {
    const seen = new Set<object>()
    const todo: unknown[] = [root]
    while (todo.length > 0) {
      const value = todo.pop()
      if (value instanceof Internal) {
        fail(`${value.what} is read only as the callable of the call that creates a time zone`)
      }
      if (!isContainer(value) || seen.has(value)) continue
      seen.add(value)
      const children = childrenOf(value)
      this.charge(children.length)
      for (const child of children) todo.push(child)
    }
  }

  /** Calls an application's handler on what the pickle holds; its errors keep their cause. */
  private callHandler(entry: ClassEntry, args: unknown[], kind: PickleCallKind): unknown {
    if (this.internals) this.checkNoInternals(args)
    this.fixConverted(args)
    let value: unknown
    try {
      value = entry.handler.read(args, kind)
    } catch (error) {
      throw new SerializationError(
        `pickle: the handler of ${entry.module}.${entry.name} refused the pickled arguments: ${(error as Error)?.message ?? error}`,
        { cause: error },
      )
    }
    if (typeof value === 'object' && value !== null) {
      this.handled ??= new Map()
      this.handled.set(value, entry)
    }
    return value
  }

  private tuple(items: unknown[]): unknown[] {
    this.tuples.add(items)
    this.containers++
    return items
  }

  /** A value taken again from the memo or by DUP: containers may now be shared. */
  private reuse(value: unknown): unknown {
    if (!this.shared && isContainer(value)) this.shared = true
    return value
  }

  /** Throws unless `value` can be a dict key or a set item in Python. */
  private checkHashable(value: unknown): void {
    if (typeof value !== 'object' || value === null) return
    const todo: unknown[] = [value]
    while (todo.length > 0) {
      const v = todo.pop()
      if (typeof v !== 'object' || v === null) continue
      let kind: string | null = null
      if (Array.isArray(v)) {
        if (!this.tuples.has(v)) kind = 'list'
        else if (!this.hashableTuples.has(v)) {
          this.charge(v.length)
          this.hashableTuples.add(v) // (the check fails as a whole if an item is unhashable)
          for (const item of v) todo.push(item)
        }
      } else if (v instanceof Set) {
        if (!this.frozensets.has(v)) kind = 'set'
      } else if (Buffer.isBuffer(v)) {
        if (this.bytearrays.has(v)) kind = 'bytearray'
      } else if (v instanceof Map || isPlainDict(v)) {
        kind = 'dict'
      }
      if (kind !== null) fail(`unhashable type: '${kind}' (as a dict key or set item)`)
    }
  }

  private checkHashables(items: readonly unknown[], from: number, to: number, step: 1 | 2): void {
    for (let i = from; i < to; i += step) {
      const item = items[i]
      if (typeof item === 'object' && item !== null) this.checkHashable(item)
    }
  }

  private charge(units: number): void {
    this.budget -= units
    if (this.budget < 0) fail('too much work for the size of the input (a pickle bomb?)')
  }

  // --- input --------------------------------------------------------------------------------

  private need(n: number): number {
    const start = this.pos
    if (n > this.data.length - start) fail('pickle data was truncated')
    this.pos = start + n
    return start
  }

  /**
   * The end (the newline's index) of the line starting at `pos`, which must come within `max`
   * bytes: the scan stops there, so a missing newline costs at most `max` steps.
   */
  private lineEnd(max: number, opcode: string): number {
    const data = this.data
    const stop = Math.min(data.length, this.pos + max + 1)
    for (let i = this.pos; i < stop; i++) if (data[i] === 0x0a) return i
    if (stop === data.length) fail('pickle data was truncated (no newline)')
    return fail(`${opcode} line longer than ${max} bytes`)
  }

  /** A text opcode's argument line (latin-1), at most `max` bytes long. */
  private readLine(max: number, opcode: string): string {
    const end = this.lineEnd(max, opcode)
    const text = this.data.toString('latin1', this.pos, end)
    this.pos = end + 1
    return text
  }

  /** A GLOBAL's module or name line (UTF-8), at most `max` bytes long. */
  private readUtf8Line(max: number, opcode: string): string {
    const end = this.lineEnd(max, opcode)
    const text = decodeUtf8(this.data, this.pos, end)
    this.pos = end + 1
    return text
  }

  /** The end of a STRING or UNICODE line: as long as the input allows (one native scan). */
  private longLineEnd(): number {
    const end = this.data.indexOf(0x0a, this.pos)
    if (end === -1) fail('pickle data was truncated (no newline)')
    return end
  }

  private readSize(width: 1 | 4 | 8): number {
    const at = this.need(width)
    if (width === 1) return this.data[at] as number
    if (width === 4) return this.data.readUInt32LE(at)
    const lo = this.data.readUInt32LE(at)
    const hi = this.data.readUInt32LE(at + 4)
    // Anything past 2^53 is past the input anyway: keep it huge so that need() refuses it.
    return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo
  }

  // --- stack --------------------------------------------------------------------------------

  private pop(): unknown {
    if (this.stack.length <= this.fence) fail('unpickling stack underflow')
    return this.stack.pop()
  }

  private top(): unknown {
    if (this.stack.length <= this.fence) fail('unpickling stack underflow')
    return this.stack[this.stack.length - 1]
  }

  private popMark(): number {
    const mark = this.marks.pop()
    if (mark === undefined) fail('could not find MARK')
    this.fence = this.marks.length > 0 ? (this.marks[this.marks.length - 1] as number) : 0
    return mark
  }

  /** Pops everything down to the last MARK, and the MARK. */
  private popToMark(): unknown[] {
    const mark = this.popMark()
    const items = this.stack.splice(mark)
    return items
  }

  private memoGet(index: number): unknown {
    let value = index < this.memo.length ? this.memo[index] : undefined
    if (value === undefined && this.memoFar !== null) value = this.memoFar.get(index)
    if (value === undefined) fail(`memo key ${index} not found`)
    return value
  }

  private memoPut(index: number, value: unknown): void {
    if (index <= this.memo.length + 4096 && this.memoFar?.has(index) !== true) {
      if (this.memo[index] === undefined) this.memoCount++
      this.memo[index] = value
    } else {
      this.memoFar ??= new Map()
      if (!this.memoFar.has(index)) this.memoCount++
      this.memoFar.set(index, value)
    }
  }

  /** Drops the stack down to `length` items. */
  private truncate(length: number): void {
    const stack = this.stack
    while (stack.length > length) stack.pop()
  }

  // --- containers ---------------------------------------------------------------------------

  private resolve(value: unknown): unknown {
    if (this.converted !== null && typeof value === 'object' && value !== null) {
      return this.converted.get(value) ?? value
    }
    return value
  }

  /**
   * The container just below stack index `end` (the items being added start there), which must
   * be at or above the fence. A dict that became a Map is swapped in.
   */
  private under(end: number): unknown {
    const i = end - 1
    if (i < this.fence) fail('unpickling stack underflow')
    const value = this.resolve(this.stack[i])
    this.stack[i] = value
    return value
  }

  /**
   * dict[key] = value for the pairs in `items[from..to)`. `slot` is where the dict sits on the
   * stack, replaced by a Map when a key that is not a str arrives.
   */
  private setItems(
    target: unknown,
    items: unknown[],
    from: number,
    to: number,
    slot: number,
  ): void {
    if (!(target instanceof Map) && !isPlainDict(target)) {
      fail(`SETITEM on ${describe(target)}, not a dict`)
    }
    this.checkHashables(items, from, to, 2)
    if (target instanceof Map) {
      for (let i = from; i + 1 < to; i += 2) setPy(target, items[i], items[i + 1])
      return
    }
    const dict = target
    for (let i = from; i + 1 < to; i += 2) {
      const key = items[i]
      if (typeof key !== 'string') {
        // Not every key is a str: the dict becomes a Map, in insertion order.
        const map = this.toMap(dict)
        for (let j = i; j + 1 < to; j += 2) setPy(map, items[j], items[j + 1])
        this.stack[slot] = map
        return
      }
      // JS objects list array-index keys first: remember the real order in case of a Map.
      if (this.indexKeyOrder !== null || isIndexKey(key)) this.trackOrder(dict, key)
      if (key === '__proto__') {
        Object.defineProperty(dict, key, {
          value: items[i + 1],
          writable: true,
          enumerable: true,
          configurable: true,
        })
      } else {
        dict[key] = items[i + 1]
      }
    }
  }

  private trackOrder(dict: Record<string, unknown>, key: string): void {
    if (Object.hasOwn(dict, key)) return
    let order = this.indexKeyOrder?.get(dict)
    if (order === undefined) {
      if (!isIndexKey(key)) return
      order = Object.keys(dict)
      this.indexKeyOrder ??= new Map()
      this.indexKeyOrder.set(dict, order)
    }
    order.push(key)
  }

  /** Turns a plain-object dict into a Map (a key that is not a str arrived), keeping its order. */
  private toMap(dict: Record<string, unknown>): Map<unknown, unknown> {
    const keys = this.indexKeyOrder?.get(dict) ?? Object.keys(dict)
    this.charge(keys.length + 1)
    const map = new Map<unknown, unknown>()
    for (const key of keys) map.set(key, dict[key])
    this.converted ??= new Map()
    this.converted.set(dict, map)
    return map
  }

  private construct(callable: unknown, args: unknown, viaNew: boolean): unknown {
    if (!(callable instanceof PyGlobal) && !(callable instanceof Internal)) {
      fail(`cannot call ${describe(callable)}`)
    }
    const what =
      callable instanceof Internal ? callable.what : `${callable.module}.${callable.name}`
    if (!Array.isArray(args) || !this.tuples.has(args)) {
      fail(`arguments to ${what}() must be a tuple, got ${describe(args)}`)
    }
    const list = args
    if (callable instanceof Internal) {
      if (viaNew) fail(`${what} is not a class`)
      if (callable === GETATTR) return callGetattr(list)
      return this.wrapErrors(what, () => makeZoneInfo(list))
    }
    const entry = this.classes?.byGlobal.get(`${callable.module}\n${callable.name}`)
    if (entry !== undefined) return this.callHandler(entry, list, viaNew ? 'new' : 'reduce')
    return this.wrapErrors(what, () => {
      const value = this.call(what, list, viaNew)
      if (value instanceof Map || value instanceof Set) this.containers++
      if (what === 'builtins.frozenset' && value instanceof Set) this.frozensets.add(value)
      if (what === 'builtins.bytearray' && Buffer.isBuffer(value)) this.bytearrays.add(value)
      return value
    })
  }

  /** Runs `make`, turning a Py* constructor's error into a SerializationError naming `what`. */
  private wrapErrors<T>(what: string, make: () => T): T {
    try {
      return make()
    } catch (error) {
      // The Py* constructors validate (a 30th of February, an hour of 24): say where it came from.
      if (error instanceof Error && !error.message.startsWith('pickle: ')) {
        fail(`invalid arguments to ${what}(): ${error.message}`)
      }
      throw error
    }
  }

  private call(what: string, list: unknown[], viaNew: boolean): unknown {
    switch (what) {
      case 'datetime.datetime':
        return makeDatetime(list)
      case 'datetime.date':
        return makeDate(list)
      case 'datetime.time':
        return makeTime(list)
      case 'datetime.timedelta':
        return makeTimedelta(list)
      case 'datetime.timezone':
        return makeTimezone(list)
      case 'decimal.Decimal':
        return makeDecimal(list)
      case 'pytz._UTC':
        if (viaNew || list.length !== 0) fail('pytz._UTC() takes no arguments')
        return PytzTimezone.utc
      case 'pytz._p':
        if (viaNew) fail('pytz._p is not a class')
        return makePytz(list)
      case 'django.utils.safestring.SafeString':
      case 'django.utils.safestring.SafeText':
        // CPython pickles a str subclass as cls.__new__(cls, str(self)) (NEWOBJ), only so.
        if (!viaNew || list.length !== 1 || typeof list[0] !== 'string') {
          fail(`${what} is read only as CPython pickles it: ${what}.__new__(${what}, str)`)
        }
        return new PySafeString(list[0])
      case 'uuid.UUID': {
        if (viaNew) {
          if (list.length > 0) fail('uuid.UUID.__new__ takes no arguments')
          return this.newUuid()
        }
        if (list.length !== 1 || typeof list[0] !== 'string') fail('uuid.UUID() needs one str')
        return new PyUUID(list[0])
      }
      case 'collections.OrderedDict': {
        const map = new Map<unknown, unknown>()
        if (viaNew || list.length === 0) return map
        if (list.length > 1) fail('collections.OrderedDict() takes at most 1 argument')
        for (const pair of this.iterate(list[0], what)) {
          const kv = this.resolve(pair)
          if (!Array.isArray(kv) || kv.length !== 2) fail('OrderedDict() items must be pairs')
          this.checkHashable(kv[0])
          setPy(map, kv[0], kv[1])
        }
        return map
      }
      case 'builtins.set':
      case 'builtins.frozenset': {
        if (list.length > 1) fail(`${what}() takes at most 1 argument`)
        // set.__new__ ignores its arguments (set.__init__ fills the set); frozenset's does not.
        if (list.length === 0 || (viaNew && what === 'builtins.set')) return new Set()
        const items = this.iterate(list[0], what)
        this.checkHashables(items, 0, items.length, 1)
        const set = new Set<unknown>()
        for (const item of items) addPy(set, item)
        return set
      }
      case 'builtins.bytes':
      case 'builtins.bytearray': {
        if (viaNew && what === 'builtins.bytearray') return Buffer.alloc(0)
        if (list.length === 0) return Buffer.alloc(0)
        const source = list[0]
        if (source instanceof Uint8Array && list.length === 1) {
          this.charge(source.length)
          return Buffer.from(source)
        }
        if (typeof source === 'string' && list.length === 2)
          return this.encode(source, list[1], what)
        if (Array.isArray(source) && list.length === 1) {
          this.charge(source.length)
          const out = Buffer.alloc(source.length)
          source.forEach((item, i) => {
            const byte = asInteger(item, 'byte')
            if (byte < 0 || byte > 255) fail('bytes must be in range(0, 256)')
            out[i] = byte
          })
          return out
        }
        return fail(`unsupported arguments to ${what}()`)
      }
      case '_codecs.encode':
      case 'codecs.encode': {
        if (viaNew) fail(`${what} is not a class`)
        if (list.length < 1 || list.length > 3 || typeof list[0] !== 'string') {
          fail(`${what}() needs a str`)
        }
        if (list.length === 3 && list[2] !== 'strict')
          fail(`${what}() supports errors='strict' only`)
        return this.encode(list[0], list.length >= 2 ? list[1] : 'utf-8', what)
      }
      case 'copyreg._reconstructor': {
        if (viaNew) fail(`${what} is not a class`)
        const [cls, base, state] = list
        if (list.length !== 3 || !(cls instanceof PyGlobal) || !(base instanceof PyGlobal)) {
          fail('copyreg._reconstructor() needs (class, base, state)')
        }
        if (`${base.module}.${base.name}` !== 'builtins.object' || state !== null) {
          fail(`copyreg._reconstructor() is only supported with base object and no state`)
        }
        const entry = this.classes?.byGlobal.get(`${cls.module}\n${cls.name}`)
        if (entry !== undefined) return this.callHandler(entry, [], 'new')
        if (`${cls.module}.${cls.name}` !== 'uuid.UUID') {
          fail(
            `copyreg._reconstructor() is only supported for uuid.UUID, not ${cls.module}.${cls.name}`,
          )
        }
        return this.newUuid()
      }
      default:
        return fail(`refusing to call ${what}`)
    }
  }

  private newUuid(): PyUUID {
    const uuid = new PyUUID(0n)
    this.pendingUuids ??= new Set()
    this.pendingUuids.add(uuid)
    return uuid
  }

  private iterate(source: unknown, what: string): unknown[] {
    const value = this.resolve(source)
    let items: unknown[]
    if (Array.isArray(value)) items = value
    else if (value instanceof Set) items = [...value]
    else if (value instanceof Map) items = [...value.keys()]
    else if (isPlainDict(value)) items = Object.keys(value)
    else return fail(`${what}() argument must be iterable, got ${describe(value)}`)
    this.charge(items.length)
    return items
  }

  private encode(text: string, encoding: unknown, what: string): Buffer {
    if (typeof encoding !== 'string') fail(`${what}() encoding must be a str`)
    this.charge(text.length)
    const name = encoding.toLowerCase().replaceAll('_', '-')
    if (['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'l1', 'latin'].includes(name)) {
      for (let i = 0; i < text.length; i++) {
        if (text.charCodeAt(i) > 0xff) fail(`${what}(): character not in latin-1`)
      }
      return Buffer.from(text, 'latin1')
    }
    if (name === 'ascii' || name === 'us-ascii') {
      for (let i = 0; i < text.length; i++) {
        if (text.charCodeAt(i) > 0x7f) fail(`${what}(): character not in ascii`)
      }
      return Buffer.from(text, 'latin1')
    }
    if (name === 'utf-8' || name === 'utf8') {
      if (hasLoneSurrogate(text)) fail(`${what}(): surrogates not allowed in utf-8`)
      return Buffer.from(text, 'utf8')
    }
    return fail(`${what}(): unsupported encoding ${JSON.stringify(clip(encoding))}`)
  }

  private build(target: unknown, state: unknown): void {
    const obj = this.resolve(target)
    const entry = typeof obj === 'object' && obj !== null ? this.handled?.get(obj) : undefined
    if (entry !== undefined) {
      const setState = entry.handler.setState
      const what = `${entry.module}.${entry.name}`
      if (setState === undefined) {
        fail(`${what} carries state (BUILD), and its handler has no setState`)
      }
      const value = this.resolve(state)
      if (this.internals) this.checkNoInternals(value)
      this.fixConverted(value)
      try {
        setState.call(entry.handler, obj, value)
      } catch (error) {
        throw new SerializationError(
          `pickle: the handler of ${what} refused the pickled state: ${(error as Error)?.message ?? error}`,
          { cause: error },
        )
      }
      return
    }
    if (obj instanceof PyUUID && this.pendingUuids?.has(obj) === true) {
      const { int, isSafe } = uuidFromState(this.resolve(state))
      initUuid(obj, int, isSafe)
      this.pendingUuids.delete(obj)
      return
    }
    fail(`BUILD is only supported for uuid.UUID, not ${describe(obj)}`)
  }

  /** Replaces every reference to a dict that became a Map (iteratively, each object once). */
  private fixConverted(root: unknown): unknown {
    const converted = this.converted
    if (converted === null) return root
    const swap = (v: unknown): unknown =>
      typeof v === 'object' && v !== null ? (converted.get(v) ?? v) : v
    const seen = new Set<object>()
    const todo: unknown[] = [swap(root)]
    while (todo.length > 0) {
      const node = todo.pop()
      if (typeof node !== 'object' || node === null || seen.has(node)) continue
      seen.add(node)
      if (Array.isArray(node)) {
        this.charge(node.length)
        for (let i = 0; i < node.length; i++) {
          node[i] = swap(node[i])
          todo.push(node[i])
        }
      } else if (node instanceof Map) {
        this.charge(node.size)
        let keysChanged = false
        for (const [k, v] of node) {
          if (swap(k) !== k) keysChanged = true
          const nv = swap(v)
          if (nv !== v) node.set(k, nv)
          todo.push(swap(k), nv)
        }
        if (keysChanged) {
          const entries = [...node].map(([k, v]) => [swap(k), v] as const)
          node.clear()
          for (const [k, v] of entries) node.set(k, v)
        }
      } else if (node instanceof Set) {
        this.charge(node.size)
        const items = [...node]
        if (items.some((x) => swap(x) !== x)) {
          node.clear()
          for (const x of items) node.add(swap(x))
        }
        for (const x of node) todo.push(x)
      } else if (isPlainDict(node)) {
        const keys = Object.keys(node)
        this.charge(keys.length)
        for (const k of keys) {
          const nv = swap(node[k])
          if (nv !== node[k]) node[k] = nv
          todo.push(nv)
        }
      }
    }
    return swap(root)
  }

  /**
   * Throws when containers nest more than MAX_READ_DEPTH deep in the finished value. Skipped when
   * too few containers were made for that (nearly every value); else one iterative walk.
   */
  private checkDepth(root: unknown): void {
    if (this.containers <= MAX_READ_DEPTH || !isContainer(root)) return
    if (this.shared) longestChainCheck(root)
    else treeDepthCheck(root, this.containers)
  }

  // --- the loop -----------------------------------------------------------------------------

  run(): unknown {
    const data = this.data
    const stack = this.stack
    const end = data.length
    for (;;) {
      if (this.pos >= end) fail('pickle data was truncated (no STOP opcode)')
      const op = data[this.pos++] as number
      switch (op) {
        case PROTO: {
          const version = data[this.need(1)] as number
          if (version > HIGHEST_PROTOCOL) fail(`unsupported pickle protocol: ${version}`)
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
          value = this.fixConverted(value)
          if (this.internals) this.checkNoInternals(value)
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
        case INT: {
          const line = this.readLine(MAX_INT_LINE, 'INT')
          const { value, viaStrtol } = parseIntText(line, 'INT', true)
          // Protocol 0/1 booleans are "I01" and "I00" (CPython: 2 characters read as 0 or 1).
          if (viaStrtol && line.length === 2 && (value === 0 || value === 1))
            stack.push(value === 1)
          else stack.push(value)
          break
        }
        case BININT:
          stack.push(data.readInt32LE(this.need(4)))
          break
        case BININT1:
          stack.push(data[this.need(1)])
          break
        case BININT2:
          stack.push(data.readUInt16LE(this.need(2)))
          break
        case LONG: {
          // Python 2 writes a trailing L.
          let line = this.readLine(MAX_INT_LINE + 1, 'LONG')
          if (line.endsWith('L')) line = line.slice(0, -1)
          stack.push(parseIntText(line, 'LONG', false).value)
          break
        }
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
        case FLOAT:
          stack.push(parseFloatText(this.readLine(MAX_FLOAT_LINE, 'FLOAT')))
          break
        case BINFLOAT:
          stack.push(data.readDoubleBE(this.need(8)))
          break
        case STRING: {
          const lineEnd = this.longLineEnd()
          const q = data[this.pos] as number
          if (lineEnd - this.pos < 2 || (q !== 0x27 && q !== 0x22) || data[lineEnd - 1] !== q) {
            fail('the STRING opcode argument must be quoted')
          }
          stack.push(decodeEscapedString(data, this.pos + 1, lineEnd - 1))
          this.pos = lineEnd + 1
          break
        }
        case BINSTRING: {
          const n = this.readSize(4)
          const at = this.need(n)
          stack.push(data.toString('latin1', at, at + n))
          break
        }
        case SHORT_BINSTRING: {
          const n = this.readSize(1)
          const at = this.need(n)
          stack.push(data.toString('latin1', at, at + n))
          break
        }
        case UNICODE: {
          const lineEnd = this.longLineEnd()
          stack.push(decodeRawUnicodeEscape(data, this.pos, lineEnd))
          this.pos = lineEnd + 1
          break
        }
        case SHORT_BINUNICODE: {
          const n = this.readSize(1)
          const at = this.need(n)
          stack.push(decodeUtf8(data, at, at + n))
          break
        }
        case BINUNICODE: {
          const n = this.readSize(4)
          const at = this.need(n)
          stack.push(decodeUtf8(data, at, at + n))
          break
        }
        case BINUNICODE8: {
          const n = this.readSize(8)
          const at = this.need(n)
          stack.push(decodeUtf8(data, at, at + n))
          break
        }
        case SHORT_BINBYTES: {
          const n = this.readSize(1)
          const at = this.need(n)
          stack.push(Buffer.from(data.subarray(at, at + n)))
          break
        }
        case BINBYTES: {
          const n = this.readSize(4)
          const at = this.need(n)
          stack.push(Buffer.from(data.subarray(at, at + n)))
          break
        }
        case BINBYTES8: {
          const n = this.readSize(8)
          const at = this.need(n)
          stack.push(Buffer.from(data.subarray(at, at + n)))
          break
        }
        case BYTEARRAY8: {
          const n = this.readSize(8)
          const at = this.need(n)
          const bytes = Buffer.from(data.subarray(at, at + n))
          this.bytearrays.add(bytes)
          stack.push(bytes)
          break
        }
        case NEXT_BUFFER:
          fail('NEXT_BUFFER: out-of-band buffers are not available')
          break
        case READONLY_BUFFER:
          fail('READONLY_BUFFER: out-of-band buffers are not available')
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
          break
        }
        case APPENDS: {
          const mark = this.popMark()
          const list = this.under(mark)
          if (!Array.isArray(list) || this.tuples.has(list)) {
            fail(`APPENDS to ${describe(list)}, not a list`)
          }
          for (let i = mark; i < stack.length; i++) list.push(stack[i])
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
          for (let i = mark; i < stack.length; i++) addPy(set, stack[i])
          this.truncate(mark)
          break
        }
        case FROZENSET: {
          const items = this.popToMark()
          this.checkHashables(items, 0, items.length, 1)
          const set = new Set<unknown>()
          for (const item of items) addPy(set, item)
          this.containers++
          this.frozensets.add(set)
          stack.push(set)
          break
        }
        case GET:
          stack.push(
            this.reuse(this.memoGet(parseIndex(this.readLine(MAX_INDEX_LINE, 'GET'), 'GET'))),
          )
          break
        case BINGET:
          stack.push(this.reuse(this.memoGet(this.readSize(1))))
          break
        case LONG_BINGET:
          stack.push(this.reuse(this.memoGet(this.readSize(4))))
          break
        case PUT: {
          this.memoPut(parseIndex(this.readLine(MAX_INDEX_LINE, 'PUT'), 'PUT'), this.top())
          break
        }
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
        case GLOBAL: {
          const module = this.readUtf8Line(MAX_NAME_LINE, 'GLOBAL')
          const name = this.readUtf8Line(MAX_NAME_LINE, 'GLOBAL')
          stack.push(this.global(module, name))
          break
        }
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
}

/** Reads one pickle (protocols 0–5). Throws a `SerializationError` on anything it does not accept. */
export function loadPickle(data: Uint8Array, classes: ClassTable | null = null): unknown {
  const buffer = Buffer.isBuffer(data)
    ? data
    : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  return new Reader(buffer, classes).run()
}
