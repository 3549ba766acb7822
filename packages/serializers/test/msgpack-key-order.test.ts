// A Python dict keeps its insertion order; a JS object lists array-index keys ('0', '10', …)
// first. A map read into a plain object and written back must keep Python's order, so that an
// untouched value written back is byte for byte what Python wrote. Vectors are Python's
// `msgpack.packb(value).hex()` (msgpack 1.0), as in msgpack-inspect.test.ts.
import type { InspectingSerializer } from '@cachex/core/internal'
import { describe, expect, it } from 'vitest'
import { checkMsgpack, VIA_MAPS } from '../src/_msgpack-check.ts'
import { msgpackSerializer } from '../src/msgpack.ts'
import { pickleSerializer } from '../src/pickle.ts'

const PY = {
  // {'z': 0, '10': 1, '2': 3}
  cart: '83a17a00a2313001a13203',
  // {'_auth_user_id': '1', 'cart': {'42': 1, '7': 2}, 'tz': 'Europe/Paris'}
  session:
    '83ad5f617574685f757365725f6964a131a46361727482a2343201a13702a2747aac4575726f70652f5061726973',
  // {'10': 'a', '2': 'b', 'x': None, '0': 'c'}
  firstIndex: '84a23130a161a132a162a178c0a130a163',
  // [{'b': 1, '1': 2}, {'k': {'9': [{'3': 1, 'a': 2}], 'x': 1}}]
  nested: '9282a16201a1310281a16b82a1399182a13301a16102a17801',
  // {str(i): i for i in reversed(range(40))} (a map 16)
  descending:
    'de0028a2333927a2333826a2333725a2333624a2333523a2333422a2333321a2333220a233311fa233301ea2323' +
    '91da232381ca232371ba232361aa2323519a2323418a2323317a2323216a2323115a2323014a2313913a2313812' +
    'a2313711a2313610a231350fa231340ea231330da231320ca231310ba231300aa13909a13808a13707a13606a13' +
    '505a13404a13303a13202a13101a13000',
  // {'k' * 40: 1, '1' * 20: 2, '3': 3} (a str 8 key first; '1' * 20 is no array index)
  long:
    '83d9286b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b01b4' +
    '313131313131313131313131313131313131313102a13303',
  // {'z': 0, '4294967294': 1} (the largest array index)
  maxIndex: '82a17a00aa3432393439363732393401',
  // {'__proto__': 1, '10': 2, 'a': 3}
  proto: '83a95f5f70726f746f5f5f01a2313002a16103',
  // {'z': 2**40, '10': 1, '2': 3} (a uint64 inside)
  wide: '83a17acf0000010000000000a2313001a13203',
  // {'a': [{'b': {'c': {'z': 1, '3': 2}}}], 'x': {'y': 1}}
  deep: '82a1619181a16281a16382a17a01a13302a17881a17901',
  // Mutations of cart.
  added: '85a17a00a2313001a13203a13504a16105', // {'z': 0, '10': 1, '2': 3, '5': 4, 'a': 5}
  deleted: '82a17a00a13203', // {'z': 0, '2': 3}
  swapped: '83a17a00a13203a13107', // {'z': 0, '2': 3, '1': 7}
  changed: '83a17a00a2313009a13203', // {'z': 0, '10': 9, '2': 3}
  jsOrder: '83a13203a2313001a17a00', // {'2': 3, '10': 1, 'z': 0}
  // No array-index key: '01', '4294967295', '-1', '1.5' are JS keys in insertion order.
  notIndex: '85a17a00a2303101aa3432393439363732393502a22d3103a3312e3504',
  // {'zip': '75001', 'ids': ['42', '7'], 'n': 5}: digit strings as values only.
  digitValues: '83a37a6970a53735303031a369647392a23432a137a16e05',
  typical:
    '88a26964cd3039a46e616d65ad416c696365204578616d706c65a5656d61696cb1616c696365406578616d706c' +
    '652e636f6da6616374697665c3a573636f7265cb4058a00000000000a47461677392a561646d696ea462657461a7' +
    '63726561746564ce6553f100a4706c616ea370726f',
}
type Name = keyof typeof PY
const bytes = (name: Name) => Buffer.from(PY[name], 'hex')

const s = msgpackSerializer() as InspectingSerializer
const roundTrip = (name: Name) => s.serialize(s.deserialize(bytes(name))).toString('hex')

