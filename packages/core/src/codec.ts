import { integerPastLimit } from './_codec-limits.ts'
import { parseInteger } from './_integer.ts'
import { DEFAULT_MAX_VALUE_SIZE, MAX_INTEGER_DIGITS } from './_limits.ts'
import { checkPlugins } from './_plugin-check.ts'
import { sniff } from './_sniff.ts'
import {
  CompressionError,
  decompressionLimitError,
  InvalidArgumentError,
  SerializationError,
} from './errors.ts'
import type { Compressor, RedisArgument, Serializer } from './types.ts'

/**
 * A serializer that can also report the kinds its JS values cannot tell apart, for inspection
 * tools: pickle's tuples (arrays), frozensets (Sets) and bytearrays (Buffers), and its whole
 * floats (`1.0`, which `deserialize` reads as `1`, as an int): `inspect` gives each as a
 * `Number` object (`new Number(1)`) of kind `'float'`.
 */
export interface InspectingSerializer extends Serializer {
  /**
   * `deserialize`, plus the kind of each such value in it (`'tuple'`, `'frozenset'`, `'float'`…);
   * a whole float is boxed (a `Number` object) where `deserialize` gives a number.
   */
  inspect(data: Buffer): { value: unknown; kinds: ReadonlyMap<object, string> }
}

/** What `Codec.inspect` resolves: a stored value, decoded, and how it was stored. */
export interface CodecInspection {
  /** The value, as `decode` gives it (but a pickle's whole floats, boxed: see `kinds`). */
  value: unknown
  /** The serializer that read it; `null` for an integer stored as digits. */
  serializer: string | null
  /** The compressor that decompressed it; `null` when it was stored uncompressed. */
  compressor: string | null
  /**
   * The kinds an `InspectingSerializer` reported, if the serializer is one: `'tuple'`,
   * `'frozenset'`, `'bytearray'`, and `'float'` for a `Number` object (a whole float).
   */
  kinds: ReadonlyMap<object, string> | undefined
}

/**
 * How many more bytes the values one call decodes may decompress to: created per call by
 * `Codec.budget()` and handed to each `decode` of the call, which takes what it decompresses off
 * `left`. Only decompressed output counts: a value stored uncompressed is in memory already, as
 * the reply.
 */
export interface DecodeBudget {
  /** Bytes left; a value that would decompress to more is refused (`CompressionError`). */
  left: number
  /**
   * When given, `decode` adds to it the bytes it decompresses (whether or not `left` bounds
   * them): what the values take in memory, which their stored bytes understate (the local tier
   * counts a value as no less, against `maxBytes`). `left: Infinity` bounds nothing more than
   * `maxValueSize` does, for a call that only measures.
   */
  decompressed?: number
}

/** How many times `maxValueSize` the values of one call may decompress to (`Codec.budget`). */
export const CALL_BUDGET_FACTOR = 4

/** Options of a `Codec`. */
export interface CodecOptions {
  /**
   * The largest value, in bytes after decompression, that is read or written; `null` for no
   * limit. Compressors stop at it, stored values beyond it are refused before deserializing, and
   * a value whose serialized form exceeds it is refused on write. Integers stored as digits are
   * bounded by the 4,300-digit limit instead (`MAX_INTEGER_DIGITS`). See the cache option.
   * @default 67_108_864 (64 MiB, `DEFAULT_MAX_VALUE_SIZE`)
   */
  maxValueSize?: number | null
}

/**
 * The value pipeline (docs/packages/core.md, "The codec"). Integers are stored as ASCII digits (so `INCRBY` works on
 * them); everything else is serialized by the first serializer, then compressed by the first
 * compressor when longer than its `minLength`. Reading tries the integer form, then every
 * compressor (falling back to the raw bytes, as Django does), then every serializer in order —
 * which is how a live cache migrates from one format to another. No value beyond `maxValueSize`
 * bytes (serialized, before compression) is written, decompressed or deserialized; integers
 * stored as digits are bounded by `MAX_INTEGER_DIGITS` instead, both ways. A serializer
 * or compressor without its methods (a factory not called) is refused when it is built, with
 * `InvalidArgumentError`.
 */
export class Codec {
  readonly #serializers: readonly Serializer[]
  readonly #compressors: readonly Compressor[]
  readonly #writer: Serializer
  readonly #compressor: Compressor | undefined
  /** `maxValueSize`, or `undefined` for no limit (what compressors receive). */
  readonly #limit: number | undefined
  /** `maxValueSize` as a number to compare with: `Infinity` for no limit. */
  readonly #maxBytes: number
  /**
   * What the values of one call may decompress to (`CALL_BUDGET_FACTOR` × `maxValueSize`), or
   * `undefined` when nothing is decompressed (no compressor) or values are not limited.
   */
  readonly #callBytes: number | undefined
  /**
   * Text longer than this many UTF-16 code units may exceed `maxValueSize` bytes: a code unit
   * takes at most 3 bytes of UTF-8, so shorter text is within the limit without measuring it.
   */
  readonly #maxUnits: number
  /**
   * Whether replies may come as UTF-8 text: no compressor (compressed bytes are binary) and
   * every serializer reads text (`deserializeText`).
   */
  readonly readsText: boolean

