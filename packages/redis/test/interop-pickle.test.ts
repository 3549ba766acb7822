// Django interoperability, pickle serializer (django-redis's PickleSerializer, PICKLE_VERSION 4 =
// CPython 3.11's DEFAULT_PROTOCOL; one suite with PICKLE_VERSION -1 (protocol 5) and 2). See
// interop-json.test.ts for how the Python side runs, what it needs, and the compressors Debian's
// django-redis 5.2 lacks (gzip, zstd, brotli are defined in test/interop/django_side.py).
//
// The matrix creates its caches with `serializer: 'pickle'`, as users do; the byte-exact suites
// use the serializer object.
import { pickleSerializer, tuple } from '@cachex/serializers/pickle'
import type { SerializerName } from '../src/index.ts'
import type { ValueCase } from './interop/cases.ts'
import { describeExact } from './interop/exact.ts'
import { describeMatrix, useInteropServer } from './interop/suite.ts'
import { py } from './interop/tagged.ts'

const url = useInteropServer()

/** The matrix's serializer option: the name, as users write it. */
async function pickleOption(): Promise<SerializerName> {
  return 'pickle'
}

// What only pickle carries: tuples, sets, dicts with non-string keys.
const PICKLE_CASES: ValueCase[] = [
  {
    id: 'tuple',
    js: tuple(1, 'a', 2.5, null),
    jsRead: [1, 'a', 2.5, null],
  },
  {
    id: 'tuple-empty',
    js: tuple(),
    jsRead: [],
  },
  { id: 'set-of-ints', js: new Set([1, 2, 3]) },
  { id: 'set-of-strings', js: new Set(['a', 'b', 'ü']) },
  { id: 'set-empty', js: new Set() },
  {
    id: 'dict-int-keys',
    js: new Map<unknown, unknown>([
      [1, 'one'],
      [2, 'two'],
    ]),
  },
  {
    id: 'nested-python-types',
    js: { t: tuple(1, tuple('x')), s: new Set([10]), m: new Map([[3, [1.5]]]) },
    jsRead: { t: [1, ['x']], s: new Set([10]), m: new Map([[3, [1.5]]]) },
    py: py.dict(
      ['t', py.tuple(py.int(1), py.tuple(py.str('x')))],
      ['s', py.set(py.int(10))],
      ['m', py.dict([py.int(3), py.list(py.float(1.5))])],
    ),
  },
]

describeMatrix(
  {
    kind: 'pickle',
    option: pickleOption,
    serializer: async () => pickleSerializer(),
    extraCases: PICKLE_CASES,
    pickleVersion: 4,
  },
  url,
)

const a = (n: number) => 'a'.repeat(n)

// None/bool/int/float/str/bytes/list/tuple/dict/set, written byte-identical to CPython's pickle.
// (A lone integer is stored as digits, so integers are checked inside a list.)
const EXACT: Array<readonly [string, unknown]> = [
  ['None', null],
  ['True', true],
  ['False', false],
  ['ints', [0, 1, 255, 256, 65535, 65536, -1, -256, 2 ** 31 - 1, 2 ** 31, -(2 ** 31) - 1]],
  ['big ints', [2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n + 1n, -(2n ** 100n)]],
  ['float 1.5', 1.5],
  ['float -0.25', -0.25],
  ['float 1e16', 1e16],
  ['float 1e-7', 1e-7],
  ['float nan', Number.NaN],
  ['float inf', Number.POSITIVE_INFINITY],
  ['str empty', ''],
  ['str short', 'short'],
  ['str unicode', '漢字 😀 é\u0301 \u0000'],
  ['str 256', a(256)],
  ['str 70000 (frames)', a(70_000)],
  ['bytes empty', Buffer.alloc(0)],
  ['bytes', Buffer.from([0, 1, 0x80, 0xff])],
  ['bytes 300', Buffer.alloc(300, 7)],
  ['list', [1, 'two', 3.5, null, true]],
  ['list empty', []],
  ['list 2000 strings (frames)', Array.from({ length: 2000 }, (_, i) => `item ${i} ${a(40)}`)],
  ['tuple', tuple(1, 'two')],
  ['tuple empty', tuple()],
  ['tuple 1..3', tuple(tuple(1), tuple(1, 2), tuple(1, 2, 3))],
  ['dict', { a: 1, b: [2, 3], c: { d: 'é' } }],
  ['dict empty', {}],
  [
    'dict int keys',
    new Map<unknown, unknown>([
      [1, 'one'],
      [2, 'two'],
    ]),
  ],
  ['set', new Set([1, 2, 3])],
  ['set empty', new Set()],
  ['nested', { list: [tuple(1, 'x'), new Set([5])], bytes: Buffer.from('hi'), f: 0.1 }],
]

describeExact({
  title: 'pickle byte-exactness, protocol 4: cachex writes what CPython 3.11 writes',
  kind: 'pickle',
  url,
  serializer: () => pickleSerializer(),
  values: EXACT,
})

describeExact({
  title: 'pickle, PICKLE_VERSION -1 (protocol 5) vs pickleVersion 5',
  kind: 'pickle',
  url,
  serializer: () => pickleSerializer({ pickleVersion: 5 }),
  pickleVersion: -1,
  values: EXACT,
})

describeExact({
  title: 'pickle, PICKLE_VERSION 2 vs pickleVersion 2',
  kind: 'pickle',
  url,
  serializer: () => pickleSerializer({ pickleVersion: 2 }),
  pickleVersion: 2,
  values: EXACT,
})
