// The checks and errors of the codec (`codec.ts`) for what it refuses: a bad `maxValueSize`, a
// value its serializer cannot write, stored bytes no serializer could read (saying what they look
// like, never what they hold), values larger than `maxValueSize` either way, and values past what
// their call's budget has left. Off the hot path: only a refused value (or one long enough to need
// measuring) gets here.

import { describeGiven } from './_args.ts'
import { DEFAULT_MAX_VALUE_SIZE, MAX_INTEGER_DIGITS } from './_limits.ts'
import { sniff } from './_sniff.ts'
import { thrownText } from './_thrown.ts'
import {
  type CompressionError,
  decompressionLimitError,
  InvalidArgumentError,
  SerializationError,
} from './errors.ts'
import type { Compressor, Serializer } from './types.ts'

/**
 * The error for bytes no serializer could read: which serializers and compressors were tried,
 * what the bytes look like (from their first bytes: "zlib-compressed data", "a pickle"), and,
 * when that is another serializer's or compressor's format, the setting that differs. A value
 * written by another codec is the usual cause. No content of the value is quoted: `data` is
 * what the serializers got (decompressed, or the stored bytes when no compressor applied).
 */
export function unreadableError(
  serializers: readonly Serializer[],
  compressors: readonly Compressor[],
  error: unknown,
  data: Buffer | string,
): SerializationError {
  const serializerNames = serializers.map((s) => s.name)
  const compressorNames = compressors.map((c) => c.name)
  const tried = `serializer ${serializerNames.join(', ')} (compressor ${compressorNames.length > 0 ? compressorNames.join(', ') : 'none'})`
  const seen = sniff(data)
  let hint = ''
  if (seen.compressor !== undefined && !compressorNames.includes(seen.compressor)) {
    hint = ` — written with compressor '${seen.compressor}'? Configure the same compressor as the writer`
  } else if (seen.serializer !== undefined && !serializerNames.includes(seen.serializer)) {
    hint = ` — written with serializer '${seen.serializer}'? Configure the same serializer as the writer`
  } else if (seen.binary === true && !compressorNames.includes('brotli')) {
    hint = ' — written with another serializer or compressor? Configure the same ones as the writer'
  }
  const why = detail(error)
  // V8's JSON.parse quotes the start of the text it refused: the cause is then an error of the
  // same type without it, so that logging the cause quotes no value either.
  const cause = why === thrownText(error) ? error : without(error, why)
  return new SerializationError(
    `stored bytes cannot be read by ${tried}: they look like ${seen.looks}${hint} (${why})`,
    { cause },
  )
}

/**
 * The `maxValueSize` option as a `Codec` holds it: `DEFAULT_MAX_VALUE_SIZE` when not given, and
 * refused (`InvalidArgumentError`) unless a positive integer or `null`.
 */
export function checkMaxValueSize(option: number | null | undefined): number | null {
  const max = option === undefined ? DEFAULT_MAX_VALUE_SIZE : option
  if (max !== null && !(Number.isSafeInteger(max) && max > 0)) {
    throw new InvalidArgumentError(
      `maxValueSize must be a positive integer (bytes) or null, got ${describeGiven(max)}`,
    )
  }
  return max
}

/** The error for a bigint of more digits than Python's `int()` (and this codec) reads back. */
export function integerTooLongError(): SerializationError {
  return new SerializationError(
    `an integer of more than ${MAX_INTEGER_DIGITS} digits cannot be stored: Python's int() and this cache read no more`,
  )
}

/** The error for a value the serializer named `serializer` threw on (`error`, the cause). */
export function unserializableError(serializer: string, error: unknown): SerializationError {
  return new SerializationError(
    `${serializer} cannot serialize this value: ${(error as Error)?.message ?? error}`,
    { cause: error },
  )
}

/** Refuses to write a serialized value of `size` bytes over `maxBytes` (`maxValueSize`). */
export function checkWrittenSize(size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw new SerializationError(
      `the serialized value (${size} bytes) exceeds maxValueSize (${maxBytes} bytes)`,
    )
  }
}

/**
 * The error for a value past what its call's budget has left (`Codec.decode`'s `budget`):
 * `callBytes` is what the values of one call may decompress to.
 */
export function overBudgetError(
  compressor: string,
  callBytes: number,
  cause: unknown,
): CompressionError {
  return decompressionLimitError(compressor, callBytes, { cause, perCall: true })
}

/** The error for a stored value of `size` bytes (or `atLeast` that many) over `maxBytes`. */
export function tooLargeError(size: number, maxBytes: number, atLeast = false): SerializationError {
  return new SerializationError(
    `a stored value of ${atLeast ? 'at least ' : ''}${size} bytes exceeds maxValueSize (${maxBytes} bytes)`,
  )
}

/**
 * Refuses text read from Redis whose UTF-8 form, `size` bytes, exceeds `maxBytes`
 * (`maxValueSize`), by the size of the bytes stored. Each U+FFFD in the text may stand for one
 * byte that was not UTF-8 (the reply was decoded before it got here) rather than for the 3 bytes
 * of a U+FFFD stored: counting each as one byte gives the least the stored value can have been.
 * When that is within the limit, the text is read, as a cache that reads bytes reads such a
 * value (a text of U+FFFDs stored as such may then be read up to three times the limit).
 */
export function checkTextSize(text: string, size: number, maxBytes: number): void {
  let replaced = 0
  for (let at = text.indexOf('\ufffd'); at !== -1; at = text.indexOf('\ufffd', at + 1)) {
    replaced++
  }
  if (replaced === 0) throw tooLargeError(size, maxBytes)
  const least = size - 2 * replaced
  if (least > maxBytes) throw tooLargeError(least, maxBytes, true)
}

/**
 * `error` as an error of its type whose message is `message`; an `Error` of its name where its
 * constructor cannot build one (a class that takes other arguments), or for a value thrown that is
 * no `Error`.
 */
function without(error: unknown, message: string): Error {
  if (error instanceof Error) {
    try {
      const rebuilt = new (error.constructor as ErrorConstructor)(message)
      if (rebuilt instanceof Error && rebuilt.message === message) return rebuilt
    } catch {
      // Below.
    }
  }
  const plain = new Error(message)
  if (error instanceof Error) plain.name = error.name
  return plain
}

/**
 * A deserializer's message without quoted input: V8's `JSON.parse` errors quote the text around
 * the error (`Unexpected token 'x', "x\u009c…" is not valid JSON`, or `…, ..."…"... is not valid
 * JSON` from the middle of a longer text), which may be the value.
 */
function detail(error: unknown): string {
  const message = thrownText(error)
  return message.replace(
    /^(?:Unexpected token '(.)', )?(?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s,
    (_, token: string | undefined) =>
      token === undefined
        ? 'not valid JSON'
        : /^[\x21-\x7e]$/.test(token)
          ? `Unexpected token '${token}' (not valid JSON)`
          : 'Unexpected character (not valid JSON)',
  )
}
