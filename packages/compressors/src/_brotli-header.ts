/**
 * Whether `data` may be a whole brotli stream (RFC 7932), judged from its first bits: the window
 * size (§9.1) and the header of the first meta-block (§9.2). Brotli has no magic bytes, so a
 * brotli cache would otherwise try to decode every short value stored uncompressed; this rejects,
 * in a few dozen bit reads, most bytes that cannot start a stream — JSON numbers, `true`, `null`,
 * `{…}`, msgpack maps — and lets the rest through to the decoder (a JSON string `"…"` reads as a
 * plausible compressed meta-block, so it still is decoded).
 *
 * It answers `false` only where the reference decoder (google/brotli `c/dec/decode.c`, the one in
 * Node) refuses the input, or stops before its end (which `brotliCompressor` refuses: the whole
 * input must be one stream):
 * - the header runs past the end of `data` (a truncated stream);
 * - the large-window WBITS code `0010001` (Node's decoder does not enable large windows);
 * - a length with an exuberant last nibble or byte (zero where more than the minimum are used),
 *   or a metadata block with its reserved bit set;
 * - fill bits before a byte boundary that are not zero;
 * - an uncompressed or metadata block whose bytes run past the end of `data`, or leave no byte
 *   for the meta-block that must follow it (it is not the last);
 * - a stream that ends (an empty or metadata last meta-block) before `data` does.
 */
export function mayBeBrotli(data: Uint8Array): boolean {
  const size = data.length * 8
  let at = 0
  /** `count` (≤ 8) bits from `at`, least significant first (§2); -1 past the end. */
  const read = (count: number): number => {
    if (at + count > size) return -1
    let value = 0
    for (let i = 0; i < count; i++, at++) {
      value |= (((data[at >> 3] as number) >> (at & 7)) & 1) << i
    }
    return value
  }
  /** Skips the fill bits to the next byte boundary, which must be zero. */
  const fill = (): boolean => (at & 7) === 0 || read(8 - (at & 7)) === 0
  // WBITS: 0 (16), 1 + 3 bits ≠ 0 (17 + n), 1000 + 3 bits: 000 is 17, 001 the large window.
  if (read(1) === 1) {
    const n = read(3)
    if (n === -1) return false
    if (n === 0) {
      const m = read(3)
      if (m === -1 || m === 1) return false
    }
  }
  const last = read(1)
  if (last === -1) return false
  // ISLASTEMPTY: the stream ends here.
  if (last === 1) {
    const empty = read(1)
    if (empty === -1) return false
    if (empty === 1) return fill() && at === size
  }
  const nibbles = read(2)
  if (nibbles === -1) return false
  if (nibbles === 3) {
    // A metadata block: reserved bit, MSKIPBYTES, MSKIPLEN - 1, fill, the bytes skipped.
    if (read(1) !== 0) return false
    const bytes = read(2)
    if (bytes === -1) return false
    let length = 0
    for (let i = 0; i < bytes; i++) {
      const byte = read(8)
      if (byte === -1 || (byte === 0 && i === bytes - 1 && bytes > 1)) return false
      length += byte * 2 ** (8 * i)
    }
    if (bytes > 0) length += 1
    if (!fill()) return false
    const end = at / 8 + length
    return last === 1 ? end === data.length : end < data.length
  }
  let length = 1
  for (let i = 0; i < nibbles + 4; i++) {
    const nibble = read(4)
    if (nibble === -1 || (nibble === 0 && i === nibbles + 3 && nibbles > 0)) return false
    length += nibble * 2 ** (4 * i)
  }
  // A last meta-block is compressed; only the decoder can tell whether it is well formed.
  if (last === 1) return true
  const uncompressed = read(1)
  if (uncompressed !== 1) return uncompressed === 0
  // MLEN bytes stored as they are, then at least one byte: the next meta-block's header.
  return fill() && at / 8 + length < data.length
}
