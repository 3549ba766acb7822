// `inspect` of the msgpack serializer (for the admin UI): JS has one number type, so Python's
// 1.0 reads as 1, as an int would. `inspect` boxes each whole float (float32 or float64,
// `new Number(1)`, kind 'float') so that a tool can show it as Python does and not offer to
// rewrite it as JSON (which would store an int); everything else is exactly what `deserialize`
// gives. Vectors are Python's `msgpack.packb(value)`.
import type { InspectingSerializer } from '@cachex/core/internal'
import { Codec } from '@cachex/core/internal'
import { describe, expect, it } from 'vitest'
import { type MsgpackSerializerOptions, msgpackSerializer } from '../src/msgpack.ts'

const hex = (text: string) => Buffer.from(text.replaceAll(' ', ''), 'hex')
const inspecting = (options?: MsgpackSerializerOptions) =>
  msgpackSerializer(options) as InspectingSerializer
const serializer = inspecting()
const isFloat = (kinds: ReadonlyMap<object, string>, v: unknown, n: number) =>
  v instanceof Number && kinds.get(v) === 'float' && Object.is(v.valueOf(), n)

/** `value` with every boxed float of `kinds` replaced by its number, in place; counts them. */
function unbox(value: unknown, kinds: ReadonlyMap<object, string>): { value: unknown; n: number } {
  let n = 0
  const walk = (v: unknown): unknown => {
    if (v instanceof Number && kinds.get(v) === 'float') {
      n++
      return v.valueOf()
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i])
    } else if (typeof v === 'object' && v !== null && !(v instanceof Date) && !Buffer.isBuffer(v)) {
      for (const key of Object.keys(v)) {
        const item = walk((v as Record<string, unknown>)[key])
        Object.defineProperty(v, key, { value: item, writable: true, enumerable: true })
      }
    }
    return v
  }
  return { value: walk(value), n }
}

/** What `read` returns or throws, to compare. */
function outcome(read: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: read() }
  } catch (error) {
    return { error: (error as Error).constructor.name }
  }
}

