// `inspect` (for inspection tools: the admin UI) builds at most `maxItems` items of a stored value
// (`MAX_INSPECT_ITEMS` by default): a value within maxValueSize can hold tens of millions of them,
// seconds of building in the application's process. Past the bound, a SerializationError saying
// so, thrown as is by `Codec.inspect`; `deserialize` and `decode` read the value whole as before.
import { describe, expect, it } from 'vitest'
import { MAX_INSPECT_ITEMS } from '../src/_inspect-items.ts'
import { Codec, type InspectingSerializer } from '../src/codec.ts'
import { SerializationError } from '../src/errors.ts'
import { jsonSerializer } from '../src/json.ts'

const serializer = jsonSerializer() as InspectingSerializer
const inspect = (text: string, max?: number) => serializer.inspect(Buffer.from(text), max)
const tooMany = (max: number) => `json: the value holds more than ${max} items, too many to show`

/** `text` holds exactly `n` items: inspected within a bound of `n`, refused within `n - 1`. */
function expectItems(text: string, n: number): void {
  expect(inspect(text, n).value).toEqual(JSON.parse(text))
  expect(() => inspect(text, n - 1)).toThrow(SerializationError)
  expect(() => inspect(text, n - 1)).toThrow(tooMany(n - 1))
}

describe('jsonSerializer().inspect: the item bound', () => {
  it('counts each value, the top one and containers too, not an object’s keys', () => {
    expectItems('[1,2,3]', 4)
    expectItems('[ 1 , 2 ]', 3)
    expectItems('{"a":1,"b":[true,null]}', 5)
    expectItems('[[],{},[ ],{ }]', 5)
    expectItems('[{},{},{},{},{}]', 6)
    expectItems('"text"', 1)
    expect(inspect('[]', 1).value).toEqual([])
  })

  it('does not count commas and brackets inside strings', () => {
    expectItems('["a,b,c,d,[{e,f,g"]', 2)
    expectItems('["\\",,,,[[{{", {"k,,,,": ","}]', 4)
  })

  it('refuses a value of many empty objects before parsing it, by default past MAX_INSPECT_ITEMS', () => {
    const text = (n: number) => `[${'{},'.repeat(n - 1)}{}]`
    expect(() => inspect(text(MAX_INSPECT_ITEMS))).toThrow(tooMany(MAX_INSPECT_ITEMS))
    expect((inspect(text(MAX_INSPECT_ITEMS - 1)).value as unknown[]).length).toBe(
      MAX_INSPECT_ITEMS - 1,
    )
    // deserialize is not bounded: it returns whatever was stored.
    const many = serializer.deserialize(Buffer.from(text(MAX_INSPECT_ITEMS * 2))) as unknown[]
    expect(many.length).toBe(MAX_INSPECT_ITEMS * 2)
  })

  it('is unbounded with a bound of Infinity', () => {
    expect(inspect('[1,2,3]', Number.POSITIVE_INFINITY).value).toEqual([1, 2, 3])
  })
})

describe('Codec.inspect: the item bound', () => {
  const codec = new Codec([serializer])
  const bytes = Buffer.from(`[${'0,'.repeat(MAX_INSPECT_ITEMS - 1)}0]`) // MAX_INSPECT_ITEMS + 1

  it('throws the serializer’s error as is past the bound (MAX_INSPECT_ITEMS by default)', () => {
    expect(() => codec.inspect(bytes)).toThrow(SerializationError)
    expect(() => codec.inspect(bytes)).toThrow(new SerializationError(tooMany(MAX_INSPECT_ITEMS)))
    expect(() => codec.inspect(Buffer.from('[1,2,3]'), undefined, 3)).toThrow(tooMany(3))
    expect(codec.inspect(Buffer.from('[1,2,3]'), undefined, 4).value).toEqual([1, 2, 3])
  })

  it('leaves decode unbounded: it returns whatever was stored', () => {
    expect((codec.decode(bytes) as unknown[]).length).toBe(MAX_INSPECT_ITEMS)
  })
})
