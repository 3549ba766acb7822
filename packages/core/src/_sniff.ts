// What stored bytes look like, from their first few bytes (magic numbers) only, for the message of
// a value no serializer could read: a value written by another serializer or compressor is the
// usual cause, and naming the format says which setting differs. Never returns any content.

/** A guess at the format of stored bytes. */
export interface Sniffed {
  /** How the bytes look, for a message: `'zlib-compressed data'`, `'a pickle (protocol 4)'`. */
  readonly looks: string
  /** The compressor or serializer name that writes such bytes, when one does. */
  readonly compressor?: string
  readonly serializer?: string
  /** Binary data of no format told here (brotli, or a serializer's binary form). */
  readonly binary?: boolean
}

// A byte ≥ 0x80 seen only as U+FFFD in text (the reply was decoded as UTF-8 and it was invalid).
const HIGH = -1
// A non-ASCII character that was valid UTF-8.
const CHAR = -2

/** The first bytes of `data`: real bytes, or for text, ASCII codes with HIGH and CHAR as above. */
function head(data: Buffer | string, n: number): number[] {
  const out: number[] = []
  const length = Math.min(n, data.length)
  for (let i = 0; i < length; i++) {
    if (typeof data !== 'string') {
      out.push(data[i] as number)
      continue
    }
    const c = data.charCodeAt(i)
    out.push(c < 0x80 ? c : c === 0xfffd ? HIGH : CHAR)
  }
  return out
}

/** Whether byte `b` is `expected`, or (in text) a high byte that may have been it. */
function byte(b: number | undefined, expected: number): boolean {
  return b === expected || (expected >= 0x80 && b === HIGH)
}

function ascii(bytes: readonly number[], from: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (bytes[from + i] !== text.charCodeAt(i)) return false
  return true
}

/** How `data` looks (a short guess from its first bytes), and who writes such bytes. */
export function sniff(data: Buffer | string): Sniffed {
  const b = head(data, 32)
  const [b0, b1, b2, b3] = b
  if (b0 === undefined) return { looks: 'empty' }
  if (b0 === 0x1f && byte(b1, 0x8b)) return { looks: 'gzip-compressed data', compressor: 'gzip' }
  if (
    b0 === 0x78 &&
    (b1 === 0x01 || b1 === 0x5e || byte(b1, 0x9c) || byte(b1, 0xda)) &&
    (b1 === HIGH || ((b0 << 8) | (b1 as number)) % 31 === 0)
  ) {
    return { looks: 'zlib-compressed data', compressor: 'zlib' }
  }
  if (b0 === 0x28 && byte(b1, 0xb5) && b2 === 0x2f && byte(b3, 0xfd)) {
    return { looks: 'zstd-compressed data', compressor: 'zstd' }
  }
  if (b0 === 0x04 && b1 === 0x22 && b2 === 0x4d && b3 === 0x18) {
    return { looks: 'lz4-compressed data (frame format)', compressor: 'lz4' }
  }
  if (byte(b0, 0xfd) && ascii(b, 1, '7zXZ') && b[5] === 0) {
    return { looks: 'xz-compressed data', compressor: 'lzma' }
  }
  // Pickle protocols 2–5 start with PROTO n; every pickle ends with STOP ('.').
  if (byte(b0, 0x80) && b1 !== undefined && b1 >= 2 && b1 <= 5) {
    return { looks: `a pickle (protocol ${b1})`, serializer: 'pickle' }
  }
  // Text is judged on characters: a Buffer's head decoded as UTF-8 (a character cut at the end of
  // the head is not an error).
  const t = typeof data === 'string' ? b : head(data.subarray(0, 32).toString('utf8'), 32)
  if (typeof data !== 'string' && data.length > 32 && t[t.length - 1] === HIGH) t.pop()
  let i = 0
  while (t[i] === 0x20 || t[i] === 0x09 || t[i] === 0x0a || t[i] === 0x0d) i++
  if (isText(t) && isJsonHead(t, i, data.length <= 32)) return { looks: 'JSON', serializer: 'json' }
  if (isText(t)) return { looks: 'text' }
  if (typeof data !== 'string' && isMsgpackStart(b0)) {
    return { looks: 'MessagePack', serializer: 'msgpack' }
  }
  if (b0 === HIGH) {
    return { looks: 'binary data (MessagePack, or another binary format)', binary: true }
  }
  return {
    looks: 'binary data of an unknown format (brotli has no signature to tell it by)',
    binary: true,
  }
}

