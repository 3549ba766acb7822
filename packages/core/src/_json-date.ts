// How the JSON serializer's check (`_json-check.ts`) takes a Date. Date's own `toJSON()` writes
// what `toISOString()` returns, or `null` when the time it reads through `[Symbol.toPrimitive]`
// and `valueOf()` is no finite number: any of these methods the Date's own, a subclass's or
// patched makes the text the Date's choice of form, and a Date written as `null` is refused.

/**
 * Why an invalid Date (`getTime()` is NaN) is refused: `JSON.stringify` writes it as `null`, and
 * Python's form has no date to write. Shared with Python's writer, so both modes say the same.
 */
export const INVALID_DATE = 'an invalid Date would be stored as null: store null or a valid Date'

/** Why a Date whose own or patched `valueOf()` or `[Symbol.toPrimitive]()` gives no time is refused. */
const UNTIMED_DATE =
  "a Date whose valueOf() or [Symbol.toPrimitive]() gives no finite number would be stored as null (Date's toJSON() reads its time through them): store null or a Date of its own methods"

/** Date's own `toJSON()`, `toISOString()`, `valueOf()` and `[Symbol.toPrimitive]()`, as this module found them. */
const dateToJson = Date.prototype.toJSON
const dateToIso = Date.prototype.toISOString
const dateValueOf = Date.prototype.valueOf
const dateToPrimitive = Date.prototype[Symbol.toPrimitive]

/**
 * How a Date (of any realm) is written, checked as `_json-check.ts`'s `leaf` checks an object:
 * `'exact'` (JSON.stringify writes it as Date's `toJSON()` does), or `'chosen'` (its choice of
 * form: the check notes it, `chosen`); `undefined` when it has no `toJSON()` (a Date given
 * another prototype): then it is written as an object's own keys, and checked as any object.
 * Throws a `TypeError` for a Date that `toJSON()` would write as `null`.
 */
export function dateForm(value: object): 'exact' | 'chosen' | undefined {
  const {
    toJSON: toJson,
    toISOString: toIso,
    valueOf: toNumber,
    [Symbol.toPrimitive]: toPrimitive,
  } = value as Record<PropertyKey, unknown>
  if (typeof toJson !== 'function') return undefined
  // A toJSON() other than Date's (its own, a subclass's) is its choice of form, as an object's:
  // what it returns is bounded by the text's depth (`chosen`). Python's form writes the date.
  if (!isDates(toJson, dateToJson, 'toJSON')) return 'chosen'
  // Date's toJSON() reads the time first, through `[Symbol.toPrimitive]` and `valueOf()`, and
  // gives null when it is a number that is not finite (an invalid Date's NaN), whatever
  // `toISOString()` is: it would be read back as null. A patched one is asked as `toJSON()` asks.
  const timed =
    !isDates(toPrimitive, dateToPrimitive, '[Symbol.toPrimitive]') ||
    !isDates(toNumber, dateValueOf, 'valueOf')
  const invalid = Number.isNaN(Date.prototype.getTime.call(value))
  if (timed) {
    const time = timeOf(value, toPrimitive)
    if (typeof time === 'number' && !Number.isFinite(time)) throw new TypeError(UNTIMED_DATE)
  } else if (invalid) {
    throw new TypeError(INVALID_DATE)
  }
  // Then it writes what `toISOString()` returns: the Date's own, or a patched one, is a choice of
  // form too. Date's own throws for an invalid Date (a RangeError): refused so, typed.
  if (!isDates(toIso, dateToIso, 'toISOString')) return 'chosen'
  if (invalid) throw new TypeError(INVALID_DATE)
  if (timed) return 'chosen'
  // A subclass's or another realm's: JSON.stringify calls its toJSON() as an object's, with
  // frames of its own at each level (a bare RangeError at 4,095 levels), so the writer that
  // bounds the depth in words takes over then (`chosen`).
  return Object.getPrototypeOf(value) === Date.prototype ? 'exact' : 'chosen'
}

/**
 * Whether `f` is Date's own method `name` (`own`, as this module found it), or a built-in one of
 * that name: Date's of another realm (a `vm` context).
 */
function isDates(f: unknown, own: unknown, name: string): boolean {
  return (
    f === own ||
    (typeof f === 'function' &&
      f.name === name &&
      Function.prototype.toString.call(f) === `function ${name}() { [native code] }`)
  )
}

/**
 * What Date's `toJSON()` reads as the Date's time: `ToPrimitive(value, number)` — its
 * `[Symbol.toPrimitive]('number')`, else its `valueOf()`, or its `toString()` when that gives an
 * object. Only a number that is not finite makes `toJSON()` write `null`; a string, a symbol or
 * a bigint is written as the date (what throws here throws when it is written too).
 */
function timeOf(value: object, toPrimitive: unknown): unknown {
  if (typeof toPrimitive === 'function') return toPrimitive.call(value, 'number')
  if (toPrimitive !== undefined && toPrimitive !== null) return undefined
  const { valueOf: toNumber, toString: toText } = value as Record<string, unknown>
  for (const method of [toNumber, toText]) {
    if (typeof method !== 'function') continue
    const result: unknown = method.call(value)
    if (typeof result !== 'object' || result === null) return result
  }
  return undefined
}
