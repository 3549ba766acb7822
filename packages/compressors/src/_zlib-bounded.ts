import { constants as buffer } from 'node:buffer'
import { decompressionLimitError } from '@cachex/core'

/** What `decompressBounded` hands its `node:zlib` call: options of the `*Sync` functions. */
export interface ZlibBounds {
  /** `maxOutputLength`, when the output is bounded. */
  maxOutputLength?: number
  /** `chunkSize`, for a short input. */
  chunkSize?: number
}

/** Inputs shorter than this many bytes are decoded into `SHORT_CHUNK`-byte output chunks. */
const SHORT_INPUT = 256
/**
 * The output chunk of a short input, rather than Node's 16 KiB, which is allocated for every
 * call: a short value stored uncompressed is offered to the decompressor before being read raw,
 * most such calls fail at once, and most short values that do decompress are small. Measured
 * under vitest: a failed brotli decode 18 µs (28–35 at 16 KiB), a successful one of a 30-byte
 * value 8–9 µs (15–17); a 36-byte brotli value of 100 KB costs the same at 4 KiB as at 16 KiB,
 * where 1 KiB chunks made it 1.3–2× slower. A bomb stops at `maxOutputLength` all the same:
 * Node checks it after each chunk.
 */
const SHORT_CHUNK = 4096

/**
 * Runs a `node:zlib` synchronous decompression (`inflateSync`, `gunzipSync`,
 * `brotliDecompressSync`, `zstdDecompressSync`) of `input` with its `maxOutputLength` option:
 * Node stops once the output passes it, before producing the rest, and throws a `RangeError`
 * (`ERR_BUFFER_TOO_LARGE`), which becomes the `CompressionError` naming `maxValueSize`.
 *
 * A failed call is made cheap, since the codec offers every value to its compressors and reads
 * the ones that fail raw. A short input is decoded into smaller chunks (`SHORT_CHUNK`), and the
 * call runs with `Error.stackTraceLimit` at 0: Node's zlib stream creates its error and,
 * destroying itself, reads the error's `stack`, which formats the trace (with source maps on,
 * most of the 50–140 µs a failed call cost, against 5–20 µs for a successful one). No code but
 * Node's own runs inside the call, and the limit is restored right after it; so an error of the
 * call itself (not this format) has no stack frames: its message and `code` say what failed, and
 * the codec only takes it as "read the value raw". The `CompressionError` of the limit is created
 * after, with its own.
 */
export function decompressBounded(
  name: string,
  input: Uint8Array,
  maxOutputLength: number | undefined,
  run: (options: ZlibBounds) => Buffer,
): Buffer {
  const options: ZlibBounds = {}
  // Node refuses a maxOutputLength beyond the largest Buffer; no output can exceed that anyway.
  if (maxOutputLength !== undefined) {
    options.maxOutputLength = Math.min(maxOutputLength, buffer.MAX_LENGTH)
  }
  if (input.length < SHORT_INPUT) options.chunkSize = SHORT_CHUNK
  try {
    return withoutStackTraces(run, options)
  } catch (error) {
    if (maxOutputLength !== undefined && isTooLarge(error)) {
      throw decompressionLimitError(name, maxOutputLength, { cause: error })
    }
    throw error
  }
}

/** Node's answer to `maxOutputLength`. */
function isTooLarge(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_BUFFER_TOO_LARGE'
}

/**
 * `run(options)` with `Error.stackTraceLimit` at 0, restored after it. Where the limit cannot be
 * written (frozen intrinsics), `run` is called as it is.
 */
function withoutStackTraces(run: (options: ZlibBounds) => Buffer, options: ZlibBounds): Buffer {
  const limit = Error.stackTraceLimit
  try {
    Error.stackTraceLimit = 0
  } catch {
    return run(options)
  }
  try {
    return run(options)
  } finally {
    Error.stackTraceLimit = limit
  }
}
