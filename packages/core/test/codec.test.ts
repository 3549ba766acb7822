import { deflateSync, inflateSync } from 'node:zlib'
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import {
  CompressionError,
  type Compressor,
  defineCompressor,
  jsonSerializer,
  SerializationError,
  type Serializer,
} from '../src/index.ts'
import { Codec, parseInteger } from '../src/internal.ts'

const bytes = (text: string) => Buffer.from(text, 'latin1')

/** A tiny zlib compressor (core must not depend on @cachex/compressors). */
function zlib(minLength = 15): Compressor {
  return {
    name: 'zlib',
    minLength,
    compress: (data) => deflateSync(data),
    decompress: (data) => inflateSync(data),
  }
}

/** A serializer that records what it was asked to write. */
function spySerializer(): Serializer & { seen: unknown[] } {
  const json = jsonSerializer()
  const seen: unknown[] = []
  return {
    name: 'spy',
    seen,
    serialize(value) {
      seen.push(value)
      return json.serialize(value)
    },
    deserialize: (data) => json.deserialize(data),
  }
}

describe('parseInteger (Python int(bytes))', () => {
  it.each<[string, number | bigint]>([
    ['0', 0],
    ['42', 42],
    ['-42', -42],
    [' 42\n', 42],
    ['\t\n\v\f\r 7 \r\n', 7],
    ['+5', 5],
    ['1_000', 1000],
    ['1_2_3', 123],
    ['007', 7],
    ['-007', -7],
    ['999999999999999', 999999999999999],
    ['9007199254740991', Number.MAX_SAFE_INTEGER],
    ['-9007199254740991', Number.MIN_SAFE_INTEGER],
    ['9007199254740992', 9007199254740992n],
    ['-9007199254740992', -9007199254740992n],
    ['123456789012345678901234567890', 123456789012345678901234567890n],
    ['1_000_000_000_000_000_000', 1_000_000_000_000_000_000n],
    ['000000000000000000000000001', 1],
  ])('%j → %s', (text, expected) => {
    expect(parseInteger(bytes(text))).toBe(expected)
  })

  it('-0 is 0, not -0', () => {
    expect(Object.is(parseInteger(bytes('-0')), 0)).toBe(true)
    expect(Object.is(parseInteger(bytes('-0000000000000000000000')), 0)).toBe(true)
  })

  it.each([
    '',
    ' ',
    '+',
    '-',
    '1__0',
    '_1',
    '1_',
    '+-5',
    '--5',
    '1 2',
    '1.5',
    '1.0',
    '1e3',
    '0x10',
    '12a',
    'NaN',
    '"1"',
    '\u00a042',
    '\u001c42',
    '4\u00002',
  ])('%j is not an integer', (text) => {
    expect(parseInteger(bytes(text))).toBeUndefined()
  })

  it('non-ASCII digits are not integers', () => {
    expect(parseInteger(Buffer.from('١٢', 'utf8'))).toBeUndefined()
    expect(parseInteger(Buffer.from('４２', 'utf8'))).toBeUndefined()
  })

  it('reads back every integer written as digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }), (n) => {
        const parsed = parseInteger(Buffer.from(n.toString()))
        expect(BigInt(parsed as number | bigint)).toBe(n)
        expect(typeof parsed).toBe(
          n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
            ? 'number'
            : 'bigint',
        )
      }),
    )
  })
})

