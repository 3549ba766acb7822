// `inspect` of the JSON serializer (for the admin UI): JS has one number type, so Python's `1.0`
// reads as 1, as an int would. `inspect` boxes each whole float (`new Number(1)`, kind 'float')
// so that a tool can show it as Python does and not offer to rewrite it as JSON (which would
// store an int); everything else is exactly what `deserialize` gives.
import { describe, expect, it } from 'vitest'
import { stringifyPython } from '../src/_json-write.ts'
import type { InspectingSerializer } from '../src/codec.ts'
import { Codec } from '../src/codec.ts'
import { jsonSerializer } from '../src/json.ts'

const serializer = jsonSerializer() as InspectingSerializer
const bytes = (text: string) => Buffer.from(text, 'utf8')
const inspect = (text: string) => serializer.inspect(bytes(text))
const deserialize = (text: string) => serializer.deserialize(bytes(text))
const isFloat = (kinds: ReadonlyMap<object, string>, v: unknown, n: number) =>
  v instanceof Number && kinds.get(v) === 'float' && Object.is(v.valueOf(), n)

/** `value` with every boxed float of `kinds` replaced by its number, in place; counts them. */
function unbox(value: unknown, kinds: ReadonlyMap<object, string>): { value: unknown; n: number } {
  let n = 0
  const walk = (v: unknown): unknown => {
    if (v instanceof Number && kinds.get(v) === 'float') {
      n++
      return v.valueOf()
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i])
    } else if (typeof v === 'object' && v !== null) {
      for (const key of Object.keys(v)) {
        const item = walk((v as Record<string, unknown>)[key])
        Object.defineProperty(v, key, { value: item, writable: true, enumerable: true })
      }
    }
    return v
  }
  return { value: walk(value), n }
}

describe('jsonSerializer().inspect: whole floats', () => {
  it('marks a whole float Python wrote, and deserialize still reads a plain number', () => {
    // json.dumps({'price': 1.0, 'name': 'a'}), as django-redis's JSONSerializer stores it
    const text = '{"price": 1.0, "name": "a"}'
    const { value, kinds } = inspect(text)
    const dict = value as { price: unknown; name: unknown }
    expect(isFloat(kinds, dict.price, 1)).toBe(true)
    expect(dict.name).toBe('a')
    expect(kinds.size).toBe(1)
    expect(deserialize(text)).toEqual({ price: 1, name: 'a' })
  })

  it('boxes every number written with a fraction or exponent whose value is whole', () => {
    for (const [token, n] of [
      ['1.0', 1],
      ['1e16', 1e16],
      ['1e+16', 1e16],
      ['-0.0', -0],
      ['-0e0', -0],
      ['0E5', 0],
      ['2.50E1', 25],
      ['-3.0', -3],
      ['12345678901234567890.0', 1.2345678901234567e19],
      ['1.7976931348623157e308', Number.MAX_VALUE],
    ] as const) {
      const { value, kinds } = inspect(token)
      expect(isFloat(kinds, value, n), token).toBe(true)
      expect(kinds.size).toBe(1)
      expect(Object.is(deserialize(token), n), token).toBe(true)
    }
  })

  it('leaves ints (-0 too, an int to Python) and other floats as deserialize reads them', () => {
    for (const token of [
      '1',
      '-0',
      '0',
      '1.5',
      '1e-7',
      '1E400',
      '-1e400',
      'NaN',
      'Infinity',
      '-Infinity',
      '9007199254740993',
      '-12345678901234567890',
      'true',
      'null',
      '"1.0"',
    ]) {
      const { value, kinds } = inspect(token)
      expect(kinds.size, token).toBe(0)
      expect(value, token).toEqual(deserialize(token))
    }
    expect(Object.is(inspect('-0').value, -0)).toBe(true)
    expect(inspect('9007199254740993').value).toBe(9007199254740993n)
  })

  it('marks floats in lists and dict values, at any depth', () => {
    const text = '[1.0, 1, 2.5, -0.0, 1e16, [3.0, {"a": [5.0]}], {"1.0": 6}, NaN]'
    const { value, kinds } = inspect(text)
    const [one, int, half, negZero, big, nested, dict, nan] = value as unknown[]
    expect(isFloat(kinds, one, 1)).toBe(true)
    expect(int).toBe(1)
    expect(half).toBe(2.5)
    expect(isFloat(kinds, negZero, -0)).toBe(true)
    expect(isFloat(kinds, big, 1e16)).toBe(true)
    const [three, inner] = nested as [unknown, { a: unknown[] }]
    expect(isFloat(kinds, three, 3)).toBe(true)
    expect(isFloat(kinds, inner.a[0], 5)).toBe(true)
    expect(dict).toEqual({ '1.0': 6 })
    expect(nan).toBeNaN()
    expect(kinds.size).toBe(5)
    expect(unbox(value, kinds).value).toEqual(deserialize(text))
  })

  it('refuses what deserialize refuses: nesting past 4,096 levels, bad JSON', () => {
    const deep = (n: number) => `${'['.repeat(n)}1.0${']'.repeat(n)}`
    expect(() => inspect(deep(4097))).toThrow(/nested deeper/)
    expect(() => deserialize(deep(4097))).toThrow(/nested deeper/)
    const { kinds } = inspect(deep(4096))
    expect(kinds.size).toBe(1)
    for (const bad of ['1.', '01', '{"a": 1,}', '[1.0', '-NaN', '1.0 2', '"\u0001"', '']) {
      expect(() => inspect(bad), bad).toThrow()
      expect(() => deserialize(bad), bad).toThrow()
    }
  })

  it('Codec.inspect reports them; integer digits stay an integer', () => {
    const codec = new Codec([jsonSerializer()])
    const { value, kinds, serializer: name } = codec.inspect(bytes('1.0'))
    expect(name).toBe('json')
    expect(kinds !== undefined && isFloat(kinds, value, 1)).toBe(true)
    expect(codec.inspect(bytes('1'))).toMatchObject({ value: 1, serializer: null })
  })
})

