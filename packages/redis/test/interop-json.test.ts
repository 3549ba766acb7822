// Django interoperability, JSON serializer: cachex and django-redis 5.2 (Debian, Python 3.11)
// share one real redis-server. The Python side is test/interop/django_side.py, run as one
// process per batch of operations by /usr/bin/python3; values cross in a tagged JSON form
// (test/interop/tagged.ts). Without /usr/bin/python3 + Django + django-redis these tests fail
// with one line naming the Debian packages `.ci/run` installs; they never skip.
//
// Compressors Debian's django-redis 5.2 lacks are defined in django_side.py as small
// BaseCompressor subclasses: gzip (django-redis >= 5.3's GzipCompressor: gzip.compress, level 9,
// over 15 bytes), zstd (django-redis's ZStdCompressor imports pyzstd, which Debian does not
// package: the same level 3 / over 15 bytes with the `zstandard` module) and brotli (no
// upstream class: brotli.compress, quality 11, over 15 bytes, as cachex's brotliCompressor).
//
// JSON cannot carry bytes in Django either (json.dumps raises TypeError), so there are no bytes
// cases here; Python's NaN/Infinity literals are read by cachex and written with pythonFormat.
import { jsonSerializer } from '../src/index.ts'
import { describeExact } from './interop/exact.ts'
import { describeMatrix, useInteropServer } from './interop/suite.ts'

const url = useInteropServer()

describeMatrix(
  { kind: 'json', option: async () => 'json', serializer: async () => jsonSerializer() },
  url,
)

// Values whose bytes must be equal when cachex writes them with `pythonFormat` and Django writes
// them with json.dumps(value, cls=DjangoJSONEncoder): what Redis compares as bytes (sorted-set
// members, list elements) then matches across languages.
const EXACT: Array<[string, unknown]> = [
  ['ascii', 'plain ascii'],
  ['latin', 'héllo wörld'],
  ['emoji', '😀🎉 🇫🇷'],
  ['cjk', '漢字かな交じり文'],
  ['combining', 'e\u0301 a\u0308'],
  ['control', 'ctrl \u0000\u0001\u001f\u007f\u0080 \t\n\r\b\f "q" \\ /'],
  ['lone-surrogate', 'half \ud800 pair'],
  ['digits', '12345'],
  ['empty', ''],
  ['floats', [1.5, -0.25, 1e16, 1e-7, 0.1, 0.30000000000000004, 123456.789, 1e21, 5e-324, 1e300]],
  ['non-finite', [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]],
  ['top-float', 1e16],
  ['top-nan', Number.NaN],
  ['top-bool', true],
  ['top-null', null],
  ['big-ints', [2n ** 53n + 1n, -(2n ** 63n), 2n ** 64n + 1n, 0, -1]],
  [
    'nested',
    {
      name: 'Zoë',
      scores: [1.5, -0.25, 1e16, 1e-7],
      nested: { list: [true, false, null, [], {}], emoji: '🎉', 'clé ünïcode': 'värde' },
      empty: {},
    },
  ],
  ['list-of-dicts', [{ a: 1, b: [2.5, 'x'] }, { ключ: 'значение' }]],
]

describeExact({
  title: 'json byte-exactness: jsonSerializer({ pythonFormat: true }) writes what Django writes',
  kind: 'json',
  url,
  serializer: () => jsonSerializer({ pythonFormat: true }),
  values: EXACT,
  zscore: true,
})