  constructor(
    serializers: readonly Serializer[],
    compressors: readonly Compressor[] = [],
    options: CodecOptions = {},
  ) {
    if (serializers.length === 0) throw new TypeError('a Codec needs at least one serializer')
    checkPlugins(serializers, compressors)
    const max = options.maxValueSize === undefined ? DEFAULT_MAX_VALUE_SIZE : options.maxValueSize
    if (max !== null && !(Number.isSafeInteger(max) && max > 0)) {
      throw new InvalidArgumentError(
        `maxValueSize must be a positive integer (bytes) or null, got ${String(max)}`,
      )
    }
    this.#serializers = serializers
    this.#compressors = compressors
    this.#writer = serializers[0] as Serializer
    this.#compressor = compressors[0]
    this.#limit = max ?? undefined
    this.#maxBytes = max ?? Number.POSITIVE_INFINITY
    this.#maxUnits = Math.floor(this.#maxBytes / 3)
    this.#callBytes =
      max === null || compressors.length === 0 ? undefined : CALL_BUDGET_FACTOR * max
    this.readsText =
      compressors.length === 0 && serializers.every((s) => typeof s.deserializeText === 'function')
  }

  /** `maxValueSize` in bytes, or `null` when values are not limited. */
  get maxValueSize(): number | null {
    return this.#limit ?? null
  }

  /**
   * A fresh budget for the values one call decodes (`lrange`, `getMany`, a pipeline…): they may
   * decompress to `CALL_BUDGET_FACTOR` × `maxValueSize` bytes in all. `undefined` when there is
   * nothing to bound (no compressor, or `maxValueSize: null`), which `decode` takes as no budget.
   * A call that decodes one value needs none: `maxValueSize` bounds it.
   */
  budget(): DecodeBudget | undefined {
    const bytes = this.#callBytes
    return bytes === undefined ? undefined : { left: bytes }
  }

  /** Encodes one value for Redis. Throws `SerializationError` or `CompressionError`. */
  encode(value: unknown): RedisArgument {
    return this.#encode(value, true)
  }

  /**
   * Encodes a value that is only compared with stored ones (a member to look up or remove: the
   * `SREM`, `SISMEMBER`, `ZSCORE`, `LREM` argument, `LINSERT`'s pivot): as `encode`, to the same
   * bytes, but with no `maxValueSize` check, since it stores nothing. A member over the limit that
   * another writer stored can then still be found and removed.
   */
  encodeMatch(value: unknown): RedisArgument {
    return this.#encode(value, false)
  }

