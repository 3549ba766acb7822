// The values exchanged with Django, and what each side should read back.
import { py, type Tagged } from './tagged.ts'

export type SerializerKind = 'json' | 'msgpack' | 'pickle'

/** One value written by each side and read by the other. */
export interface ValueCase {
  /** Used in the Redis key and the test name. */
  id: string
  /** What cachex writes, and (unless `jsRead`) what it reads when Django wrote `py`. */
  js: unknown
  /** What Django writes; `toTagged(js)` when absent. */
  py?: Tagged
  /** What cachex reads back from Django's `py`, when not `js`. */
  jsRead?: unknown
  /** What Django reads back from cachex's `js`, when not `py`. */
  pyRead?: Tagged
  /** Serializers that carry the value; every one when absent. */
  only?: readonly SerializerKind[]
  /** Only Django writes it (cachex has no way to write this Python type with this serializer). */
  djangoOnly?: boolean
}

const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)
const BINARY = Buffer.from([0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0x30, 0x0a])

/** The cases every serializer × compressor combination runs. */
export const VALUE_CASES: readonly ValueCase[] = [
  // Integers are stored as digits by both sides, whatever the serializer.
  { id: 'int-0', js: 0 },
  { id: 'int-minus-1', js: -1 },
  { id: 'int-2^31', js: 2 ** 31 },
  { id: 'int-2^53+1', js: 2n ** 53n + 1n },
  { id: 'int64-min', js: INT64_MIN },
  { id: 'int64-max', js: INT64_MAX },
  { id: 'int-2^64+1', js: 2n ** 64n + 1n },
  // Floats. JSON carries NaN and ±inf as Python's bare NaN/Infinity literals.
  { id: 'float-1.5', js: 1.5 },
  // Short raw values that Node's brotli decoder once took for a (empty) brotli stream.
  { id: 'float-3.5', js: 3.5 },
  { id: 'float-minus-0.25', js: -0.25 },
  { id: 'float-1e16', js: 1e16, py: py.float('1e16') },
  { id: 'float-1e-7', js: 1e-7 },
  { id: 'float-nan', js: Number.NaN },
  { id: 'float-inf', js: Number.POSITIVE_INFINITY },
  { id: 'float-minus-inf', js: Number.NEGATIVE_INFINITY },
  // Inside containers too: JSON.stringify would write null; cachex writes Python's literals.
  {
    id: 'floats-non-finite-nested',
    js: { nan: Number.NaN, inf: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5] },
  },
  {
    // Integer-valued doubles beyond 2^53 are floats to JS; Python must not read them as ints
    // (JSON.stringify would write 2 ** 60 as the digits of another integer): every serializer
    // writes them as floats, JSON's default mode too.
    id: 'floats-beyond-2^53-nested',
    js: [1e16, -2.5e17, 2 ** 60],
    py: py.list(py.float('1e16'), py.float('-2.5e17'), py.float(2 ** 60)),
  },
  { id: 'true', js: true },
  { id: 'false', js: false },
  { id: 'none', js: null },
  // Strings, including ones Python's int() would accept: they must stay strings.
  { id: 'str-empty', js: '' },
  { id: 'str-latin', js: 'héllo wörld' },
  { id: 'str-emoji', js: 'emoji 😀🎉 and a flag 🇫🇷' },
  { id: 'str-cjk', js: '漢字かな交じり文、한국어' },
  { id: 'str-combining', js: 'e\u0301 a\u0308 n\u0303 — Å vs A\u030a' },
  { id: 'str-control', js: 'ctrl \u0000\u0001\u001f\u007f\u0080 \t\n\r "q" \\ /' },
  { id: 'str-digits', js: '12345' },
  { id: 'str-signed-digits', js: '-7' },
  { id: 'str-spaced-digits', js: ' 42 \n' },
  { id: 'str-underscore-digits', js: '1_000' },
  // Bytes: JSON cannot carry them in Django either (json.dumps raises TypeError).
  { id: 'bytes', js: BINARY, only: ['msgpack', 'pickle'] },
  { id: 'bytes-empty', js: Buffer.alloc(0), only: ['msgpack', 'pickle'] },
  { id: 'bytes-digits', js: Buffer.from('12345'), only: ['msgpack', 'pickle'] },
  // Containers.
  { id: 'list-empty', js: [] },
  { id: 'dict-empty', js: {} },
  {
    id: 'nested',
    js: {
      name: 'cachex',
      list: [1, 2.5, -3, null, true, false, 'x', ''],
      deep: { inner: [{ z: 'é', n: -1 }, [[]]], empty: {} },
      big: 2n ** 53n + 1n,
      neg: -(2 ** 40),
      unicode: '漢字 😀',
    },
  },
  {
    // msgpack stops at 64 bits (Python raises OverflowError; so must cachex).
    id: 'nested-beyond-64-bits',
    js: { big: [2n ** 64n + 1n, -(2n ** 70n)], pi: Math.PI },
    only: ['json', 'pickle'],
  },
  {
    // JSON and msgpack have no tuple: Django writes a list, both sides read a list.
    id: 'tuple-as-list',
    js: [1, 'a', 2.5],
    py: py.tuple(py.int(1), py.str('a'), py.float(2.5)),
    pyRead: py.list(py.int(1), py.str('a'), py.float(2.5)),
    only: ['json', 'msgpack'],
    djangoOnly: true,
  },
]

