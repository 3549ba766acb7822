// Values Django stores that cachex read wrong without a word (differential fuzzing against
// CPython; bytes are Python's own): a set or dict with two NaNs (Python tells them apart, a JS Set
// or Map kept one: an item, or a key and its value, lost), a datetime whose UTC offset has
// microseconds (toDate() rounded the instant up, where microseconds are cut), and a msgpack map
// with bytes or tuple keys (refused in msgpackr's words, naming an option cachex does not take).
import { SerializationError } from '@cachex/core'
import { describe, expect, it } from 'vitest'
import { msgpackSerializer } from '../src/msgpack.ts'
import { pickleSerializer } from '../src/pickle.ts'
import type { PyDateTime } from '../src/py-datetime.ts'

const hex = (text: string) => Buffer.from(text, 'hex')
const pickle = pickleSerializer()

describe('two NaNs in one set or dict', () => {
  it.each([
    // {float('nan'), float('nan'), 1}, protocol 5
    ['a set', '80059519000000000000008f94284b01477ff8000000000000477ff8000000000000902e'],
    // {float('nan'): 'a', float('nan'): 'b'}, protocol 5
    [
      'a dict',
      '8005951f000000000000007d9428477ff80000000000008c016194477ff80000000000008c016294752e',
    ],
  ])('%s is refused, not read with one lost', (_kind, data) => {
    expect(() => pickle.deserialize(hex(data))).toThrow(SerializationError)
    expect(() => pickle.deserialize(hex(data))).toThrow(/more than one NaN/)
  })

  it('one NaN key beside a NaN value reads', () => {
    // {float('nan'): 'a', 'x': float('nan')}, protocol 2
    const read = pickle.deserialize(
      hex('80027d710028477ff800000000000058010000006171015801000000787102477ff8000000000000752e'),
    ) as Map<unknown, unknown>
    expect([...read.keys()]).toEqual([Number.NaN, 'x'])
    expect(read.get('x')).toBeNaN()
  })
})

it("a datetime whose UTC offset has microseconds: toDate() cuts the instant's microseconds", () => {
  // datetime(2010, 1, 1, 0, 0, 45, 382000, tzinfo=timezone(timedelta(hours=1, microseconds=1))),
  // protocol 2: 2009-12-31T23:00:45.381999+00:00
  const read = pickle.deserialize(
    hex(
      '8002636461746574696d650a6461746574696d650a7100635f636f646563730a656e636f64650a7101580c00000007c39a010100002d05c39430710258060000006c6174696e317103867104527105636461746574696d650a74696d657a6f6e650a7106636461746574696d650a74696d6564656c74610a71074b004d100e4b0187710852710985710a52710b86710c52710d2e',
    ),
  ) as PyDateTime
  expect(read.toDate().toISOString()).toBe('2009-12-31T23:00:45.381Z')
})

it.each([
  ['bytes keys', '81c402ff0001'], // msgpack.packb({b'\xff\x00': 1})
  ['a tuple key', '8192010203'], // msgpack.packb({(1, 2): 3})
  ['an empty tuple key, in a list', '91819001'], // msgpack.packb([{(): 1}])
  ['a tuple key, deeper', '81a16181910102'], // msgpack.packb({'a': {(1,): 2}})
])('a msgpack map with %s is refused in cachex’s words', (_kind, data) => {
  const read = () => msgpackSerializer().deserialize(hex(data))
  expect(read).toThrow(SerializationError)
  expect(read).toThrow(/a map key must be a str, a number, a boolean or nil/)
  expect(read).not.toThrow(/mapsAsObjects/)
})
