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
