import { itemBound, tooManyItemsError } from './_inspect-items.ts'
import { checkJsonValue, choseForm, NEEDS_PYTHON, NESTED_TOO_DEEP } from './_json-check.ts'
import { parsePythonJson, pythonFloat } from './_json-python.ts'
import {
  notJson,
  stringifyPython,
  stringifyWithPythonNumbers,
  toJsonNotJson,
} from './_json-write.ts'
import { MAX_JSON_DEPTH } from './_limits.ts'
import { own } from './_own.ts'
import { utf8Text } from './_utf8.ts'
import type { InspectingSerializer } from './codec.ts'
import type { Serializer } from './types.ts'

/** Options of `jsonSerializer`. */
export interface JsonSerializerOptions {
  /**
   * Write the exact bytes of Python's `json.dumps(value, cls=DjangoJSONEncoder)`: `", "` and
   * `": "` separators, `\uXXXX` escapes, Python float repr (`1e+16`), `NaN`/`Infinity` literals,
   * integers of any size. Needed where a value is compared as bytes by Redis — sorted-set members,
   * list elements, hash values used with `LPOS`/`ZSCORE` — and Django writes the same values.
   * Slower than the default `JSON.stringify`.
   * @default false
   */
  pythonFormat?: boolean
}

/**
 * JSON: the zero-dependency default. Writes UTF-8 JSON (`JSON.stringify`, or Python's exact form
 * with `pythonFormat`); reads everything Python's `json.dumps` writes, including `NaN`/`Infinity`
 * and integers beyond 2^53 (as `bigint`).
 *
 * What JSON cannot represent is refused with a `SerializationError` that says what to do instead,
 * rather than silently changed: a `Map` or `Set` (which `JSON.stringify` writes as `{}`), a
 * `Buffer` or typed array, a function or symbol inside an object or array (dropped, or `null` in
 * an array), an `undefined` array item (`null`), an instance of a class (read back as a plain
 * object) unless it has a `toJSON()`, a circular structure, and nesting deeper than 4,096 levels
 * (`MAX_JSON_DEPTH`, which the reader refuses). An object property whose value is `undefined` is
 * left out, as `JSON.stringify` does: reading it back gives `undefined` all the same. A `Date` is
 * written as an ISO string, as Django's `DjangoJSONEncoder` does, and reads back as that string.
 *
 * Numbers: `NaN` and `±Infinity` anywhere are written as Python's `json` writes them (`NaN`,
 * `Infinity`, `-Infinity`: not strict JSON, but what Python writes and reads), and `bigint`s as
 * digits. A number of 2^53 or more in magnitude, which `JSON.stringify` would write as the digits
 * of an integer of another value (`2 ** 60` as `1152921504606847000`), is written as Python
 * writes a float (`1.152921504606847e+18`), at the top level or inside a value; the rest of the
 * value is written as `JSON.stringify` writes it. What an object's own `toJSON()` returns is its
 * choice of form, written as `JSON.stringify` writes it (a number of 2^53 or more as digits).
 */
export function jsonSerializer(options: JsonSerializerOptions = {}): Serializer {
  const stringify = own(options, 'pythonFormat') === true ? stringifyChecked : stringifyFast
  const serializer: InspectingSerializer = {
    name: 'json',
    serialize: stringify,
    deserialize(data) {
      return parseText(utf8Text(data))
    },
    deserializeText: parseText,
    // For inspection tools (the admin UI): which numbers are whole floats (`1.0`), which
    // `deserialize` reads as ints.
    inspect: inspectJson,
  }
  return serializer
}

/**
 * `deserialize`'s value, but each whole float (a number written with a fraction or exponent,
 * `1.0`, `1e16`, `-0.0`, whose value is whole) a `Number` object of kind `'float'`. Always the
 * Python-compatible parser: it reads what `parseText` reads, as `parseText` does when it falls
 * back to it, and only it sees how a number was written.
 */
function inspectJson(
  data: Buffer,
  maxItems?: number,
): { value: unknown; kinds: Map<object, string> } {
  const text = utf8Text(data)
  // Refused before parsing: past the bound, the parse would build what no tool shows.
  const max = itemBound(maxItems)
  if (hasMoreItems(text, max)) throw tooManyItemsError('json', max)
  const kinds = new Map<object, string>()
  const value = parsePythonJson(text, MAX_JSON_DEPTH, kinds)
  return { value, kinds }
}

