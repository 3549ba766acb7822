// `inspect` of the pickle serializer (for the admin UI): the value `deserialize` gives, plus the
// Python kinds JS cannot tell apart — which arrays were tuples, which Sets frozensets, which
// Buffers bytearrays. Vectors are CPython's bytes (protocol 4).
import type { InspectingSerializer } from '@cachex/core/internal'
import { Codec } from '@cachex/core/internal'
import { describe, expect, it } from 'vitest'
import { pickleSerializer } from '../src/pickle.ts'

describe('pickleSerializer().inspect', () => {
  it('reads what deserialize reads, and names tuples, frozensets and bytearrays', () => {
    const serializer = pickleSerializer() as InspectingSerializer
    const value = { t: [1, [2]], l: [5] }
    const bytes = serializer.serialize(value) as Buffer
    const inspected = serializer.inspect(bytes)
    expect(inspected.value).toEqual(serializer.deserialize(bytes))
    expect(inspected.kinds.size).toBe(0)
  })

  it('marks the containers of a pickle CPython wrote', () => {
    // pickle.dumps(((1, 2), frozenset({3}), {4}, bytearray(b'x'), [5]), 4)
    const bytes = Buffer.from(
      '8004953b00000000000000284b014b028694284b0391948f94284b04908c086275696c74696e73948c09627974' +
        '65617272617994939443017894859452945d944b056174942e',
      'hex',
    )
    const serializer = pickleSerializer() as InspectingSerializer
    const { value, kinds } = serializer.inspect(bytes)
    const [pair, frozen, set, array, list] = value as [
      unknown[],
      Set<number>,
      Set<number>,
      Buffer,
      number[],
    ]
    expect(kinds.get(value as object)).toBe('tuple')
    expect(kinds.get(pair)).toBe('tuple')
    expect(kinds.get(frozen)).toBe('frozenset')
    expect(kinds.has(set)).toBe(false)
    expect(kinds.get(array)).toBe('bytearray')
    expect(kinds.has(list)).toBe(false)
  })

  it('Codec.inspect says how a value was stored', () => {
    const serializer = pickleSerializer()
    const codec = new Codec([serializer])
    expect(codec.inspect(Buffer.from('42'))).toMatchObject({
      value: 42,
      serializer: null,
      compressor: null,
    })
    const stored = codec.encode({ a: 1 }) as Buffer
    expect(codec.inspect(stored)).toMatchObject({
      value: { a: 1 },
      serializer: 'pickle',
      compressor: null,
    })
  })
})