describe('Codec.encode', () => {
  it('writes safe integers and bigints as digits, without the serializer', () => {
    const spy = spySerializer()
    const codec = new Codec([spy], [zlib(0)])
    expect(codec.encode(42)).toBe('42')
    expect(codec.encode(-7)).toBe('-7')
    expect(codec.encode(0)).toBe('0')
    expect(codec.encode(-0)).toBe('0')
    expect(codec.encode(Number.MAX_SAFE_INTEGER)).toBe('9007199254740991')
    expect(codec.encode(10n ** 30n)).toBe(`1${'0'.repeat(30)}`)
    expect(codec.encode(-(10n ** 30n))).toBe(`-1${'0'.repeat(30)}`)
    expect(spy.seen).toEqual([])
  })

  it('serializes booleans, digit strings, floats and unsafe numbers', () => {
    const spy = spySerializer()
    const codec = new Codec([spy])
    expect(codec.encode(true)).toBe('true')
    expect(codec.encode(false)).toBe('false')
    expect(codec.encode('123')).toBe('"123"')
    expect(codec.encode('')).toBe('""')
    expect(codec.encode(1.5)).toBe('1.5')
    expect(codec.encode(null)).toBe('null')
    // Not a safe integer: a float, as Python writes float(2 ** 53) (digits would read back as an int).
    expect(codec.encode(2 ** 53)).toBe('9007199254740992.0')
    expect(spy.seen).toEqual([true, false, '123', '', 1.5, null, 2 ** 53])
  })

  it('compresses only when the serialized length is strictly greater than minLength', () => {
    const compressor = zlib(10)
    const compress = vi.spyOn(compressor, 'compress')
    const codec = new Codec([jsonSerializer()], [compressor])
    // '"12345678"' is 10 bytes: not compressed.
    expect(codec.encode('12345678')).toBe('"12345678"')
    expect(compress).not.toHaveBeenCalled()
    // '"123456789"' is 11 bytes: compressed, even though the result is longer.
    const out = codec.encode('123456789') as Buffer
    expect(compress).toHaveBeenCalledTimes(1)
    expect(Buffer.isBuffer(compress.mock.calls[0]?.[0])).toBe(true)
    expect(out[0]).toBe(0x78)
    expect(out.length).toBeGreaterThan(11)
    expect(inflateSync(out).toString()).toBe('"123456789"')
  })

  it('measures the threshold in bytes, not characters', () => {
    const codec = new Codec([jsonSerializer()], [zlib(10)])
    // 5 characters, 2 quotes + 5 × 3 bytes = 17 bytes > 10.
    expect(Buffer.isBuffer(codec.encode('日本語日本'))).toBe(true)
  })

  it('compresses Buffer output of a serializer too', () => {
    const raw: Serializer = {
      name: 'raw',
      serialize: (value) => Buffer.from(String(value)),
      deserialize: (data) => data.toString(),
    }
    const codec = new Codec([raw], [zlib(3)])
    expect(codec.encode('abc')).toEqual(Buffer.from('abc'))
    const out = codec.encode('abcd') as Buffer
    expect(inflateSync(out).toString()).toBe('abcd')
    expect(codec.decode(out)).toBe('abcd')
  })

  it('wraps serializer errors in SerializationError with the cause', () => {
    const codec = new Codec([jsonSerializer()])
    const circular: Record<string, unknown> = {}
    circular.self = circular
    for (const bad of [circular, () => 1, Symbol('s'), undefined]) {
      let caught: unknown
      try {
        codec.encode(bad)
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(SerializationError)
      expect((caught as Error).cause).toBeInstanceOf(Error)
    }
  })

  it('wraps compressor errors in CompressionError', () => {
    const broken: Compressor = {
      name: 'broken',
      minLength: 0,
      compress: () => {
        throw new Error('boom')
      },
      decompress: (data) => data,
    }
    expect(() => new Codec([jsonSerializer()], [broken]).encode('x')).toThrow(CompressionError)
  })

  it('needs a serializer', () => {
    expect(() => new Codec([])).toThrow(TypeError)
  })
})

describe('Codec.decode', () => {
  it('rebuilds a cause without its quoted text whatever was thrown (probe Y)', () => {
    // A message in V8's JSON.parse form has its quoted text left out of the cause too: the cause
    // was rebuilt with the thrown error's constructor, which threw for a class taking an object.
    class Shaped extends Error {
      constructor(shape: { text: string }) {
        super(shape.text)
        this.name = 'Shaped'
      }
    }
    const quoted = 'Unexpected token \'p\', "password=x" is not valid JSON'
    for (const thrown of [new Shaped({ text: quoted }), quoted, new SyntaxError(quoted)]) {
      const throwing: Serializer = {
        name: 'throwing',
        serialize: () => 'x',
        deserialize: () => {
          throw thrown
        },
      }
      let error: unknown
      try {
        new Codec([throwing]).decode(bytes('x'))
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(SerializationError)
      const cause = (error as Error).cause as Error
      expect(cause).toBeInstanceOf(Error)
      expect(cause.message).toBe("Unexpected token 'p' (not valid JSON)")
      expect(cause.name).toBe(thrown instanceof Error ? thrown.name : 'Error')
    }
  })

  it('reads digits as integers without decompressing or deserializing', () => {
    const spy = spySerializer()
    const compressor = zlib()
    const decompress = vi.spyOn(compressor, 'decompress')
    const deserialize = vi.spyOn(spy, 'deserialize')
    const codec = new Codec([spy], [compressor])
    expect(codec.decode(bytes('42'))).toBe(42)
    expect(codec.decode(bytes(' +1_000\n'))).toBe(1000)
    expect(codec.decode(bytes('123456789012345678901234567890'))).toBe(
      123456789012345678901234567890n,
    )
    expect(decompress).not.toHaveBeenCalled()
    expect(deserialize).not.toHaveBeenCalled()
  })

  it('reads serialized values, digit strings stay strings', () => {
    const codec = new Codec([jsonSerializer()])
    expect(codec.decode(bytes('"123"'))).toBe('123')
    expect(codec.decode(bytes('true'))).toBe(true)
    expect(codec.decode(bytes('1.5'))).toBe(1.5)
    expect(codec.decode(bytes('null'))).toBeNull()
    expect(codec.decode(Buffer.from('{"a": [1, "x"]}'))).toEqual({ a: [1, 'x'] })
  })

  it('falls back to the raw bytes when decompression fails', () => {
    const codec = new Codec([jsonSerializer()], [zlib()])
    const long = JSON.stringify({ text: 'uncompressed and longer than fifteen bytes' })
    expect(codec.decode(Buffer.from(long))).toEqual({
      text: 'uncompressed and longer than fifteen bytes',
    })
    expect(codec.decode(deflateSync(Buffer.from(long)))).toEqual(JSON.parse(long))
  })

  it('treats an empty decompression result as not compressed', () => {
    const lenient: Compressor = {
      name: 'lenient',
      minLength: 15,
      compress: (data) => data,
      // Like Node's brotli on `3.5`: "succeeds" with nothing.
      decompress: () => Buffer.alloc(0),
    }
    const codec = new Codec([jsonSerializer()], [lenient])
    expect(codec.decode(bytes('3.5'))).toBe(3.5)
    expect(codec.decode(bytes('"x"'))).toBe('x')
  })

  it('skips a compressor whose matches() says no', () => {
    const compressor: Compressor = { ...zlib(), matches: () => false }
    const decompress = vi.spyOn(compressor, 'decompress')
    const codec = new Codec([jsonSerializer()], [compressor])
    expect(codec.decode(bytes('"hello"'))).toBe('hello')
    expect(decompress).not.toHaveBeenCalled()
  })

  it('tries every compressor in order', () => {
    const gzipLike: Compressor = {
      name: 'tagged',
      minLength: 0,
      compress: (data) => Buffer.concat([Buffer.from('Z!'), data]),
      decompress: (data) => {
        if (data.subarray(0, 2).toString() !== 'Z!') throw new Error('not tagged')
        return data.subarray(2)
      },
    }
    const writer = new Codec([jsonSerializer()], [zlib(0)])
    const reader = new Codec([jsonSerializer()], [gzipLike, zlib(0)])
    const tagged = new Codec([jsonSerializer()], [gzipLike])
    expect(reader.decode(writer.encode({ a: 1 }) as Buffer)).toEqual({ a: 1 })
    expect(reader.decode(tagged.encode({ b: 2 }) as Buffer)).toEqual({ b: 2 })
    expect((reader.encode('x') as Buffer).subarray(0, 2).toString()).toBe('Z!')
  })

  it('a serializer list writes with the first and reads with any', () => {
    const tagged: Serializer = {
      name: 'tagged',
      serialize: (value) => `T${JSON.stringify(value)}`,
      deserialize(data) {
        const text = data.toString()
        if (!text.startsWith('T')) throw new Error('not tagged')
        return JSON.parse(text.slice(1))
      },
    }
    const codec = new Codec([tagged, jsonSerializer()])
    expect(codec.encode({ a: 1 })).toBe('T{"a":1}')
    expect(codec.decode(bytes('T{"a":1}'))).toEqual({ a: 1 })
    expect(codec.decode(bytes('{"b":2}'))).toEqual({ b: 2 })
    const onlyTagged = new Codec([tagged])
    expect(() => onlyTagged.decode(bytes('{"b":2}'))).toThrow(SerializationError)
  })

  it('rejects bytes no serializer reads with SerializationError naming them', () => {
    const codec = new Codec([jsonSerializer(), spySerializer()])
    let caught: unknown
    try {
      codec.decode(bytes('\u0001garbage'))
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(SerializationError)
    expect((caught as Error).message).toMatch(/json, spy/)
    expect((caught as Error).cause).toBeInstanceOf(Error)
  })

  it('quotes no content of unreadable bytes, in the error or in its cause', () => {
    const codec = new Codec([jsonSerializer()])
    for (const text of ['x my-secret-token', 'undefined', 'u', '\u00e9t\u00e9 secret']) {
      let caught: unknown
      try {
        codec.decode(bytes(text))
      } catch (error) {
        caught = error
      }
      expect(caught).toBeInstanceOf(SerializationError)
      const cause = (caught as Error).cause as Error
      expect(cause).toBeInstanceOf(SyntaxError)
      for (const message of [(caught as Error).message, cause.message]) {
        expect(message).toMatch(/not valid JSON/)
        expect(message).not.toContain('secret')
        expect(message).not.toContain('"')
      }
    }
  })
})

describe('round-trip property', () => {
  // JSON-safe values: finite numbers that are not -0 and, when integral, safe integers
  // (integral numbers beyond 2^53 are written as digits and read back as bigint by design).
  const number = fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((n) => !Object.is(n, -0) && (!Number.isInteger(n) || Number.isSafeInteger(n)))
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constant(null),
      fc.boolean(),
      fc.maxSafeInteger(),
      number,
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
      fc.stringMatching(/^[ +-]?\d[\d_]*\s*$/),
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(fc.string(), tie('value'), { maxKeys: 5, noNullPrototype: true }),
    ),
  }))

  it('any JSON-safe value survives Codec([json], [zlib])', () => {
    const codec = new Codec([jsonSerializer()], [zlib()])
    fc.assert(
      fc.property(value, (v) => {
        const encoded = codec.encode(v)
        const decoded = codec.decode(Buffer.isBuffer(encoded) ? encoded : Buffer.from(encoded))
        expect(decoded).toStrictEqual(v)
      }),
      { numRuns: 500 },
    )
  })
})

