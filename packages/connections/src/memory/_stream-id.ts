// Stream IDs of the in-memory backend: `<ms>-<seq>`, two unsigned 64-bit parts, held as one
// 128-bit `bigint` (`ms << 64 | seq`), so that comparing, incrementing (a carry moves to `ms`)
// and decrementing work as Redis's `streamCompareID` / `streamIncrID` / `streamDecrID` do.
import { fail } from './_reply.ts'

/** `18446744073709551615-18446744073709551615`, the ID `+` stands for. */
export const MAX_ID = (1n << 128n) - 1n
/** The largest 64-bit part. */
export const U64 = (1n << 64n) - 1n

export const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument'

/** An ID as Redis writes it. */
export function formatId(id: bigint): string {
  return `${id >> 64n}-${id & U64}`
}

/** How `parseId` reads an ID. */
export interface IdRules {
  /** The sequence of an ID given as `<ms>` alone: 0 for a start, the largest for an end. */
  missingSeq?: bigint
  /** Refuse `-` and `+`. */
  strict?: boolean
  /** Accept `<ms>-*` (XADD): `seqGiven` is then false. */
  autoSeq?: boolean
}

/**
 * An ID argument as Redis's `streamGenericParseIDOrReply` reads it, or `undefined` when invalid:
 * `-`, `+`, `<ms>` or `<ms>-<seq>` with each part as `string2ull` takes it (which falls back on
 * C's `strtoull`, leading spaces and sign included).
 */
export function parseId(
  arg: string,
  rules: IdRules = {},
): { id: bigint; seqGiven: boolean } | undefined {
  if (arg.length > 127) return undefined
  // Redis copies the argument into a C string: it ends at the first NUL byte.
  const nul = arg.indexOf('\0')
  const s = nul < 0 ? arg : arg.slice(0, nul)
  if (s === '-' || s === '+') {
    if (rules.strict === true) return undefined
    return { id: s === '-' ? 0n : MAX_ID, seqGiven: true }
  }
  const dash = s.indexOf('-')
  const ms = string2ull(dash < 0 ? s : s.slice(0, dash))
  if (ms === undefined) return undefined
  if (dash < 0) return { id: (ms << 64n) | (rules.missingSeq ?? 0n), seqGiven: true }
  const rest = s.slice(dash + 1)
  if (rules.autoSeq === true && rest === '*') return { id: ms << 64n, seqGiven: false }
  const seq = string2ull(rest)
  return seq === undefined ? undefined : { id: (ms << 64n) | seq, seqGiven: true }
}

/** An ID argument, or Redis's error for an invalid one. */
export function id(arg: string, rules: IdRules = {}): bigint {
  const parsed = parseId(arg, rules)
  if (parsed === undefined) throw fail(INVALID_ID)
  return parsed.id
}

const CANONICAL = /^-?(0|[1-9][0-9]*)$/
const STRTOULL = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/

/** Redis's `string2ull`: a canonical integer (not negative), else what `strtoull` accepts. */
function string2ull(s: string): bigint | undefined {
  if (s.length > 0 && s.length < 21 && CANONICAL.test(s) && s !== '-0') {
    const n = BigInt(s)
    if (n >= -(1n << 63n) && n < 1n << 63n) return n < 0n ? undefined : n
  }
  const match = STRTOULL.exec(s)
  if (match === null) return undefined
  const n = BigInt(match[2] as string)
  if (n > U64) return undefined
  return match[1] === '-' ? (U64 + 1n - n) & U64 : n
}

/**
 * A bound of a range (XRANGE, XPENDING, XAUTOCLAIM): `-`, `+`, an ID, or `(id` for an exclusive
 * one (the next or previous ID); `<ms>` alone takes `missingSeq`.
 */
export function bound(value: string, missingSeq: bigint, start: boolean): bigint {
  if (value.length > 1 && value[0] === '(') {
    const parsed = id(value.slice(1), { missingSeq, strict: true })
    if (start) {
      if (parsed === MAX_ID) throw fail('ERR invalid start ID for the interval')
      return parsed + 1n
    }
    if (parsed === 0n) throw fail('ERR invalid end ID for the interval')
    return parsed - 1n
  }
  return id(value, { missingSeq })
}
