// Writing JSON where `JSON.stringify` alone will not do, without recursion (a value nested 4,096
// levels deep, or deeper inside what a `toJSON()` returned, writes as any other): Python's exact
// form (`json.dumps(value, cls=DjangoJSONEncoder)`, `pythonFormat`), and `JSON.stringify`'s form
// with the numbers it would change written as Python writes them (the default mode).
import { CIRCULAR, NESTED_TOO_DEEP } from './_json-check.ts'
import { INVALID_DATE } from './_json-date.ts'
import { pythonFloat, pythonString } from './_json-python.ts'
import { MAX_INTEGER_DIGITS, MAX_JSON_DEPTH } from './_limits.ts'
import { isDate } from './_plain.ts'

/** Numbers below this in magnitude `JSON.stringify` writes exactly (2^53: see `json.ts`). */
const EXACT_BELOW = 2 ** 53

/** An array or object being written: its parts so far, and what is left of it. */
interface Level {
  /** The array or object (taken out of the circular check when it closes). */
  readonly container: object
  /** Its keys, in order; `undefined` for an array. */
  readonly keys: readonly string[] | undefined
  /** A `Map`'s values, by the index of their keys (Python's form); else read off `container`. */
  readonly values: readonly unknown[] | undefined
  readonly length: number
  next: number
  readonly parts: string[]
  /** Its key's text and separator in the object that holds it (`''` in an array, at the top). */
  readonly lead: string
  /** Whether it is (inside) what a `toJSON()` returned: numbers as `JSON.stringify` writes them. */
  readonly chosen: boolean
}

/** What an object leaves out (an array writes `null` for it). */
const SKIP: unique symbol = Symbol('skip')

/**
 * Encodes `value` as `json.dumps(value, cls=DjangoJSONEncoder)` does: `", "` and `": "`
 * separators, `\uXXXX` escapes, Python float repr, `NaN`/`Infinity` literals, integers of any
 * size, dates as ISO strings cut to milliseconds with `Z`, a `Map` as a dict. Throws on what JSON
 * cannot hold (an invalid Date among them).
 */
export function stringifyPython(value: unknown): string {
  return writeJson(value, true)
}

/**
 * Encodes `value` as `JSON.stringify` does — its layout, `toJSON(key)`, boxed primitives, what it
 * leaves out — but for the numbers it would change: `NaN`, `±Infinity` and numbers of 2^53 or
 * more in magnitude, written as Python writes a float (`NaN`, `1.152921504606847e+18`), and
 * bigints, as digits. What a `toJSON()` returns is its choice of form: its numbers are written as
 * `JSON.stringify` writes them. So a value's form never depends on what else the value holds.
 */
export function stringifyWithPythonNumbers(value: unknown): string {
  return writeJson(value, false)
}

/** `stringifyPython` (`python`) or `stringifyWithPythonNumbers`: one level at a time. */
function writeJson(root: unknown, python: boolean): string {
  const seen = new Set<object>()
  const levels: Level[] = []
  const comma = python ? ', ' : ','
  const colon = python ? ': ' : ':'

  /**
   * The text of `value`, at `key` of its holder (an array's when `inArray`); `SKIP` for what an
   * object leaves out; `undefined` when it opened a level, whose text comes when it closes.
   */
  const item = (
    value: unknown,
    key: string,
    inArray: boolean,
    chosen: boolean,
    lead: string,
  ): string | typeof SKIP | undefined => {
    let v = value
    let own = chosen
    if (typeof v === 'object' && v !== null) {
      if (python) {
        // Django's encoder's order: a datetime, a list, a dict, then what toJSON() returns.
        if (!(isDate(v) || Array.isArray(v) || v instanceof Map)) {
          ;[v, own] = chosenForm(v, key, python, own)
        }
        // A Date of any realm (a `vm` context's too).
        if (isDate(v)) return pythonString(djangoDate(v))
      } else {
        ;[v, own] = chosenForm(v, key, python, own)
      }
    }
    switch (typeof v) {
      case 'string':
        return python ? pythonString(v) : JSON.stringify(v)
      case 'number':
        if (python) return Number.isSafeInteger(v) ? String(v) : pythonFloat(v)
        if (own) return Number.isFinite(v) ? String(v) : 'null'
        return Math.abs(v) < EXACT_BELOW ? String(v) : pythonFloat(v)
      case 'bigint':
        return bigintDigits(v)
      case 'boolean':
        return v ? 'true' : 'false'
      case 'object':
        if (v === null) return 'null'
        open(v, own, lead)
        return undefined
      case 'undefined':
        return inArray && python ? 'null' : SKIP
      default:
        // A function or a symbol: left out of an object; Python's form refuses one in an array.
        if (inArray && python) throw new TypeError(notJson(v))
        return SKIP
    }
  }

  const open = (v: object, chosen: boolean, lead: string): void => {
    if (seen.has(v)) throw new TypeError(CIRCULAR)
    // What a `toJSON()` returned is not checked before: bounded here (an endless chain of them
    // would fill the heap), as the reader bounds it.
    if (levels.length >= MAX_JSON_DEPTH) throw new TypeError(NESTED_TOO_DEEP)
    seen.add(v)
    let keys: string[] | undefined
    let values: unknown[] | undefined
    let length: number
    if (Array.isArray(v)) {
      length = v.length
    } else if (python && v instanceof Map) {
      keys = []
      values = []
      for (const [k, item] of v) {
        keys.push(String(k))
        values.push(item)
      }
      length = keys.length
    } else {
      keys = Object.keys(v)
      length = keys.length
    }
    levels.push({ container: v, keys, values, length, next: 0, parts: [], lead, chosen })
  }

  let text = item(root, '', false, false, '')
  if (text === SKIP) {
    throw new TypeError(typeof root === 'object' && root !== null ? toJsonNotJson() : notJson(root))
  }
  while (levels.length > 0) {
    const level = levels[levels.length - 1] as Level
    if (level.next === level.length) {
      levels.pop()
      seen.delete(level.container)
      const body = level.parts.join(comma)
      const closed = level.keys === undefined ? `[${body}]` : `{${body}}`
      const parent = levels[levels.length - 1]
      if (parent === undefined) text = closed
      else parent.parts.push(level.lead + closed)
      continue
    }
    const i = level.next++
    const keys = level.keys
    if (keys === undefined) {
      const got = item((level.container as unknown[])[i], String(i), true, level.chosen, '')
      if (got !== undefined) level.parts.push(got === SKIP ? 'null' : got)
    } else {
      const key = keys[i] as string
      const v =
        level.values === undefined
          ? (level.container as Record<string, unknown>)[key]
          : level.values[i]
      const lead = `${python ? pythonString(key) : JSON.stringify(key)}${colon}`
      const got = item(v, key, false, level.chosen, lead)
      if (got !== undefined && got !== SKIP) level.parts.push(lead + got)
    }
  }
  return text as string
}

