// msgpack reads only what Python's msgpack writes: msgpackr's own forms (records, structured
// clones, bundled strings, RegExp, Set, Error, typed arrays, other extensions) are refused with a
// SerializationError, nesting stops at Python's 1024 levels, and map keys never reach a prototype.

import { createRequire } from 'node:module'
import { SerializationError } from '@cachex/core'
import { Codec } from '@cachex/core/internal'
import { describe, expect, it } from 'vitest'
import { MAX_MSGPACK_DEPTH } from '../src/_msgpack-check.ts'
import { msgpackSerializer } from '../src/msgpack.ts'

const require = createRequire(import.meta.url)
const { Packr, Unpackr, addExtension } = require('msgpackr') as {
  Packr: new (options?: object) => { pack(value: unknown): Buffer }
  Unpackr: new (options?: object) => { unpack(data: Buffer): unknown }
  addExtension(extension: object): void
}

const serializer = msgpackSerializer()
const hex = (text: string) => Buffer.from(text.replaceAll(' ', ''), 'hex')

function refuses(data: Buffer, message?: RegExp): SerializationError {
  let error: unknown
  try {
    serializer.deserialize(data)
  } catch (e) {
    error = e
  }
  expect(error).toBeInstanceOf(SerializationError)
  expect((error as Error).message).toMatch(/^msgpack: /)
  if (message !== undefined) expect((error as Error).message).toMatch(message)
  return error as SerializationError
}

class Point {
  constructor(readonly x: number) {}
}
addExtension({
  Class: Point,
  type: 11,
  write: (p: Point) => p.x,
  read: (x: number) => new Point(x),
})

const cycle: Record<string, unknown> = { a: 1 }
cycle.self = cycle
const shared = { x: 1 }

// [name, msgpackr's Packr options, value, what msgpackr's own Unpackr gives back]
const MSGPACKR_FORMS: Array<[string, object, unknown, (value: unknown) => boolean]> = [
  ['a RegExp (moreTypes)', { moreTypes: true }, /^(a+)+$/i, (v) => v instanceof RegExp],
  ['a Set (moreTypes)', { moreTypes: true }, new Set([1, 2]), (v) => v instanceof Set],
  ['an Error (moreTypes)', { moreTypes: true }, new TypeError('x'), (v) => v instanceof Error],
  ['a Uint16Array (moreTypes)', { moreTypes: true }, new Uint16Array([1, 2]), ArrayBuffer.isView],
  [
    'a Float64Array (structuredClone)',
    { structuredClone: true },
    new Float64Array([1.5]),
    ArrayBuffer.isView,
  ],
  [
    'an ArrayBuffer (structuredClone)',
    { structuredClone: true },
    new ArrayBuffer(4),
    (v) => v instanceof ArrayBuffer,
  ],
  [
    'a cycle (structuredClone)',
    { structuredClone: true },
    cycle,
    (v) => (v as typeof cycle).self === v,
  ],
  [
    'a shared object (structuredClone)',
    { structuredClone: true },
    [shared, shared],
    (v) => (v as unknown[])[0] === (v as unknown[])[1],
  ],
  [
    'records (useRecords)',
    { useRecords: true },
    [
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ],
    Array.isArray,
  ],
  [
    'bundled strings (bundleStrings)',
    { bundleStrings: true },
    { k: 'x'.repeat(20), j: 'y'.repeat(30) },
    (v) => typeof v === 'object',
  ],
  [
    'a bigint extension (useBigIntExtension)',
    { useBigIntExtension: true },
    2n ** 70n,
    (v) => typeof v === 'bigint',
  ],
  ['undefined (extension 0)', {}, undefined, (v) => v === undefined],
  ['undefined in a record', {}, { a: undefined }, (v) => typeof v === 'object'],
  ['a registered class (extension 11)', {}, new Point(5), (v) => v instanceof Point],
]

