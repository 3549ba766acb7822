// Decompression bombs: small, valid compressed values that expand to `size` bytes of zeros, built
// in milliseconds (compressing `size` real zeros would take seconds for the larger ones). Each
// builder repeats one self-contained unit of the format — a deflate segment ending in a full
// flush, a gzip member, an RLE block, an LZ4 block, an xz block — so the value stays valid.
import {
  brotliCompressSync,
  constants,
  createBrotliCompress,
  deflateRawSync,
  gzipSync,
} from 'node:zlib'

const MiB = 1024 * 1024

/** zlib (RFC 1950) of `size` zeros, `size` a multiple of 1 MiB: about 1 KB per MiB. */
export function zlibBomb(size: number): Buffer {
  const segments = wholeMiB(size)
  // A full flush ends the segment byte-aligned, and nothing after it refers back into it.
  const segment = deflateRawSync(Buffer.alloc(MiB), {
    level: 9,
    finishFlush: constants.Z_FULL_FLUSH,
  })
  const trailer = Buffer.alloc(4)
  // Adler-32 of zeros: a = 1, b = size mod 65521.
  trailer.writeUInt32BE((((size % 65521) << 16) | 1) >>> 0)
  return Buffer.concat([
    Buffer.from([0x78, 0xda]),
    ...Array<Buffer>(segments).fill(segment),
    Buffer.from([0x03, 0x00]), // a final, empty, fixed-Huffman block
    trailer,
  ])
}

/** gzip of `size` zeros, `size` a multiple of 1 MiB: one 1 MiB member repeated (about 1 KB each). */
export function gzipBomb(size: number): Buffer {
  const member = gzipSync(Buffer.alloc(MiB), { level: 9 })
  return Buffer.concat(Array<Buffer>(wholeMiB(size)).fill(member))
}

/**
 * Brotli of `size` zeros, streamed through the encoder at quality 1 with a 16 MiB window (about
 * 190 bytes per MiB, 1 GiB in ~0.2 s); `brotliBombSync` for small sizes.
 */
export async function brotliBomb(size: number): Promise<Buffer> {
  const encoder = createBrotliCompress({
    params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_LGWIN]: 24 },
  })
  const chunks: Buffer[] = []
  encoder.on('data', (chunk: Buffer) => chunks.push(chunk))
  const done = new Promise<void>((resolve, reject) => {
    encoder.on('end', resolve)
    encoder.on('error', reject)
  })
  const zeros = Buffer.alloc(16 * MiB)
  for (let left = size; left > 0; left -= zeros.length) {
    if (!encoder.write(zeros.subarray(0, Math.min(left, zeros.length)))) {
      await new Promise((resolve) => encoder.once('drain', resolve))
    }
  }
  encoder.end()
  await done
  return Buffer.concat(chunks)
}

/** Brotli of `size` zeros in one synchronous call (allocates `size` bytes: keep it small). */
export function brotliBombSync(size: number): Buffer {
  return brotliCompressSync(Buffer.alloc(size), {
    params: { [constants.BROTLI_PARAM_QUALITY]: 5 },
  })
}

/**
 * Zstandard of `size` zeros (any size): one frame without a content size, a 128 KiB window, and
 * RLE blocks of 128 KiB, 4 bytes each — 32 bytes per MiB.
 */
export function zstdBomb(size: number): Buffer {
  const block = 128 * 1024
  const count = Math.max(1, Math.ceil(size / block))
  // Magic, Frame_Header_Descriptor 0 (no content size, not single-segment), window 2^17.
  const out = Buffer.alloc(6 + count * 4)
  out.writeUInt32LE(0xfd2fb528, 0)
  out[4] = 0x00
  out[5] = 0x38
  let pos = 6
  for (let i = 0; i < count; i++) {
    const bytes = i === count - 1 ? size - block * (count - 1) : block
    // Last_Block, Block_Type 1 (RLE), Block_Size; then the byte to repeat.
    out.writeUIntLE((i === count - 1 ? 1 : 0) | (1 << 1) | (bytes << 3), pos, 3)
    out[pos + 3] = 0
    pos += 4
  }
  return out
}

