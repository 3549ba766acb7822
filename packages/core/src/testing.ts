// `@cachex/core/testing`: the conformance suites every serializer and compressor passes. Run them
// from a vitest test file of your own codec:
//
//   import { runSerializerSuite } from '@cachex/core/testing'
//   runSerializerSuite('my-format', () => myFormatSerializer(), { bytes: true })
//
// Needs `vitest` and `fast-check` (optional peers).

// The package's own entry (a self-reference), not its files: the suites must use the very
// classes codecs throw (`instanceof SerializationError`), and the build must not bundle a copy.
import {
  CompressionError,
  type Compressor,
  SerializationError,
  type Serializer,
} from '@cachex/core'
import { Codec } from '@cachex/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { own } from './_own.ts'

/** What a serializer can carry, so the suite generates only values it must round-trip. */
export interface SerializerCapabilities {
  /** `Buffer` values. @default false */
  bytes?: boolean
  /** Integers beyond 2^53, as `bigint` (`'int64'`: only those that fit 64 bits). @default false */
  bigint?: boolean | 'int64'
  /** `NaN`, `Infinity`, `-Infinity` anywhere. @default false */
  nonFinite?: boolean
  /** `-0` kept as `-0`. @default false */
  negativeZero?: boolean
  /** Circular structures are stored (with back-references, as pickle does) rather than refused. @default false */
  cycles?: boolean
  /** Runs of the property tests. @default 200 */
  runs?: number
}

/** Options of `runCompressorSuite`. */
export interface CompressorSuiteOptions {
  /** Runs of the property tests. @default 100 */
  runs?: number
}

/**
 * Registers a vitest suite proving that `create()`'s serializer round-trips every value it
 * claims to carry (property-based, with fast-check), that a `Codec` using it stores integers as
 * digits and refuses what it cannot encode with `SerializationError`, and that truncated,
 * corrupted or foreign bytes give a `SerializationError` or a value — never a crash or a hang.
 */
export function runSerializerSuite(
  name: string,
  create: () => Serializer,
  capabilities: SerializerCapabilities = {},
): void {
  const runs = capabilities.runs ?? 200
  describe(`serializer conformance: ${name}`, () => {
    const serializer = create()
    const codec = new Codec([serializer])

    it('has a name', () => {
      expect(typeof serializer.name).toBe('string')
      expect(serializer.name.length).toBeGreaterThan(0)
    })

    it('round-trips every value it carries', () => {
      fc.assert(
        fc.property(valueArbitrary(capabilities), (value) => {
          const encoded = serializer.serialize(value)
          const bytes = typeof encoded === 'string' ? Buffer.from(encoded) : encoded
          expect(serializer.deserialize(bytes)).toEqual(value)
        }),
        { numRuns: runs },
      )
    })

    it('round-trips through a Codec, integers as ASCII digits', () => {
      fc.assert(
        fc.property(valueArbitrary(capabilities), (value) => {
          const stored = codec.encode(value)
          const bytes = typeof stored === 'string' ? Buffer.from(stored) : stored
          // A top-level -0 is a safe integer: stored as the digits "0", it reads back as 0.
          expect(codec.decode(bytes)).toEqual(Object.is(value, -0) ? 0 : value)
        }),
        { numRuns: runs },
      )
      expect(String(codec.encode(-0))).toBe('0')
      expect(String(codec.encode(42))).toBe('42')
      expect(String(codec.encode(-7n))).toBe('-7')
      expect(codec.decode(Buffer.from('12345678901234567890'))).toBe(12345678901234567890n)
    })

    it('keeps a string of digits a string', () => {
      const stored = codec.encode('12345')
      expect(codec.decode(typeof stored === 'string' ? Buffer.from(stored) : stored)).toBe('12345')
    })

    it('refuses what it cannot encode with SerializationError', () => {
      const circular: Record<string, unknown> = { a: 1 }
      circular.self = circular
      const bad: unknown[] = [() => 1, Symbol('s')]
      if (capabilities.cycles) {
        // Stored with a back-reference: it must read back with the same shape.
        const stored = codec.encode(circular)
        const back = codec.decode(typeof stored === 'string' ? Buffer.from(stored) : stored) as {
          a: number
          self: unknown
        }
        expect(back.a).toBe(1)
        expect(back.self).toBe(back)
      } else {
        bad.push(circular)
      }
      for (const value of bad) expect(() => codec.encode(value)).toThrow(SerializationError)
    })

    it('never crashes, hangs or throws untyped errors on truncated, corrupted or foreign bytes', () => {
      const sample = (v: unknown) => {
        const encoded = serializer.serialize(v)
        return typeof encoded === 'string' ? Buffer.from(encoded) : encoded
      }
      fc.assert(
        fc.property(
          valueArbitrary(capabilities),
          fc.nat(),
          fc.uint8Array({ minLength: 0, maxLength: 64 }),
          (value, cut, noise) => {
            const valid = sample(value)
            const inputs = [
              valid.subarray(0, cut % (valid.length + 1)),
              Buffer.concat([valid.subarray(0, cut % (valid.length + 1)), Buffer.from(noise)]),
              Buffer.from(noise),
            ]
            for (const input of inputs) {
              try {
                codec.decode(input)
              } catch (error) {
                expect(error).toBeInstanceOf(SerializationError)
              }
            }
          },
        ),
        { numRuns: runs },
      )
    })
  })
}