// JS has one number type: 1.0 reads as 1, as an int would. `inspect` boxes a whole float
// (`new Number(1)`, kind 'float') so that a tool can show it as Python does and not offer to
// rewrite it as JSON (which would store an int); `deserialize` still gives plain numbers.
describe('pickleSerializer().inspect: whole floats', () => {
  const serializer = pickleSerializer() as InspectingSerializer
  const hex = (text: string) => Buffer.from(text, 'hex')
  const isFloat = (kinds: ReadonlyMap<object, string>, v: unknown, n: number) =>
    v instanceof Number && kinds.get(v) === 'float' && Object.is(v.valueOf(), n)

  it('marks a whole float, and deserialize still reads a plain number', () => {
    // pickle.dumps({'price': 1.0, 'name': 'a'}, 4), as Django stores it
    const bytes = hex(
      '80049521000000000000007d94288c05707269636594473ff00000000000008c046e616d65948c016194752e',
    )
    const { value, kinds } = serializer.inspect(bytes)
    const dict = value as { price: unknown; name: unknown }
    expect(isFloat(kinds, dict.price, 1)).toBe(true)
    expect(dict.name).toBe('a')
    expect(serializer.deserialize(bytes)).toEqual({ price: 1, name: 'a' })
    expect(typeof (serializer.deserialize(bytes) as { price: unknown }).price).toBe('number')
  })

  it('marks whole floats in lists, tuples and dict values; keys and set items stay numbers', () => {
    // pickle.dumps([1.0, 1, 2.5, -0.0, 1e16, (3.0,), {1.0: 'k'}, {2.0}, frozenset({4.0}),
    //               collections.OrderedDict(a=5.0)], 4)
    const bytes = hex(
      '8004958e000000000000005d9428473ff00000000000004b01474004000000000000478000000000000000474341' +
        'c37937e0800047400800000000000085947d94473ff00000000000008c016b94738f94284740000000000000' +
        '00902847401000000000000091948c0b636f6c6c656374696f6e73948c0b4f72646572656444696374949394' +
        '2952948c01619447401400000000000073652e',
    )
    const { value, kinds } = serializer.inspect(bytes)
    const [one, int, half, negZero, big, tuple, dict, set, frozen, ordered] = value as unknown[]
    expect(isFloat(kinds, one, 1)).toBe(true)
    expect(int).toBe(1)
    expect(half).toBe(2.5)
    expect(isFloat(kinds, negZero, -0)).toBe(true)
    expect(isFloat(kinds, big, 1e16)).toBe(true)
    expect(isFloat(kinds, (tuple as unknown[])[0], 3)).toBe(true)
    // Keys and set items are what deserialize makes (Python's 1 == 1.0 finds them).
    expect(dict).toEqual(new Map([[1, 'k']]))
    expect(set).toEqual(new Set([2]))
    expect(frozen).toEqual(new Set([4]))
    expect(isFloat(kinds, (ordered as Map<unknown, unknown>).get('a'), 5)).toBe(true)
    expect(serializer.deserialize(bytes)).toEqual([
      1,
      1,
      2.5,
      -0,
      1e16,
      [3],
      new Map([[1, 'k']]),
      new Set([2]),
      new Set([4]),
      new Map([['a', 5]]),
    ])
  })

  it('marks a float of protocol 0 (FLOAT) too', () => {
    const { value, kinds } = serializer.inspect(Buffer.from('F1.0\n.', 'latin1'))
    expect(isFloat(kinds, value, 1)).toBe(true)
    expect(serializer.deserialize(Buffer.from('F1.0\n.', 'latin1'))).toBe(1)
  })

  it('gives constructors and set items plain numbers, as deserialize does', () => {
    // pickle.dumps([{1.0, 2}, 7.0], 2): set([1.0, 2]) by REDUCE
    const sets = hex(
      '80025d710028635f5f6275696c74696e5f5f0a7365740a71015d710228473ff00000000000004b02658571035271' +
        '0447401c000000000000652e',
    )
    const inspected = serializer.inspect(sets)
    const [set, seven] = inspected.value as [Set<unknown>, unknown]
    expect(set).toEqual(new Set([1, 2]))
    expect(isFloat(inspected.kinds, seven, 7)).toBe(true)
    // datetime.timedelta(1.0, 0, 0) (Python reads it as a day)
    const delta = hex(
      '8002636461746574696d650a74696d6564656c74610a473ff00000000000004b004b0087522e',
    )
    expect(serializer.inspect(delta).value).toEqual(serializer.deserialize(delta))
  })

  it("gives an application class's read and setState plain numbers, as deserialize does", () => {
    const seen: string[][] = []
    const pickle = pickleSerializer({
      classes: {
        'myapp.P': {
          read(args) {
            const run: string[] = [typeof args[0], typeof (args[1] as unknown[])[0]]
            seen.push(run)
            return run
          },
          setState(made, state) {
            const run = made as string[]
            run.push(typeof (state as { z: unknown }).z)
          },
        },
      },
    }) as InspectingSerializer
    // myapp.P(1.0, [2.0]) with the state {'z': 3.0} (REDUCE, then BUILD)
    const bytes = hex(
      '8002636d796170700a500a473ff00000000000005d4740000000000000006186527d55017a474008000000000000' +
        '73622e',
    )
    pickle.deserialize(bytes)
    pickle.inspect(bytes)
    expect(seen).toEqual([
      ['number', 'number', 'number'],
      ['number', 'number', 'number'],
    ])
  })
})

