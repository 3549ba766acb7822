import { CompressionError, SerializationError } from './errors.ts'
import type { Compressor, RedisArgument, Serializer } from './types.ts'

// Bytes that may start something Python's int() accepts: whitespace, sign, digits.
const INT_START = new Uint8Array(256)
for (const c of ' \t\n\v\f\r+-0123456789') INT_START[c.charCodeAt(0)] = 1
// Python's int(bytes): surrounding ASCII whitespace, an optional sign, digits with single `_`
// between them.
const PY_INT = /^[ \t\n\v\f\r]*([+-]?)(\d+(?:_\d+)*)[ \t\n\v\f\r]*$/
const MAX_SAFE_DIGITS = 15

/**
 * Reads `data` (bytes, or text already decoded) as Python's `int(bytes)` would, or returns
 * `undefined` when it is not an integer.
 * Safe integers come back as `number`, larger ones as `bigint`.
 */
export function parseInteger(data: Buffer | string): number | bigint | undefined {
  if (data.length === 0) return undefined
  const first = typeof data === 'string' ? data.charCodeAt(0) : (data[0] as number)
  if (first > 0xff || INT_START[first] === 0) return undefined
  const match = PY_INT.exec(typeof data === 'string' ? data : data.toString('latin1'))
  if (match === null) return undefined
  const digits = (match[2] as string).replaceAll('_', '')
  if (digits.length <= MAX_SAFE_DIGITS) {
    const n = Number(digits)
    // -0 is not an integer Python writes; keep it 0.
    return match[1] === '-' && n !== 0 ? -n : n
  }
  const big = BigInt(match[1] === '-' ? `-${digits}` : digits)
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big
}

/**
 * The value pipeline of DESIGN §3. Integers are stored as ASCII digits (so `INCRBY` works on
 * them); everything else is serialized by the first serializer, then compressed by the first
 * compressor when longer than its `minLength`. Reading tries the integer form, then every
 * compressor (falling back to the raw bytes, as Django does), then every serializer in order —
 * which is how a live cache migrates from one format to another.
 */
export class Codec {
  readonly #serializers: readonly Serializer[]
  readonly #compressors: readonly Compressor[]
  readonly #writer: Serializer
  readonly #compressor: Compressor | undefined
  /**
   * Whether replies may come as UTF-8 text: no compressor (compressed bytes are binary) and
   * every serializer reads text (`deserializeText`).
   */
  readonly readsText: boolean

  constructor(serializers: readonly Serializer[], compressors: readonly Compressor[] = []) {
    if (serializers.length === 0) throw new TypeError('a Codec needs at least one serializer')
    this.#serializers = serializers
    this.#compressors = compressors
    this.#writer = serializers[0] as Serializer
    this.#compressor = compressors[0]
    this.readsText =
      compressors.length === 0 && serializers.every((s) => typeof s.deserializeText === 'function')
  }

  /** Encodes one value for Redis. Throws `SerializationError` or `CompressionError`. */
  encode(value: unknown): RedisArgument {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) return String(value)
    } else if (typeof value === 'bigint') {
      return value.toString()
    }
    let data: Buffer | string
    try {
      data = this.#writer.serialize(value)
    } catch (error) {
      throw new SerializationError(
        `${this.#writer.name} cannot serialize this value: ${(error as Error)?.message ?? error}`,
        { cause: error },
      )
    }
    const compressor = this.#compressor
    if (compressor === undefined) return data
    // Measure in bytes without copying when the serialized form is a string.
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.length
    if (length <= compressor.minLength) return data
    try {
      return compressor.compress(typeof data === 'string' ? Buffer.from(data) : data)
    } catch (error) {
      throw new CompressionError(`${compressor.name} failed to compress a value`, { cause: error })
    }
  }

  /**
   * Decodes a value read from Redis: bytes, or UTF-8 text when `readsText`. Throws
   * `SerializationError` when no serializer can read it.
   */
  decode(data: Buffer | string): unknown {
    const integer = parseInteger(data)
    if (integer !== undefined) return integer
    if (typeof data === 'string') {
      if (this.readsText) return this.#decodeText(data)
      data = Buffer.from(data)
    }
    const bytes = this.#compressors.length === 0 ? data : this.#decompress(data)
    const serializers = this.#serializers
    if (serializers.length === 1) {
      try {
        return this.#writer.deserialize(bytes)
      } catch (error) {
        throw this.#unreadable(error)
      }
    }
    let first: unknown
    for (const serializer of serializers) {
      try {
        return serializer.deserialize(bytes)
      } catch (error) {
        first ??= error
      }
    }
    throw this.#unreadable(first)
  }

  #decodeText(text: string): unknown {
    if (this.#serializers.length === 1) {
      try {
        return (this.#writer.deserializeText as (text: string) => unknown)(text)
      } catch (error) {
        throw this.#unreadable(error)
      }
    }
    let first: unknown
    for (const serializer of this.#serializers) {
      try {
        return (serializer.deserializeText as (text: string) => unknown)(text)
      } catch (error) {
        first ??= error
      }
    }
    throw this.#unreadable(first)
  }

  #unreadable(error: unknown): SerializationError {
    const names = this.#serializers.map((s) => s.name).join(', ')
    return new SerializationError(
      `stored bytes cannot be read by ${names}: ${(error as Error)?.message ?? error}`,
      { cause: error },
    )
  }

  #decompress(data: Buffer): Buffer {
    for (const compressor of this.#compressors) {
      if (compressor.matches !== undefined && !compressor.matches(data)) continue
      try {
        const out = compressor.decompress(data)
        // No value is ever compressed to nothing (the serialized length must exceed minLength), but
        // Node's brotli "decodes" many raw values (`3.5`, `7.25`) as an empty stream plus ignored
        // trailing bytes: an empty result means the bytes were not this format.
        if (out.length > 0) return out
      } catch {
        // Not this format (or not compressed at all): Django reads such values raw.
      }
    }
    return data
  }
}