/**
 * Registers a vitest suite proving that `create()`'s compressor round-trips any bytes, recognises
 * its own output (`matches`), compresses through a `Codec` only above `minLength`, falls back to
 * the raw bytes for values it did not write (as Django does), fails on corrupt input with an
 * error — never a crash or a hang — and honours `maxOutputLength` (the cache's `maxValueSize`):
 * output of exactly the limit reads, one byte less is the `CompressionError` of
 * `decompressionLimitError`.
 */
export function runCompressorSuite(
  name: string,
  create: () => Compressor,
  options: CompressorSuiteOptions = {},
): void {
  const runs = own(options, 'runs') ?? 100
  describe(`compressor conformance: ${name}`, () => {
    const compressor = create()
    const codec = new Codec([jsonForSuite], [compressor])

    it('has a name and a minLength', () => {
      expect(compressor.name.length).toBeGreaterThan(0)
      expect(Number.isInteger(compressor.minLength)).toBe(true)
    })

    it('round-trips any bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 0, maxLength: 4096 }), (data) => {
          const input = Buffer.from(data)
          const compressed = compressor.compress(input)
          expect(Buffer.isBuffer(compressed)).toBe(true)
          expect(Buffer.from(compressor.decompress(Buffer.from(compressed))).equals(input)).toBe(
            true,
          )
          if (compressor.matches) expect(compressor.matches(Buffer.from(compressed))).toBe(true)
        }),
        { numRuns: runs },
      )
    })

    it('round-trips a large repetitive value and makes it smaller', () => {
      const big = Buffer.from('cachex '.repeat(100_000))
      const compressed = compressor.compress(big)
      expect(compressed.length).toBeLessThan(big.length / 10)
      expect(Buffer.from(compressor.decompress(compressed)).equals(big)).toBe(true)
    })

    it('compresses through a Codec only when longer than minLength', () => {
      const min = compressor.minLength
      const short = 'x'.repeat(Math.max(0, min - 2)) // JSON adds two quotes: exactly minLength bytes
      const long = 'x'.repeat(min - 1) // minLength + 1 bytes
      expect(Buffer.from(codec.encode(short)).toString()).toBe(JSON.stringify(short))
      const stored = Buffer.from(codec.encode(long))
      expect(stored.toString()).not.toBe(JSON.stringify(long))
      expect(codec.decode(stored)).toBe(long)
    })

    it('reads values it did not compress raw, as Django does', () => {
      fc.assert(
        fc.property(fc.string(), (text) => {
          const raw = Buffer.from(JSON.stringify(text))
          expect(codec.decode(raw)).toBe(text)
        }),
        { numRuns: runs },
      )
    })

    it('fails on truncated or corrupted input with an error, never a crash or a hang', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 1, maxLength: 2048 }),
          fc.nat(),
          fc.uint8Array({ minLength: 1, maxLength: 16 }),
          (data, cut, noise) => {
            const valid = Buffer.from(compressor.compress(Buffer.from(data)))
            const truncated = valid.subarray(0, cut % valid.length)
            const corrupted = Buffer.from(valid)
            for (let i = 0; i < noise.length; i++) {
              const at = (cut + i * 7) % corrupted.length
              corrupted[at] = (corrupted[at] as number) ^ ((noise[i] as number) | 1)
            }
            for (const input of [truncated, corrupted]) {
              // Without a limit and with one (the frame walks of bounded decoders see it too).
              for (const limit of [undefined, 64 * 1024]) {
                try {
                  const out = compressor.decompress(input, limit)
                  if (limit !== undefined) expect(out.length).toBeLessThanOrEqual(limit)
                } catch (error) {
                  expect(error).toBeInstanceOf(Error)
                }
              }
            }
          },
        ),
        { numRuns: runs },
      )
    })

    it('stops at maxOutputLength with a CompressionError naming maxValueSize', () => {
      for (const size of [1000, 300_000]) {
        const data = compressible(size)
        const compressed = Buffer.from(compressor.compress(data))
        expect(Buffer.from(compressor.decompress(compressed, size)).equals(data)).toBe(true)
        let caught: unknown
        try {
          compressor.decompress(compressed, size - 1)
        } catch (error) {
          caught = error
        }
        expect(caught).toBeInstanceOf(CompressionError)
        expect((caught as Error).message).toMatch(/maxValueSize \(\d+ bytes\)/)
      }
    })

    it('refuses a value that expands far beyond maxOutputLength', () => {
      const compressed = Buffer.from(compressor.compress(Buffer.alloc(4 * 1024 * 1024)))
      expect(() => compressor.decompress(compressed, 64 * 1024)).toThrow(CompressionError)
    })

    it('inside a Codec, a value beyond maxValueSize is a CompressionError, never read raw', () => {
      const writer = new Codec([jsonForSuite], [compressor], { maxValueSize: null })
      const reader = new Codec([jsonForSuite], [compressor], { maxValueSize: 1000 })
      const stored = Buffer.from(writer.encode('z'.repeat(5000)))
      expect(() => reader.decode(stored)).toThrow(CompressionError)
      expect(() => reader.encode('z'.repeat(5000))).toThrow(SerializationError)
      expect(reader.decode(Buffer.from(writer.encode('z'.repeat(998))))).toBe('z'.repeat(998))
    })

    it('wraps compression failures in CompressionError inside a Codec', () => {
      const broken: Compressor = {
        ...compressor,
        compress: () => {
          throw new Error('boom')
        },
      }
      const failing = new Codec([jsonForSuite], [broken])
      expect(() => failing.encode('y'.repeat(compressor.minLength + 10))).toThrow(CompressionError)
    })
  })
}

