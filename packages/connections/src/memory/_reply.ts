// What a command of the in-memory backend answers, before it is shaped as node-redis would shape
// it: bulk strings as binary strings (one char per byte), status replies as `Status`, integers as
// numbers, arrays, nil as `null`, and errors (inside an array) as `ResponseError`s.
import { InvalidArgumentError, type RedisArgument, ResponseError } from '@cachex/core'
import { NOT_AN_ARGUMENT } from '../_command-shape.ts'
import type { ReplyForm } from '../_reply-form.ts'

/** A simple-string reply (`OK`, `PONG`, `string`): node-redis gives it as a JS string. */
export class Status {
  constructor(readonly text: string) {}
}

export const OK = new Status('OK')

/**
 * A double reply (a score): RESP3 gives it to node-redis as a number; inside a script (RESP2)
 * it is the bulk string Redis 7.0 formats (`%.17g`).
 */
export class Double {
  constructor(readonly value: number) {}
}

/**
 * Members with their scores (`WITHSCORES`, `ZPOPMIN`): RESP3 gives `[[member, score], …]` pairs
 * (`nested`) or one flat `[member, score]` (`ZPOPMIN` without a count); a script sees RESP2's
 * flat list of bulk strings.
 */
export class Scored {
  constructor(
    readonly items: ReadonlyArray<{ member: string; score: number }>,
    readonly nested: boolean,
  ) {}
}

/**
 * One reply: bulk (binary string), status, integer, nil, array, or an error inside an array. An
 * integer beyond ±(2^53 - 1) may be a `bigint` (`HINCRBY`'s), exact for a `digits` route.
 */
export type Reply =
  | string
  | number
  | bigint
  | null
  | Status
  | Double
  | Scored
  | ResponseError
  | Reply[]

