// What one hostile or oversized stored value may cost the Codec: maxValueSize, Python's 4,300-digit
// integer limit, JSON nesting. The same limits against a real Redis: packages/redis/test/limits.test.ts.
import { deflateSync, inflateSync } from 'node:zlib'
import { describe, expect, it, vi } from 'vitest'
import {
  CompressionError,
  type Compressor,
  DEFAULT_MAX_VALUE_SIZE,
  decompressionLimitError,
  InvalidArgumentError,
  jsonSerializer,
  MAX_INTEGER_DIGITS,
  MAX_JSON_DEPTH,
  SerializationError,
  type Serializer,
} from '../src/index.ts'
import { Codec, parseInteger } from '../src/internal.ts'

/** A zlib compressor that honours maxOutputLength through node:zlib. */
function zlib(minLength = 0): Compressor {
  return {
    name: 'zlib',
    minLength,
    compress: (data) => deflateSync(data),
    decompress(data, max) {
      try {
        return inflateSync(data, max === undefined ? {} : { maxOutputLength: max })
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
          throw decompressionLimitError('zlib', max as number, { cause: error })
        }
        throw error
      }
    },
  }
}

/** A zlib compressor written before maxOutputLength existed: it ignores the limit. */
function careless(): Compressor {
  return {
    name: 'careless',
    minLength: 0,
    compress: deflateSync,
    decompress: (d) => inflateSync(d),
  }
}

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (error) {
    return error as Error
  }
  throw new Error('expected a throw')
}

/** Milliseconds `fn` takes. */
function timed(fn: () => void): number {
  const start = performance.now()
  fn()
  return performance.now() - start
}

