// The gate in front of msgpackr's unpacker: one linear pass over the bytes that accepts only the
// MessagePack Python's `msgpack` writes, so that msgpackr never meets one of its own extensions
// (records, structured clones, bundled strings, RegExp, Set, Error, typed arrays, …) in bytes
// that anyone with write access to Redis may have put there.

import { SerializationError } from '@cachex/core'
import { isIndexKey, tooManyItemsError } from '@cachex/core/internal'

/**
 * How deeply arrays and maps may nest: Python's msgpack reads 1024 levels (its C unpacker's
 * stack, `StackError` beyond) and its packer writes no deeper. msgpackr reads recursively, so
 * this also keeps it well inside the call stack.
 */
export const MAX_MSGPACK_DEPTH = 1024

// The items still to read in each open container (a map counts keys and values). At most the
// input's length, so they fit 32 bits.
const remaining = new Int32Array(MAX_MSGPACK_DEPTH)
// Whether each open container is a map (1) or an array (0).
const isMap = new Uint8Array(MAX_MSGPACK_DEPTH)

// The whole size of an item from its first byte, for the items of a fixed size (fixints, fixstr,
// nil, booleans, numbers); 0 for the others (containers, str/bin 8–32, extensions, 0xc1, and a
// fixstr of 9 bytes, which may be "__proto__"). One table lookup for most items.
const FIXED_SIZE = new Uint8Array(256)
for (let b = 0x00; b <= 0x7f; b++) FIXED_SIZE[b] = 1
for (let b = 0xe0; b <= 0xff; b++) FIXED_SIZE[b] = 1
for (let b = 0xa0; b <= 0xbf; b++) FIXED_SIZE[b] = 1 + (b & 0x1f)
FIXED_SIZE[0xa9] = 0
for (const b of [0xc0, 0xc2, 0xc3]) FIXED_SIZE[b] = 1
for (const b of [0xcc, 0xd0]) FIXED_SIZE[b] = 2
for (const b of [0xcd, 0xd1]) FIXED_SIZE[b] = 3
for (const b of [0xca, 0xce, 0xd2]) FIXED_SIZE[b] = 5
// uint64 and int64 (0xcf, 0xd3) are read in the switch: one of ±2^53 is told there (`TWO_POW_53`).
FIXED_SIZE[0xcb] = 9

/**
 * `checkMsgpack`: the value must be read with Maps (a bin map key too: msgpackr's plain read
 * refuses it naming its own options, `propertyName` in cachex's words).
 */
export const VIA_MAPS = 1
/** `checkMsgpack`: the value holds a 64-bit integer of ±2^53, to be read as a bigint. */
export const TWO_POW_53 = 2

/** Whether the 8 bytes at `at` are 2^53 (as uint64 or int64) or -2^53 (as int64). */
function isTwoPow53(data: Uint8Array, at: number): boolean {
  if (at + 8 > data.length) return false
  const first = data[at]
  const second = data[at + 1]
  if (!((first === 0x00 && second === 0x20) || (first === 0xff && second === 0xe0))) return false
  for (let i = 2; i < 8; i++) if (data[at + i] !== 0) return false
  return true
}

function fail(message: string): never {
  throw new SerializationError(`msgpack: ${message}`)
}

function truncated(): never {
  return fail('data was truncated')
}

