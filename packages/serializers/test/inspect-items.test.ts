// `inspect` of msgpack and pickle (for inspection tools: the admin UI) builds at most `maxItems`
// items of a stored value (`MAX_INSPECT_ITEMS` by default): a value within maxValueSize can hold
// tens of millions of them (60 MiB of msgpack empty arrays: 63 million), seconds of building in
// the application's process. Past the bound, a SerializationError saying so, which
// `Codec.inspect` throws as is; `deserialize` reads the value whole as before.
import { SerializationError } from '@cachex/core'
import { Codec, type InspectingSerializer, MAX_INSPECT_ITEMS } from '@cachex/core/internal'
import { describe, expect, it } from 'vitest'
import { msgpackSerializer } from '../src/msgpack.ts'
import { pickleSerializer } from '../src/pickle.ts'

const tooMany = (name: string, max: number) =>
  `${name}: the value holds more than ${max} items, too many to show`

describe.each([
  ['msgpack', msgpackSerializer() as InspectingSerializer],
  ['pickle', pickleSerializer() as InspectingSerializer],
] as const)('%s inspect: the item bound', (name, serializer) => {
  const bytes = (value: unknown) => serializer.serialize(value) as Buffer

  /** `value` holds exactly `n` items: inspected within a bound of `n`, refused within `n - 1`. */
  function expectItems(value: unknown, n: number): void {
    const data = bytes(value)
    expect(serializer.inspect(data, n).value).toEqual(serializer.deserialize(data))
    expect(() => serializer.inspect(data, n - 1)).toThrow(SerializationError)
    expect(() => serializer.inspect(data, n - 1)).toThrow(tooMany(name, n - 1))
  }

  it('counts each value, the top one and containers too', () => {
    expectItems([1, 2, 3], 4)
    expectItems([[], [[]], 'text', null], 6)
    expectItems('text', 1)
  })

  it('refuses a list just past MAX_INSPECT_ITEMS by default, and reads one at it', () => {
    const over = bytes(new Array(MAX_INSPECT_ITEMS).fill(0))
    expect(() => serializer.inspect(over)).toThrow(tooMany(name, MAX_INSPECT_ITEMS))
    // deserialize is not bounded: it returns whatever was stored.
    expect((serializer.deserialize(over) as unknown[]).length).toBe(MAX_INSPECT_ITEMS)
    const at = serializer.inspect(bytes(new Array(MAX_INSPECT_ITEMS - 1).fill(0)))
    expect((at.value as unknown[]).length).toBe(MAX_INSPECT_ITEMS - 1)
  })

  it('is thrown as is by Codec.inspect, whose decode stays unbounded', () => {
    const codec = new Codec([serializer])
    const data = bytes([1, 2, 3])
    expect(() => codec.inspect(data, undefined, 3)).toThrow(
      new SerializationError(tooMany(name, 3)),
    )
    expect(codec.inspect(data, undefined, 4).value).toEqual([1, 2, 3])
    const many = bytes(new Array(MAX_INSPECT_ITEMS * 2).fill(0))
    expect(() => codec.inspect(many)).toThrow(
      new SerializationError(tooMany(name, MAX_INSPECT_ITEMS)),
    )
    expect((codec.decode(many) as unknown[]).length).toBe(MAX_INSPECT_ITEMS * 2)
  })
})

describe('msgpack inspect: the item bound', () => {
  const serializer = msgpackSerializer() as InspectingSerializer
  const hex = (text: string) => Buffer.from(text.replaceAll(' ', ''), 'hex')

  it('counts a map’s values, not its keys', () => {
    // {"a": 1, "b": [2]}: the map, 1, the list, 2
    const data = hex('82 a161 01 a162 91 02')
    expect(serializer.inspect(data, 4).value).toEqual({ a: 1, b: [2] })
    expect(() => serializer.inspect(data, 3)).toThrow(tooMany('msgpack', 3))
  })

  it('refuses an array by its length, before reading its items', () => {
    // array 32 of 300,000 empty arrays: refused as it opens (its items are never built)
    const n = 300_000
    const head = Buffer.from([0xdd, 0, 0, 0, 0])
    head.writeUInt32BE(n, 1)
    const data = Buffer.concat([head, Buffer.alloc(n, 0x90)])
    expect(() => serializer.inspect(data, 1000)).toThrow(tooMany('msgpack', 1000))
    expect(() => serializer.inspect(data)).toThrow(tooMany('msgpack', MAX_INSPECT_ITEMS))
    expect((serializer.deserialize(data) as unknown[]).length).toBe(n)
  })
})

describe('pickle inspect: the item bound', () => {
  const serializer = pickleSerializer() as InspectingSerializer

  it('counts each value an opcode makes, not a dict’s keys (as JSON and msgpack)', () => {
    // {"a": 1}: the dict and 1 ("a" counted as it is pushed, given back once set)
    const data = serializer.serialize({ a: 1 }) as Buffer
    expect(serializer.inspect(data, 3).value).toEqual({ a: 1 })
    expect(() => serializer.inspect(data, 1)).toThrow(tooMany('pickle', 1))
    // pickle.dumps([{'a': 1}, {'a': 2}]): the second 'a' a memo reference. 5 items, as the JSON
    // [{"a":1},{"a":2}] counts; the key being set counts until it is (a bound of 6).
    const rows = Buffer.from(
      '80059515000000000000005d94287d948c0161944b01737d9468024b0273652e',
      'hex',
    )
    expect(serializer.inspect(rows, 6).value).toEqual([{ a: 1 }, { a: 2 }])
    expect(() => serializer.inspect(rows, 4)).toThrow(tooMany('pickle', 4))
  })

  it('counts a value taken again from the memo or the stack each time', () => {
    // pickle.dumps([x, x, x]) with x = [] (x memoized once, then BINGET twice): 4 values pushed
    const data = Buffer.from('8004950b000000000000005d94285d9468016801652e', 'hex')
    const value = serializer.inspect(data, 4).value as unknown[][]
    expect(value).toEqual([[], [], []])
    expect(value[0]).toBe(value[2])
    expect(() => serializer.inspect(data, 3)).toThrow(tooMany('pickle', 3))
    // A list of 1,000 DUPs of one empty list ( ] ( ] DUP×1000 e . ): 1,002 values, a few bytes
    // each (60 million of them, 58 KB of zlib, took 15 s to build before they were counted).
    const dups = Buffer.concat([
      Buffer.from(']('),
      Buffer.from(']'),
      Buffer.alloc(1000, '2'),
      Buffer.from('e.'),
    ])
    expect(serializer.inspect(dups, 1002).value as unknown[]).toHaveLength(1001)
    expect(() => serializer.inspect(dups, 1001)).toThrow(tooMany('pickle', 1001))
    expect(serializer.deserialize(dups) as unknown[]).toHaveLength(1001)
  })
})
