// Integers stored as digits are bounded by the digit limit, not by `maxValueSize`: the codec
// writes an integer as its digits whatever their number (up to `MAX_INTEGER_DIGITS`), and Redis's
// INCRBY grows them, so the reader takes them back past `maxValueSize` as well.
import { parseInteger } from './_integer.ts'
import { MAX_INTEGER_DIGITS } from './_limits.ts'

/**
 * The longest stored value read as an integer past `maxValueSize`: the longest form of an
 * integer within the digit limit, 4,300 digits with a `_` between each two and a sign (8,600
 * bytes). Surrounding whitespace counts against it, so that reading past `maxValueSize` costs
 * no more than this many bytes scanned.
 */
export const MAX_INTEGER_FORM_BYTES = 2 * MAX_INTEGER_DIGITS

/**
 * `parseInteger` for a stored value longer than `maxValueSize` (the rare path of `Codec.decode`):
 * the integer it holds, or `undefined` when it is no integer (of at most `MAX_INTEGER_DIGITS`
 * digits) or is longer than `MAX_INTEGER_FORM_BYTES` — the caller then refuses it as too large.
 * An integer is ASCII, so a text's length in code units is its length in bytes.
 */
export function integerPastLimit(data: Buffer | string): number | bigint | undefined {
  return data.length > MAX_INTEGER_FORM_BYTES ? undefined : parseInteger(data)
}