/**
 * Whether the JSON `text` holds more than `max` items (`MAX_INSPECT_ITEMS`: each value, the top
 * one too; an object's keys not counted): 1, plus one per comma and per array or object that is
 * not empty. First a count with `indexOf` of `[`, `{` and `,` (inside strings too), which is never
 * below that count less 1 (on 15 MiB of `[{},{},…]` it stops after 1.3 MB, in about 2 ms); only
 * when it is over, one exact pass, strings skipped.
 */
function hasMoreItems(text: string, max: number): boolean {
  if (max === Number.POSITIVE_INFINITY || text.length <= max) return false
  let rough = countUpTo(text, ',', max)
  if (rough < max) rough += countUpTo(text, '[', max - rough)
  if (rough < max) rough += countUpTo(text, '{', max - rough)
  return rough >= max && countItems(text, max) > max
}

/** The items of the JSON `text`, as `hasMoreItems` counts them, up to `max + 1`. */
function countItems(text: string, max: number): number {
  const n = text.length
  let items = 1
  for (let i = 0; i < n && items <= max; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      i = stringEnd(text, i)
    } else if (c === 0x2c) {
      items++
    } else if (c === 0x5b || c === 0x7b) {
      // Not empty: its first item has no comma before it.
      let j = i + 1
      while (j < n && isSpace(text.charCodeAt(j))) j++
      const next = text.charCodeAt(j)
      if (next !== 0x5d && next !== 0x7d) items++
    }
  }
  return items
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** `JSON.parse`, plus Python's `NaN`/`Infinity` literals and integers beyond 2^53 as `bigint`. */
function parseText(text: string): unknown {
  // JSON.parse builds whatever nesting it is given before the walk below can refuse it (32 million
  // nested arrays in a 64 MiB value cost it tens of seconds): a long text is measured first.
  const shallow = text.length > DEPTH_SCAN_FROM ? checkLongText(text) : isShallow(text)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    // Python's NaN/Infinity literals, or not JSON at all (then this throws too).
    if (text.includes('NaN') || text.includes('Infinity')) return parsePythonJson(text)
    throw error
  }
  // An integer beyond 2^53 lost digits in JSON.parse: parse again, keeping it as a bigint. Such
  // an integer is written with 16 digits or more, so a text without a run of 16 digits holds
  // none, and JSON.parse's value is exact (a float such as `1e16` parses to the same double
  // either way). That check looks at about one character in 16 (see `hasDigitRun`); the walk it
  // spares cost a fifth of JSON.parse's time on the bench's 97-byte value.
  if (shallow && !hasDigitRun(text, UNSAFE_DIGITS)) return value
  // The walk also bounds the nesting JSON.parse accepted, as parsePythonJson does.
  return hasUnsafeInteger(value, 0) ? parsePythonJson(text) : value
}

/** Integers of fewer digits are within ±(2^53 - 1) (2^53 has 16 digits). */
const UNSAFE_DIGITS = 16

/**
 * Texts shorter than this cannot nest arrays and objects deeper than `MAX_JSON_DEPTH` (each
 * level takes an opening and a closing bracket), which the walk would refuse.
 */
const SHALLOW_BELOW = 2 * (MAX_JSON_DEPTH + 1)

/**
 * Whether `text` (up to `DEPTH_SCAN_FROM` characters) is known to nest no deeper than
 * `MAX_JSON_DEPTH` without walking what it parses to: it is short, or it opens no more arrays and
 * objects than the limit (brackets inside strings counted too). Counting them with `indexOf` cost
 * 21–22 µs on the bench's 105 KB value (2,401 objects), the walk 53–57 µs and `JSON.parse`
 * 450–463 µs.
 */
function isShallow(text: string): boolean {
  return (
    text.length < SHALLOW_BELOW ||
    countUpTo(text, '[', MAX_JSON_DEPTH) + countUpTo(text, '{', MAX_JSON_DEPTH) <= MAX_JSON_DEPTH
  )
}

