import { parsePythonJson, pythonFloat, stringifyPython } from './_json-python.ts'
import { MAX_JSON_DEPTH } from './_limits.ts'
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
 * and integers beyond 2^53 (as `bigint`). Values JSON cannot represent — functions, symbols,
 * `undefined`, circular structures — are refused rather than silently changed. In the default
 * mode, as with `JSON.stringify`, `NaN` and `±Infinity` inside objects become `null`, and
 * `bigint`s inside objects are written as digits. A top-level number that is not a safe integer
 * is written as Python writes a float (`1e+16`, `NaN`); inside objects, `JSON.stringify` writes
 * an integral double beyond 2^53 as digits, which Python (and this reader) take for an integer
 * of the same value — use `pythonFormat` where such a number must stay a float.
 */
export function jsonSerializer(options: JsonSerializerOptions = {}): Serializer {
  const stringify = options.pythonFormat === true ? stringifyPython : stringifyFast
  return {
    name: 'json',
    serialize: stringify,
    deserialize(data) {
      return parseText(data.toString('utf8'))
    },
    deserializeText: parseText,
  }
}

/** `JSON.parse`, plus Python's `NaN`/`Infinity` literals and integers beyond 2^53 as `bigint`. */
function parseText(text: string): unknown {
  // JSON.parse builds whatever nesting it is given before the walk below can refuse it (32 million
  // nested arrays in a 64 MiB value cost it tens of seconds): a long text is measured first.
  if (text.length > DEPTH_SCAN_FROM) checkDepth(text)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    // Python's NaN/Infinity literals, or not JSON at all (then this throws too).
    if (text.includes('NaN') || text.includes('Infinity')) return parsePythonJson(text)
    throw error
  }
  // An integer beyond 2^53 lost digits in JSON.parse: parse again, keeping it as a bigint.
  // (Walking the parsed value is cheaper than scanning the text for long digit runs.) The walk
  // also bounds the nesting JSON.parse accepted, as parsePythonJson does.
  return hasUnsafeInteger(value, 0) ? parsePythonJson(text) : value
}

function stringifyFast(value: unknown): string {
  // JSON.stringify writes 1e16 as digits (an int to Python, a bigint when read back) and a
  // lone NaN/±Infinity as null. (The codec writes safe integers as digits before this.)
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return pythonFloat(value)
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch (error) {
    // JSON.stringify refuses bigint; Python's form writes it as digits.
    if (error instanceof TypeError && /BigInt/i.test(error.message)) return stringifyPython(value)
    throw error
  }
  // JSON.stringify returns undefined for undefined, functions and symbols at the top level.
  if (text === undefined) throw new TypeError(`a ${typeof value} cannot be stored as JSON`)
  return text
}

/**
 * Whether a JSON value holds an integral number beyond 2^53 (where digits may be lost, or that
 * JSON.stringify writes as digits), or a number literal too large for a double (`Infinity`: an
 * integer of hundreds of digits, which Python reads exactly, or a float such as `1e400`).
 * Throws when arrays and objects nest deeper than `MAX_JSON_DEPTH`.
 */
function hasUnsafeInteger(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'number' && !Number.isSafeInteger(value) && !isFractional(value)
  }
  if (depth >= MAX_JSON_DEPTH) {
    throw new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`)
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      if ((typeof item === 'object' && item !== null) || typeof item === 'number') {
        if (hasUnsafeInteger(item, depth + 1)) return true
      }
    }
    return false
  }
  const object = value as Record<string, unknown>
  for (const key in object) {
    const item = object[key]
    if ((typeof item === 'object' && item !== null) || typeof item === 'number') {
      if (hasUnsafeInteger(item, depth + 1)) return true
    }
  }
  return false
}

/**
 * Texts up to this many characters are parsed without a depth scan: they nest at most 128 Ki
 * levels, which JSON.parse builds in about 50 ms before the walk refuses it (measured: 256 Ki
 * levels 100 ms, 1 Mi levels 0.5 s, 4 Mi levels 2.6 s). Longer ones are measured first.
 */
const DEPTH_SCAN_FROM = 256 * 1024

/** Throws when the brackets of `text` (outside strings) nest deeper than `MAX_JSON_DEPTH`. */
function checkDepth(text: string): void {
  // Nesting deeper than the limit needs more opening brackets than the limit. Counting them with
  // indexOf (a memchr) costs about a millisecond per 4 MB; only a text with that many is walked
  // character by character (a walk costs about half of what JSON.parse does).
  if (
    countUpTo(text, '[', MAX_JSON_DEPTH) + countUpTo(text, '{', MAX_JSON_DEPTH) <=
    MAX_JSON_DEPTH
  ) {
    return
  }
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      // A backslash escapes the next character.
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
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