describe('msgpack: map key order', () => {
  it('a map with array-index keys, read and written back, is the same bytes', () => {
    for (const name of [
      'cart',
      'session',
      'firstIndex',
      'nested',
      'descending',
      'long',
      'maxIndex',
      'proto',
      'wide',
      'deep',
    ] as const) {
      expect(roundTrip(name), name).toBe(PY[name])
    }
  })

  it('reading still gives plain objects, in JS order', () => {
    const value = s.deserialize(bytes('cart'))
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value as object)).toEqual(['2', '10', 'z'])
    expect(value).toEqual({ z: 0, '10': 1, '2': 3 })
    const proto = s.deserialize(bytes('proto')) as Record<string, unknown>
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype)
    expect(Object.keys(proto)).toEqual(['10', '__proto__', 'a'])
  })

  it('a read map changed by JS: added keys last, deleted ones gone, changed ones in place', () => {
    const added = s.deserialize(bytes('cart')) as Record<string, unknown>
    added['5'] = 4
    added.a = 5
    expect(s.serialize(added).toString('hex')).toBe(PY.added)

    const deleted = s.deserialize(bytes('cart')) as Record<string, unknown>
    delete deleted['10']
    expect(s.serialize(deleted).toString('hex')).toBe(PY.deleted)

    // As many keys as read, but not the same ones.
    const swapped = s.deserialize(bytes('cart')) as Record<string, unknown>
    delete swapped['10']
    swapped['1'] = 7
    expect(s.serialize(swapped).toString('hex')).toBe(PY.swapped)

    const changed = s.deserialize(bytes('cart')) as Record<string, unknown>
    changed['10'] = 9
    expect(s.serialize(changed).toString('hex')).toBe(PY.changed)
  })

  it('a key written as a str 8 is read as one too', () => {
    // {'z': 0, '10': 1, '2': 3} with '10' as a str 8 (Python writes a fixstr): Python's order.
    const value = s.deserialize(Buffer.from('83a17a00d902313001a13203', 'hex'))
    expect(s.serialize(value).toString('hex')).toBe(PY.cart)
  })

  it('an object made in JS (never read), or a copy of a read one, is written in JS order', () => {
    expect(s.serialize({ z: 0, '10': 1, '2': 3 }).toString('hex')).toBe(PY.jsOrder)
    const read = s.deserialize(bytes('cart')) as object
    expect(s.serialize({ ...read }).toString('hex')).toBe(PY.jsOrder)
  })

  it('values without array-index keys are the bytes they were', () => {
    for (const name of ['notIndex', 'digitValues', 'typical'] as const) {
      expect(roundTrip(name), name).toBe(PY[name])
    }
  })

  it('the order is kept for a value the pickle serializer writes, and the reverse', () => {
    // The order belongs to the object, whichever reader made it.
    const pickle = pickleSerializer()
    const fromMsgpack = s.deserialize(bytes('cart'))
    const fromPickle = pickle.deserialize(pickle.serialize(fromMsgpack) as Buffer)
    expect(s.serialize(fromPickle).toString('hex')).toBe(PY.cart)
  })

  it("inspect's value is written back in Python's order too", () => {
    const { value, kinds } = s.inspect(bytes('session'))
    expect(kinds.size).toBe(0)
    expect(s.serialize(value).toString('hex')).toBe(PY.session)
    const proto = s.inspect(bytes('proto')).value
    expect(s.serialize(proto).toString('hex')).toBe(PY.proto)
  })

  it('the gate sends a value down the Map path only for a map key that is an array index', () => {
    expect(checkMsgpack(bytes('cart'))).toBe(VIA_MAPS)
    expect(checkMsgpack(bytes('nested'))).toBe(VIA_MAPS)
    expect(checkMsgpack(bytes('maxIndex'))).toBe(VIA_MAPS)
    expect(checkMsgpack(Buffer.from('83a17a00d902313001a13203', 'hex'))).toBe(VIA_MAPS)
    // Digit strings as values, array items, or keys that are no array index: the common path.
    expect(checkMsgpack(bytes('digitValues'))).toBe(0)
    expect(checkMsgpack(bytes('notIndex'))).toBe(0)
    expect(checkMsgpack(bytes('long'))).toBe(VIA_MAPS) // its '3'
    expect(checkMsgpack(Buffer.from('92a131a23130', 'hex'))).toBe(0) // ['1', '10']
    expect(checkMsgpack(Buffer.from('81a16191a131', 'hex'))).toBe(0) // {'a': ['1']}
    expect(checkMsgpack(Buffer.from('82a16190a162a131', 'hex'))).toBe(0) // {'a': [], 'b': '1'}
    expect(checkMsgpack(bytes('typical'))).toBe(0)
  })
})
