// The examples answer values read from a cache as JSON through `toJSONSafe`. A pickle can share
// one list or string at many places (Python's memo): JSON writes each place out again, so a small
// stored value could answer hundreds of MB. `toJSONSafe` refuses past its bounds, quickly.
import { describe, expect, it } from 'vitest'
import { MAX_JSON_CHARS, MAX_JSON_ITEMS, toJSONSafe } from '../../../examples/_shared/src/json.ts'
import { pickleSerializer } from '../../serializers/src/pickle.ts'

const pickle = pickleSerializer()

describe('toJSONSafe', () => {
  it('answers bigints as decimal strings and undefined as null', () => {
    expect(toJSONSafe({ views: 2n ** 64n, gone: undefined, list: [1, undefined] })).toEqual({
      views: '18446744073709551616',
      list: [1, null],
    })
    expect(toJSONSafe(undefined)).toBeNull()
  })

  it('refuses a pickle of 24 lists each holding the next twice (16 million items)', () => {
    // PROTO 4, then 24 × (EMPTY_LIST, MEMOIZE); each list i holds list i+1 twice, built from the
    // innermost out: BINGET i+1 twice, APPENDS into list i.
    const parts: number[] = [0x80, 0x04]
    for (let i = 0; i < 24; i++) parts.push(0x5d, 0x94)
    for (let i = 22; i >= 0; i--) parts.push(0x68, i, 0x28, 0x68, i + 1, 0x68, i + 1, 0x65, 0x30)
    parts.push(0x68, 0, 0x2e)
    const value = pickle.deserialize(Buffer.from(parts))
    expect(() => toJSONSafe(value)).toThrow(
      new RangeError(
        `a value of more than ${MAX_JSON_ITEMS} items or ${MAX_JSON_CHARS} characters is not answered as JSON`,
      ),
    )
  })

  it('refuses a pickle of one 1 MiB string at 150 places (150 MiB of JSON)', () => {
    const mib = 1024 * 1024
    const length = Buffer.alloc(4)
    length.writeUInt32LE(mib)
    // PROTO 4, EMPTY_LIST, MEMOIZE, MARK, BINUNICODE 'x' × 1 MiB, MEMOIZE, BINGET 1 × 149,
    // APPENDS, STOP.
    const bytes = Buffer.concat([
      Buffer.from([0x80, 0x04, 0x5d, 0x94, 0x28, 0x58]),
      length,
      Buffer.alloc(mib, 'x'),
      Buffer.from([0x94]),
      Buffer.from('h\x01'.repeat(149), 'latin1'),
      Buffer.from('e.', 'latin1'),
    ])
    const value = pickle.deserialize(bytes) as string[]
    expect(value).toHaveLength(150)
    expect(() => toJSONSafe(value)).toThrow(RangeError)
  })

  it('answers a value of one string just under the bound', () => {
    const text = 'x'.repeat(MAX_JSON_CHARS - 16)
    expect(toJSONSafe({ text })).toEqual({ text })
  })
})