describe('pickleSerializer().inspect: what handlers are given, in linear time', () => {
  const b = (text: string) => Buffer.from(text, 'latin1')
  const one = 'G?\xf0\x00\x00\x00\x00\x00\x00' // BINFLOAT 1.0, a whole float
  const call = 'capp.models\nP\nh\x00\x85R'

  it('a list shared by 300 calls after a whole float is walked once, not 300 times', () => {
    const pickle = pickleSerializer({
      classes: { 'app.models:P': { read: (args) => ({ items: args[0] }) } },
    }) as InspectingSerializer
    // 300 × P(list) over one list of 20,000 items: walked each call, 6,000,000 items, over the
    // input's budget; walked once, 20,000.
    const bytes = b(`\x80\x02${one}0]q\x00(${'K\x01'.repeat(20_000)}e0](${call.repeat(300)}e.`)
    const value = pickle.inspect(bytes).value as { items: unknown[] }[]
    expect(value.length).toBe(300)
    expect(value[299]?.items).toBe(value[0]?.items)
    expect(value[299]?.items.length).toBe(20_000)
  })

  it('a whole float written into a list after a call is a number at the next call', () => {
    const seen: string[][] = []
    const pickle = pickleSerializer({
      classes: {
        'app.models:P': {
          read: (args) => {
            seen.push((args[0] as unknown[]).map((item) => typeof item))
            return null
          },
        },
      },
    }) as InspectingSerializer
    // list = [1.0]; P(list); list.append(1.0); P(list)
    const bytes = b(`\x80\x02]q\x00${one}a${call}0h\x00${one}a${call}0h\x00.`)
    pickle.inspect(bytes)
    expect(seen).toEqual([['number'], ['number', 'number']])
  })
})

describe('pickleSerializer().inspect: what handlers were given holds numbers, whenever floats come', () => {
  const hex = (text: string) => Buffer.from(text, 'hex')
  /** Whether `value` holds a boxed float anywhere (Maps' keys and values, arrays, objects). */
  const holdsBox = (value: unknown, seen = new Set<unknown>()): boolean => {
    if (value instanceof Number) return true
    if (typeof value !== 'object' || value === null || seen.has(value)) return false
    seen.add(value)
    const items =
      value instanceof Map ? [...value].flat() : Array.isArray(value) ? value : Object.values(value)
    return items.some((item) => holdsBox(item, seen))
  }
  const given: unknown[] = []
  const pickle = pickleSerializer({
    classes: {
      'app.models:P': {
        read: (args) => {
          // The arguments as they stand at the end: a dict in them that became a Map is swapped.
          given.push(args)
          return null
        },
      },
    },
  }) as InspectingSerializer

  it.each([
    // L = []; L.append(P(L)); L.append(1.0); L.append([2.0, {'x': 3.0}]): no float before the call.
    [
      'a list handed over before any float',
      '80049544000000000000005d94288c0a6170702e6d6f64656c73948c0150949394680085945294473ff00000000000005d94284740000000000000007d948c0178944740080000000000007365652e',
    ],
    // [1.0, d] with d = {}; d['a'] = P(d); d['b'] = 1.0; d[1] = 5.0; d[2.0] = 'two'; d['c'] = (6.0,):
    // the dict handed over becomes a Map in the SETITEMS after.
    [
      'a dict handed over that becomes a Map',
      '80049565000000000000005d9428473ff00000000000007d94288c0161948c0a6170702e6d6f64656c73948c01509493946801859452948c016294473ff00000000000004b014740140000000000004740000000000000008c0374776f948c016394474018000000000000859475652e',
    ],
  ])('%s (CPython, protocol 4)', (_, bytes) => {
    given.length = 0
    pickle.inspect(hex(bytes))
    expect(given.length).toBe(1)
    expect(holdsBox(given[0])).toBe(false)
  })
})
