// The JSON serializer refuses what JSON.stringify would silently change (issue 10); the cases
// against a real server are in packages/redis/test/error-messages.test.ts.
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { stringifyPython } from '../src/_json-write.ts'
import { jsonSerializer, MAX_JSON_DEPTH } from '../src/index.ts'

const fast = jsonSerializer()
const python = jsonSerializer({ pythonFormat: true })

function nested(levels: number): unknown[] {
  let value: unknown[] = []
  for (let i = 1; i < levels; i++) value = [value]
  return value
}

describe('jsonSerializer refusals', () => {
  it(`writes ${MAX_JSON_DEPTH} nested levels and refuses one more, without a stack overflow`, () => {
    const deepest = nested(MAX_JSON_DEPTH)
    const text = fast.serialize(deepest)
    expect(text).toBe(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)
    // Compared as text: a deep toEqual would overflow the stack itself.
    expect(fast.serialize(fast.deserialize(Buffer.from(text)))).toBe(text)
    expect(() => fast.serialize([deepest])).toThrow(
      `a value nested deeper than ${MAX_JSON_DEPTH} levels cannot be stored as JSON (it would not be read back)`,
    )
    // Objects and arrays alternating, and a bad value deep down, found by the deep walk too.
    let mixed: unknown = { bad: new Map() }
    for (let i = 0; i < 1000; i++) mixed = i % 2 === 0 ? [mixed] : { a: mixed }
    expect(() => fast.serialize(mixed)).toThrow(/a Map would be stored as \{\}/)
    let nan: unknown = [Number.NaN]
    for (let i = 0; i < 1000; i++) nan = { a: nan }
    expect(fast.deserialize(Buffer.from(fast.serialize(nan)))).toEqual(nan)
  })

  it('tells a circular value from a deep one', () => {
    const loop: unknown[] = [1]
    loop.push({ back: loop })
    for (const serializer of [fast, python]) {
      expect(() => serializer.serialize({ loop })).toThrow(
        'a circular structure cannot be stored as JSON',
      )
    }
    // A value seen twice, not in a cycle, is fine.
    const shared = { x: 1 }
    expect(fast.serialize([shared, shared])).toBe('[{"x":1},{"x":1}]')
  })

  it('accepts plain objects of another realm and with a null prototype', () => {
    const foreign = runInNewContext('({ a: [1, { b: "c" }] })') as object
    expect(fast.serialize(foreign)).toBe('{"a":[1,{"b":"c"}]}')
    const bare = Object.assign(Object.create(null) as object, { a: 1 })
    expect(python.serialize(bare)).toBe('{"a": 1}')
  })

  it('writes numbers of 2^53 or more inside a value as Python floats, read back as the same numbers', () => {
    // JSON.stringify writes 2 ** 60 as 1152921504606847000: Python and the reader took it for
    // an integer, and of another value (1152921504606847000n, not 2n ** 60n).
    const value = { n: 2 ** 60, l: [1e16, -(2 ** 53), 2 ** 53 - 1] }
    const text = fast.serialize(value)
    expect(text).toBe(
      '{"n":1.152921504606847e+18,"l":[1e+16,-9007199254740992.0,9007199254740991]}',
    )
    expect(fast.deserialize(Buffer.from(text))).toEqual(value)
    expect(fast.serialize({ n: 2 ** 53 - 1 })).toBe('{"n":9007199254740991}')
  })

  it('walks a value again by its own keys when a getter made Object.prototype enumerate one', () => {
    for (const added of [() => undefined, { deep: 1 }, 10n]) {
      const value = {
        a: {
          get x() {
            Object.defineProperty(Object.prototype, 'evil', {
              value: added,
              enumerable: true,
              configurable: true,
              writable: true,
            })
            return 1
          },
        },
        b: { c: 1 },
      }
      try {
        // JSON.stringify writes own keys only: so does the check, whatever the getter did.
        expect(fast.serialize(value)).toBe('{"a":{"x":1},"b":{"c":1}}')
      } finally {
        delete (Object.prototype as { evil?: unknown }).evil
      }
    }
  })

  it('a refusal stands when Object.prototype is as it was: a getter that answers otherwise later', () => {
    let reads = 0
    const value = {
      get g() {
        reads++
        return reads === 2 ? 1 : new Map()
      },
    }
    expect(() => fast.serialize(value)).toThrow(/a Map would be stored as \{\}/)
  })

  it('writes NaN and ±Infinity as Python does, bigints as digits, in both modes', () => {
    const value = {
      n: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
      b: 2n ** 64n,
    }
    const expected = '{"n": [NaN, Infinity, -Infinity], "b": 18446744073709551616}'
    expect(fast.serialize(value)).toBe(expected.replaceAll(', ', ',').replaceAll(': ', ':'))
    expect(python.serialize(value)).toBe(expected)
    expect(fast.deserialize(Buffer.from(expected))).toEqual(value)
  })

  it('writes the rest of a value that holds such a number as JSON.stringify does', () => {
    // Everything but the numbers JSON.stringify would change is written as it writes it, so a
    // field's form never depends on another field.
    const sample = (n: unknown) => ({
      d: new Date(0),
      boxed: { toJSON: () => new Number(5) },
      text: { toJSON: () => new String('s') },
      key: { toJSON: (key: string) => `at ${key}` },
      list: Object.assign([1, 2], { toJSON: () => 'list' }),
      gone: { toJSON: () => undefined },
      chosen: { toJSON: () => [2 ** 60, Number.NaN] },
      n,
    })
    const plain = JSON.stringify(sample(1))
    for (const n of [2 ** 60, Number.NaN, 10n]) {
      const numberText =
        typeof n === 'bigint' ? '10' : n === 2 ** 60 ? '1.152921504606847e+18' : 'NaN'
      expect(fast.serialize(sample(n))).toBe(plain.replace('"n":1', `"n":${numberText}`))
    }
    expect(plain).toBe(
      '{"d":"1970-01-01T00:00:00.000Z","boxed":5,"text":"s","key":"at key","list":"list",' +
        '"chosen":[1152921504606847000,null],"n":1}',
    )
  })

  it('writes values nested 4,096 levels deep that hold such numbers, in both modes', () => {
    for (const leaf of [1, Number.NaN, 2 ** 60, 10n]) {
      let value: unknown = [leaf]
      for (let i = 1; i < MAX_JSON_DEPTH; i++) value = i % 2 === 0 ? [value] : { a: value }
      for (const serializer of [fast, python]) {
        // Compared as text: a deep equality walk of 4,096 levels overflows the test's stack.
        const text = serializer.serialize(value) as string
        expect(serializer.serialize(serializer.deserialize(Buffer.from(text)))).toBe(text)
        expect(text).toContain(serializer === fast ? '{"a":[' : '{"a": [')
      }
    }
  })

  it('refuses what a toJSON() returns nested deeper than is read back, in both modes', () => {
    const deep = { toJSON: () => nested(MAX_JSON_DEPTH) }
    const refusal = `a value nested deeper than ${MAX_JSON_DEPTH} levels cannot be stored as JSON (it would not be read back)`
    // Inside an object, one level more than the reader reads: with or without a number that
    // takes Python's form, and past JSON.stringify's stack (10,000 levels) or within it (4,097).
    for (const levels of [MAX_JSON_DEPTH, 10_000]) {
      const x = { toJSON: () => nested(levels) }
      for (const value of [{ x }, { n: Number.NaN, x }, { x: [x] }]) {
        for (const serializer of [fast, python])
          expect(() => serializer.serialize(value)).toThrow(refusal)
      }
    }
    // At the top, 4,096 levels are written and read back.
    for (const serializer of [fast, python]) {
      const text = serializer.serialize(deep) as string
      expect(serializer.serialize(serializer.deserialize(Buffer.from(text)))).toBe(text)
    }
    // A chain of toJSON() that never ends is refused at that depth, not written until the heap
    // runs out.
    const endless = (): object => ({ toJSON: () => [endless()] })
    for (const serializer of [fast, python]) {
      expect(() => serializer.serialize({ n: Number.NaN, x: endless() })).toThrow(refusal)
      expect(() => serializer.serialize({ x: endless() })).toThrow(TypeError)
    }
    // A toJSON() the walk does not enumerate: an array's own, a non-enumerable one; and a getter
    // that stores a value itself (a check inside the check) while the walk goes on.
    const ownOnArray = Object.assign([1], { toJSON: () => nested(MAX_JSON_DEPTH + 1) })
    const hidden = Object.defineProperty({}, 'toJSON', { value: () => nested(MAX_JSON_DEPTH + 1) })
    const storing = {
      get inner() {
        fast.serialize({ plain: 1 })
        return 1
      },
      x: { toJSON: () => nested(MAX_JSON_DEPTH + 1) },
    }
    expect(() => fast.serialize(ownOnArray)).toThrow(refusal)
    // Python's form writes an array as a list, as Django's encoder does: its items are checked.
    expect(python.serialize(ownOnArray)).toBe('[1]')
    expect(() => python.serialize(Object.assign([undefined], { toJSON: () => 1 }))).toThrow(
      /undefined at index 0/,
    )
    for (const value of [hidden, storing]) {
      for (const serializer of [fast, python])
        expect(() => serializer.serialize(value)).toThrow(refusal)
    }
    // A Date's own toJSON(), or a subclass's, is its choice of form too (Python's form writes
    // the date): it was taken for Date's and not bounded, stored deeper than is read back.
    class Deep extends Date {
      override toJSON(): never {
        return nested(MAX_JSON_DEPTH + 1) as never
      }
    }
    for (const levels of [MAX_JSON_DEPTH, 10_000]) {
      const own = Object.assign(new Date(0), { toJSON: () => nested(levels) })
      for (const value of [{ d: own }, [own], new Deep(0), [new Deep(0)]])
        expect(() => fast.serialize(value)).toThrow(refusal)
      expect(python.serialize({ d: own })).toBe('{"d": "1970-01-01T00:00:00Z"}')
    }
    expect(fast.serialize(Object.assign(new Date(Number.NaN), { toJSON: () => 'x' }))).toBe('"x"')
    // What a toJSON() replaces is not walked: JSON.stringify never writes it.
    const replaced = { m: new Map(), toJSON: () => ({ ok: 1 }) }
    expect(fast.serialize(replaced)).toBe('{"ok":1}')
    // A cycle through a toJSON() says what a direct cycle says.
    const cyclic: Record<string, unknown> = { n: Number.NaN }
    cyclic.b = { toJSON: () => cyclic }
    expect(() => fast.serialize(cyclic)).toThrow('a circular structure cannot be stored as JSON')
  })

  it('writes strings, numbers, booleans, null and Dates as before', () => {
    expect(fast.serialize({ s: 'x', n: 1.5, t: true, z: null, d: new Date(0) })).toBe(
      '{"s":"x","n":1.5,"t":true,"z":null,"d":"1970-01-01T00:00:00.000Z"}',
    )
    expect(fast.serialize('text')).toBe('"text"')
    expect(() => fast.serialize(undefined)).toThrow(TypeError)
  })

  it('refuses an invalid Date (JSON.stringify would write null), plain and nested, in both modes', () => {
    const invalid = new Date('nope')
    const message = 'an invalid Date would be stored as null: store null or a valid Date'
    for (const serializer of [fast, python]) {
      for (const value of [
        invalid,
        { at: invalid },
        [1, invalid],
        { deep: [{ at: invalid }] },
        // With a NaN beside it: the value needs Python's writer, the Date is still refused.
        { n: Number.NaN, at: invalid },
      ]) {
        expect(() => serializer.serialize(value)).toThrow(message)
      }
    }
    // Python's writer refuses it too (JSON's check runs before it today; this is its own guard).
    expect(() => stringifyPython({ at: invalid })).toThrow(message)
    // A valid Date is still written as before.
    expect(python.serialize({ at: new Date(0) })).toBe('{"at": "1970-01-01T00:00:00Z"}')
    // A Date of another realm (a vm context's) as this realm's: an invalid one refused (it was
    // stored as null), a valid one in Python's form (it was written as JavaScript's).
    for (const serializer of [fast, python]) {
      expect(() => serializer.serialize({ at: runInNewContext('new Date(NaN)') })).toThrow(message)
    }
    expect(python.serialize({ at: runInNewContext('new Date(0)') })).toBe(
      '{"at": "1970-01-01T00:00:00Z"}',
    )
    expect(fast.serialize({ at: runInNewContext('new Date(0)') })).toBe(
      '{"at":"1970-01-01T00:00:00.000Z"}',
    )
    // A Date's own toISOString() (which Date's toJSON() calls) is its choice of form, bounded;
    // Python's form writes the date with Date's own, however the prototype's is patched.
    const ownIso = Object.assign(new Date(0), { toISOString: () => nested(MAX_JSON_DEPTH) })
    expect(() => fast.serialize({ at: ownIso })).toThrow(
      `a value nested deeper than ${MAX_JSON_DEPTH} levels cannot be stored as JSON`,
    )
    const patched = Date.prototype.toISOString
    Date.prototype.toISOString = () => 'patched'
    try {
      expect(python.serialize({ at: new Date(0) })).toBe('{"at": "1970-01-01T00:00:00Z"}')
    } finally {
      Date.prototype.toISOString = patched
    }
    // A Date subclass deep in a value (JSON.stringify spends frames on its toJSON(): a bare
    // RangeError at 4,095 levels) is written, and read back.
    class SubDate extends Date {}
    let deep: unknown = new SubDate(0)
    for (let i = 0; i < MAX_JSON_DEPTH - 1; i++) deep = [deep]
    for (const serializer of [fast, python]) {
      const text = serializer.serialize(deep) as string
      expect(
        text.endsWith(
          `"1970-01-01T00:00:00${serializer === fast ? '.000' : ''}Z"${']'.repeat(MAX_JSON_DEPTH - 1)}`,
        ),
      ).toBe(true)
      expect(serializer.serialize(serializer.deserialize(Buffer.from(text)))).toBe(text)
    }
  })

  it("refuses a Date whose valueOf() or [Symbol.toPrimitive]() gives no time (Date's toJSON() wrote null), and checks one given another prototype as that class's instance", () => {
    const untimed =
      /a Date whose valueOf\(\) or \[Symbol.toPrimitive\]\(\) gives no finite number would be stored as null/
    const ownValueOf = Object.assign(new Date(5), { valueOf: () => Number.NaN })
    const ownPrimitive = new Date(5)
    Object.defineProperty(ownPrimitive, Symbol.toPrimitive, {
      value: () => Number.POSITIVE_INFINITY,
    })
    for (const serializer of [fast, python]) {
      expect(() => serializer.serialize({ d: ownValueOf })).toThrow(untimed)
      expect(() => serializer.serialize({ d: ownPrimitive })).toThrow(untimed)
    }
    const dateValueOf = Date.prototype.valueOf
    Date.prototype.valueOf = () => Number.NaN
    try {
      expect(() => fast.serialize([new Date(0)])).toThrow(untimed)
    } finally {
      Date.prototype.valueOf = dateValueOf
    }
    // One that answers a number, or no number at all, is written as Date's toJSON() writes it
    // (the date, from its time): only a number that is not finite is written as null.
    const answers = Object.assign(new Date(5), { valueOf: () => 7 })
    // Date.prototype[Symbol.toPrimitive] is read-only: an own one is defined, not assigned.
    const primitive = (answer: () => unknown) =>
      Object.defineProperty(new Date(5), Symbol.toPrimitive, { value: answer })
    const text = primitive(() => 'abc')
    const symbol = primitive(() => Symbol('s'))
    const object = Object.assign(new Date(5), { valueOf: () => ({}) })
    for (const d of [answers, text, symbol, object]) {
      expect(fast.serialize({ d })).toBe(JSON.stringify({ d }))
      expect(fast.serialize({ d })).toBe('{"d":"1970-01-01T00:00:00.005Z"}')
    }
    // The time is read before toISOString() is called: an own or patched one does not save a
    // Date whose time is no finite number (or an invalid Date) from being written as null.
    const ownIso = Object.assign(new Date(5), {
      toISOString: () => 'iso',
      valueOf: () => Number.NaN,
    })
    expect(() => fast.serialize({ d: ownIso })).toThrow(untimed)
    const isoOfInvalid = Object.assign(new Date(Number.NaN), { toISOString: () => 'iso' })
    expect(() => fast.serialize({ d: isoOfInvalid })).toThrow(
      /an invalid Date would be stored as null/,
    )
    expect(fast.serialize({ d: Object.assign(new Date(5), { toISOString: () => 'iso' }) })).toBe(
      '{"d":"iso"}',
    )
    // A Date given a prototype without toJSON() is written as that object's own keys ({}):
    // refused as an instance of its class, as without the Date inside.
    class Event {}
    const moved = Object.setPrototypeOf(new Date(5), Event.prototype)
    for (const serializer of [fast, python]) {
      expect(() => serializer.serialize({ d: moved })).toThrow(
        /an Event instance would be read back as a plain object/,
      )
    }
  })

  it("reads Python's NaN/Infinity texts by JSON's grammar, refusing what Python refuses", () => {
    // The texts with NaN or Infinity go through Python's reader (JSON.parse refuses those
    // literals): its numbers and strings follow JSON's grammar, as json.loads (strict) does.
    for (const text of [
      '[0123, NaN]',
      '[.5, NaN]',
      '[1., NaN]',
      '[1e, NaN]',
      '[00, NaN]',
      '[-, NaN]',
      '["a\tb", NaN]',
    ]) {
      expect(() => fast.deserialize(Buffer.from(text)), text).toThrow()
    }
    expect(fast.deserialize(Buffer.from('[0, -0.5e-3, 1E+2, 10, NaN]'))).toEqual([
      0,
      -0.0005,
      100,
      10,
      Number.NaN,
    ])
  })
})
