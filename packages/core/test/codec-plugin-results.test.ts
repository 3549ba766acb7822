// What the codec makes of a plug-in's result that breaks its contract (synchronous, returning
// bytes): a Uint8Array is taken as a Buffer over its memory; a Promise or anything else is
// refused with a typed error naming the plug-in, and a Promise's rejection is handled. The
// cache-level behaviour (the key in the message, both backends) is in
// packages/redis/test/codec-plugin-results.test.ts.
import { describe, expect, it } from 'vitest'
import {
  CompressionError,
  jsonSerializer,
  SerializationError,
  type Serializer,
} from '../src/index.ts'
import { Codec } from '../src/internal.ts'

const json = jsonSerializer()

function serializer(deserialize: (data: Buffer) => unknown, name = 'mine'): Serializer {
  return { name, serialize: (value) => JSON.stringify(value), deserialize }
}

describe('a deserialize that returns a thenable', () => {
  it('is refused as unreadable, its rejection handled', async () => {
    let handled = false
    const rejected = Promise.reject(new Error('async loads failed'))
    const original = rejected.then.bind(rejected)
    // biome-ignore lint/suspicious/noThenProperty: a Promise whose then records its handler
    rejected.then = ((ok: never, fail: never) => {
      if (fail !== undefined) handled = true
      return original(ok, fail)
    }) as typeof rejected.then
    const codec = new Codec([serializer(() => rejected)])
    expect(() => codec.decode(Buffer.from('{"a":1}'))).toThrow(
      /\(mine's deserialize returned a Promise; a serializer must be synchronous\)/,
    )
    expect(handled).toBe(true)
  })

  it('falls through to the next serializer, as a throwing one does', () => {
    const codec = new Codec([serializer(() => Promise.resolve(1)), json])
    expect(codec.decode(Buffer.from('{"a":1}'))).toEqual({ a: 1 })
  })

  it('inspect refuses it too', () => {
    const codec = new Codec([serializer(() => new Promise(() => {}))])
    expect(() => codec.inspect(Buffer.from('{"a":1}'))).toThrow(SerializationError)
  })

  it('a then getter that throws is unreadable, not a crash', () => {
    const hostile = Object.defineProperty({}, 'then', {
      get() {
        throw new Error('no then for you')
      },
    })
    const codec = new Codec([serializer(() => hostile)])
    expect(() => codec.decode(Buffer.from('{"a":1}'))).toThrow(SerializationError)
  })
})

describe('serialize, compress and decompress returning what is not bytes', () => {
  it.each([
    ['null', null, /mine's serialize returned null, not a Buffer/],
    ['a number', 42, /returned a number/],
    ['an array', [1], /returned an array/],
    ['a Promise', Promise.resolve('x'), /returned a Promise/],
  ])('serialize returning %s: SerializationError naming the serializer', (_, out, message) => {
    const codec = new Codec([{ ...json, name: 'mine', serialize: () => out as never }])
    expect(() => codec.encode({ a: 1 })).toThrow(SerializationError)
    expect(() => codec.encode({ a: 1 })).toThrow(message)
  })

  it('serialize returning a Uint8Array view: its own bytes, as a Buffer over the same memory', () => {
    const memory = new Uint8Array([0, 123, 125, 0])
    const codec = new Codec([{ ...json, serialize: () => memory.subarray(1, 3) as never }])
    const data = codec.encode({ a: 1 })
    expect(Buffer.isBuffer(data)).toBe(true)
    expect(String(data)).toBe('{}')
    expect((data as Buffer).buffer).toBe(memory.buffer)
  })

  it('the size limit applies to a Uint8Array as to a Buffer', () => {
    const codec = new Codec([{ ...json, serialize: () => new Uint8Array(20) as never }], [], {
      maxValueSize: 10,
    })
    expect(() => codec.encode({ a: 1 })).toThrow(/exceeds maxValueSize/)
  })

  it('compress returning undefined, decompress returning null: CompressionError naming the compressor', () => {
    const broken = {
      name: 'mine',
      minLength: 1,
      compress: () => undefined as never,
      decompress: () => null as never,
    }
    const codec = new Codec([json], [broken])
    expect(() => codec.encode('x'.repeat(10))).toThrow(CompressionError)
    expect(() => codec.encode('x'.repeat(10))).toThrow(/mine's compress returned undefined/)
    expect(() => codec.decode(Buffer.from('"xxxxxxxxxx"'))).toThrow(
      /mine's decompress returned null/,
    )
  })
})