/**
 * What is written for the object `v` at `key`, as `JSON.stringify` reads it: what its `toJSON`
 * returns (called once, with the key; a choice of form from then on, `chosen`), then a boxed
 * primitive as that primitive. Python's form refuses a `toJSON()` that returns nothing JSON holds.
 */
function chosenForm(v: object, key: string, python: boolean, chosen: boolean): [unknown, boolean] {
  let out: unknown = v
  let own = chosen
  const toJSON = (v as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') {
    out = toJSON.call(v, key)
    own = true
    if (python && (out === undefined || typeof out === 'function' || typeof out === 'symbol')) {
      throw new TypeError(toJsonNotJson(out))
    }
  }
  if (typeof out === 'object' && out !== null) {
    if (out instanceof Number) return [Number(out), own]
    if (out instanceof String) return [String(out), own]
    if (out instanceof Boolean) return [out.valueOf(), own]
    if (out instanceof BigInt) return [out.valueOf(), own]
  }
  return [out, own]
}

/** A bigint's digits; past Python's limit, refused (never write what is not read back). */
function bigintDigits(v: bigint): string {
  const digits = v.toString()
  if (digits.length - (v < 0n ? 1 : 0) > MAX_INTEGER_DIGITS) {
    throw new TypeError(`an integer of more than ${MAX_INTEGER_DIGITS} digits cannot be stored`)
  }
  return digits
}

/** Why `value` (`undefined`, a function or a symbol) cannot be written as JSON. */
export function notJson(value: unknown): string {
  if (value === undefined) return 'undefined cannot be stored as JSON (store null instead)'
  const type = typeof value
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} cannot be stored as JSON`
}

/**
 * Why an object whose `toJSON()` returned `json` (`undefined`, a function or a symbol) cannot be
 * written as JSON; `json` omitted when only that is known (`JSON.stringify` wrote nothing).
 */
export function toJsonNotJson(...json: [] | [unknown]): string {
  const returned =
    json.length === 0
      ? 'undefined, a function or a symbol'
      : json[0] === undefined
        ? 'undefined'
        : `a ${typeof json[0]}`
  return `an object whose toJSON() returned ${returned} cannot be stored as JSON: make toJSON() return null or another JSON value`
}

/** Date's own `toISOString()` and `getTime()`, as this module found them (a patched one may return anything). */
const toIsoString = Date.prototype.toISOString
const getTime = Date.prototype.getTime

/** DjangoJSONEncoder's datetime form: ISO 8601, milliseconds only when non-zero, `Z` for UTC. */
function djangoDate(date: Date): string {
  // toISOString() throws a bare "Invalid time value" for an invalid Date: say what to do instead.
  // Date's own methods: a subclass's or the value's own getTime() may say anything.
  if (Number.isNaN(getTime.call(date))) throw new TypeError(INVALID_DATE)
  const iso = toIsoString.call(date)
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso
}
