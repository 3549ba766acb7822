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
