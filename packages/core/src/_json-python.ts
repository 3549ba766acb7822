// JSON as Python reads it: NaN/Infinity literals, integers of any size; and its float and string
// forms, which the writers (`_json-write.ts`) use.

import { MAX_INTEGER_DIGITS, MAX_JSON_DEPTH } from './_limits.ts'

/**
 * Parses JSON that Python may have written: like `JSON.parse`, plus the `NaN`, `Infinity` and
 * `-Infinity` literals, and integers beyond 2^53 as `bigint` (no digit lost). As Python's
 * `json.loads`, refuses integers of more than 4,300 digits (`MAX_INTEGER_DIGITS`: converting
 * them is quadratic). Nesting depth is bounded by `maxDepth` so hostile input cannot overflow the
 * stack. One pass, no regular expression: linear in the length of `text`.
 *
 * With `floats` (for inspection tools): a number written with a fraction or an exponent (`1.0`,
 * `1e16`, `-0.0`), a float to Python, whose value is whole — which JS cannot tell from an int —
 * is read as a `Number` object (`new Number(1)`), set in `floats` with the kind `'float'`. An
 * integer stays a number, `-0` too (Python's `json.loads('-0')` is the int 0).
 */
export function parsePythonJson(
  text: string,
  maxDepth = MAX_JSON_DEPTH,
  floats?: Map<object, string>,
): unknown {
  let i = 0
  const n = text.length
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${i} in JSON`)
  }
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i)
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++
      else break
    }
  }
  const literal = (word: string, value: unknown) => {
    if (text.startsWith(word, i)) {
      i += word.length
      return value
    }
    return fail('unexpected token')
  }
  const string = (): string => {
    // The quote is at text[i]. Find the end, then let JSON.parse decode escapes exactly.
    let j = i + 1
    let escaped = false
    for (; j < n; j++) {
      const c = text.charCodeAt(j)
      if (c === 0x5c) {
        escaped = true
        j++
      } else if (c === 0x22) break
      else if (c < 0x20) {
        // As JSON.parse and Python's json.loads (strict) refuse: a control character unescaped.
        i = j
        fail('invalid control character in a string')
      }
    }
    if (j >= n) fail('unterminated string')
    const raw = text.slice(i, j + 1)
    i = j + 1
    return escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1)
  }
  const isDigit = (c: number) => c >= 0x30 && c <= 0x39
  const digits = () => {
    while (i < n && isDigit(text.charCodeAt(i))) i++
  }
  const number = (): unknown => {
    const start = i
    if (text[i] === '-') i++
    if (text.startsWith('Infinity', i)) {
      i += 8
      return Number.NEGATIVE_INFINITY
    }
    // JSON's grammar, as Python's json reads it: `0` or a digit 1-9 and more digits, then an
    // optional fraction and exponent, each with at least one digit (`0123`, `.5`, `1.`, `1e`
    // are refused, as Python refuses them).
    if (text[i] === '0') i++
    else if (isDigit(text.charCodeAt(i))) digits()
    else fail('unexpected token')
    let integer = true
    if (text[i] === '.') {
      integer = false
      i++
      if (!isDigit(text.charCodeAt(i))) fail('expected a digit after the decimal point')
      digits()
    }
    if (text[i] === 'e' || text[i] === 'E') {
      integer = false
      i++
      if (text[i] === '+' || text[i] === '-') i++
      if (!isDigit(text.charCodeAt(i))) fail('expected a digit in the exponent')
      digits()
    }
    if (isDigit(text.charCodeAt(i))) fail('a number with a leading zero')
    const token = text.slice(start, i)
    const value = Number(token)
    if (Number.isNaN(value)) fail(`invalid number '${token}'`)
    if (integer && !Number.isSafeInteger(value)) {
      const digits = token.length - (token.charCodeAt(0) === 0x2d ? 1 : 0)
      if (digits > MAX_INTEGER_DIGITS) {
        i = start
        fail(`integer of more than ${MAX_INTEGER_DIGITS} digits (${digits})`)
      }
      return BigInt(token)
    }
    if (floats !== undefined && !integer && Number.isInteger(value)) {
      const box = new Number(value)
      floats.set(box, 'float')
      return box
    }
    return value
  }
  // `depth`: how many arrays and objects enclose this value; at most `maxDepth` may nest.
  const value = (depth: number): unknown => {
    ws()
    const c = text[i]
    if ((c === '{' || c === '[') && depth >= maxDepth) fail(`nested deeper than ${maxDepth} levels`)
    switch (c) {
      case '{': {
        i++
        const object: Record<string, unknown> = {}
        ws()
        if (text[i] === '}') {
          i++
          return object
        }
        for (;;) {
          ws()
          if (text[i] !== '"') fail('expected a string key')
          const key = string()
          ws()
          if (text[i] !== ':') fail("expected ':'")
          i++
          const item = value(depth + 1)
          // Own property even for "__proto__", as JSON.parse does.
          Object.defineProperty(object, key, {
            __proto__: null,
            value: item,
            writable: true,
            enumerable: true,
            configurable: true,
          } as PropertyDescriptor)
          ws()
          if (text[i] === ',') {
            i++
            continue
          }
          if (text[i] === '}') {
            i++
            return object
          }
          fail("expected ',' or '}'")
        }
      }
      case '[': {
        i++
        const array: unknown[] = []
        ws()
        if (text[i] === ']') {
          i++
          return array
        }
        for (;;) {
          array.push(value(depth + 1))
          ws()
          if (text[i] === ',') {
            i++
            continue
          }
          if (text[i] === ']') {
            i++
            return array
          }
          fail("expected ',' or ']'")
        }
      }
      case '"':
        return string()
      case 't':
        return literal('true', true)
      case 'f':
        return literal('false', false)
      case 'n':
        return literal('null', null)
      case 'N':
        return literal('NaN', Number.NaN)
      case 'I':
        return literal('Infinity', Number.POSITIVE_INFINITY)
      default:
        return number()
    }
  }
  const result = value(0)
  ws()
  if (i !== n) fail('unexpected data after JSON')
  return result
}

/** A float as Python's `repr(float)`: `1.5`, `1e+16`, `1e-07`, `nan` written as `NaN`. */
export function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return 'Infinity'
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity'
  if (Object.is(value, -0)) return '-0.0'
  // Shortest round-trip digits, as Python's repr uses too; only the layout differs.
  const [mantissa = '', exp = '0'] = value.toExponential().split('e')
  const exponent = Number(exp)
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const sign = negative ? '-' : ''
  if (exponent >= -4 && exponent < 16) {
    // Fixed notation, always with a fractional part ("1.0").
    let text: string
    if (exponent >= 0) {
      const whole = digits.padEnd(exponent + 1, '0')
      const intPart = whole.slice(0, exponent + 1)
      const frac = whole.slice(exponent + 1)
      text = `${intPart}.${frac === '' ? '0' : frac}`
    } else {
      text = `0.${'0'.repeat(-exponent - 1)}${digits}`
    }
    return sign + text
  }
  const m = digits.length === 1 ? digits : `${digits[0]}.${digits.slice(1)}`
  const e = Math.abs(exponent)
  return `${sign}${m}e${exponent < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
}
// Everything Python's ensure_ascii escapes: quotes, backslash, anything outside ' '..'~'.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly what Python escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/g

/** A string as Python's `json.dumps` (ensure_ascii) writes it. */
export function pythonString(text: string): string {
  return `"${text.replace(NEEDS_ESCAPE, (c) => {
    const short = ESCAPES[c]
    if (short !== undefined) return short
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  })}"`
}
