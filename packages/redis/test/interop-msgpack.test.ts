// Django interoperability, msgpack serializer (django-redis's MSGPackSerializer: msgpack.dumps
// with Python's defaults, msgpack.loads(raw=False)). See interop-json.test.ts for how the
// Python side runs, what it needs, and the compressors Debian's django-redis 5.2 lacks (gzip,
// zstd, brotli are defined in test/interop/django_side.py).
import { describe, expect, it } from 'vitest'
import { createCache, msgpackSerializer, SerializationError } from '../src/index.ts'
import { DjangoBatch } from './interop/django.ts'
import { describeExact } from './interop/exact.ts'
import { describeMatrix, useInteropServer } from './interop/suite.ts'

const url = useInteropServer()

describeMatrix(
  { kind: 'msgpack', option: async () => 'msgpack', serializer: async () => msgpackSerializer() },
  url,
)

const a = (n: number) => 'a'.repeat(n)
const bytes = (n: number) => Buffer.alloc(n, 0xab)

// A lone integer is stored as digits by both sides, so integers are checked inside a list.
const INTS: Array<number | bigint> = [
  0,
  1,
  127,
  128,
  255,
  256,
  65535,
  65536,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 53 - 1,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
  -1,
  -32,
  -33,
  -128,
  -129,
  -32768,
  -32769,
  -(2 ** 31),
  -(2 ** 31) - 1,
  -(2 ** 53 - 1),
  -(2n ** 63n),
]

describeExact({
  title: "msgpack byte-exactness: cachex writes what Python's msgpack writes",
  kind: 'msgpack',
  url,
  serializer: () => msgpackSerializer(),
  values: [
    ...INTS.map((n) => [`int ${n}`, [n]] as const),
    ['float 1.5', 1.5],
    ['float -0.25', -0.25],
    ['float 1e16', 1e16],
    ['float 1e-7', 1e-7],
    ['float 0.1', 0.1],
    ['float 5e-324', 5e-324],
    ['float 1e300', 1e300],
    ['float nan', Number.NaN],
    ['float inf', Number.POSITIVE_INFINITY],
    ['float -inf', Number.NEGATIVE_INFINITY],
    ['floats in a list', [1.5, 1e16, 2 ** 60, -2.5e17]],
    ['str empty', ''],
    ['str 1', a(1)],
    ['str 31 (fixstr)', a(31)],
    ['str 32 (str 8)', a(32)],
    ['str 255', a(255)],
    ['str 256 (str 16)', a(256)],
    ['str 65535', a(65535)],
    ['str 65536 (str 32)', a(65536)],
    ['str unicode', '漢字 😀 é\u0301 \u0000'],
    ['str 20 × é (40 bytes: str 8)', 'é'.repeat(20)],
    ['str 100 × 漢 (300 bytes: str 16)', '漢'.repeat(100)],
    ['bin empty', bytes(0)],
    ['bin 1', bytes(1)],
    ['bin 255', bytes(255)],
    ['bin 256 (bin 16)', bytes(256)],
    ['bin 65536 (bin 32)', bytes(65536)],
    ['true', true],
    ['false', false],
    ['nil', null],
    ['list empty', []],
    ['map empty', {}],
    ['list 15 (fixarray)', Array.from({ length: 15 }, (_, i) => i)],
    ['list 16 (array 16)', Array.from({ length: 16 }, (_, i) => i)],
    ['map 15 (fixmap)', Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`k${i}`, i]))],
    ['map 16 (map 16)', Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i]))],
    [
      'nested maps',
      {
        a: { b: [1, 'x', { c: null }], big: 2 ** 40, neg: -(2 ** 40) },
        é: 1.5,
        bin: bytes(3),
        list: [true, false, [], {}],
      },
    ],
  ],
  zscore: true,
})

describe('msgpack integers beyond 64 bits', () => {
  it('are refused by both sides (Python raises OverflowError)', async () => {
    const prefix = `interop-msgpack-overflow-${process.pid}`
    const batch = new DjangoBatch()
    const set = batch.set('py', [2n ** 64n])
    const results = await batch.run({
      url: url(),
      serializer: 'msgpack',
      compressor: 'none',
      prefix,
    })
    expect(results.error(set)).toMatch(/^OverflowError/)
    const cache = createCache({ location: url(), keyPrefix: prefix, serializer: 'msgpack' })
    try {
      await expect(cache.set('js', [2n ** 64n])).rejects.toThrow(SerializationError)
    } finally {
      await cache.close()
    }
  })
})
