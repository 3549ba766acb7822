import { type Compressor, requireOptional } from '@cachex/core'
import { type CompressorOptions, defineCompressor } from './_zlib-family.ts'

/** Options of `lzmaCompressor`. */
export interface LzmaOptions extends CompressorOptions {
  /** xz preset, 0–9. @default 4 (django-redis's `LzmaCompressor`) */
  preset?: number
}

/** The parts of lzma-native's native stream used here: synchronous, one call per value. */
interface LzmaStream {
  easyEncoder(options: { preset: number; check: number }): void
  autoDecoder(options: object): void
  code(data: Buffer | null, async: boolean): void
  bufferHandler: (buf: Buffer | null, processed: unknown, error: Error | null) => void
}

interface LzmaNative {
  Stream: new () => LzmaStream
  CHECK_CRC64: number
}

const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])

/**
 * LZMA in the `.xz` container with a CRC64 check, as django-redis's `LzmaCompressor` (Python's
 * `lzma.compress(value, preset=4)`): the same liblzma, the same bytes. Values over 100 bytes.
 * Needs the optional peer `lzma-native` (it ships prebuilt binaries), driven synchronously.
 */
export function lzmaCompressor(options: LzmaOptions = {}): Compressor {
  const lzma = requireOptional<LzmaNative>('lzma-native', 'lzmaCompressor', import.meta.url)
  const preset = options.preset ?? 4
  const run = (setup: (stream: LzmaStream) => void, data: Buffer): Buffer => {
    const stream = new lzma.Stream()
    setup(stream)
    const chunks: Buffer[] = []
    let failure: Error | null = null
    // In synchronous mode the native coder calls this before `code()` returns.
    stream.bufferHandler = (buf, _processed, error) => {
      if (error) failure ??= error
      else if (buf) chunks.push(buf)
    }
    stream.code(data, false)
    if (failure === null) stream.code(null, false)
    if (failure !== null) throw failure
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
  }
  return defineCompressor(
    'lzma',
    options.minLength ?? 100,
    (data) => run((s) => s.easyEncoder({ preset, check: lzma.CHECK_CRC64 }), data),
    (data) => run((s) => s.autoDecoder({}), data),
    (data) => data.length > 6 && data.subarray(0, 6).equals(XZ_MAGIC),
  )
}
