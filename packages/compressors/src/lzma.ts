import {
  CompressionError,
  type Compressor,
  decompressionLimitError,
  defineCompressor,
} from '@cachex/core'
import { own, requireOptional } from '@cachex/core/internal'
import type { CompressorOptions } from './types.ts'

/** Options of `lzmaCompressor`. */
export interface LzmaOptions extends CompressorOptions {
  /** xz preset, 0–9. @default 4 (django-redis's `LzmaCompressor`) */
  preset?: number
}

/** The parts of lzma-native's native stream used here: synchronous, one call per value. */
interface LzmaStream {
  easyEncoder(options: { preset: number; check: number }): void
  autoDecoder(options: { flags?: number }): void
  code(data: Buffer | null, async: boolean): void
  /** `totalIn`: the input bytes the coder has read (up to the end of its stream). */
  bufferHandler: (
    buf: Buffer | null,
    processed: unknown,
    error: Error | null,
    totalIn: number | null,
  ) => void
}

interface LzmaNative {
  Stream: new () => LzmaStream
  CHECK_CRC64: number
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])

/**
 * The most output one input byte of an `.xz` stream produces, measured: xz of zeros (the best
 * case for LZMA) comes out at 6,869 bytes per byte at every preset — an LZMA2 chunk of 2 MiB
 * in 305 bytes, which is what the range coder's probability resolution allows. Rounded up.
 */
const XZ_WORST_RATIO = 8192
/**
 * The smallest input slice fed to the decoder once the output nears the limit: at most
 * 64 × 8 KiB = 512 KiB of output beyond `maxValueSize` before the decoder is stopped.
 */
const XZ_MIN_SLICE = 64

/** Streams back to back one value may hold (10,000 read in about 0.1 s). */
const MAX_STREAMS = 10_000

/**
 * LZMA in the `.xz` container with a CRC64 check, as django-redis's `LzmaCompressor` (Python's
 * `lzma.compress(value, preset=4)`): the same liblzma, the same bytes. Values over 100 bytes.
 * Needs the optional peer `lzma-native` (it ships prebuilt binaries), driven synchronously.
 *
 * `maxValueSize`: lzma-native's synchronous `code()` runs liblzma over all the input it is given
 * and keeps every output chunk until it returns, so the input is fed in slices small enough that
 * even the best-compressed stream cannot produce more than the room left under the limit (the
 * room ÷ 8,192, at least 64 bytes), and the output is counted as it comes; decoding stops once
 * it passes the limit. The `.xz` index, which states the sizes, is not trusted.
 *
 * A value of several streams back to back decodes as Python's `lzma.decompress` reads it: stream
 * after stream (`.xz` or `.lzma`), the limit on their total, until the input ends or what is left
 * is no stream (stream padding or other bytes, then ignored); a stream cut short fails. More than
 * 10,000 streams are refused (each has a decoder of its own).
 */
export function lzmaCompressor(options: LzmaOptions = {}): Compressor {
  const lzma = requireOptional<LzmaNative>('lzma-native', 'lzmaCompressor', import.meta.url)
  const preset = own(options, 'preset') ?? 4
  /**
   * Codes `data` in one stream; with `maxOutputLength` (the room left under `limit`, the
   * `maxValueSize` a refusal names), in slices (see above).
   */
  const run = (
    setup: (stream: LzmaStream) => void,
    data: Buffer,
    maxOutputLength?: number,
    limit = maxOutputLength,
  ): { output: Buffer; read: number } => {
    const stream = new lzma.Stream()
    setup(stream)
    const chunks: Buffer[] = []
    let total = 0
    // The input the coder read (its `totalIn`), -1 until it says.
    let read = -1
    let failure: Error | null = null
    // In synchronous mode the native coder calls this before `code()` returns.
    stream.bufferHandler = (buf, _processed, error, totalIn) => {
      if (error) failure ??= error
      else if (buf) {
        chunks.push(buf)
        total += buf.length
      }
      if (typeof totalIn === 'number') read = totalIn
    }
    if (maxOutputLength === undefined) {
      stream.code(data, false)
    } else {
      // Until the stream ends (the coder reads less than it was given: the rest is the next
      // stream's, or none), not over all the input left: a stream a slice, each over the rest,
      // took quadratic time (100,000 empty streams).
      for (let at = 0; at < data.length && failure === null; ) {
        const room = Math.max(0, maxOutputLength - total)
        const slice = Math.max(XZ_MIN_SLICE, Math.floor(room / XZ_WORST_RATIO))
        stream.code(data.subarray(at, at + slice), false)
        at += slice
        if (total > maxOutputLength) throw decompressionLimitError('lzma', limit as number)
        if (read >= 0 && read < Math.min(at, data.length)) break
      }
    }
    if (failure === null) stream.code(null, false)
    if (failure !== null) throw failure
    if (maxOutputLength !== undefined && total > maxOutputLength) {
      throw decompressionLimitError('lzma', limit as number)
    }
    const output = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
    return { output, read: read < 0 ? data.length : read }
  }
  /**
   * Decodes stream after stream, as Python's `lzma.decompress` does: what is left after a stream
   * that no decoder takes (stream padding, other bytes, a corrupt stream) is ignored once one
   * stream was read; a stream cut short fails (`No progress is possible`, its end never came).
   */
  const decompress = (data: Buffer, max?: number): Buffer => {
    const outputs: Buffer[] = []
    let total = 0
    for (let rest = data; rest.length > 0; ) {
      let next: { output: Buffer; read: number }
      try {
        next = run((s) => s.autoDecoder({}), rest, max === undefined ? undefined : max - total, max)
      } catch (error) {
        const cut = error instanceof Error && /No progress is possible/.test(error.message)
        if (outputs.length === 0 || cut || error instanceof CompressionError) throw error
        break
      }
      // Each stream its own decoder (about 10 µs): 64 MiB of empty streams would be 2 million.
      // Refused once one more is read: what follows the last of them may be no stream (padding,
      // other bytes), ignored as after any stream.
      if (outputs.length === MAX_STREAMS) {
        throw new CompressionError(
          `lzma: the value holds more than ${MAX_STREAMS} streams back to back, more than any writer makes: refused, as too costly to read`,
        )
      }
      outputs.push(next.output)
      total += next.output.length
      // A stream always reads its header: no progress would loop for ever.
      if (next.read <= 0) break
      rest = rest.subarray(next.read)
    }
    return outputs.length === 1 ? (outputs[0] as Buffer) : Buffer.concat(outputs)
  }
  return defineCompressor({
    name: 'lzma',
    minLength: own(options, 'minLength') ?? 100,
    compress: (data) => run((s) => s.easyEncoder({ preset, check: lzma.CHECK_CRC64 }), data).output,
    decompress,
    magic: XZ_MAGIC,
  })
}