describe('msgpackSerializer().inspect: whole floats', () => {
  it('marks a whole float Python wrote, and deserialize still reads a plain number', () => {
    // msgpack.packb({'price': 1.0, 'name': 'a'}), as django-redis's MSGPackSerializer stores it
    const bytes = hex('82a57072696365cb3ff0000000000000a46e616d65a161')
    const { value, kinds } = serializer.inspect(bytes)
    const dict = value as { price: unknown; name: unknown }
    expect(isFloat(kinds, dict.price, 1)).toBe(true)
    expect(dict.name).toBe('a')
    expect(kinds.size).toBe(1)
    expect(serializer.deserialize(bytes)).toEqual({ price: 1, name: 'a' })
  })

  it('marks float64s in lists and map values; keys stay property names', () => {
    // msgpack.packb([1.0, 1, 2.5, -0.0, 1e16, [3.0], {1.0: 'k'}, nan, inf, 1.2345678901234567e19.0])
    const bytes = hex(
      '9acb3ff000000000000001cb4004000000000000cb8000000000000000cb4341c37937e0800091cb40080000' +
        '0000000081cb3ff0000000000000a16bcb7ff8000000000000cb7ff0000000000000cb43e56a95319d63e1',
    )
    const { value, kinds } = serializer.inspect(bytes)
    const [one, int, half, negZero, big, list, dict, nan, inf, huge] = value as unknown[]
    expect(isFloat(kinds, one, 1)).toBe(true)
    expect(int).toBe(1)
    expect(half).toBe(2.5)
    expect(isFloat(kinds, negZero, -0)).toBe(true)
    expect(isFloat(kinds, big, 1e16)).toBe(true)
    expect(isFloat(kinds, (list as unknown[])[0], 3)).toBe(true)
    expect(dict).toEqual({ 1: 'k' })
    expect(nan).toBeNaN()
    expect(inf).toBe(Number.POSITIVE_INFINITY)
    expect(isFloat(kinds, huge, 1.2345678901234567e19)).toBe(true)
    expect(kinds.size).toBe(5)
    expect(unbox(value, kinds).value).toEqual(serializer.deserialize(bytes))
  })

  it('marks float32s too', () => {
    // msgpack.packb([1.0, 2.5, -0.0, 16777216.0], use_single_float=True)
    const bytes = hex('94ca3f800000ca40200000ca80000000ca4b800000')
    const { value, kinds } = serializer.inspect(bytes)
    const [one, half, negZero, big] = value as unknown[]
    expect(isFloat(kinds, one, 1)).toBe(true)
    expect(half).toBe(2.5)
    expect(isFloat(kinds, negZero, -0)).toBe(true)
    expect(isFloat(kinds, big, 16777216)).toBe(true)
    expect(unbox(value, kinds).value).toEqual(serializer.deserialize(bytes))
  })

  it('a whole float alone, and under a __proto__ key (an own property)', () => {
    const alone = serializer.inspect(hex('cb3ff0000000000000'))
    expect(isFloat(alone.kinds, alone.value, 1)).toBe(true)
    // msgpack.packb({'__proto__': 2.0, 'a': [4.0]})
    const bytes = hex('82a95f5f70726f746f5f5fcb4000000000000000a16191cb4010000000000000')
    const { value, kinds } = serializer.inspect(bytes)
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.hasOwn(value as object, '__proto__')).toBe(true)
    const proto = Object.getOwnPropertyDescriptor(value, '__proto__')?.value
    expect(isFloat(kinds, proto, 2)).toBe(true)
    expect(isFloat(kinds, (value as { a: unknown[] }).a[0], 4)).toBe(true)
    expect(unbox(value, kinds).value).toEqual(serializer.deserialize(bytes))
  })

  it('reads 64-bit integers, bin, and timestamps as deserialize does, for every int64AsType', () => {
    // [2**53, 2**53 + 1, -2**53 - 1, 2**64 - 1, -2**63, 5 as uint64, b'\x00\xff',
    //  Timestamp(1, 0), Timestamp(1, 500000000), Timestamp(-1, 5), 3.0]
    const bytes = hex(
      '9b cf0020000000000000 cf0020000000000001 d3ffdfffffffffffff cfffffffffffffffff' +
        ' d38000000000000000 cf0000000000000005 c40200ff d6ff00000001 d7ff7735940000000001' +
        ' c70cff00000005ffffffffffffffff cb4008000000000000',
    )
    for (const int64AsType of ['auto', 'bigint', 'number', 'string'] as const) {
      const s = inspecting({ int64AsType })
      const { value, kinds } = s.inspect(bytes)
      expect(kinds.size).toBe(1)
      const items = value as unknown[]
      expect(Buffer.isBuffer(items[6])).toBe(true)
      expect(unbox(value, kinds).value).toEqual(s.deserialize(bytes))
    }
  })

  it('refuses what deserialize refuses', () => {
    for (const bad of [
      'cb3ff0', // truncated
      'c1', // never used
      '92cb3ff000000000000001 00', // bytes after the value
      'd40100', // an extension other than the timestamp
      '81 91 01 cb3ff0000000000000', // a list as a map key
      '81 c40101 01', // bytes as a map key
      '81 d6ff00000001 01', // a timestamp as a map key
      `${'91'.repeat(1025)}01`, // deeper than Python's 1024 levels
    ]) {
      const data = hex(bad)
      const inspected = outcome(() => serializer.inspect(data))
      expect(inspected, bad).toHaveProperty('error', 'SerializationError')
      expect(
        outcome(() => serializer.deserialize(data)),
        bad,
      ).toEqual(inspected)
    }
  })

  it('Codec.inspect reports them', () => {
    const codec = new Codec([msgpackSerializer()])
    const { value, kinds, serializer: name } = codec.inspect(hex('cb3ff0000000000000'))
    expect(name).toBe('msgpack')
    expect(kinds !== undefined && isFloat(kinds, value, 1)).toBe(true)
  })
})

