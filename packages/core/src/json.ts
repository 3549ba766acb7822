import { parsePythonJson, stringifyPython } from './_json-python.ts'
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

// Integers with 16 or more digits may be beyond 2^53; NaN/Infinity are Python's literals.
const NEEDS_SLOW_PARSE = /\d{16}/

/**
 * JSON: the zero-dependency default. Writes UTF-8 JSON (`JSON.stringify`, or Python's exact form
 * with `pythonFormat`); reads everything Python's `json.dumps` writes, including `NaN`/`Infinity`
 * and integers beyond 2^53 (as `bigint`). Values JSON cannot represent — functions, symbols,
 * `undefined`, circular structures — are refused rather than silently changed. In the default
 * mode, as with `JSON.stringify`, `NaN` and `±Infinity` inside objects become `null`, and
 * `bigint`s inside objects are written as digits.
 */
export function jsonSerializer(options: JsonSerializerOptions = {}): Serializer {
  const stringify = options.pythonFormat === true ? stringifyPython : stringifyFast
  return {
    name: 'json',
    serialize: stringify,
    deserialize(data) {
      const text = data.toString('utf8')
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch (error) {
        // Python's NaN/Infinity literals, or not JSON at all (then this throws too).
        if (text.includes('NaN') || text.includes('Infinity')) return parsePythonJson(text)
        throw error
      }
      return NEEDS_SLOW_PARSE.test(text) ? parsePythonJson(text) : value
    },
  }
}

function stringifyFast(value: unknown): string {
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
