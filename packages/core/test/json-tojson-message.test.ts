// A value whose toJSON() returns what JSON cannot hold (undefined, a function, a symbol) is refused
// with a message that names toJSON(), in both JSON modes; and the JSON refusals of a value's own
// type use the right article ("an object", never "a object").

import { describe, expect, it } from 'vitest'
import { Codec } from '../src/codec.ts'
import { jsonSerializer } from '../src/index.ts'

const fast = jsonSerializer()
const python = jsonSerializer({ pythonFormat: true })

/** What `serialize(value)` threw (failing the test when it did not). */
function refusal(serialize: (value: unknown) => unknown, value: unknown): Error {
  try {
    serialize(value)
  } catch (error) {
    return error as Error
  }
  throw new Error('serialize did not throw')
}

class Hidden {
  toJSON(): undefined {
    return undefined
  }
}

const modes: Array<[string, typeof fast]> = [
  ['default', fast],
  ['pythonFormat', python],
]

describe('json: a toJSON() that returns what JSON cannot hold', () => {
  const returns: Array<[string, unknown, string]> = [
    ['undefined', { toJSON: () => undefined }, 'undefined'],
    ['a function', { toJSON: () => () => 1 }, 'a function'],
    ['a symbol', { toJSON: () => Symbol('s') }, 'a symbol'],
    ['undefined, from a class', new Hidden(), 'undefined'],
  ]
  for (const [mode, serializer] of modes) {
    for (const [name, value, what] of returns) {
      it(`${mode}: names toJSON() when it returns ${name}`, () => {
        const error = refusal((v) => serializer.serialize(v), value)
        expect(error).toBeInstanceOf(TypeError)
        expect(error.message).toMatch(/toJSON\(\)/)
        expect(error.message).not.toMatch(/\ba (object|undefined)\b/)
        // The default mode knows only that JSON.stringify wrote nothing (toJSON is not called
        // twice); pythonFormat writes the result itself and names it.
        expect(error.message).toBe(
          mode === 'pythonFormat'
            ? `an object whose toJSON() returned ${what} cannot be stored as JSON: make toJSON() return null or another JSON value`
            : 'an object whose toJSON() returned undefined, a function or a symbol cannot be stored as JSON: make toJSON() return null or another JSON value',
        )
      })
    }
  }

  it('pythonFormat: names toJSON() for such an object inside a value too', () => {
    expect(() => python.serialize({ a: [1, { toJSON: () => undefined }] })).toThrow(
      'an object whose toJSON() returned undefined cannot be stored as JSON',
    )
  })

  it('through the codec (what cache.set() uses), after the serializer name', () => {
    expect(() => new Codec([fast]).encode({ toJSON: () => undefined })).toThrow(
      'json cannot serialize this value: an object whose toJSON() returned undefined, a function or a symbol cannot be stored as JSON',
    )
  })

  it('toJSON() is called once by the default mode, also when it returns undefined', () => {
    let calls = 0
    refusal((v) => fast.serialize(v), {
      toJSON: () => {
        calls++
        return undefined
      },
    })
    expect(calls).toBe(1)
  })

  it('a toJSON() that returns a JSON value is still written', () => {
    for (const [, serializer] of modes) {
      expect(serializer.serialize({ toJSON: () => null })).toBe('null')
      expect(serializer.serialize({ toJSON: () => ({ a: 1 }) })).toMatch(/^\{"a": ?1\}$/)
    }
  })
})

describe('json: refusals of a top-level value keep their words', () => {
  for (const [mode, serializer] of modes) {
    it(`${mode}: undefined, a function, a symbol`, () => {
      expect(() => serializer.serialize(undefined)).toThrow(
        'undefined cannot be stored as JSON (store null instead)',
      )
      expect(() => serializer.serialize(() => 1)).toThrow('a function cannot be stored as JSON')
      expect(() => serializer.serialize(Symbol('s'))).toThrow('a symbol cannot be stored as JSON')
    })
  }
})

describe('json: refusals of a value of another type name it with its article', () => {
  for (const [mode, serializer] of modes) {
    it(`${mode}: an Error instance, an ArrayBuffer, a Uint8Array`, () => {
      expect(refusal((v) => serializer.serialize(v), new Error('x')).message).toMatch(
        /^an Error instance would be read back as a plain object/,
      )
      expect(refusal((v) => serializer.serialize(v), new ArrayBuffer(2)).message).toMatch(
        /^an ArrayBuffer would be stored as an object of numbers/,
      )
      expect(refusal((v) => serializer.serialize(v), new Uint8Array(2)).message).toMatch(
        /^a Uint8Array would be stored as an object of numbers/,
      )
    })
  }
})