describe('maxValueSize in the Codec', () => {
  it('defaults to 64 MiB; null means no limit; anything else but a positive integer is refused', () => {
    expect(DEFAULT_MAX_VALUE_SIZE).toBe(67_108_864)
    expect(new Codec([jsonSerializer()]).maxValueSize).toBe(DEFAULT_MAX_VALUE_SIZE)
    expect(new Codec([jsonSerializer()], [], { maxValueSize: null }).maxValueSize).toBeNull()
    expect(new Codec([jsonSerializer()], [], { maxValueSize: 10 }).maxValueSize).toBe(10)
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', 2 ** 60]) {
      expect(() => new Codec([jsonSerializer()], [], { maxValueSize: bad as number })).toThrow(
        InvalidArgumentError,
      )
    }
  })

  it('hands the limit to every compressor it tries, and nothing when there is none', () => {
    const compressor = zlib()
    const spy = vi.spyOn(compressor, 'decompress')
    const stored = deflateSync('"hello"')
    new Codec([jsonSerializer()], [compressor], { maxValueSize: 1234 }).decode(stored)
    expect(spy).toHaveBeenLastCalledWith(stored, 1234)
    new Codec([jsonSerializer()], [compressor], { maxValueSize: null }).decode(stored)
    expect(spy).toHaveBeenLastCalledWith(stored, undefined)
  })

  it('a value of exactly maxValueSize bytes reads; one byte more is a CompressionError naming it', () => {
    const value = 'x'.repeat(998) // 1,000 bytes of JSON
    const stored = deflateSync(JSON.stringify(value))
    const exact = new Codec([jsonSerializer()], [zlib()], { maxValueSize: 1000 })
    expect(exact.decode(stored)).toBe(value)
    const smaller = new Codec([jsonSerializer()], [zlib()], { maxValueSize: 999 })
    const error = thrown(() => smaller.decode(stored))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe('zlib: decompressed value exceeds maxValueSize (999 bytes)')
  })

  it('never reads a refused compressed value as raw bytes, and tries no further compressor', () => {
    const next = zlib()
    const spy = vi.spyOn(next, 'decompress')
    const json = spySerializer()
    const codec = new Codec([json], [zlib(), next], { maxValueSize: 100 })
    expect(() => codec.decode(deflateSync(Buffer.alloc(10_000, 0x20)))).toThrow(CompressionError)
    expect(spy).not.toHaveBeenCalled()
    expect(json.read).toBe(0)
  })

  it('checks the output of a compressor that ignores the limit', () => {
    const codec = new Codec([jsonSerializer()], [careless()], { maxValueSize: 100 })
    const error = thrown(() => codec.decode(deflateSync(JSON.stringify('y'.repeat(200)))))
    expect(error).toBeInstanceOf(CompressionError)
    expect(error.message).toBe('careless: decompressed value exceeds maxValueSize (100 bytes)')
  })

  it('still reads other errors of a compressor as "not this format"', () => {
    const codec = new Codec([jsonSerializer()], [zlib()], { maxValueSize: 100 })
    expect(codec.decode(Buffer.from('{"raw": true, "longer": "than fifteen bytes"}'))).toEqual({
      raw: true,
      longer: 'than fifteen bytes',
    })
  })

  it('refuses an uncompressed stored value beyond the limit before deserializing it', () => {
    for (const compressors of [[], [zlib()]]) {
      const json = spySerializer()
      const codec = new Codec([json], compressors, { maxValueSize: 10 })
      expect(codec.decode(Buffer.from('"123456"'))).toBe('123456') // 8 bytes
      const error = thrown(() => codec.decode(Buffer.from('"123456789012"')))
      expect(error).toBeInstanceOf(SerializationError)
      expect(error.message).toBe('a stored value of 14 bytes exceeds maxValueSize (10 bytes)')
      expect(json.read).toBe(1)
    }
  })

  it('measures text replies in UTF-8 bytes', () => {
    const codec = new Codec([jsonSerializer()], [], { maxValueSize: 12 })
    expect(codec.readsText).toBe(true)
    expect(codec.decode('"ééééé"')).toBe('ééééé') // 12 bytes in UTF-8, 7 code units
    expect(() => codec.decode('"éééééé"')).toThrow(/14 bytes exceeds maxValueSize \(12 bytes\)/)
    expect(() => codec.decode(`"${'a'.repeat(11)}"`)).toThrow(SerializationError)
  })

  it('refuses to write a value whose serialized form exceeds the limit', () => {
    const codec = new Codec([jsonSerializer()], [zlib()], { maxValueSize: 12 })
    expect(codec.encode('ééééé')).toBeInstanceOf(Buffer)
    const error = thrown(() => codec.encode('éééééé'))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toBe('the serialized value (14 bytes) exceeds maxValueSize (12 bytes)')
    const bytes: Serializer = {
      name: 'bytes',
      serialize: () => Buffer.alloc(13),
      deserialize: () => 0,
    }
    expect(() => new Codec([bytes], [], { maxValueSize: 12 }).encode({})).toThrow(/13 bytes/)
    // Integers are digits, never beyond 4,300 of them: no limit applies.
    expect(codec.encode(10n ** 100n)).toBe(`1${'0'.repeat(100)}`)
  })

  it('with null, reads and writes any size', () => {
    const codec = new Codec([jsonSerializer()], [careless()], { maxValueSize: null })
    const big = 'z'.repeat(100_000)
    expect(codec.decode(codec.encode(big) as Buffer)).toBe(big)
  })
})