  #encode(value: unknown, check: boolean): RedisArgument {
    if (typeof value === 'number') {
      if (Number.isSafeInteger(value)) return String(value)
    } else if (typeof value === 'bigint') {
      const digits = value.toString()
      // Python (and this codec) would not read more digits back as an integer.
      if (digits.length - (value < 0n ? 1 : 0) > MAX_INTEGER_DIGITS) {
        throw new SerializationError(
          `an integer of more than ${MAX_INTEGER_DIGITS} digits cannot be stored: Python's int() and this cache read no more`,
        )
      }
      return digits
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
    // Refuse to write what reading would refuse (a value only compared is not written). Text
    // needs measuring only when it is long.
    if (typeof data === 'string') {
      if (check && data.length > this.#maxUnits) this.#checkWritten(Buffer.byteLength(data))
    } else if (check && data.length > this.#maxBytes) {
      this.#checkWritten(data.length)
    }
    const compressor = this.#compressor
    if (compressor === undefined) return data
    // A string of more UTF-16 code units than minLength has more bytes too: encode it once
    // (measuring it first would read a large value twice). A shorter one is measured without
    // copying, and most stay below minLength.
    let bytes: Buffer
    if (typeof data !== 'string') bytes = data
    else if (data.length > compressor.minLength) bytes = Buffer.from(data)
    else if (Buffer.byteLength(data) > compressor.minLength) bytes = Buffer.from(data)
    else return data
    if (bytes.length <= compressor.minLength) return data
    try {
      return compressor.compress(bytes)
    } catch (error) {
      throw new CompressionError(`${compressor.name} failed to compress a value`, { cause: error })
    }
  }

  /**
   * Decodes a value read from Redis: bytes, or UTF-8 text when `readsText`. Throws
   * `SerializationError` when no serializer can read it or it is larger than `maxValueSize` (an
   * integer of at most `MAX_INTEGER_DIGITS` digits is not: `integerPastLimit`), and
   * `CompressionError` when it would decompress to more than `maxValueSize` bytes, or to more
   * than the `budget` of its call has left (`budget()`; the bytes it decompresses to are taken
   * off it, and added to its `decompressed` when it has one).
   */
  decode(data: Buffer | string, budget?: DecodeBudget): unknown {
    // Integers are bounded by their digit limit, not maxValueSize (the writer stores them as
    // digits, INCRBY grows them): past it, one comparison more (`integerPastLimit`).
    const integer = data.length > this.#maxBytes ? integerPastLimit(data) : parseInteger(data)
    if (integer !== undefined) return integer
    if (typeof data === 'string') {
      if (this.readsText) return this.#decodeText(data)
      data = Buffer.from(data)
    }
    let bytes: Buffer
    if (this.#compressors.length === 0) {
      if (data.length > this.#maxBytes) throw this.#tooLarge(data.length)
      bytes = data
    } else {
      bytes = this.#decompress(data, undefined, budget)
    }
    const serializers = this.#serializers
    if (serializers.length === 1) {
      try {
        return this.#writer.deserialize(bytes)
      } catch (error) {
        throw this.#unreadable(error, bytes)
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
    throw this.#unreadable(first, bytes)
  }

  /**
   * Decodes stored bytes as `decode` does, and says how they were stored: as integer digits, or
   * which compressor (if any) and serializer read them. A serializer with `inspect`
   * (`InspectingSerializer`, pickle's) also reports the Python kinds JS values cannot tell apart
   * (which arrays were tuples). For inspection tools (the admin UI), not for the hot path.
   * `budget`, as `decode`'s, bounds what the values one page or request inspects decompress to
   * (`budget()`): past what it has left, `CompressionError`; what this value decompresses to is
   * taken off it.
   */
  inspect(data: Buffer, budget?: DecodeBudget): CodecInspection {
    const integer = data.length > this.#maxBytes ? integerPastLimit(data) : parseInteger(data)
    if (integer !== undefined) {
      return { value: integer, serializer: null, compressor: null, kinds: undefined }
    }
    let compressor: string | null = null
    const bytes =
      this.#compressors.length === 0
        ? data
        : this.#decompress(
            data,
            (name) => {
              compressor = name
            },
            budget,
          )
    if (bytes.length > this.#maxBytes) throw this.#tooLarge(bytes.length)
    let first: unknown
    for (const serializer of this.#serializers) {
      try {
        const inspecting = serializer as Partial<InspectingSerializer>
        if (typeof inspecting.inspect === 'function') {
          const { value, kinds } = inspecting.inspect(bytes)
          return { value, serializer: serializer.name, compressor, kinds }
        }
        const value = serializer.deserialize(bytes)
        return { value, serializer: serializer.name, compressor, kinds: undefined }
      } catch (error) {
        first ??= error
      }
    }
    throw this.#unreadable(first, bytes)
  }

  #decodeText(text: string): unknown {
    if (text.length > this.#maxUnits) {
      const size = Buffer.byteLength(text)
      if (size > this.#maxBytes) this.#checkTextSize(text, size)
    }
    if (this.#serializers.length === 1) {
      try {
        return (this.#writer.deserializeText as (text: string) => unknown)(text)
      } catch (error) {
        throw this.#unreadable(error, text)
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
    throw this.#unreadable(first, text)
  }

  /**
   * The error for bytes no serializer could read: which serializers and compressors were tried,
   * what the bytes look like (from their first bytes: "zlib-compressed data", "a pickle"), and,
   * when that is another serializer's or compressor's format, the setting that differs. A value
   * written by another codec is the usual cause. No content of the value is quoted: `data` is
   * what the serializers got (decompressed, or the stored bytes when no compressor applied).
   */
  #unreadable(error: unknown, data: Buffer | string): SerializationError {
    const serializers = this.#serializers.map((s) => s.name)
    const compressors = this.#compressors.map((c) => c.name)
    const tried = `serializer ${serializers.join(', ')} (compressor ${compressors.length > 0 ? compressors.join(', ') : 'none'})`
    const seen = sniff(data)
    let hint = ''
    if (seen.compressor !== undefined && !compressors.includes(seen.compressor)) {
      hint = ` — written with compressor '${seen.compressor}'? Configure the same compressor as the writer`
    } else if (seen.serializer !== undefined && !serializers.includes(seen.serializer)) {
      hint = ` — written with serializer '${seen.serializer}'? Configure the same serializer as the writer`
    } else if (seen.binary === true && !compressors.includes('brotli')) {
      hint =
        ' — written with another serializer or compressor? Configure the same ones as the writer'
    }
    const why = detail(error)
    // V8's JSON.parse quotes the start of the text it refused: the cause is then an error of the
    // same type without it, so that logging the cause quotes no value either.
    const quoted = error instanceof Error && error.message !== why
    const cause = quoted ? new (error.constructor as ErrorConstructor)(why) : error
    return new SerializationError(
      `stored bytes cannot be read by ${tried}: they look like ${seen.looks}${hint} (${why})`,
      { cause },
    )
  }

  #tooLarge(size: number, atLeast = false): SerializationError {
    return new SerializationError(
      `a stored value of ${atLeast ? 'at least ' : ''}${size} bytes exceeds maxValueSize (${this.#maxBytes} bytes)`,
    )
  }

  /**
   * Refuses text read from Redis whose UTF-8 form, `size` bytes, exceeds `maxValueSize`, by the
   * size of the bytes stored. Each U+FFFD in the text may stand for one byte that was not UTF-8
   * (the reply was decoded before it got here) rather than for the 3 bytes of a U+FFFD stored:
   * counting each as one byte gives the least the stored value can have been. When that is within
   * the limit, the text is read, as a cache that reads bytes reads such a value (a text of
   * U+FFFDs stored as such may then be read up to three times the limit).
   */
  #checkTextSize(text: string, size: number): void {
    let replaced = 0
    for (let at = text.indexOf('\ufffd'); at !== -1; at = text.indexOf('\ufffd', at + 1)) {
      replaced++
    }
    if (replaced === 0) throw this.#tooLarge(size)
    const least = size - 2 * replaced
    if (least > this.#maxBytes) throw this.#tooLarge(least, true)
  }

  /** The error for a value past what its call's budget has left (`decode`'s `budget`). */
  #overBudget(compressor: string, cause: unknown): CompressionError {
    return decompressionLimitError(compressor, this.#callBytes as number, {
      cause,
      perCall: true,
    })
  }

  #checkWritten(size: number): void {
    if (size > this.#maxBytes) {
      throw new SerializationError(
        `the serialized value (${size} bytes) exceeds maxValueSize (${this.#maxBytes} bytes)`,
      )
    }
  }

  #decompress(data: Buffer, used?: (compressor: string) => void, call?: DecodeBudget): Buffer {
    // Without a limit there is no budget either (`budget()`).
    const budget = this.#callBytes === undefined ? undefined : call
    // What the call's budget has left bounds the value when it is below maxValueSize.
    const left = budget === undefined ? this.#maxBytes : budget.left
    const byBudget = left < this.#maxBytes
    // Node's zlib refuses a maxOutputLength of 0: with nothing left, 1 byte is allowed and then
    // refused below (a value never decompresses to nothing).
    const limit = byBudget ? Math.max(left, 1) : this.#limit
    for (const compressor of this.#compressors) {
      if (compressor.matches !== undefined && !compressor.matches(data)) continue
      let out: Buffer
      try {
        out = compressor.decompress(data, limit)
      } catch (error) {
        // A CompressionError means "this format, but refused" (over maxValueSize, or over what
        // the budget has left): surface it, or a bomb would be read as raw bytes. Anything else:
        // not this format (or not compressed at all), and Django reads such values raw.
        if (error instanceof CompressionError) {
          throw byBudget ? this.#overBudget(compressor.name, error.cause) : error
        }
        continue
      }
      // A compressor that ignores the limit still must not hand more to the serializer.
      if (out.length > this.#maxBytes)
        throw decompressionLimitError(compressor.name, this.#maxBytes)
      // No value is ever compressed to nothing (the serialized length must exceed minLength), but
      // Node's brotli "decodes" many raw values (`3.5`, `7.25`) as an empty stream plus ignored
      // trailing bytes: an empty result means the bytes were not this format.
      if (out.length > 0) {
        if (budget !== undefined) {
          if (out.length > left) throw this.#overBudget(compressor.name, undefined)
          budget.left = left - out.length
        }
        // Measured even where nothing bounds it (no `maxValueSize`, hence no budget).
        if (call?.decompressed !== undefined) call.decompressed += out.length
        used?.(compressor.name)
        return out
      }
    }
    if (data.length > this.#maxBytes) throw this.#tooLarge(data.length)
    return data
  }
}

/**
 * A deserializer's message without quoted input: V8's `JSON.parse` errors quote the text around
 * the error (`Unexpected token 'x', "x\u009c…" is not valid JSON`), which may be the value.
 */
function detail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.replace(
    /^(?:Unexpected token '(.)', )?".*"(?:\.\.\.)? is not valid JSON$/s,
    (_, token: string | undefined) =>
      token === undefined
        ? 'not valid JSON'
        : /^[\x21-\x7e]$/.test(token)
          ? `Unexpected token '${token}' (not valid JSON)`
          : 'Unexpected character (not valid JSON)',
  )
}