describe('JSON reading: integers beyond 2^53 (found by a scan for 16 digits in a row)', () => {
  const json = jsonSerializer()
  const read = (text: string) => (json.deserializeText as (text: string) => unknown)(text)
  /** What an exact reader gives for a JSON integer literal. */
  const exact = (n: bigint) =>
    n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n

  it('keeps long digit runs inside strings as strings', () => {
    expect(read('{"id":"12345678901234567890"}')).toStrictEqual({ id: '12345678901234567890' })
    expect(read('["9007199254740993", 1]')).toStrictEqual(['9007199254740993', 1])
    expect(read('{"id":"12345678901234567890","n":9007199254740993}')).toStrictEqual({
      id: '12345678901234567890',
      n: 9007199254740993n,
    })
  })

  it('reads integers beyond 2^53 exactly, at the bound and beyond', () => {
    expect(read('[9007199254740991,-9007199254740991]')).toStrictEqual([
      9007199254740991, -9007199254740991,
    ])
    expect(read('[9007199254740992,-9007199254740993]')).toStrictEqual([
      9007199254740992n,
      -9007199254740993n,
    ])
    expect(read('{"a":{"b":[123456789012345678901234567890]}}')).toStrictEqual({
      a: { b: [123456789012345678901234567890n] },
    })
  })

  it('reads floats with long digit runs, and exponents, as numbers', () => {
    expect(read('{"f":0.30000000000000004,"g":12345678901234567.5}')).toStrictEqual({
      f: 0.30000000000000004,
      g: Number('12345678901234567.5'),
    })
    expect(read('{"e":1e16,"big":1E400,"n":-9.9e15}')).toStrictEqual({
      e: 1e16,
      big: Number.POSITIVE_INFINITY,
      n: -9.9e15,
    })
  })

  it('finds a 16-digit integer at any offset, and nothing in 15 digits', () => {
    for (let pad = 0; pad < 40; pad++) {
      const prefix = `{"p":"${'x'.repeat(pad)}","n":`
      expect(read(`${prefix}9007199254740993}`)).toStrictEqual({
        p: 'x'.repeat(pad),
        n: 9007199254740993n,
      })
      expect(read(`${prefix}-900719925474099}`)).toStrictEqual({
        p: 'x'.repeat(pad),
        n: -900719925474099,
      })
    }
  })

  it('finds a 16-digit integer after runs of up to 15 digits, in any alignment', () => {
    for (let width = 1; width <= 15; width++) {
      for (let count = 0; count < 20; count++) {
        const filler = Array.from({ length: count }, () => '9'.repeat(width))
        const items = [...filler, '9007199254740993']
        expect((read(`[${items.join(',')}]`) as unknown[]).at(-1)).toBe(9007199254740993n)
        // 15 digits at most: every number stays a number.
        const safe = read(`[${[...filler, '900719925474099'].join(',')}]`) as unknown[]
        expect(safe.every((v) => typeof v === 'number')).toBe(true)
      }
    }
  })

  it('reads integer literals of any size in any array exactly (property)', () => {
    const literal = fc.bigInt({ min: -(10n ** 22n), max: 10n ** 22n })
    fc.assert(
      fc.property(
        fc.array(fc.oneof(literal, fc.string({ maxLength: 20 })), { maxLength: 30 }),
        (items) => {
          const text = `[${items.map((v) => (typeof v === 'bigint' ? v.toString() : JSON.stringify(v))).join(',')}]`
          expect(read(text)).toStrictEqual(items.map((v) => (typeof v === 'bigint' ? exact(v) : v)))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('reads a bigint in a text long enough to be walked for depth', () => {
    const filler = Array.from({ length: 2_000 }, (_, i) => ({ i, s: `row ${i}` }))
    const text = JSON.stringify({ filler, n: 1 }).replace('"n":1', '"n":18446744073709551615')
    expect(text.length).toBeGreaterThan(2 * 4097)
    expect((read(text) as { n: unknown }).n).toBe(18446744073709551615n)
    expect(read(JSON.stringify({ filler }))).toStrictEqual({ filler })
  })
})

describe('Codec.budget: the values of one call decompress to 4 × maxValueSize in all', () => {
  const json = (size: number) => Buffer.from(JSON.stringify('x'.repeat(size - 2)))
  /** A zlib that stops at maxOutputLength, as the built-in one does. */
  const bounded = defineCompressor({
    name: 'zlib',
    compress: (data) => deflateSync(data),
    decompress: (data, maxOutputLength) => inflateSync(data, { maxOutputLength }),
  })
  const perCall = (n: number) =>
    `zlib: the values of one call would decompress to more than ${n} bytes (4 × maxValueSize); read them in smaller calls`

  it("refuses a maxValueSize that is a string, naming it as one (not 'got 100')", () => {
    expect(() => new Codec([jsonSerializer()], [], { maxValueSize: '100' as never })).toThrow(
      "maxValueSize must be a positive integer (bytes) or null, got the string '100'",
    )
    expect(() => new Codec([jsonSerializer()], [], { maxValueSize: 0 })).toThrow(/, got 0$/)
  })

  it('none without a compressor or a limit; 4 × maxValueSize otherwise', () => {
    expect(new Codec([jsonSerializer()], [], { maxValueSize: 100 }).budget()).toBeUndefined()
    expect(
      new Codec([jsonSerializer()], [bounded], { maxValueSize: null }).budget(),
    ).toBeUndefined()
    expect(new Codec([jsonSerializer()], [bounded], { maxValueSize: 100 }).budget()).toEqual({
      left: 400,
    })
    expect(new Codec([jsonSerializer()], [bounded]).budget()).toEqual({ left: 256 * 1024 * 1024 })
  })

  it.each([
    ['a compressor that stops at maxOutputLength', bounded],
    ['one that ignores it', zlib()],
  ])('%s: what decompresses is taken off; exactly to 0 reads, one byte more rejects', (_, c) => {
    const codec = new Codec([jsonSerializer()], [c], { maxValueSize: 100 })
    const budget = codec.budget() as { left: number }
    for (const size of [100, 100, 100]) codec.decode(deflateSync(json(size)), budget)
    expect(budget.left).toBe(100)
    // Stored uncompressed: in memory already, not counted.
    expect(codec.decode(json(100), budget)).toBe('x'.repeat(98))
    expect(budget.left).toBe(100)
    expect(() => codec.decode(deflateSync(json(51)), { left: 50 })).toThrow(
      new CompressionError(perCall(400)),
    )
    codec.decode(deflateSync(json(99)), budget)
    expect(budget.left).toBe(1)
    // Nothing left: a compressed value is refused, not read as raw bytes.
    expect(() => codec.decode(deflateSync(json(20)), { left: 0 })).toThrow(
      new CompressionError(perCall(400)),
    )
    expect(() => codec.decode(deflateSync(json(2)), budget)).toThrow(CompressionError)
    expect(budget.left).toBe(1)
    // One value over maxValueSize is refused as such, whatever the budget.
    expect(() => codec.decode(deflateSync(json(101)), { left: 400 })).toThrow(
      new CompressionError('zlib: decompressed value exceeds maxValueSize (100 bytes)'),
    )
  })
})