/**
 * Whether `text` holds `run` or more ASCII digits in a row (in a number or in a string: a string
 * only costs the walk). Looks at the last character of a window of `run` characters: a non-digit
 * there moves the window past it; a digit is followed back to the first non-digit before it, and
 * the next window ends `run` characters after that one (no run that long fits before it). On
 * the bench's 105 KB value of numbered rows it took 22 µs, where a scan forward and back from
 * each digit seen took 39 µs (`JSON.parse`: 500 µs).
 */
function hasDigitRun(text: string, run: number): boolean {
  const n = text.length
  let end = run - 1
  while (end < n) {
    if (!isDigit(text.charCodeAt(end))) {
      end += run
      continue
    }
    const start = end - run
    let i = end - 1
    while (i > start && isDigit(text.charCodeAt(i))) i--
    if (i === start) return true
    // text[i] is not a digit: a run starts after it.
    end = i + run
  }
  return false
}

/**
 * Whether the JSON `text` nests arrays and objects deeper than `MAX_JSON_DEPTH`: one pass,
 * strings skipped.
 */
function nestsTooDeep(text: string): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      i = stringEnd(text, i)
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) return true
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
  return false
}

/**
 * Where the JSON string whose opening quote is at `i` of `text` ends: its closing quote, past
 * each escaped character (`text.length` when it has none).
 */
function stringEnd(text: string, i: number): number {
  let at = i + 1
  for (; at < text.length; at++) {
    const c = text.charCodeAt(at)
    if (c === 0x5c) at++
    else if (c === 0x22) return at
  }
  return at
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function stringifyFast(value: unknown): string {
  // JSON.stringify writes 1e16 as digits (an int to Python, a bigint when read back) and a
  // lone NaN/±Infinity as null. (The codec writes safe integers as digits before this.) Inside
  // a value, the check says when such numbers must be written as Python writes them.
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return pythonFloat(value)
  // Refuses what JSON.stringify would change; NaN, ±Infinity, numbers of 2^53 or more and
  // bigints are then written apart, the rest as JSON.stringify writes it.
  if (typeof value === 'object' && value !== null && checkJsonValue(value) === NEEDS_PYTHON) {
    return stringifyWithPythonNumbers(value)
  }
  const chose = typeof value === 'object' && value !== null && choseForm()
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    // JSON.stringify refuses bigint (in what a toJSON() returned): written as digits. What a
    // toJSON() returned nested past its stack: the writer refuses it by its depth, in words.
    if (
      (error instanceof TypeError && /BigInt/i.test(error.message)) ||
      (error instanceof RangeError && chose)
    ) {
      return stringifyWithPythonNumbers(value)
    }
    throw error
  }
  // What a toJSON() returned was not walked: nested deeper than the reader reads, it is refused
  // (a short text, or one of few brackets, cannot be).
  if (chose && text !== undefined && !isShallow(text) && nestsTooDeep(text)) {
    throw new TypeError(NESTED_TOO_DEEP)
  }
  // JSON.stringify returns undefined for undefined, functions and symbols at the top level, and
  // for an object whose toJSON() returned one (not called again to tell which: say all three).
  if (text === undefined) {
    throw new TypeError(
      typeof value === 'object' && value !== null ? toJsonNotJson() : notJson(value),
    )
  }
  return text
}

/** Python's exact form, refusing what the default mode refuses. */
function stringifyChecked(value: unknown): string {
  // Python's form writes an array as a list, whatever its toJSON() says (Django's encoder).
  if (typeof value === 'object' && value !== null) checkJsonValue(value, false)
  return stringifyPython(value)
}

/**
 * Whether a JSON value holds an integral number beyond 2^53 (where digits may be lost, or that
 * JSON.stringify writes as digits), or a number literal too large for a double (`Infinity`: an
 * integer of hundreds of digits, which Python reads exactly, or a float such as `1e400`).
 * Throws when arrays and objects nest deeper than `MAX_JSON_DEPTH`.
 */
function hasUnsafeInteger(value: unknown, depth: number): boolean {
  if (typeof value === 'number') return isUnsafeInteger(value)
  return typeof value === 'object' && value !== null && hasUnsafeIntegerIn(value, depth)
}