describe('msgpack: refuses what only msgpackr writes', () => {
  it.each(MSGPACKR_FORMS)('%s', (_, options, value, msgpackrReads) => {
    const data = new Packr(options).pack(value)
    // msgpackr's own reader rebuilds it (what cachex read before)…
    expect(
      msgpackrReads(new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(data)),
    ).toBe(true)
    // …cachex refuses it, also through a Codec.
    refuses(data)
    expect(() => new Codec([serializer]).decode(data)).toThrow(SerializationError)
  })

  it.each([
    ['an extension type 5', 'd4 05 00', /extension type 5 refused/],
    ['an extension type -2 (ext 8)', 'c7 01 fe 00', /extension type -2 refused/],
    ['an extension type 0x72 record definition', 'd4 72 40 91 a1 61', /extension type 114 refused/],
    ['a pointer extension 0x70', 'd6 70 00 00 00 01', /extension type 112 refused/],
    ['the never-used byte 0xc1', 'c1', /0xc1/],
    ['0xc1 inside an array', '92 01 c1', /0xc1/],
    ['a 1-byte timestamp', 'd4 ff 00', /timestamp of 1 bytes/],
    ['a 16-byte timestamp', `d8 ff ${'00'.repeat(16)}`, /timestamp of 16 bytes/],
    ['a timestamp of 10^9 nanoseconds (8 bytes)', 'd7 ff ee 6b 28 00 00 00 00 00', /nanoseconds/],
    [
      'a timestamp of 10^9 nanoseconds (12 bytes)',
      `c7 0c ff 3b 9a ca 00 ${'00'.repeat(8)}`,
      /nanoseconds/,
    ],
    ['trailing bytes', '01 02', /1 bytes after the value/],
    ['a truncated str', 'a5 61 62', /truncated/],
    ['a truncated array', '93 01 02', /truncated/],
    ['a truncated int 64', 'cf 00 00', /truncated/],
    ['an array claiming 2^32-1 items', 'dd ff ff ff ff 01', /truncated/],
    ['a map claiming 2^32-1 entries', 'df ff ff ff ff 01 02', /truncated/],
    ['a truncated timestamp', 'd7 ff 00 00', /truncated/],
    ['empty input', '', /truncated/],
  ])('refuses %s', (_, bytes, message) => {
    refuses(hex(bytes), message)
  })

  it('refuses a map key that is a container (as msgpackr does), typed', () => {
    refuses(hex('81 91 01 02'))
  })

  it("still reads every form Python's msgpack writes", () => {
    const value = {
      nil: null,
      bools: [true, false],
      ints: [0, 127, -32, 255, -128, 65535, -32768, 2 ** 32 - 1, -(2 ** 31), 2 ** 53 - 1],
      int64: [2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n],
      floats: [1.5, -0.25, Number.POSITIVE_INFINITY],
      str: ['', 'a'.repeat(31), 'b'.repeat(32), 'c'.repeat(256), 'd'.repeat(65536), '漢字 😀'],
      bin: [Buffer.alloc(0), Buffer.alloc(300, 1), Buffer.alloc(70000, 2)],
      nested: { a: { b: { c: [[], {}] } } },
    }
    expect(serializer.deserialize(serializer.serialize(value) as Buffer)).toEqual(value)
    // Python's msgpack.packb(Timestamp(…)) in the three sizes: 32, 64 and 96 bits.
    expect(serializer.deserialize(hex('d6 ff 00 00 00 01'))).toEqual(new Date(1000))
    expect(serializer.deserialize(hex('d7 ff 00 3d 09 00 00 00 00 01'))).toEqual(new Date(1001))
    expect(serializer.deserialize(hex(`c7 0c ff 00 0f 42 40 ${'ff'.repeat(8)}`))).toEqual(
      new Date(-999),
    )
    // A Python dict with int keys, float32, str 8 of 9 bytes that is not __proto__.
    expect(
      serializer.deserialize(hex('82 01 a1 61 ca 3f c0 00 00 d9 09 5f 5f 70 72 6f 74 6f 5f 78')),
    ).toEqual({
      1: 'a',
      1.5: '__proto_x',
    })
  })
})