/** The cases that run for `kind`. */
export function casesFor(kind: SerializerKind, extra: readonly ValueCase[] = []): ValueCase[] {
  return [...VALUE_CASES, ...extra].filter((c) => c.only === undefined || c.only.includes(kind))
}

/** Values whose stored form is checked byte for byte: compressed or not, on both sides. */
export interface StorageCase {
  id: string
  value: unknown
  /** Serialized length in bytes, as both sides write it (checked against cachex's serializer). */
  length?: number
  /** Whether `compressor` must compress it. */
  compressed(compressor: string): boolean
}

/** django-redis's `min_length` of each compressor. */
export function minLength(compressor: string): number {
  return compressor === 'lzma' ? 100 : 15
}

// A ~10 KB value, above every compressor's threshold.
const LARGE = Array.from({ length: 80 }, (_, i) => ({
  id: i,
  name: `item-${i}`,
  tags: ['alpha', 'beta', 'gamma'],
  score: i + 0.5,
  label: 'cachex interop ünïcode',
}))

/**
 * A string whose serialized form is exactly `length` bytes (ASCII, under 256 bytes): JSON adds
 * two quotes; msgpack a 1-byte fixstr header below 32 bytes, else a 2-byte str8 header; pickle
 * protocol 4 adds 15 bytes (PROTO, FRAME, SHORT_BINUNICODE, MEMOIZE, STOP).
 */
export function stringOfLength(kind: SerializerKind, length: number): string {
  const overhead = kind === 'json' ? 2 : kind === 'pickle' ? 15 : length - 1 < 32 ? 1 : 2
  return 'a'.repeat(length - overhead)
}

/** The storage cases of `kind` × `compressor`. */
export function storageCases(kind: SerializerKind, compressor: string): StorageCase[] {
  const min = minLength(compressor)
  const on = compressor !== 'none'
  return [
    { id: 'short', value: true, compressed: () => false },
    {
      id: 'medium',
      value: 'a medium value: compressed by all but lzma (min 100)',
      compressed: (c) => c !== 'none' && c !== 'lzma',
    },
    { id: 'large-10kb', value: LARGE, compressed: (c) => c !== 'none' },
    {
      id: `edge-at-${min}`,
      value: stringOfLength(kind, min),
      length: min,
      compressed: () => false,
    },
    {
      id: `edge-over-${min}`,
      value: stringOfLength(kind, min + 1),
      length: min + 1,
      compressed: () => on,
    },
  ]
}