/**
 * Throws a `SerializationError` unless `data` is exactly one MessagePack value made of nil,
 * booleans, integers, floats, str, bin, arrays, maps and the timestamp extension (type -1, with 4,
 * 8 or 12 bytes and fewer than 10^9 nanoseconds, as `msgpack.Timestamp` requires, and seconds a
 * `Date` holds), nested at
 * most MAX_MSGPACK_DEPTH deep, with nothing after it. Refused: every other extension type, the
 * never-used byte 0xc1, truncated input and trailing bytes.
 *
 * Returns how the value must be read (`VIA_MAPS`, `TWO_POW_53`; 0 for msgpackr's plain read): with
 * Maps (msgpackr's `mapsAsObjects: false`) when a str of 9 bytes is `__proto__` (msgpackr renames
 * such a map key), or a map has a str key that is an array index (`'10'`: a plain object lists it
 * first, and the map's order must be remembered for writing back); and with 64-bit integers as
 * bigints when one is ±2^53 exactly, which msgpackr's `'auto'` reads as a number (written back,
 * a float). Iterative, one pass; the second costs a byte compare per item, and more (a short
 * string decoded) only for a map key of 1–10 bytes that starts with a digit. No allocation
 * otherwise.
 *
 * For inspection (`maxItems`, `MAX_INSPECT_ITEMS` there): refuses a value of more than `maxItems`
 * items (each value, the top one too, a map's keys not counted) with `tooManyItemsError`, as the
 * container that passes the bound opens (one subtraction per container).
 */
export function checkMsgpack(data: Uint8Array, maxItems = Number.POSITIVE_INFINITY): number {
  const end = data.length
  let itemsLeft = maxItems - 1 // values still allowed (the top one is one)
  if (itemsLeft < 0) throw tooManyItemsError('msgpack', maxItems)
  let pos = 0
  let depth = 0
  let left = 1 // items still to read at the current level (the top level holds one)
  let map = false // whether the current level is a map: its keys are the items at odd `left`
  let how = 0
  for (;;) {
    if (left === 0) {
      do {
        if (depth === 0) {
          if (pos > end) truncated()
          if (pos < end) fail(`${end - pos} bytes after the value`)
          return how
        }
        left = remaining[--depth] as number
        map = isMap[depth] === 1
      } while (left === 0)
    }
    left--
    if (pos >= end) truncated()
    const b = data[pos] as number
    const size = FIXED_SIZE[b] as number
    if (size !== 0) {
      // A fixstr of 1–10 bytes (an array index has at most 10 digits) as a map key.
      if (
        b >= 0xa1 &&
        b <= 0xaa &&
        map &&
        (left & 1) === 1 &&
        isIndexKeyAt(data, pos + 1, b & 0x1f)
      ) {
        how |= VIA_MAPS
      }
      pos += size
      continue
    }
    let items: number // the items of a container that starts here
    let opensMap: boolean
    if (b >= 0x80 && b <= 0x9f) {
      opensMap = b <= 0x8f
      items = opensMap ? (b & 0x0f) * 2 : b & 0x0f // fixmap, fixarray
      pos++
    } else {
      switch (b) {
        case 0xcf: // uint64, int64
        case 0xd3:
          if (isTwoPow53(data, pos + 1)) how |= TWO_POW_53
          pos += 9
          continue
        case 0xa9: // fixstr of 9 bytes
          if (isProto(data, pos + 1)) how |= VIA_MAPS
          else if (map && (left & 1) === 1 && isIndexKeyAt(data, pos + 1, 9)) how |= VIA_MAPS
          pos += 10
          continue
        case 0xc4: // bin 8, str 8 (Python writes a short str as a fixstr; others may not)
        case 0xd9: {
          if (pos + 2 > end) truncated()
          const n = data[pos + 1] as number
          if (
            b === 0xd9
              ? isStrFlag(data, pos + 2, n, map && (left & 1) === 1)
              : map && (left & 1) === 1
          ) {
            how |= VIA_MAPS
          }
          pos += 2 + n
          continue
        }
        case 0xc5: // bin 16, str 16
        case 0xda: {
          if (pos + 3 > end) truncated()
          const n = u16(data, pos + 1)
          if (
            b === 0xda
              ? isStrFlag(data, pos + 3, n, map && (left & 1) === 1)
              : map && (left & 1) === 1
          ) {
            how |= VIA_MAPS
          }
          pos += 3 + n
          continue
        }
        case 0xc6: // bin 32, str 32
        case 0xdb: {
          if (pos + 5 > end) truncated()
          const n = u32(data, pos + 1)
          if (
            b === 0xdb
              ? isStrFlag(data, pos + 5, n, map && (left & 1) === 1)
              : map && (left & 1) === 1
          ) {
            how |= VIA_MAPS
          }
          pos += 5 + n
          continue
        }
        case 0xdc: // array 16, array 32, map 16, map 32
          if (pos + 3 > end) truncated()
          items = u16(data, pos + 1)
          opensMap = false
          pos += 3
          break
        case 0xdd:
          if (pos + 5 > end) truncated()
          items = u32(data, pos + 1)
          opensMap = false
          pos += 5
          break
        case 0xde:
          if (pos + 3 > end) truncated()
          items = u16(data, pos + 1) * 2
          opensMap = true
          pos += 3
          break
        case 0xdf:
          if (pos + 5 > end) truncated()
          items = u32(data, pos + 1) * 2
          opensMap = true
          pos += 5
          break
        case 0xd4: // fixext 1, 2, 4, 8, 16: type, then the data
          pos = timestamp(data, pos + 1, 1)
          continue
        case 0xd5:
          pos = timestamp(data, pos + 1, 2)
          continue
        case 0xd6:
          pos = timestamp(data, pos + 1, 4)
          continue
        case 0xd7:
          pos = timestamp(data, pos + 1, 8)
          continue
        case 0xd8:
          pos = timestamp(data, pos + 1, 16)
          continue
        case 0xc7: // ext 8, ext 16, ext 32: length, type, data
          if (pos + 2 > end) truncated()
          pos = timestamp(data, pos + 2, data[pos + 1] as number)
          continue
        case 0xc8:
          if (pos + 3 > end) truncated()
          pos = timestamp(data, pos + 3, u16(data, pos + 1))
          continue
        case 0xc9:
          if (pos + 5 > end) truncated()
          pos = timestamp(data, pos + 5, u32(data, pos + 1))
          continue
        default: // 0xc1
          return fail('byte 0xc1 (never used by MessagePack) found')
      }
    }
    // A container starts: Python's unpacker refuses one more level than it can hold, even empty.
    if (depth >= MAX_MSGPACK_DEPTH) fail(`value nested more than ${MAX_MSGPACK_DEPTH} levels deep`)
    // Every item takes at least one byte.
    if (items > end - pos) truncated()
    // The values it holds (a map's keys not counted), counted against `maxItems` before any is.
    itemsLeft -= opensMap ? items / 2 : items
    if (itemsLeft < 0) throw tooManyItemsError('msgpack', maxItems)
    if (items > 0) {
      remaining[depth] = left
      isMap[depth++] = map ? 1 : 0
      left = items
      map = opensMap
    }
  }
}