/**
 * An LZ4 frame of about `size` zeros (rounded up to 4 MiB blocks), given lz4-napi's
 * `compressFrameSync`: its first 4 MiB block of zeros (about 16 KB; LZ4 expands at most 255
 * times) repeated under its own header.
 */
export function lz4Bomb(size: number, compressFrame: (data: Buffer) => Buffer): Buffer {
  const frame = compressFrame(Buffer.alloc(4 * MiB))
  const flg = frame[4] as number
  if ((flg & 0x1d) !== 0) throw new Error('expected a frame without sizes, ids or checksums')
  const header = frame.subarray(0, 7)
  const blockLength = frame.readUInt32LE(7) & 0x7fffffff
  const block = frame.subarray(7, 11 + blockLength)
  const count = Math.max(1, Math.ceil(size / (4 * MiB)))
  return Buffer.concat([header, ...Array<Buffer>(count).fill(block), Buffer.alloc(4)])
}

/**
 * An `.xz` stream of `size` zeros, `size` a multiple of 4 MiB, given an xz compressor (lzma-native
 * through `lzmaCompressor().compress`): the block of 4 MiB of zeros (about 700 bytes) repeated,
 * with an index and footer to match.
 */
export function xzBomb(size: number, compress: (data: Buffer) => Buffer): Buffer {
  const unit = 4 * MiB
  if (size % unit !== 0) throw new Error('xzBomb: size must be a multiple of 4 MiB')
  const count = size / unit
  const stream = compress(Buffer.alloc(unit))
  const flags = stream.subarray(6, 8)
  const indexSize = (stream.readUInt32LE(stream.length - 8) + 1) * 4
  const indexStart = stream.length - 12 - indexSize
  const block = stream.subarray(12, indexStart)
  // The index of one block: indicator 0, one record (unpadded size, uncompressed size).
  const index = stream.subarray(indexStart)
  let at = 1
  const count1 = readVli(index, at)
  if (count1.value !== 1) throw new Error('xzBomb: expected one block')
  at = count1.next
  const unpadded = readVli(index, at)
  const record = index.subarray(at, readVli(index, unpadded.next).next)
  const body = Buffer.concat([
    Buffer.from([0x00]),
    writeVli(count),
    ...Array<Buffer>(count).fill(record),
  ])
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)])
  const newIndex = Buffer.concat([padded, crc32le(padded)])
  const backward = Buffer.alloc(4)
  backward.writeUInt32LE(newIndex.length / 4 - 1)
  const footerBody = Buffer.concat([backward, flags])
  return Buffer.concat([
    stream.subarray(0, 12),
    ...Array<Buffer>(count).fill(block),
    newIndex,
    crc32le(footerBody),
    footerBody,
    Buffer.from('YZ'),
  ])
}

function wholeMiB(size: number): number {
  if (size % MiB !== 0 || size <= 0) throw new Error('size must be a positive multiple of 1 MiB')
  return size / MiB
}

function readVli(data: Buffer, at: number): { value: number; next: number } {
  let value = 0
  let shift = 0
  for (;;) {
    const byte = data[at++] as number
    value += (byte & 0x7f) * 2 ** shift
    shift += 7
    if ((byte & 0x80) === 0) return { value, next: at }
  }
}

function writeVli(value: number): Buffer {
  const bytes: number[] = []
  while (value >= 0x80) {
    bytes.push((value % 0x80) | 0x80)
    value = Math.floor(value / 0x80)
  }
  bytes.push(value)
  return Buffer.from(bytes)
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

/** CRC-32 (the xz and gzip one), little-endian. */
function crc32le(data: Buffer): Buffer {
  let crc = 0xffffffff
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8)
  const out = Buffer.alloc(4)
  out.writeUInt32LE((crc ^ 0xffffffff) >>> 0)
  return out
}
