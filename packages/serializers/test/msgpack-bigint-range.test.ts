// msgpack holds integers from -2^63 to 2^64-1 (int64 and uint64), as Python's msgpack does: a
// bigint beyond that range, anywhere in a value, is refused with cachex's own SerializationError
// (never msgpackr's advice, which names options msgpackSerializer() does not take), and the
// integers at the very ends of the range still read back as written.

import { SerializationError } from '@cachex/core'
import { Codec } from '@cachex/core/internal'
import { describe, expect, it } from 'vitest'
import { msgpackSerializer } from '../src/msgpack.ts'

const serializer = msgpackSerializer()
const codec = new Codec([serializer])

const INT64_MIN = -(2n ** 63n)
const UINT64_MAX = 2n ** 64n - 1n

/** What `serializer.serialize(value)` threw (failing the test when it did not). */
function refusal(value: unknown): Error {
  try {
    serializer.serialize(value)
  } catch (error) {
    return error as Error
  }
  throw new Error('serialize did not throw')
}

/** Each way a bigint can sit in a value: alone, in an object, an array, a Map, deep down. */
function placings(n: bigint): Array<[string, unknown]> {
  return [
    ['alone', n],
    ['in an object', { n }],
    ['in an array', [1, n]],
    ['as a Map value', new Map<string, unknown>([['n', n]])],
    ['as a Map value under a non-string key', new Map<unknown, unknown>([[7, n]])],
    ['in a null-prototype object', Object.assign(Object.create(null), { n })],
    ['deep down', { a: [{ b: new Map([['c', [[{ d: n }]]]]) }] }],
    ['after an int64 that is in range', [2 ** 40, UINT64_MAX, { n }]],
  ]
}

/**
 * `value` as msgpackSerializer() reads it back: a Map as a plain object keyed by property names, a
 * bigint within ±2^53 as a number (`int64AsType: 'auto'`).
 */
function asRead(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= -(2n ** 53n) && value <= 2n ** 53n ? Number(value) : value
  }
  if (Array.isArray(value)) return value.map(asRead)
  if (value instanceof Map) {
    return Object.fromEntries([...value].map(([key, item]) => [String(key), asRead(item)]))
  }
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, asRead(item)]))
  }
  return value
}

describe('msgpack: a bigint beyond 64 bits', () => {
  const beyond: Array<[string, bigint]> = [
    ['2^64', 2n ** 64n],
    ['-2^63-1', INT64_MIN - 1n],
    ['2^200', 2n ** 200n],
    ['-2^200', -(2n ** 200n)],
  ]
  for (const [label, n] of beyond) {
    for (const [where, value] of placings(n)) {
      it(`refuses ${label} ${where} with cachex's own message`, () => {
        const error = refusal(value)
        expect(error).toBeInstanceOf(SerializationError)
        expect(error.message).not.toMatch(
          /useBigIntExtension|largeBigIntToFloat|largeBigIntToString/,
        )
        expect(error.message).toMatch(/-2\^63 to 2\^64-1/)
        expect(error.message).toMatch(/pickle or JSON serializer, or as a string/)
        // Through the codec (what cache.set() uses): the same words, after the serializer's name.
        expect(() => codec.encode(value === n ? [value] : value)).toThrow(
          `msgpack cannot serialize this value: ${error.message}`,
        )
      })
    }
  }

  it('the message says what to do instead', () => {
    expect(refusal({ n: 2n ** 64n }).message).toBe(
      "a bigint beyond 64 bits cannot be stored as MessagePack, which holds integers from -2^63 to 2^64-1 (so does Python's msgpack, which reads what is written here): store it with the pickle or JSON serializer, or as a string",
    )
  })
})

describe('msgpack: the ends of the 64-bit range', () => {
  for (const n of [INT64_MIN, UINT64_MAX, 2n ** 63n, 2n ** 63n - 1n, INT64_MIN + 1n, 0n]) {
    for (const [where, value] of placings(n)) {
      it(`writes ${n} ${where}, read back as written`, () => {
        const data = serializer.serialize(value) as Buffer
        expect(serializer.deserialize(data)).toEqual(asRead(value))
      })
    }
  }

  it('a Map key beyond 64 bits is a property name (a string), not an integer: still written', () => {
    const data = serializer.serialize(new Map([[2n ** 64n, 1]])) as Buffer
    expect(serializer.deserialize(data)).toEqual({ '18446744073709551616': 1 })
  })
})

// msgpackr's 'auto' reads a 64-bit integer of ±2^53 as a number, which is not safe: written back,
// a float (Django then read 9007199254740992.0 where it had stored an int). The JSON and pickle
// readers give a bigint there. Bytes are Python's `msgpack.packb(value)`.
describe('msgpack: ±2^53 written by Python', () => {
  const hex = (text: string) => Buffer.from(text, 'hex')
  const cases: Array<[string, Buffer, unknown]> = [
    ['2^53', hex('cf0020000000000000'), 2n ** 53n],
    ['-2^53', hex('d3ffe0000000000000'), -(2n ** 53n)],
    // {'a': [2**53, 2**32 + 1]}: the other 64-bit integer in it stays a number.
    [
      '2^53 beside a safe uint64',
      hex('81a16192cf0020000000000000cf0000000100000001'),
      { a: [2n ** 53n, 2 ** 32 + 1] },
    ],
    // {'__proto__': -2**53} (a value read with Maps anyway).
    [
      '-2^53 under __proto__',
      hex('81a95f5f70726f746f5f5fd3ffe0000000000000'),
      JSON.parse('{"__proto__":0}'),
    ],
  ]
  for (const [label, data, expected] of cases) {
    it(`reads ${label} as a bigint, and writes it back as Python's bytes`, () => {
      const read = serializer.deserialize(data)
      if (label.endsWith('__proto__')) {
        expect(Object.getOwnPropertyDescriptor(read, '__proto__')?.value).toBe(-(2n ** 53n))
      } else {
        expect(read).toEqual(expected)
      }
      expect(Buffer.from(serializer.serialize(read) as Uint8Array).toString('hex')).toBe(
        data.toString('hex'),
      )
    })
  }

  it('reads ±(2^53 − 1) as numbers, as before', () => {
    expect(serializer.deserialize(hex('cf001fffffffffffff'))).toBe(2 ** 53 - 1)
    expect(serializer.deserialize(hex('d3ffe0000000000001'))).toBe(-(2 ** 53 - 1))
  })

  it("int64AsType: 'number' still reads 2^53 as a number", () => {
    expect(
      msgpackSerializer({ int64AsType: 'number' }).deserialize(hex('cf0020000000000000')),
    ).toBe(2 ** 53)
  })
})