describe('msgpack: refuses what it would store as something else', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const cases: Array<[string, unknown, RegExp]> = [
    ['an invalid Date', new Date(Number.NaN), /invalid Date/],
    ['a lone surrogate', 'a\ud800b', /lone surrogate/],
    ['a lone surrogate in a key', { 'k\udc00': 1 }, /lone surrogate/],
    ['a lone surrogate in a Map key', new Map([['\ud800', 1]]), /lone surrogate/],
    ['a boxed number', [new Number(3)], /a Number instance/],
    ['a class instance', { p: new Point(1, 2) }, /a Point instance/],
    ['a RegExp', /x/, /a RegExp instance/],
    ['an Error', new Error('e'), /an Error instance/],
    ['a function inside', { f: () => 1 }, /a function inside/],
    ['a symbol inside', [Symbol('s')], /a symbol inside/],
    ['a Set', new Set([1, 2]), /a Set would be stored as an array/],
    [
      'Map keys read back as one name',
      new Map<unknown, string>([
        [1, 'int'],
        ['1', 'str'],
      ]),
      /the keys 1 and "1"/,
    ],
    ['an object as a Map key', new Map([[{}, 1]]), /Map key must be/],
  ]
  for (const [name, value, message] of cases) {
    it(`refuses ${name}, typed, and the codec says so`, () => {
      expect(() => serializer.serialize(value)).toThrow(message)
      expect(() => new Codec([serializer]).encode(value)).toThrow(SerializationError)
    })
  }

  it('still writes what it reads back as it is', () => {
    const values: unknown[] = [
      'café 😀',
      { 'clé 😀': [1, 2 ** 40, -(2 ** 40), 2n ** 63n - 1n, null, true, 1.5] },
      Object.assign(Object.create(null), { a: 1 }),
      Buffer.from([1, 2, 3]),
      new Date(0),
      { nested: { deeper: ['x', { y: undefined }] } },
    ]
    for (const value of values) {
      expect(() => serializer.serialize(value)).not.toThrow()
    }
    // A Map of distinct keys reads back as a plain object, as documented.
    const map = new Map<unknown, number>([
      ['a', 1],
      [2, 2],
      [true, 3],
    ])
    expect(serializer.deserialize(serializer.serialize(map) as Buffer)).toEqual({
      a: 1,
      '2': 2,
      true: 3,
    })
  })
})

describe('msgpack: what Python reads back', () => {
  it("writes a Map's number, boolean and null keys as the property names they read back as: Python's msgpack (strict_map_key) reads only str keys", () => {
    const map = new Map<unknown, number>([
      ['a', 1],
      [2, 2],
      [true, 3],
      [null, 4],
      [1.5, 5],
    ])
    const bytes = serializer.serialize(map) as Buffer
    // msgpack.packb({'a': 1, '2': 2, 'true': 3, 'null': 4, '1.5': 5}) in Python.
    expect(bytes.toString('hex')).toBe('85a16101a13202a47472756503a46e756c6c04a3312e3505')
    expect(serializer.deserialize(bytes)).toEqual({ a: 1, '2': 2, true: 3, null: 4, '1.5': 5 })
    // Nested, and beside a 64-bit integer (the other path that copies the value).
    const nested = serializer.serialize({ m: new Map([[7, 2 ** 40]]) }) as Buffer
    expect(serializer.deserialize(nested)).toEqual({ m: { '7': 2 ** 40 } })
    expect(nested.includes(Buffer.from('a137', 'hex'))).toBe(true)
  })
})