describe('integers: at most 4,300 digits, as Python', () => {
  it('parseInteger reads 4,300 digits and refuses 4,301 (underscores and zeros count as Python counts)', () => {
    expect(MAX_INTEGER_DIGITS).toBe(4300)
    const most = '9'.repeat(4300)
    expect(parseInteger(Buffer.from(most))).toBe(BigInt(most))
    expect(parseInteger(most)).toBe(BigInt(most))
    expect(parseInteger(Buffer.from(`-${most}`))).toBe(-BigInt(most))
    expect(parseInteger(Buffer.from(`9${most}`))).toBeUndefined()
    expect(parseInteger(`0${most}`)).toBeUndefined() // leading zeros are digits to Python too
    const grouped = most.replace(/(\d{100})/g, '$1_').replace(/_$/, '')
    expect(parseInteger(Buffer.from(` ${grouped} `))).toBe(BigInt(most))
  })

  it('gives up on 32 million digits in microseconds, not 10 s of BigInt', () => {
    const digits = Buffer.alloc(32_000_000, '9')
    let result: unknown = 0
    // The cap stops the scan after 4,301 digits; a generous bound that holds on a busy machine.
    expect(timed(() => (result = parseInteger(digits)))).toBeLessThan(500)
    expect(result).toBeUndefined()
    const text = digits.toString('latin1') // 32 MB of text: hundreds of ms under load, not timed
    expect(timed(() => (result = parseInteger(text)))).toBeLessThan(500)
    expect(result).toBeUndefined()
  })

  it('a Codec reads them as the serializer does: JSON refuses more than 4,300 digits', () => {
    const codec = new Codec([jsonSerializer()])
    const text = '9'.repeat(32_000_000)
    let error: Error | undefined
    expect(timed(() => (error = thrown(() => codec.decode(text))))).toBeLessThan(5000)
    expect(error).toBeInstanceOf(SerializationError)
    expect(error?.message).toMatch(/integer of more than 4300 digits/)
  })

  it('writing refuses a bigint of more than 4,300 digits, alone or inside JSON', () => {
    const codec = new Codec([jsonSerializer()])
    expect(codec.encode(10n ** 4299n)).toHaveLength(4300)
    expect(() => codec.encode(10n ** 4300n)).toThrow(SerializationError)
    expect(() => codec.encode(-(10n ** 4300n))).toThrow(/4300 digits/)
    expect(() => codec.encode({ n: 10n ** 4300n })).toThrow(SerializationError)
    expect(() => jsonSerializer({ pythonFormat: true }).serialize([10n ** 4300n])).toThrow(
      /4300 digits/,
    )
  })
})

