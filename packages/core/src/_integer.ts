// Integers as Python's int() reads them, which is how Django stores and reads a number: the
// codec reads a stored value as one before anything else.
import { MAX_INTEGER_DIGITS } from './_limits.ts'

// Bytes that may start something Python's int() accepts: whitespace, sign, digits.
const INT_START = new Uint8Array(256)
for (const c of ' \t\n\v\f\r+-0123456789') INT_START[c.charCodeAt(0)] = 1
const MAX_SAFE_DIGITS = 15

/** Python's `bytes.isspace()` / `int()` whitespace: space, \t \n \v \f \r. */
function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d)
}

/**
 * Reads `data` (bytes, or text already decoded) as Python's `int(bytes)` would, or returns
 * `undefined` when it is not an integer: surrounding ASCII whitespace, an optional sign, digits
 * with single `_` between them, at most 4,300 digits (`MAX_INTEGER_DIGITS`, Python's limit).
 * Safe integers come back as `number`, larger ones as `bigint`. One linear pass that stops at
 * the first byte that cannot belong to an integer.
 */
export function parseInteger(data: Buffer | string): number | bigint | undefined {
  if (data.length === 0) return undefined
  // The common non-integer case (JSON `{`, `[`, `"`, binary formats) is one table lookup.
  if (typeof data === 'string') {
    const first = data.charCodeAt(0)
    return first > 0xff || INT_START[first] === 0 ? undefined : scanInteger(data)
  }
  return INT_START[data[0] as number] === 0 ? undefined : scanInteger(data)
}

/** The byte (or UTF-16 code unit) at `i`. */
function codeAt(data: Buffer | string, i: number): number {
  return typeof data === 'string' ? data.charCodeAt(i) : (data[i] as number)
}

function scanInteger(data: Buffer | string): number | bigint | undefined {
  const n = data.length
  let i = 0
  let c = codeAt(data, 0)
  while (isSpace(c)) {
    if (++i === n) return undefined
    c = codeAt(data, i)
  }
  const negative = c === 0x2d
  if (negative || c === 0x2b) i++
  const start = i
  let digits = 0
  let value = 0
  // A `_` must follow a digit and be followed by one: start as if after an underscore.
  let afterUnderscore = true
  let underscores = false
  for (; i < n; i++) {
    c = codeAt(data, i)
    if (c >= 0x30 && c <= 0x39) {
      if (++digits > MAX_INTEGER_DIGITS) return undefined
      if (digits <= MAX_SAFE_DIGITS) value = value * 10 + (c - 0x30)
      afterUnderscore = false
    } else if (c === 0x5f && !afterUnderscore) {
      afterUnderscore = true
      underscores = true
    } else {
      break
    }
  }
  if (digits === 0 || afterUnderscore) return undefined
  const end = i
  for (; i < n; i++) if (!isSpace(codeAt(data, i))) return undefined
  // -0 is not an integer Python writes; keep it 0.
  if (digits <= MAX_SAFE_DIGITS) return negative && value !== 0 ? -value : value
  let literal =
    typeof data === 'string' ? data.slice(start, end) : data.toString('latin1', start, end)
  if (underscores) literal = literal.replaceAll('_', '')
  const big = BigInt(negative ? `-${literal}` : literal)
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big
}