/** `size` deterministic bytes that compress, but not to nothing: a repeating 997-byte pattern. */
function compressible(size: number): Buffer {
  const out = Buffer.alloc(size)
  for (let i = 0; i < size; i++) out[i] = ((i % 997) * 31 + ((i % 997) >> 3)) & 0xff
  return out
}

const jsonForSuite: Serializer = {
  name: 'json',
  serialize: (value) => JSON.stringify(value),
  deserialize: (data) => JSON.parse(data.toString('utf8')),
}

function valueArbitrary(caps: SerializerCapabilities): fc.Arbitrary<unknown> {
  const scalars: Array<fc.Arbitrary<unknown>> = [
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc
      .double({ noNaN: !caps.nonFinite, noDefaultInfinity: !caps.nonFinite })
      // -0 is written as 0 unless the format keeps it; an integral double beyond 2^53 is an
      // integer to Python and reads back as a bigint, so it is covered by the bigint case.
      .filter((d) => caps.negativeZero === true || !Object.is(d, -0))
      .filter((d) => !Number.isInteger(d) || Number.isSafeInteger(d)),
    fc.string(),
    fc.string({ unit: 'grapheme' }),
  ]
  if (caps.bigint === 'int64') scalars.push(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }))
  else if (caps.bigint) scalars.push(fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }))
  if (caps.bytes) scalars.push(fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)))
  const { value } = fc.letrec((tie) => ({
    value: fc.oneof(
      { maxDepth: 3, depthIdentifier: 'value' },
      ...scalars,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(
        fc.string().filter((k) => k !== '__proto__'),
        tie('value'),
        { maxKeys: 5 },
      ),
    ),
  }))
  return value.map((v) => normalizeBigInts(v))
}

/** Safe bigints come back as numbers from every serializer; generate them that way. */
function normalizeBigInts(value: unknown): unknown {
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value
  }
  if (Array.isArray(value)) return value.map(normalizeBigInts)
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalizeBigInts(v)]))
  }
  return value
}
