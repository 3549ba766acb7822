// The pickle reader's numbers: the text opcodes' int, index and float lines, and LONG1/LONG4.

import { isPlainDict } from './_pickle-read-containers.ts'
import { fail, Internal, MAX_INT_DIGITS } from './_pickle-read-rules.ts'
import { hexValue, isOctalDigit } from './_pickle-read-text.ts'
import { PyGlobal } from './py-values.ts'

// ---------------------------------------------------------------------------------------------
// Numbers. Hand-written scanners, one pass each: a regex over attacker-chosen text can backtrack.

export function toIntValue(value: bigint): number | bigint {
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value
}

/** ASCII whitespace, as C's isspace() and Python's int() skip: space, \t \n \v \f \r. */
export function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

export function isBinaryDigit(c: number): boolean {
  return c === 0x30 || c === 0x31
}

export function isHexDigit(c: number): boolean {
  return hexValue(c) >= 0
}

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n

/**
 * Parses the text of protocol 0's INT and LONG opcodes as CPython does. INT first tries C's
 * `strtol(text, 0)` (a leading 0 means octal; it must fit 64 bits and end the line), and
 * otherwise — as LONG always does — Python's `int(text, 0)` (leading zeros refused).
 * `viaStrtol` tells which one read it: only `strtol`'s "00"/"01" are the booleans.
 *
 * Accepted: ASCII whitespace, a sign, then `0x…`, `0o…`, `0b…`, `0[0-7]*` or `[1-9][0-9]*`, then
 * ASCII whitespace; at most MAX_INT_DIGITS characters of number.
 */
export function parseIntText(
  text: string,
  opcode: string,
  tryStrtol: boolean,
): { value: number | bigint; viaStrtol: boolean } {
  const invalid = (): never => fail(`invalid ${opcode} literal (${text.length} characters)`)
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
export function parseIndex(text: string, opcode: string): number {
  const n = text.length
  let i = 0
  while (i < n && isSpace(text.charCodeAt(i))) i++
  const from = i
  while (i < n && isDigit(text.charCodeAt(i))) i++
  const digits = i - from
  while (i < n && isSpace(text.charCodeAt(i))) i++
  if (digits === 0 || digits > 15 || i !== n) {
    fail(`invalid ${opcode} index (${text.length} characters)`)
  }
  return Number(text)
}

/**
 * PyOS_string_to_double, as protocol 0's FLOAT opcode reads its text: no surrounding whitespace;
 * `[+-]` then digits with an optional point (at least one digit) and an optional exponent, or
 * `inf`, `infinity`, `nan` in any case. Out of range is an error, as in CPython.
 */
export function parseFloatText(text: string): number {
  const invalid = (): never => fail(`invalid FLOAT literal (${text.length} characters)`)
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
  if (!Number.isFinite(value)) fail(`FLOAT literal out of range (${text.length} characters)`)
  return value
}

/** Little-endian two's-complement bytes (LONG1/LONG4) to an int. */
export function decodeLong(bytes: Uint8Array, start: number, n: number): number | bigint {
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

export function asInteger(value: unknown, what: string): number {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value
  return fail(`${what} must be an int, got ${describe(value)}`)
}

export function describe(value: unknown): string {
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
