import { type Compressor, decompressionLimitError, defineCompressor } from '@cachex/core'
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
  bufferHandler: (buf: Buffer | null, processed: unknown, error: Error | null) => void
}

interface LzmaNative {
  Stream: new () => LzmaStream
  CHECK_CRC64: number
  /**
   * liblzma's `LZMA_CONCATENATED`: the decoder reads stream after stream until the input ends.
   * Exported as `CONCATENATED` (its README's `LZMA_CONCATENATED` is undefined).
   */
  CONCATENATED: number
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
 * A value of several `.xz` streams back to back decodes to all of them in order, as `xz -d` and
 * Python's `lzma.decompress` read it; the limit is on their total.
 */
export function lzmaCompressor(options: LzmaOptions = {}): Compressor {
  const lzma = requireOptional<LzmaNative>('lzma-native', 'lzmaCompressor', import.meta.url)
  const preset = own(options, 'preset') ?? 4
  const run = (
    setup: (stream: LzmaStream) => void,
    data: Buffer,
    maxOutputLength?: number,
  ): Buffer => {
    const stream = new lzma.Stream()
    setup(stream)
    const chunks: Buffer[] = []
    let total = 0
    let failure: Error | null = null
    // In synchronous mode the native coder calls this before `code()` returns.
    stream.bufferHandler = (buf, _processed, error) => {
      if (error) failure ??= error
      else if (buf) {
        chunks.push(buf)
        total += buf.length
      }
    }
    if (maxOutputLength === undefined) {
      stream.code(data, false)
    } else {
      for (let at = 0; at < data.length && failure === null; ) {
        const room = Math.max(0, maxOutputLength - total)
        const slice = Math.max(XZ_MIN_SLICE, Math.floor(room / XZ_WORST_RATIO))
        stream.code(data.subarray(at, at + slice), false)
        at += slice
        if (total > maxOutputLength) throw decompressionLimitError('lzma', maxOutputLength)
      }
    }
    if (failure === null) stream.code(null, false)
    if (failure !== null) throw failure
    if (maxOutputLength !== undefined && total > maxOutputLength) {
      throw decompressionLimitError('lzma', maxOutputLength)
    }
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
  }
  return defineCompressor({
    name: 'lzma',
    minLength: own(options, 'minLength') ?? 100,
    compress: (data) => run((s) => s.easyEncoder({ preset, check: lzma.CHECK_CRC64 }), data),
    decompress: (data, max) => run((s) => s.autoDecoder({ flags: lzma.CONCATENATED }), data, max),
    magic: XZ_MAGIC,
  })
}