/** The reply as a script sees it (RESP2): doubles and scores as bulk strings. */
export function resp2(reply: Reply): Reply {
  if (reply instanceof Double) return formatDouble(reply.value)
  if (reply instanceof Scored) return reply.items.flatMap((i) => [i.member, formatDouble(i.score)])
  if (Array.isArray(reply)) return reply.map(resp2)
  return reply
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: bytes 0–127 are ASCII, control bytes included
const ASCII = /^[\x00-\x7f]*$/

/**
 * An argument as a binary string: one char per byte (Redis is binary-safe). Anything but a string
 * or a Buffer is refused, as the Redis connections refuse it.
 */
export function bin(arg: RedisArgument): string {
  if (typeof arg === 'string')
    return ASCII.test(arg) ? arg : Buffer.from(arg, 'utf8').toString('latin1')
  if (Buffer.isBuffer(arg)) return arg.toString('latin1')
  throw new InvalidArgumentError(NOT_AN_ARGUMENT)
}

/** A binary string as the UTF-8 text it holds. */
export function text(value: string): string {
  return ASCII.test(value) ? value : Buffer.from(value, 'latin1').toString('utf8')
}

/**
 * The reply as node-redis (RESP3, maps and sets flattened) gives it to cachex, read as `form`
 * says (see `ReplyForm`): bulk strings as Buffers, or as text for a `text` route; integers as
 * numbers, or as their decimal digits for a `digits` route; doubles as numbers.
 */
export function shape(reply: Reply, form: ReplyForm): unknown {
  if (typeof reply === 'string') {
    return form === true ? text(reply) : Buffer.from(reply, 'latin1')
  }
  if (typeof reply === 'number') return form === 'digits' ? String(reply) : reply
  if (typeof reply === 'bigint') return form === 'digits' ? String(reply) : Number(reply)
  if (reply instanceof Status) return reply.text
  if (reply instanceof Double) return reply.value
  if (reply instanceof Scored) {
    const pairs = reply.items.map((i) => [shape(i.member, form), i.score])
    return reply.nested ? pairs : (pairs[0] ?? [])
  }
  if (Array.isArray(reply)) return reply.map((item) => shape(item, form))
  return reply
}

/** An error reply, thrown by a command. */
export function fail(message: string): ResponseError {
  return new ResponseError(message)
}

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value'
export const SYNTAX = 'ERR syntax error'
/** Redis's refusal of a command past `maxmemory` (here: past `maxBytes`). */
export const OOM = "OOM command not allowed when used memory > 'maxmemory'."
export const NOT_INTEGER = 'ERR value is not an integer or out of range'
export const NOT_FLOAT = 'ERR value is not a valid float'

/** Redis's error for a command called with the wrong number of arguments. */
export function arity(name: string): ResponseError {
  return fail(`ERR wrong number of arguments for '${name.toLowerCase()}' command`)
}

// As `string2ll`: no sign on 0 (`-0` is refused), no leading zeros, no spaces.
const INTEGER = /^(0|-?[1-9][0-9]*)$/
const INT64_MAX = 9223372036854775807n
export const INT64_MIN = -9223372036854775808n

/** A 64-bit integer argument, as Redis's `string2ll` reads it (strict), or `undefined`. */
export function toBigInt(value: string): bigint | undefined {
  if (value.length > 20 || !INTEGER.test(value)) return undefined
  const n = BigInt(value)
  return n > INT64_MAX || n < INT64_MIN ? undefined : n
}

/** Whether a bigint fits in a signed 64-bit integer. */
export function fitsInt64(n: bigint): boolean {
  return n <= INT64_MAX && n >= INT64_MIN
}

/** An integer argument as a number, or the `ERR value is not an integer` error. */
export function integer(value: string, message = NOT_INTEGER): number {
  const n = toBigInt(value)
  if (n === undefined) throw fail(message)
  return Number(n)
}

/**
 * A float argument as Redis 7.0's `string2d` (`getDoubleFromObject`: ZADD, ZINCRBY) reads it, or
 * `undefined`: `strtod` over the whole string (hexadecimal and `inf` included), but no leading
 * white space, no NaN, and no overflow to an infinity or underflow to zero (`ERANGE`).
 */
export function toFloat(value: string): number | undefined {
  if (value === '' || C_SPACE_FIRST.test(value)) return undefined
  const n = strtod(value)
  if (n === undefined) return undefined
  if (!Number.isFinite(n)) return C_INFINITE.test(value) ? n : undefined
  if (n === 0 && NONZERO.test(mantissaOf(value))) return undefined
  return n
}

const C_SPACE_FIRST = /^[ \t\n\v\f\r]/
const NONZERO = /[1-9a-fA-F]/

/** The digits of a number's mantissa (before its exponent), hexadecimal prefix dropped. */
function mantissaOf(value: string): string {
  const hex = /^[+-]?0[xX]/.exec(value)
  if (hex !== null) return value.slice(hex[0].length).split(/[pP]/)[0] ?? ''
  return value.split(/[eE]/)[0] ?? ''
}

// C's `strtod` over a whole argument, as Redis's range parsers (`zslParseRange`) use it: leading
// white space skipped, decimal or hexadecimal (`0x1.8p3`), `inf`/`infinity` in any case; no
// trailing characters. An empty string (or nothing after the skipped spaces' absence) reads as 0,
// since `strtod` then converts nothing and stops at the string's end.
const C_SPACE = /^[ \t\n\v\f\r]*/
// One way to match each text (digits, then a `.` and digits): a failing match takes linear time.
const C_DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/
const C_HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/
const C_INFINITE = /^([+-]?)inf(?:inity)?$/i

/**
 * A whole argument as C's `strtod` reads it (what Redis's score ranges accept), or `undefined`
 * when characters are left over or it is NaN. Overflow gives an infinity and underflow 0, as
 * `strtod` returns them (the range parser does not look at `errno`).
 */
export function strtod(value: string): number | undefined {
  if (value === '') return 0
  const body = value.replace(C_SPACE, '')
  const inf = C_INFINITE.exec(body)
  if (inf !== null) return inf[1] === '-' ? -Infinity : Infinity
  if (C_DECIMAL.test(body)) return Number(body)
  const hex = C_HEX.exec(body)
  if (hex === null) return undefined
  const [, sign, whole = '', fraction = '', exponent] = hex
  // `0x` with no digit is read as `0` followed by `x`: left over.
  if (whole === '' && fraction === '') return undefined
  let big = BigInt(`0x${whole}${fraction}`)
  let power = Number(exponent ?? 0) - 4 * fraction.length
  // A mantissa past a double's range would read as Infinity: its top 1,000 bits are kept, with a
  // sticky bit for the rest (rounded once, as strtod rounds), and the exponent takes the others.
  const extra = 4 * `${whole}${fraction}`.replace(/^0+/, '').length - 1000
  if (extra > 0) {
    const rest = big & ((1n << BigInt(extra)) - 1n)
    big = (big >> BigInt(extra)) | (rest === 0n ? 0n : 1n)
    power += extra
  }
  const mantissa = Number(big)
  // Two steps, so that a power past a double's range on its own still scales a small mantissa.
  const half = Math.trunc(power / 2)
  const n = mantissa * 2 ** half * 2 ** (power - half)
  return sign === '-' ? -n : n
}

/**
 * A count of zero or more, as Redis's `getPositiveLongFromObjectOrReply` reads it: anything else,
 * a non-integer included, is refused with `message`.
 */
export function positiveCount(
  value: string,
  message = 'ERR value is out of range, must be positive',
): number {
  const n = toBigInt(value)
  if (n === undefined || n < 0n) throw fail(message)
  return Number(n)
}

/** A float argument, or the given error. */
export function float(value: string, message = NOT_FLOAT): number {
  const n = toFloat(value)
  if (n === undefined) throw fail(message)
  return n
}

/** A double as Redis 7.0 replies it (`%.17g`; `inf`, `-inf`): scores, `ZINCRBY`. */
export function formatDouble(x: number): string {
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  if (Object.is(x, -0)) return '-0'
  const [mantissa = '0', exp = '0'] = x.toExponential(16).split('e')
  const e = Number(exp)
  if (e < -4 || e >= 17) {
    const m = stripZeros(mantissa)
    const digits = String(Math.abs(e)).padStart(2, '0')
    return `${m}e${e < 0 ? '-' : '+'}${digits}`
  }
  return stripZeros(x.toFixed(Math.max(0, 16 - e)))
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s
  return s.replace(/0+$/, '').replace(/\.$/, '')
}

/** A number of a reply as a bulk string of its digits. */
export function digits(n: number | bigint): string {
  return String(n)
}