// Random JSON texts (seeded), in the layouts JSON.stringify and Python write, with numbers
// written every way JSON allows: inspect's value, its boxes unboxed, is deserialize's; each
// whole float written with a fraction or exponent is boxed, and nothing else.
describe('jsonSerializer().inspect matches deserialize (seeded random texts)', () => {
  let seed = 0x5eed
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const int = (max: number) => Math.floor(random() * max)

  const WHOLE = ['1.0', '-3.0', '0.0', '-0.0', '1e16', '2.50E1', '1E+2', '0e0', '1.5e3', '4.000']
  const NOT_WHOLE = ['1.5', '-0.25', '1e-7', '3.14159', '2.5E-1', '1E400', 'NaN', 'Infinity']
  const INTS = ['0', '-0', '7', '-42', '9007199254740993', '-123456789012345678901234567890']
  const STRINGS = ['"a"', '"1.0"', '"\\u00e9\\n"', '"é €"', '"\\ud800"', '"__proto__"', '""']
  const KEYS = ['"a"', '"b"', '"__proto__"', '"1"', '"1.0"', '"é"']

  /** A random JSON text, and how many whole floats it writes with a fraction or exponent. */
  function text(depth: number, floats: boolean, counter: { n: number }): string {
    const ws = () => pick(['', '', ' ', '\n  '])
    const roll = int(depth > 4 ? 6 : 8)
    switch (roll) {
      case 0:
        if (floats) {
          counter.n++
          return pick(WHOLE)
        }
        return pick(NOT_WHOLE)
      case 1:
        return pick(NOT_WHOLE)
      case 2:
        return pick(INTS)
      case 3:
        return pick(STRINGS)
      case 4:
        return pick(['true', 'false', 'null', '-Infinity', String(random() * 1000)])
      case 5:
        return String(int(1000) - 500)
      case 6: {
        const items = Array.from({ length: int(5) }, () => text(depth + 1, floats, counter))
        return `[${ws()}${items.join(`${ws()},${ws()}`)}${ws()}]`
      }
      default: {
        const items = Array.from(
          { length: int(5) },
          () => `${pick(KEYS)}${ws()}:${ws()}${text(depth + 1, floats, counter)}`,
        )
        return `{${ws()}${items.join(`,${ws()}`)}${ws()}}`
      }
    }
  }

  it('texts without whole floats: the same value, no kinds', () => {
    for (let round = 0; round < 2000; round++) {
      const counter = { n: 0 }
      const written = text(0, false, counter)
      const { value, kinds } = inspect(written)
      expect(kinds.size, written).toBe(0)
      expect(value, written).toEqual(deserialize(written))
    }
  })

  it('texts with whole floats: each boxed, the rest the same', () => {
    let boxed = 0
    for (let round = 0; round < 2000; round++) {
      const counter = { n: 0 }
      const written = text(0, true, counter)
      const { value, kinds } = inspect(written)
      const unboxed = unbox(value, kinds)
      // Duplicate keys drop a value, and a box with it.
      expect(unboxed.n, written).toBeLessThanOrEqual(counter.n)
      expect(kinds.size, written).toBe(counter.n)
      expect(unboxed.value, written).toEqual(deserialize(written))
      boxed += unboxed.n
    }
    expect(boxed).toBeGreaterThan(300)
  })

  it('Python-format and JSON.stringify texts of values with no whole float', () => {
    for (let round = 0; round < 500; round++) {
      const value = deserialize(text(0, false, { n: 0 }))
      for (const written of [stringifyPython(value), JSON.stringify(value, bigints)]) {
        if (written === undefined) continue
        const inspected = inspect(written)
        expect(inspected.value, written).toEqual(deserialize(written))
      }
    }
  })
})

/** JSON.stringify refuses bigints: written as strings here. */
function bigints(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? String(value) : value
}
