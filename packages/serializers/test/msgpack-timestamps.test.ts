// The msgpack timestamp extension (type -1) at the edges of a Date's range: msgpackr reads only
// the low 48 bits of a 12-byte timestamp's 64-bit seconds, so seconds a Date cannot hold would
// come back as an unrelated date; they are refused with a SerializationError instead. Years past
// Python's datetime (1–9999) are read: Python's msgpack reads them too, as msgpack.Timestamp.

import { SerializationError } from '@cachex/core'
import { describe, expect, it } from 'vitest'
import { msgpackSerializer } from '../src/msgpack.ts'

const serializer = msgpackSerializer()

/** A 12-byte timestamp (ext 8, type -1), as Python's msgpack writes one: `!Iq`. */
function ts96(seconds: bigint, nanoseconds = 0): Buffer {
  const data = Buffer.alloc(15)
  data[0] = 0xc7
  data[1] = 12
  data[2] = 0xff
  data.writeUInt32BE(nanoseconds, 3)
  data.writeBigInt64BE(seconds, 7)
  return data
}

/** An 8-byte timestamp: 30 bits of nanoseconds, then 34 bits of seconds. */
function ts64(seconds: bigint, nanoseconds = 0): Buffer {
  const data = Buffer.alloc(10)
  data[0] = 0xd7
  data[1] = 0xff
  data.writeBigUInt64BE((BigInt(nanoseconds) << 34n) | seconds, 2)
  return data
}

function refusal(data: Buffer): unknown {
  try {
    serializer.deserialize(data)
  } catch (error) {
    return error
  }
  return undefined
}

const DATE_SECONDS = 8_640_000_000_000n

describe('msgpack: 12-byte timestamps', () => {
  it.each([
    ['2^48 + 1 day (msgpackr alone: 1970-01-02)', (1n << 48n) + 86_400n],
    ['2^56 + 1 day', (1n << 56n) + 86_400n],
    ['-2^50', -(1n << 50n)],
    ['the largest int64', (1n << 63n) - 1n],
    ['the smallest int64', -(1n << 63n)],
    ['one second past the last Date', DATE_SECONDS + 1n],
    ['one second before the first Date', -DATE_SECONDS - 1n],
    ['2^43, the first value the fast check leaves out', 1n << 43n],
    ['-2^43', -(1n << 43n)],
  ])('refuses seconds a Date cannot hold: %s', (_, seconds) => {
    const error = refusal(ts96(seconds))
    expect(error).toBeInstanceOf(SerializationError)
    expect((error as Error).message).toBe(
      `msgpack: a timestamp of ${seconds} seconds, beyond what a JavaScript Date holds (±8640000000000 seconds from 1970)`,
    )
  })

  it('refuses a nanosecond past the last Date, reads the last and first Dates exactly', () => {
    expect(refusal(ts96(DATE_SECONDS, 1))).toBeInstanceOf(SerializationError)
    expect(serializer.deserialize(ts96(DATE_SECONDS))).toEqual(new Date(8.64e15))
    expect(serializer.deserialize(ts96(-DATE_SECONDS))).toEqual(new Date(-8.64e15))
    expect(serializer.deserialize(ts96(-DATE_SECONDS, 999_000_000))).toEqual(
      new Date(-8.64e15 + 999),
    )
  })

  it('reads years past 9999 (Python reads them as msgpack.Timestamp) and before 1970', () => {
    // 253402300800 s: 10000-01-01, one second past Python's datetime.max.
    expect(serializer.deserialize(ts96(253_402_300_800n))).toEqual(
      new Date('+010000-01-01T00:00:00Z'),
    )
    expect(serializer.deserialize(ts96(-62_135_596_801n, 500_000_000))).toEqual(
      new Date(-62_135_596_801_000 + 500),
    )
    expect(serializer.deserialize(ts96((1n << 42n) + 1n))).toEqual(
      new Date(Number((1n << 42n) + 1n) * 1000),
    )
  })

  it('round-trips the Dates cachex writes at the edges of the range', () => {
    for (const ms of [8.64e15, -8.64e15, 253_402_300_800_000, -62_135_596_800_001, 0, -1]) {
      const date = new Date(ms)
      expect(serializer.deserialize(serializer.serialize(date) as Buffer)).toEqual(date)
    }
  })
})

describe('msgpack: 8-byte timestamps', () => {
  // Whole milliseconds: msgpackr rounds (not truncates) a sub-millisecond rest to a Date's ms.
  it('reads every 34-bit second, up to the year 2514, exactly', () => {
    const last = (1n << 34n) - 1n
    expect(serializer.deserialize(ts64(last, 999_000_000))).toEqual(
      new Date(Number(last) * 1000 + 999),
    )
    expect(serializer.deserialize(ts64(1n << 32n, 1_000_000))).toEqual(new Date(2 ** 32 * 1000 + 1))
  })
})