/**
 * The most seconds a timestamp may be from 1970 either way: a `Date` holds ±8.64e15 ms. Beyond
 * it, msgpackr's reader does not fail: it reads only the low 48 bits of the 64-bit seconds (and
 * their sign), so 2^48 + 86400 s would come back as 1970-01-02.
 */
const MAX_DATE_SECONDS = 8.64e12

/**
 * Checks the extension whose type byte is at `at` and whose data (`length` bytes) follows it:
 * only a timestamp (type -1) of 4, 8 or 12 bytes is accepted, with fewer than 10^9 nanoseconds
 * and, for 12 bytes, seconds a `Date` holds. Returns the offset after it.
 *
 * The 4- and 8-byte forms need no range check: their 32 and 34 bits of unsigned seconds (up to
 * the year 2514) are all in a `Date`'s range, and msgpackr reads every bit of them. Years beyond
 * Python's `datetime` (1–9999) are accepted: Python's msgpack reads the extension as a
 * `msgpack.Timestamp` (int64 seconds, no calendar), which is what it hands django-redis, and a
 * `Date` of the year 10000 written here is read there; only `Timestamp.to_datetime()` refuses it.
 */
function timestamp(data: Uint8Array, at: number, length: number): number {
  if (at >= data.length) truncated()
  const type = data[at] as number
  if (type !== 0xff) extension(type)
  const start = at + 1
  if (start + length > data.length) truncated()
  let nanoseconds = 0
  if (length === 8) {
    // 30 bits of nanoseconds, then 34 bits of seconds.
    nanoseconds =
      (data[start] as number) * 0x400000 +
      (((data[start + 1] as number) << 14) |
        ((data[start + 2] as number) << 6) |
        ((data[start + 3] as number) >> 2))
  } else if (length === 12) {
    // 32 bits of nanoseconds, then 64 bits of signed seconds.
    nanoseconds = u32(data, start)
    const high = i32(data, start + 4)
    // |high| ≥ 2^11 puts the seconds at 2^43 (8.8e12) or more: out of range, and a double
    // holds every value below exactly.
    const seconds = Math.abs(high) < 0x800 ? high * 0x100000000 + u32(data, start + 8) : high
    if (
      Math.abs(high) >= 0x800 ||
      seconds > MAX_DATE_SECONDS ||
      seconds < -MAX_DATE_SECONDS ||
      // 8.64e12 s and a nanosecond is past the last millisecond a Date holds.
      (seconds === MAX_DATE_SECONDS && nanoseconds > 0)
    ) {
      const exact = (BigInt(high) << 32n) | BigInt(u32(data, start + 8))
      fail(
        `a timestamp of ${exact} seconds, beyond what a JavaScript Date holds (±${MAX_DATE_SECONDS} seconds from 1970)`,
      )
    }
  } else if (length !== 4) {
    fail(`a timestamp of ${length} bytes (Python's msgpack reads 4, 8 or 12)`)
  }
  if (nanoseconds > 999_999_999) fail('a timestamp with 10^9 nanoseconds or more')
  return start + length
}