/**
 * `hasUnsafeInteger` of an array or object. Numbers are checked in the loop, not by a call each:
 * on a 1.1 MB value of 24,000 rows the walk took 465 µs instead of 719 µs (`JSON.parse` 5.5 ms).
 */
function hasUnsafeIntegerIn(container: object, depth: number): boolean {
  if (depth >= MAX_JSON_DEPTH) {
    throw new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`)
  }
  if (Array.isArray(container)) {
    for (let i = 0; i < container.length; i++) {
      const item: unknown = container[i]
      if (typeof item === 'number') {
        if (isUnsafeInteger(item)) return true
      } else if (typeof item === 'object' && item !== null) {
        if (hasUnsafeIntegerIn(item, depth + 1)) return true
      }
    }
    return false
  }
  const object = container as Record<string, unknown>
  // Own keys only, as JSON.parse makes them: `for…in` would also visit an enumerable property of
  // Object.prototype (polluted). Object.keys measured no slower on 100 keys (2.8 µs vs 3.0 µs).
  const keys = Object.keys(object)
  for (let i = 0; i < keys.length; i++) {
    const item = object[keys[i] as string]
    if (typeof item === 'number') {
      if (isUnsafeInteger(item)) return true
    } else if (typeof item === 'object' && item !== null) {
      if (hasUnsafeIntegerIn(item, depth + 1)) return true
    }
  }
  return false
}

/** An integral number beyond ±(2^53 - 1), or ±Infinity (a literal too large for a double). */
function isUnsafeInteger(n: number): boolean {
  return !Number.isSafeInteger(n) && !isFractional(n)
}

/**
 * Texts up to this many characters are parsed without a depth scan: they nest at most 128 Ki
 * levels, which JSON.parse builds in about 50 ms before the walk refuses it (measured: 256 Ki
 * levels 100 ms, 1 Mi levels 0.5 s, 4 Mi levels 2.6 s). Longer ones are measured first.
 */
const DEPTH_SCAN_FROM = 256 * 1024

/**
 * Measures a long `text` before `JSON.parse`; returns whether its nesting is known to be within
 * `MAX_JSON_DEPTH` (else the walk after parsing bounds it). A text dense in opening brackets (more
 * than one in `DENSE_BRACKETS` characters, as `[[[[…` is) is scanned, and refused at the first
 * bracket past the limit: building 4 Mi levels costs `JSON.parse` 3 s. A sparser one costs
 * `JSON.parse` no more per byte than flat arrays it accepts (`[],[],…`: 1 Mi of them in 3 MB, 0.5
 * s; 4 Mi levels spaced by 8 blanks would be 36 MB), and is parsed first: scanning 1 MB of
 * records (an object per 44 characters) cost 2.2–2.6 ms, a third of its `JSON.parse`.
 */
function checkLongText(text: string): boolean {
  const dense = Math.floor(text.length / DENSE_BRACKETS)
  const opens = countUpTo(text, '[', dense) + countUpTo(text, '{', dense)
  if (opens <= MAX_JSON_DEPTH) return true
  if (opens <= dense) return false
  scanDepth(text)
  return true
}

/** Opening brackets per character above which a long text is scanned before parsing: 1 in 8. */
const DENSE_BRACKETS = 8

/** Throws when the brackets of `text` (outside strings) nest deeper than `MAX_JSON_DEPTH`. */
function scanDepth(text: string): void {
  let depth = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // To the closing quote: the next `"` after an even number of backslashes.
      let end = text.indexOf('"', i + 1)
      while (end !== -1) {
        let before = end - 1
        while (text.charCodeAt(before) === 0x5c) before--
        if ((end - 1 - before) % 2 === 0) break
        end = text.indexOf('"', end + 1)
      }
      if (end === -1) return
      i = end
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`)
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--
    }
  }
}

/** How many times `char` occurs in `text`, counting no further than `limit + 1`. */
function countUpTo(text: string, char: string, limit: number): number {
  let count = 0
  for (let at = text.indexOf(char); at !== -1 && count <= limit; at = text.indexOf(char, at + 1)) {
    count++
  }
  return count
}

/** A finite number with a fractional part (JSON.parse never gives NaN). */
function isFractional(value: number): boolean {
  return Number.isFinite(value) && !Number.isInteger(value)
}
