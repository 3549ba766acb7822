import { constants as buffer } from 'node:buffer'
import { decompressionLimitError } from '@cachex/core'

/**
 * Runs a `node:zlib` synchronous decompression (`inflateSync`, `gunzipSync`,
 * `brotliDecompressSync`, `zstdDecompressSync`) with its `maxOutputLength` option: Node stops
 * once the output passes it, before producing the rest, and throws a `RangeError`
 * (`ERR_BUFFER_TOO_LARGE`), which becomes the `CompressionError` naming `maxValueSize`.
 */
export function decompressBounded(
  name: string,
  maxOutputLength: number | undefined,
  run: (options: { maxOutputLength?: number }) => Buffer,
): Buffer {
  if (maxOutputLength === undefined) return run({})
  try {
    // Node refuses a maxOutputLength beyond the largest Buffer; no output can exceed that anyway.
    return run({ maxOutputLength: Math.min(maxOutputLength, buffer.MAX_LENGTH) })
  } catch (error) {
    if ((error as { code?: unknown })?.code === 'ERR_BUFFER_TOO_LARGE') {
      throw decompressionLimitError(name, maxOutputLength, { cause: error })
    }
    throw error
  }
}