describe('msgpack: nesting depth', () => {
  const nested = (depth: number) => Buffer.concat([Buffer.alloc(depth - 1, 0x91), hex('90')])

  it(`reads ${MAX_MSGPACK_DEPTH} levels (as Python's msgpack) and refuses one more`, () => {
    let node = serializer.deserialize(nested(MAX_MSGPACK_DEPTH)) as unknown[]
    let levels = 1
    while (node.length > 0) {
      node = node[0] as unknown[]
      levels++
    }
    expect(levels).toBe(MAX_MSGPACK_DEPTH)
    refuses(nested(MAX_MSGPACK_DEPTH + 1), /nested more than 1024 levels/)
    // Maps count the same: {"a": {"a": …}}.
    const maps = Buffer.concat([
      Buffer.from('81a161'.repeat(MAX_MSGPACK_DEPTH + 1), 'hex'),
      hex('c0'),
    ])
    refuses(maps, /nested more than 1024 levels/)
  })

  it('refuses 1 000 000 nested arrays at once, without recursion', () => {
    const start = process.cpuUsage()
    refuses(nested(1_000_000), /nested more than 1024 levels/)
    const used = process.cpuUsage(start)
    // Bounded to prove it stops early: it reads 1025 bytes of the million.
    expect((used.user + used.system) / 1000).toBeLessThan(100)
  })

  it(`writes ${MAX_MSGPACK_DEPTH} levels and refuses one more, or a cycle`, () => {
    let value: unknown[] = []
    for (let i = 1; i < MAX_MSGPACK_DEPTH; i++) value = [value]
    expect(serializer.deserialize(serializer.serialize(value) as Buffer)).toEqual(value)
    expect(() => serializer.serialize([value])).toThrow(/nested more than 1024 levels/)
    expect(() => serializer.serialize([{ big: 2n ** 40n }, [value]])).toThrow(SerializationError)
    const loop: unknown[] = []
    loop.push(loop)
    expect(() => serializer.serialize(loop)).toThrow(/a circular structure cannot be stored/)
  })
})

describe('msgpack: map keys never reach a prototype', () => {
  it.each([
    // msgpack.packb({'__proto__': {'isAdmin': True}}) as Python writes it: fixstr key.
    ['a fixstr key', '81 a9 5f5f70726f746f5f5f 81 a7 697341646d696e c3'],
    // The same key as str 8 and str 16 (other writers; msgpackr reads them the same way).
    ['a str 8 key', '81 d9 09 5f5f70726f746f5f5f 81 a7 697341646d696e c3'],
    ['a str 16 key', '81 da 00 09 5f5f70726f746f5f5f 81 a7 697341646d696e c3'],
    ['a map 16', 'de 00 01 a9 5f5f70726f746f5f5f 81 a7 697341646d696e c3'],
  ])('a map with key __proto__ (%s) holds it as an own property', (_, bytes) => {
    const value = serializer.deserialize(hex(bytes)) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.hasOwn(value, '__proto__')).toBe(true)
    expect(Object.keys(value)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ isAdmin: true })
    expect(value.isAdmin).toBeUndefined()
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
  })

  it('keeps __proto__, __proto_, constructor and prototype apart, nested and in order', () => {
    const packed = new Packr({ useRecords: false, variableMapSize: true }).pack(
      new Map<unknown, unknown>([
        ['constructor', 1],
        ['__proto__', new Map([['__proto__', [new Map([['isAdmin', true]])]]])],
        ['__proto_', 2],
        ['prototype', 3],
        [7, 'seven'],
      ]),
    )
    const value = serializer.deserialize(packed) as Record<string, unknown>
    expect(Object.keys(value)).toEqual(['7', 'constructor', '__proto__', '__proto_', 'prototype'])
    expect(value.constructor).toBe(1)
    expect(value.prototype).toBe(3)
    expect(value.__proto_).toBe(2)
    const inner = Object.getOwnPropertyDescriptor(value, '__proto__')?.value as Record<
      string,
      unknown
    >
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(inner, '__proto__')?.value).toEqual([{ isAdmin: true }])
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
  })

  it('reads "__proto__" as a plain string value as it is', () => {
    expect(serializer.deserialize(hex('92 a9 5f5f70726f746f5f5f 01'))).toEqual(['__proto__', 1])
  })
})