function extension(type: number): never {
  const signed = type > 127 ? type - 256 : type
  return fail(
    `extension type ${signed} refused: only Python msgpack's forms are read (the timestamp, type -1)`,
  )
}

function u16(data: Uint8Array, at: number): number {
  return ((data[at] as number) << 8) | (data[at + 1] as number)
}

/** The big-endian signed 32-bit integer at `at`. */
function i32(data: Uint8Array, at: number): number {
  return (
    ((data[at] as number) << 24) |
    ((data[at + 1] as number) << 16) |
    ((data[at + 2] as number) << 8) |
    (data[at + 3] as number)
  )
}

function u32(data: Uint8Array, at: number): number {
  return (
    (data[at] as number) * 0x1000000 +
    (((data[at + 1] as number) << 16) | ((data[at + 2] as number) << 8) | (data[at + 3] as number))
  )
}

/**
 * Whether the str of `n` bytes at `at` makes the value one to read with Maps: `__proto__`, or,
 * when it is a map key (`key`), an array index.
 */
function isStrFlag(data: Uint8Array, at: number, n: number, key: boolean): boolean {
  if (n === 9 && isProto(data, at)) return true
  return key && isIndexKeyAt(data, at, n)
}

/**
 * Whether the str of `n` bytes at `at` is an array index (`isIndexKey`): first its first byte,
 * a digit; the key is decoded only then. Digits are ASCII, so a byte per character.
 */
function isIndexKeyAt(data: Uint8Array, at: number, n: number): boolean {
  const first = data[at] as number
  if (!(first >= 0x30 && first <= 0x39) || n > 10 || at + n > data.length) return false
  let key = ''
  for (let i = 0; i < n; i++) key += String.fromCharCode(data[at + i] as number)
  return isIndexKey(key)
}

// "__proto__"
const PROTO = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]

/** Whether the 9 bytes at `at` spell `__proto__`. */
function isProto(data: Uint8Array, at: number): boolean {
  if (at + 9 > data.length) return false
  for (let i = 0; i < 9; i++) if (data[at + i] !== PROTO[i]) return false
  return true
}