// Random MessagePack values (seeded) in every form Python's subset allows — ints in wider forms
// than needed, float32 and float64, str, bin and containers in each length form, map keys of each
// scalar type and `__proto__`, timestamps of 4, 8 and 12 bytes, invalid UTF-8 — then the same
// bytes with a byte changed: inspect gives deserialize's value (its boxes unboxed), or throws as
// it throws.
describe('msgpackSerializer().inspect matches deserialize (seeded random values)', () => {
  let seed = 0x5eed
  const random = () => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (max: number) => Math.floor(random() * max)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T

  const u8 = (n: number) => Buffer.from([n & 0xff])
  const be = (n: number, bytes: 2 | 4) => {
    const b = Buffer.alloc(bytes)
    if (bytes === 2) b.writeUInt16BE(n)
    else b.writeUInt32BE(n)
    return b
  }
  const f64 = (x: number) => {
    const b = Buffer.alloc(9)
    b[0] = 0xcb
    b.writeDoubleBE(x, 1)
    return b
  }
  const f32 = (x: number) => {
    const b = Buffer.alloc(5)
    b[0] = 0xca
    b.writeFloatBE(x, 1)
    return b
  }
  const i64 = (tag: number, x: bigint) => {
    const b = Buffer.alloc(9)
    b[0] = tag
    if (tag === 0xcf) b.writeBigUInt64BE(x, 1)
    else b.writeBigInt64BE(x, 1)
    return b
  }
  /** A header of `kind` for `n` items or bytes: the fix form when `n` fits, else 8, 16 or 32. */
  const header = (fix: number, fixMax: number, wide: number[], n: number): Buffer => {
    const form = int(3)
    if (n <= fixMax && form === 0) return u8(fix | n)
    if (wide.length === 3 && n <= 0xff && form === 1)
      return Buffer.concat([u8(wide[0] as number), u8(n)])
    if (n <= 0xffff && form !== 2) return Buffer.concat([u8(wide.at(-2) as number), be(n, 2)])
    return Buffer.concat([u8(wide.at(-1) as number), be(n, 4)])
  }
  const text = (): Buffer => {
    const choice = int(5)
    if (choice === 0) return Buffer.from('__proto__')
    if (choice === 1) return Buffer.from(pick(['a', 'é€', '1', '1.0', '', 'x'.repeat(70)]))
    // Random bytes: invalid UTF-8 too (Python refuses it; both read it as U+FFFD).
    return Buffer.from(Array.from({ length: int(80) }, () => int(256)))
  }
  const str = () => {
    const bytes = text()
    return Buffer.concat([header(0xa0, 31, [0xd9, 0xda, 0xdb], bytes.length), bytes])
  }
  const WHOLE = [1, -3, 0, -0, 1e16, 1.2345678901234567e19, 16777216, 2 ** 53, -(2 ** 60)]
  const NOT_WHOLE = [1.5, -0.25, 1e-7, Number.NaN, Number.POSITIVE_INFINITY, 2.71]

  /** One random item; `floats` counts the whole floats written where they are boxed. */
  function item(depth: number, floats: { n: number } | undefined, key = false): Buffer {
    const roll = int(depth > 3 || key ? 11 : 14)
    switch (roll) {
      case 0: {
        if (floats === undefined) return f64(pick(NOT_WHOLE))
        if (!key) floats.n++
        const x = pick(WHOLE)
        return Math.fround(x) === x && int(2) === 0 ? f32(x) : f64(x)
      }
      case 1:
        return int(2) === 0 ? f64(pick(NOT_WHOLE)) : f32(1.5)
      case 2:
        return u8(pick([int(128), 0xe0 | int(32), 0xc0, 0xc2, 0xc3]))
      case 3:
        return pick([
          Buffer.concat([u8(0xcc), u8(int(256))]),
          Buffer.concat([u8(0xcd), be(int(0x10000), 2)]),
          Buffer.concat([u8(0xce), be(int(2 ** 32), 4)]),
          Buffer.concat([u8(0xd0), u8(int(256))]),
          Buffer.concat([u8(0xd1), be(int(0x10000), 2)]),
          Buffer.concat([u8(0xd2), be(int(2 ** 32), 4)]),
        ])
      case 4:
        return i64(
          pick([0xcf, 0xd3]),
          pick([0n, 5n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 62n, -(2n ** 63n)]) &
            (2n ** 63n - 1n),
        )
      case 5:
      case 6:
        return str()
      case 7: {
        const bytes = Buffer.from(Array.from({ length: int(40) }, () => int(256)))
        return Buffer.concat([header(0, -1, [0xc4, 0xc5, 0xc6], bytes.length), bytes])
      }
      case 8:
        return hex(pick(['d6ff00000001', 'd7ff7735940000000001', 'c70cff00000005ffffffffffffffff']))
      case 9:
        return hex(pick(['d6ff65f0a1b2', 'c70cff00000000000000000000003c', 'c704ff00000000']))
      case 10:
        return i64(0xd3, BigInt(int(1000)) - 500n)
      case 11:
      case 12: {
        const n = int(5)
        const items = Array.from({ length: n }, () => item(depth + 1, floats))
        return Buffer.concat([header(0x90, 15, [0xdc, 0xdd], n), ...items])
      }
      default: {
        const n = int(5)
        const entries = Array.from({ length: n }, () =>
          Buffer.concat([
            int(3) === 0 ? item(depth + 1, floats, true) : str(),
            item(depth + 1, floats),
          ]),
        )
        return Buffer.concat([header(0x80, 15, [0xde, 0xdf], n), ...entries])
      }
    }
  }

  const serializers = (['auto', 'bigint', 'number', 'string'] as const).map((int64AsType) =>
    inspecting({ int64AsType }),
  )

  it('values without whole floats: the same value, no kinds (every int64AsType)', () => {
    for (let round = 0; round < 3000; round++) {
      const bytes = item(0, undefined)
      const s = pick(serializers)
      const inspected = outcome(() => s.inspect(bytes).value)
      expect(inspected, bytes.toString('hex')).toEqual(outcome(() => s.deserialize(bytes)))
      if ('value' in inspected) expect(s.inspect(bytes).kinds.size).toBe(0)
    }
  })

  it('values with whole floats: each boxed, the rest the same', () => {
    let boxed = 0
    for (let round = 0; round < 3000; round++) {
      const floats = { n: 0 }
      const bytes = item(0, floats)
      const where = bytes.toString('hex')
      let inspection: { value: unknown; kinds: ReadonlyMap<object, string> }
      try {
        inspection = serializer.inspect(bytes)
      } catch (error) {
        // A list or a map as a map key: refused by both.
        expect(
          outcome(() => serializer.deserialize(bytes)),
          where,
        ).toEqual({
          error: (error as Error).constructor.name,
        })
        continue
      }
      const { value, n } = unbox(inspection.value, inspection.kinds)
      expect(inspection.kinds.size, where).toBe(floats.n)
      // Duplicate keys drop a value, and a box with it.
      expect(n, where).toBeLessThanOrEqual(floats.n)
      expect(value, where).toEqual(serializer.deserialize(bytes))
      boxed += n
    }
    expect(boxed).toBeGreaterThan(300)
  })

  it('bytes with one byte changed: the same value or the same refusal', () => {
    for (let round = 0; round < 3000; round++) {
      const bytes = item(0, { n: 0 })
      bytes[int(bytes.length)] = int(256)
      const where = bytes.toString('hex')
      const inspected = outcome(() => {
        const { value, kinds } = serializer.inspect(bytes)
        return unbox(value, kinds).value
      })
      expect(inspected, where).toEqual(outcome(() => serializer.deserialize(bytes)))
    }
  })
})
