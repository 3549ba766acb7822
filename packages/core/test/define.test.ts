import { deflateSync, inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import {
  CompressionError,
  defineCompressor,
  defineSerializer,
  InvalidArgumentError,
  jsonSerializer,
} from '../src/index.ts'
import { runCompressorSuite, runSerializerSuite } from '../src/testing.ts'

const deflate = () =>
  defineCompressor({
    name: 'deflate',
    compress: (data) => deflateSync(data),
    decompress: (data, maxOutputLength) =>
      inflateSync(data, maxOutputLength === undefined ? {} : { maxOutputLength }),
    matches: (data) => data[0] === 0x78,
  })

runCompressorSuite('defineCompressor (deflate)', deflate)
// JSON's own functions, with the bytes read through deserializeText.
const json = jsonSerializer()
runSerializerSuite(
  'defineSerializer (text only)',
  () =>
    defineSerializer({
      name: 'json-text',
      serialize: json.serialize,
      deserializeText: json.deserializeText as (text: string) => unknown,
    }),
  { bigint: true, nonFinite: true },
)

describe('defineCompressor', () => {
  it('defaults minLength to 15 and keeps the given parts', () => {
    const c = deflate()
    expect(c.name).toBe('deflate')
    expect(c.minLength).toBe(15)
    expect(c.matches?.(Buffer.from([0x78, 0x9c, 0]))).toBe(true)
  })

  it('turns magic bytes into matches, for values longer than them', () => {
    const c = defineCompressor({
      name: 'm',
      compress: (d) => d,
      decompress: (d) => d,
      magic: Buffer.from([1, 2]),
    })
    expect(c.matches?.(Buffer.from([1, 2, 3]))).toBe(true)
    expect(c.matches?.(Buffer.from([1, 2]))).toBe(false)
    expect(c.matches?.(Buffer.from([1, 3, 3]))).toBe(false)
  })

  it('refuses an output beyond maxOutputLength even when decompress ignores it', () => {
    const c = defineCompressor({
      name: 'loose',
      minLength: 0,
      compress: (d) => d,
      decompress: () => Buffer.alloc(100),
    })
    expect(() => c.decompress(Buffer.from('x'), 10)).toThrow(CompressionError)
    expect(c.decompress(Buffer.from('x')).length).toBe(100)
  })

  it('refuses ill-typed parts with InvalidArgumentError', () => {
    const ok = { name: 'x', compress: (d: Buffer) => d, decompress: (d: Buffer) => d }
    expect(() => defineCompressor(null as never)).toThrow(InvalidArgumentError)
    expect(() => defineCompressor({ ...ok, name: '' })).toThrow(InvalidArgumentError)
    expect(() => defineCompressor({ ...ok, minLength: -1 })).toThrow(/minLength/)
    expect(() => defineCompressor({ ...ok, minLength: 1.5 })).toThrow(InvalidArgumentError)
    // A string is named as one, not shown as the number it looks like.
    expect(() => defineCompressor({ ...ok, minLength: '15' as never })).toThrow(
      "x: minLength must be a non-negative integer, got the string '15'",
    )
    expect(() => defineCompressor({ ...ok, compress: 1 as never })).toThrow(/compress/)
    expect(() => defineCompressor({ ...ok, decompress: undefined as never })).toThrow(
      InvalidArgumentError,
    )
    expect(() => defineCompressor({ ...ok, magic: Buffer.alloc(0) })).toThrow(/magic/)
    expect(() => defineCompressor({ ...ok, magic: Buffer.from([1]), matches: () => true })).toThrow(
      /not both/,
    )
  })
})

describe('defineSerializer', () => {
  it('reads bytes as UTF-8 text when only deserializeText is given', () => {
    const s = defineSerializer({ name: 't', serialize: String, deserializeText: (t) => `<${t}>` })
    expect(s.deserialize(Buffer.from('é'))).toBe('<é>')
    expect(s.deserializeText?.('a')).toBe('<a>')
  })

  it('has no deserializeText when none is given', () => {
    const s = defineSerializer({ name: 'b', serialize: String, deserialize: (d) => d.length })
    expect('deserializeText' in s).toBe(false)
  })

  it('refuses ill-typed parts with InvalidArgumentError', () => {
    expect(() => defineSerializer(undefined as never)).toThrow(InvalidArgumentError)
    expect(() => defineSerializer({ name: 1 as never, serialize: String })).toThrow(/name/)
    expect(() => defineSerializer({ name: 'x', serialize: String })).toThrow(/deserialize/)
    expect(() =>
      defineSerializer({ name: 'x', serialize: 'no' as never, deserialize: () => 1 }),
    ).toThrow(InvalidArgumentError)
  })
})