describe('JSON reading, hostile input', () => {
  const json = jsonSerializer()
  const read = (text: string) => json.deserialize(Buffer.from(text))

  it('reads integers beyond 2^53 exactly, up to 4,300 digits, even where JSON.parse overflows', () => {
    const long = `1${'0'.repeat(399)}` // JSON.parse gives Infinity
    expect(read(`[${long}, 1.5]`)).toEqual([10n ** 399n, 1.5])
    expect(read(`{"n": -${long}}`)).toEqual({ n: -(10n ** 399n) })
    expect(read(`[${'7'.repeat(4300)}]`)).toEqual([BigInt('7'.repeat(4300))])
    expect(() => read(`[${'7'.repeat(4301)}]`)).toThrow(/integer of more than 4300 digits/)
    expect(() => read(`{"a": [NaN, ${'7'.repeat(4301)}]}`)).toThrow(/4300 digits/)
    // A float literal beyond a double is still infinite, as Python's float('1e400').
    expect(read('[1e400, -1e400]')).toEqual([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
  })

  it(`reads ${MAX_JSON_DEPTH} levels of nesting and refuses one more, on both parse paths`, () => {
    const nest = (depth: number, inner = '') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`
    expect(MAX_JSON_DEPTH).toBe(4096)
    for (const inner of ['', '1', 'NaN', '12345678901234567890']) {
      expect(() => read(nest(MAX_JSON_DEPTH, inner))).not.toThrow()
      expect(() => read(nest(MAX_JSON_DEPTH + 1, inner))).toThrow(/nested deeper than 4096 levels/)
    }
    const objects = (depth: number) => `${'{"a": '.repeat(depth)}NaN${'}'.repeat(depth)}`
    expect(() => read(objects(MAX_JSON_DEPTH))).not.toThrow()
    expect(() => read(objects(MAX_JSON_DEPTH + 1))).toThrow(/nested deeper/)
  })

  it('turns a million nested arrays into a SerializationError, not a stack overflow', () => {
    const codec = new Codec([jsonSerializer()])
    for (const inner of ['', 'NaN']) {
      const text = `${'['.repeat(1_000_000)}${inner}${']'.repeat(1_000_000)}`
      let error: Error | undefined
      expect(timed(() => (error = thrown(() => codec.decode(text))))).toBeLessThan(5000)
      expect(error).toBeInstanceOf(SerializationError)
      expect(error?.message).toMatch(/nested deeper than 4096 levels/)
    }
  })

  it('refuses a long text nested too deep before JSON.parse builds it', () => {
    const codec = new Codec([jsonSerializer()])
    // 16 Mi levels: JSON.parse alone spends seconds building them; the depth scan stops at 4,097.
    const text = '['.repeat(16 * 1024 * 1024)
    let error: Error | undefined
    const ms = timed(() => (error = thrown(() => codec.decode(text))))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error?.message).toMatch(/nested deeper than 4096 levels/)
    // Generous: the scan stops after a few thousand characters (well under 1 ms); parsing it all
    // takes over 10 s here.
    expect(ms).toBeLessThan(2000)
    // Brackets inside strings (escaped quotes included) are not nesting.
    const inStrings = JSON.stringify({ a: '['.repeat(300_000), b: '\\"{'.repeat(10_000) })
    expect(codec.decode(inStrings)).toEqual(JSON.parse(inStrings))
  })

  it('bounds the nesting of a long text sparse in brackets after parsing it', () => {
    const codec = new Codec([jsonSerializer()])
    // Over 256 KB, at most one opening bracket in 8 characters: parsed first, then walked.
    const spaced = (depth: number, inner: string) =>
      `${'[        '.repeat(depth)}${inner}${']'.repeat(depth)}${' '.repeat(300_000)}`
    for (const inner of ['1', '12345678901234567890']) {
      expect(() => codec.decode(spaced(MAX_JSON_DEPTH, inner))).not.toThrow()
      const error = thrown(() => codec.decode(spaced(MAX_JSON_DEPTH + 1, inner)))
      expect(error).toBeInstanceOf(SerializationError)
      expect(error?.message).toMatch(/nested deeper than 4096 levels/)
    }
    // A long list of records (one object in ~40 characters) reads as JSON.parse reads it, with
    // its integers beyond 2^53 exact.
    const records = Array.from({ length: 20_000 }, (_, i) => ({ id: i, name: `user ${i}]"{` }))
    const text = JSON.stringify(records)
    expect(text.length).toBeGreaterThan(256 * 1024)
    expect(codec.decode(text)).toEqual(records)
    const big = `${text.slice(0, -1)},{"id":12345678901234567890}]`
    expect((codec.decode(big) as Array<{ id: unknown }>).at(-1)?.id).toBe(12345678901234567890n)
  })

  it('keeps "__proto__" an own property on both parse paths, as JSON.parse does', () => {
    for (const text of [
      '{"__proto__": {"isAdmin": true}, "n": 1}',
      '{"__proto__": {"isAdmin": true}, "n": NaN}',
      '{"__proto__": {"isAdmin": true}, "n": 12345678901234567890}',
      '[{"__proto__": {"isAdmin": true}}, Infinity]',
    ]) {
      const parsed = read(text) as Record<string, unknown> | Array<Record<string, unknown>>
      const object = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown>
      expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
      expect(object.isAdmin).toBeUndefined()
      expect(Object.keys(object)).toContain('__proto__')
      expect(Object.getOwnPropertyDescriptor(object, '__proto__')?.value).toEqual({
        isAdmin: true,
      })
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
    }
  })

  it('reads adversarial number and string text in linear time', () => {
    for (const text of [
      `[${'1'.repeat(1_000_000)}.5, NaN]`,
      `[1e${'9'.repeat(1_000_000)}, NaN]`,
      `["${'\\\\'.repeat(500_000)}", NaN]`,
      `["${'a'.repeat(1_000_000)}, NaN]`,
      `[${'-'.repeat(1_000_000)}]`,
      `${'NaN, '.repeat(200_000)}`,
    ]) {
      const ms = timed(() => {
        try {
          read(text)
        } catch (error) {
          expect(error).toBeInstanceOf(SyntaxError)
        }
      })
      expect(ms).toBeLessThan(2000)
    }
  })
})

/** A JSON serializer counting how often it was asked to read. */
function spySerializer(): Serializer & { read: number } {
  const json = jsonSerializer()
  const spy = {
    name: 'json',
    read: 0,
    serialize: (value: unknown) => json.serialize(value),
    deserialize(data: Buffer) {
      spy.read++
      return json.deserialize(data)
    },
  }
  return spy
}
