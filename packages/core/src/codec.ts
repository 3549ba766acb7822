// The value pipeline: a `Codec` encodes values for Redis and decodes what it stores. Its checks
// and the errors for what it refuses (a bad option, an unserializable or unreadable value, one
// over `maxValueSize` or over its call's budget) are in `_codec-errors.ts`.
import {
  checkMaxValueSize,
  checkTextSize,
  checkWrittenSize,
  integerTooLongError,
  overBudgetError,
  tooLargeError,
  unreadableError,
  unserializableError,
} from './_codec-errors.ts'
import { integerPastLimit } from './_codec-limits.ts'
import { isTooManyItems, MAX_INSPECT_ITEMS } from './_inspect-items.ts'
import { parseInteger } from './_integer.ts'
import { MAX_INTEGER_DIGITS } from './_limits.ts'
import { own } from './_own.ts'
import { checkPlugins } from './_plugin-check.ts'
import { asyncResultError, isThenable, pluginBytes } from './_plugin-results.ts'
import { CompressionError, decompressionLimitError } from './errors.ts'
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
   * a whole float is boxed (a `Number` object) where `deserialize` gives a number. Past
   * `maxItems` items (`MAX_INSPECT_ITEMS` when not given; see there what counts), throws
   * `tooManyItemsError`, before building the rest where it can.
   */
  inspect(data: Buffer, maxItems?: number): { value: unknown; kinds: ReadonlyMap<object, string> }
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
    const max = checkMaxValueSize(own(options, 'maxValueSize'))
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
        throw integerTooLongError()
      }
      return digits
    }
    let data: Buffer | string
    try {
      data = this.#writer.serialize(value)
    } catch (error) {
      throw unserializableError(this.#writer.name, error)
    }
    // Refuse to write what reading would refuse (a value only compared is not written). Text
    // needs measuring only when it is long.
    if (typeof data === 'string') {
      if (check && data.length > this.#maxUnits)
        checkWrittenSize(Buffer.byteLength(data), this.#maxBytes)
    } else {
      // Not bytes (null, a Promise…): refused here, not as a TypeError or by the connection.
      if (!Buffer.isBuffer(data)) data = pluginBytes(data, this.#writer.name, 'serialize')
      if (check && data.length > this.#maxBytes) checkWrittenSize(data.length, this.#maxBytes)
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
    let out: Buffer
    try {
      out = compressor.compress(bytes)
    } catch (error) {
      throw new CompressionError(`${compressor.name} failed to compress a value`, { cause: error })
    }
    return Buffer.isBuffer(out) ? out : pluginBytes(out, compressor.name, 'compress')
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
      if (data.length > this.#maxBytes) throw tooLargeError(data.length, this.#maxBytes)
      bytes = data
    } else {
      bytes = this.#decompress(data, undefined, budget)
    }
    const serializers = this.#serializers
    if (serializers.length === 1) {
      try {
        const value = this.#writer.deserialize(bytes)
        // An async deserialize: refused as unreadable (its rejection handled), not awaited.
        if (isThenable(value)) throw asyncResultError(this.#writer.name, value)
        return value
      } catch (error) {
        throw unreadableError(this.#serializers, this.#compressors, error, bytes)
      }
    }
    let first: unknown
    for (const serializer of serializers) {
      try {
        const value = serializer.deserialize(bytes)
        if (isThenable(value)) throw asyncResultError(serializer.name, value)
        return value
      } catch (error) {
        first ??= error
      }
    }
    throw unreadableError(this.#serializers, this.#compressors, first, bytes)
  }

  /**
   * Decodes stored bytes as `decode` does, and says how they were stored: as integer digits, or
   * which compressor (if any) and serializer read them. A serializer with `inspect`
   * (`InspectingSerializer`, pickle's) also reports the Python kinds JS values cannot tell apart
   * (which arrays were tuples). For inspection tools (the admin UI), not for the hot path.
   * `budget`, as `decode`'s, bounds what the values one page or request inspects decompress to
   * (`budget()`): past what it has left, `CompressionError`; what this value decompresses to is
   * taken off it. An `InspectingSerializer` builds at most `maxItems` items of it
   * (`MAX_INSPECT_ITEMS` by default): past them, `SerializationError` (`tooManyItemsError`),
   * thrown as is. (`decode` has no such bound: it returns whatever was stored.)
   */
  inspect(data: Buffer, budget?: DecodeBudget, maxItems = MAX_INSPECT_ITEMS): CodecInspection {
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
    if (bytes.length > this.#maxBytes) throw tooLargeError(bytes.length, this.#maxBytes)
    let first: unknown
    for (const serializer of this.#serializers) {
      try {
        const inspecting = serializer as Partial<InspectingSerializer>
        if (typeof inspecting.inspect === 'function') {
          const { value, kinds } = inspecting.inspect(bytes, maxItems)
          if (isThenable(value)) throw asyncResultError(serializer.name, value)
          return { value, serializer: serializer.name, compressor, kinds }
        }
        const value = serializer.deserialize(bytes)
        if (isThenable(value)) throw asyncResultError(serializer.name, value)
        return { value, serializer: serializer.name, compressor, kinds: undefined }
      } catch (error) {
        // Readable, but too large to show: not for another serializer to try.
        if (isTooManyItems(error)) throw error
        first ??= error
      }
    }
    throw unreadableError(this.#serializers, this.#compressors, first, bytes)
  }

  #decodeText(text: string): unknown {
    if (text.length > this.#maxUnits) {
      const size = Buffer.byteLength(text)
      if (size > this.#maxBytes) checkTextSize(text, size, this.#maxBytes)
    }
    if (this.#serializers.length === 1) {
      try {
        const value = (this.#writer.deserializeText as (text: string) => unknown)(text)
        if (isThenable(value)) throw asyncResultError(this.#writer.name, value)
        return value
      } catch (error) {
        throw unreadableError(this.#serializers, this.#compressors, error, text)
      }
    }
    let first: unknown
    for (const serializer of this.#serializers) {
      try {
        const value = (serializer.deserializeText as (text: string) => unknown)(text)
        if (isThenable(value)) throw asyncResultError(serializer.name, value)
        return value
      } catch (error) {
        first ??= error
      }
    }
    throw unreadableError(this.#serializers, this.#compressors, first, text)
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
          throw byBudget
            ? overBudgetError(compressor.name, this.#callBytes as number, error.cause)
            : error
        }
        continue
      }
      // Not bytes (null, a Promise…): the compressor's fault, refused (not read raw).
      if (!Buffer.isBuffer(out)) out = pluginBytes(out, compressor.name, 'decompress') as Buffer
      // A compressor that ignores the limit still must not hand more to the serializer.
      if (out.length > this.#maxBytes)
        throw decompressionLimitError(compressor.name, this.#maxBytes)
      // No value is ever compressed to nothing (the serialized length must exceed minLength), but
      // Node's brotli "decodes" many raw values (`3.5`, `7.25`) as an empty stream plus ignored
      // trailing bytes: an empty result means the bytes were not this format.
      if (out.length > 0) {
        if (budget !== undefined) {
          if (out.length > left)
            throw overBudgetError(compressor.name, this.#callBytes as number, undefined)
          budget.left = left - out.length
        }
        // Measured even where nothing bounds it (no `maxValueSize`, hence no budget).
        if (call?.decompressed !== undefined) call.decompressed += out.length
        used?.(compressor.name)
        return out
      }
    }
    if (data.length > this.#maxBytes) throw tooLargeError(data.length, this.#maxBytes)
    return data
  }
}
