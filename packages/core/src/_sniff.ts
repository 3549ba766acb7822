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
  // Text is judged on characters. Leading white space is skipped first (JSON may be indented),
  // up to MAX_LEAD characters; then TEXT_HEAD characters are looked at, a Buffer's decoded as
  // UTF-8 (a character cut at the end of the bytes decoded is dropped), so that a Buffer and the
  // string of its text agree.
  const lead = leadingSpace(data)
  const rest = lead === 0 ? data : data.slice(lead)
  const cut = typeof rest !== 'string' && rest.length > 4 * TEXT_HEAD
  let text = typeof rest === 'string' ? rest : rest.subarray(0, 4 * TEXT_HEAD).toString('utf8')
  if (cut && text.endsWith('\ufffd')) text = text.slice(0, -1)
  const t = head(text, TEXT_HEAD)
  // Text by its first 32 characters (a form feed or an ANSI escape further on is text's too).
  const printable = isText(t.slice(0, 32))
  if (printable && isJsonHead(t, !cut && text.length <= TEXT_HEAD)) {
    return { looks: 'JSON', serializer: 'json' }
  }
  if (printable) return { looks: 'text' }
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

/** Leading white space skipped at most before the head is looked at. */
const MAX_LEAD = 4096
/** Characters of text looked at (past leading white space) to tell JSON from text. */
const TEXT_HEAD = 256

/** How many characters of ASCII white space `data` starts with (`MAX_LEAD` at most). */
function leadingSpace(data: Buffer | string): number {
  const n = Math.min(data.length, MAX_LEAD)
  let i = 0
  while (i < n && isSpace(typeof data === 'string' ? data.charCodeAt(i) : data[i])) i++
  return i
}

/** JSON's white space: space, tab, line feed, carriage return. */
function isSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
}

/**
 * Whether the head `chars` (a value's first characters past white space) is the start of a JSON
 * text — with Python's `NaN` and `Infinity` — or, when it is the `whole` value, one whole JSON
 * text (an unfinished one, cut short, still reads as JSON). Plain text that merely starts as JSON
 * may (`failed`, `2024-01-02`, a UUID, `3 days ago`, `[INFO] …`, `[1] See …`, `{{ name }}`,
 * `"Hi," she said`) is not. A parser of the head's `TEXT_HEAD` characters at most.
 */
function isJsonHead(head: readonly number[], whole: boolean): boolean {
  // A whole value ends there: a space after it ends a number or a literal at its last character.
  const chars = whole ? [...head, 0x20] : head
  const at: Cursor = { i: 0, items: 0 }
  const read = jsonValue(chars, at)
  // Cut by the head's end: a container or a string may well be JSON; a number or literal is not
  // (what follows it is unseen: digits, then letters), nor a string the whole value leaves open
  // (prose's opening quote: `"Hello`).
  const first = chars[0]
  if (read === CUT) return first === 0x7b || first === 0x5b || (first === 0x22 && !whole)
  // Malformed JSON is JSON still past an object's first member and its comma: `{"a": 1, "b":
  // oops}` is, while text that starts as JSON does (`[true story]`, `{{ name }}`) fails first.
  if (read !== OK) return at.items > 0
  skipSpace(chars, at)
  // A whole value past its end holds nothing but white space; a head cut there may go on so.
  return at.i >= chars.length
}

/** What `jsonValue` found: a value, none, or the head's end before it could tell. */
const OK = 0
const BAD = 1
const CUT = 2

/** JSON's literals, and Python's json's NaN and Infinity. */
const WORDS = ['true', 'false', 'null', 'NaN', 'Infinity']
/** A JSON number, Python's `-Infinity` handled as a word. */
const NUMBER = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/

/** Where `jsonValue` is in the head, and how many object members it read that a comma followed. */
interface Cursor {
  i: number
  items: number
}

function skipSpace(chars: readonly number[], at: Cursor): void {
  while (isSpace(chars[at.i])) at.i++
}

/** Reads one JSON value of `chars` from `at.i` (moving it past the value). */
function jsonValue(chars: readonly number[], at: Cursor): number {
  skipSpace(chars, at)
  const c = chars[at.i]
  if (c === undefined) return CUT
  if (c === 0x7b || c === 0x5b) return container(chars, at, c === 0x7b)
  if (c === 0x22) return jsonString(chars, at)
  if (c === 0x2d && chars[at.i + 1] === 0x49) {
    at.i++
    return word(chars, at)
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
    const from = at.i
    while (isNumberChar(chars[at.i])) at.i++
    if (at.i >= chars.length) return CUT
    return NUMBER.test(String.fromCharCode(...chars.slice(from, at.i))) ? OK : BAD
  }
  return word(chars, at)
}

/** A character of a number: a digit, `+`, `-`, `.`, `e` or `E`. */
function isNumberChar(c: number | undefined): boolean {
  if (c === undefined) return false
  return (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || (c | 0x20) === 0x65
}

/** An object (`{"key": value, …}`) or an array (`[value, …]`), from its opening bracket. */
function container(chars: readonly number[], at: Cursor, object: boolean): number {
  const close = object ? 0x7d : 0x5d
  at.i++
  skipSpace(chars, at)
  if (chars[at.i] === undefined) return CUT
  if (chars[at.i] === close) {
    at.i++
    return OK
  }
  for (;;) {
    if (object) {
      skipSpace(chars, at)
      if (chars[at.i] === undefined) return CUT
      if (chars[at.i] !== 0x22) return BAD
      const key = jsonString(chars, at)
      if (key !== OK) return key
      skipSpace(chars, at)
      if (chars[at.i] === undefined) return CUT
      if (chars[at.i] !== 0x3a) return BAD
      at.i++
    }
    const item = jsonValue(chars, at)
    if (item !== OK) return item
    skipSpace(chars, at)
    const next = chars[at.i]
    if (next === undefined) return CUT
    at.i++
    if (next === close) return OK
    if (next !== 0x2c) return BAD
    // An array's items may be prose's (`[1, 2, and 3] …`, Python's `[1, None]`); a key and its
    // value are not.
    if (object) at.items++
  }
}

/** A string, from its opening quote: no control character in it. */
function jsonString(chars: readonly number[], at: Cursor): number {
  for (let i = at.i + 1; i < chars.length; i++) {
    const c = chars[i] as number
    if (c === 0x22) {
      at.i = i + 1
      return OK
    }
    if (c === 0x5c) i++
    else if (c >= 0 && c < 0x20) return BAD
  }
  return CUT
}

/** One of `WORDS`, whole (or cut by the head's end). */
function word(chars: readonly number[], at: Cursor): number {
  for (const w of WORDS) {
    if (chars[at.i] !== w.charCodeAt(0)) continue
    for (let k = 1; k < w.length; k++) {
      const c = chars[at.i + k]
      if (c === undefined) return CUT
      if (c !== w.charCodeAt(k)) return BAD
    }
    at.i += w.length
    return OK
  }
  return BAD
}

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