/**
 * A JSON value as text starts so (from `at`): `{` then `"` or `}`; `[` then a value or `]`; a
 * string then what may follow one; else, when the head is the `whole` value, it is a number,
 * `true`, `false`, `null`, `NaN`, `Infinity` or `-Infinity` (Python's json writes the last three),
 * with nothing but white space after it. Plain text that merely starts with one (`failed`,
 * `2024-01-02`, a UUID, a hex token, `3 days ago`, `[INFO] …`, `{{ name }}`, `"Hi," she said`) is
 * not JSON, nor is a scalar the head cuts (what follows is unseen). What the head cuts before it
 * could tell is taken for JSON.
 */
function isJsonHead(chars: readonly number[], at: number, whole: boolean): boolean {
  const first = chars[at]
  if (first === 0x7b) return follows(chars, at + 1, whole, (c) => c === 0x22 || c === 0x7d)
  if (first === 0x5b)
    return follows(chars, at + 1, whole, (c, i) => c === 0x5d || valueAt(chars, i))
  if (first === 0x22) {
    let end = at + 1
    while (end < chars.length && chars[end] !== 0x22) end += chars[end] === 0x5c ? 2 : 1
    if (end >= chars.length) return !whole
    // After a string: the end, or what follows a key or an item.
    return follows(
      chars,
      end + 1,
      whole,
      (c) => c === 0x3a || c === 0x2c || c === 0x5d || c === 0x7d,
      true,
    )
  }
  if (!whole) return false
  let text = ''
  for (let i = at; i < chars.length; i++) {
    const c = chars[i] as number
    text += c >= 0 ? String.fromCharCode(c) : '\u0080'
  }
  return JSON_SCALAR.test(text)
}

/**
 * Whether the first character past white space from `at` passes `ok`; past the head: unseen
 * (JSON) unless the head is the `whole` value, which then ended (JSON only when `endOk`).
 */
function follows(
  chars: readonly number[],
  at: number,
  whole: boolean,
  ok: (c: number, at: number) => boolean,
  endOk = false,
): boolean {
  let i = at
  while (chars[i] === 0x20 || chars[i] === 0x09 || chars[i] === 0x0a || chars[i] === 0x0d) i++
  return i >= chars.length ? !whole || endOk : ok(chars[i] as number, i)
}

/** Whether a JSON value (or Python's NaN or Infinity) may start at `at`, as far as the head shows. */
function valueAt(chars: readonly number[], at: number): boolean {
  const c = chars[at] as number
  if (c === 0x7b || c === 0x5b || c === 0x22 || c === 0x2d || (c >= 0x30 && c <= 0x39)) return true
  for (const word of WORDS) {
    if (word.charCodeAt(0) !== c) continue
    let i = 1
    while (i < word.length && at + i < chars.length && chars[at + i] === word.charCodeAt(i)) i++
    return i === word.length || at + i >= chars.length
  }
  return false
}

/** JSON's literals, and Python's json's NaN and Infinity. */
const WORDS = ['true', 'false', 'null', 'NaN', 'Infinity']

/** A whole JSON number or literal (with Python's NaN and infinities), then white space only. */
const JSON_SCALAR = new RegExp(
  '^(?:-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity)' +
    '\\s*$',
)

/** Printable characters: no control character but tab and line breaks, no invalid UTF-8. */
function isText(chars: readonly number[]): boolean {
  for (const c of chars) {
    if (c === HIGH || c === 0x7f) return false
    if (c >= 0 && c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false
  }
  return true
}

/** A first byte of MessagePack beyond ASCII (positive fixints look like text). */
function isMsgpackStart(c: number): boolean {
  return c >= 0x80 && c !== 0xc1 && !(c >= 0xc7 && c <= 0xc9) && !(c >= 0xd4 && c <= 0xd8)
}
