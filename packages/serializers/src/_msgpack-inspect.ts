// The MessagePack reader for inspection tools (the admin UI): `msgpackSerializer`'s value, but
// each float (float32 or float64) whose value is whole boxed. JS has one number type, so Python's
// 1.0 reads as 1, as an int does: here it is `new Number(1)`, of kind 'float', so that a tool can
// tell them apart. msgpackr has no hook for floats, so this reads the bytes itself: only the
// subset `checkMsgpack` lets through (it runs first), each value as msgpackr gives it with the
// options `msgpackSerializer` sets. One pass, recursive no deeper than the gate allows.
import { SerializationError } from '@cachex/core'
import { isIndexKey, rememberKeyOrder, setOwn } from '@cachex/core/internal'

/** What `inspectMsgpack` gives: the value, and each whole float in it (boxed) as `'float'`. */
export interface MsgpackInspection {
  value: unknown
  kinds: Map<object, string>
}

/**
 * Reads `data`, which `checkMsgpack` accepted (one complete value of Python's subset, nested at
 * most `MAX_MSGPACK_DEPTH` deep), as `msgpackSerializer`'s `deserialize` reads it — maps as plain
 * objects (`__proto__` an own property), bin as a `Buffer` over `data`, timestamps as `Date`s,
 * 64-bit integers as `int64AsType` says — but each whole float a `Number` object, set in `kinds`.
 * A map key is never boxed: it becomes a property name, as in `deserialize` (`1.0` → `"1"`).
 */
export function inspectMsgpack(data: Buffer, int64AsType: string): MsgpackInspection {
  const reader = new InspectingReader(data, int64AsType)
  const value = reader.item(true)
  return { value, kinds: reader.kinds }
}

class InspectingReader {
  /** The whole floats read, each boxed. */
  readonly kinds = new Map<object, string>()
  private pos = 0
  private readonly view: DataView

  constructor(
    private readonly data: Buffer,
    private readonly int64AsType: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  /** The item at `pos`; a whole float boxed when `box` (not for a map key). */
  item(box: boolean): unknown {
    const b = this.data[this.pos++] as number
    if (b <= 0x7f) return b // positive fixint
    if (b >= 0xe0) return b - 0x100 // negative fixint
    if (b <= 0x8f) return this.map(b & 0x0f)
    if (b <= 0x9f) return this.array(b & 0x0f)
    if (b <= 0xbf) return this.string(b & 0x1f)
    switch (b) {
      case 0xc0:
        return null
      case 0xc2:
        return false
      case 0xc3:
        return true
      case 0xc4:
        return this.bin(this.data[this.take(1)] as number)
      case 0xc5:
        return this.bin(this.view.getUint16(this.take(2)))
      case 0xc6:
        return this.bin(this.view.getUint32(this.take(4)))
      case 0xc7:
        return this.timestamp(this.data[this.take(1)] as number)
      case 0xc8:
        return this.timestamp(this.view.getUint16(this.take(2)))
      case 0xc9:
        return this.timestamp(this.view.getUint32(this.take(4)))
      case 0xca:
        return this.float(this.view.getFloat32(this.take(4)), box)
      case 0xcb:
        return this.float(this.view.getFloat64(this.take(8)), box)
      case 0xcc:
        return this.data[this.take(1)] as number
      case 0xcd:
        return this.view.getUint16(this.take(2))
      case 0xce:
        return this.view.getUint32(this.take(4))
      case 0xcf:
        return this.uint64(this.take(8))
      case 0xd0:
        return this.view.getInt8(this.take(1))
      case 0xd1:
        return this.view.getInt16(this.take(2))
      case 0xd2:
        return this.view.getInt32(this.take(4))
      case 0xd3:
        return this.int64(this.take(8))
      case 0xd6: // fixext 4, 8: timestamps
        return this.timestamp(4)
      case 0xd7:
        return this.timestamp(8)
      case 0xd9:
        return this.string(this.data[this.take(1)] as number)
      case 0xda:
        return this.string(this.view.getUint16(this.take(2)))
      case 0xdb:
        return this.string(this.view.getUint32(this.take(4)))
      case 0xdc:
        return this.array(this.view.getUint16(this.take(2)))
      case 0xdd:
        return this.array(this.view.getUint32(this.take(4)))
      case 0xde:
        return this.map(this.view.getUint16(this.take(2)))
      case 0xdf:
        return this.map(this.view.getUint32(this.take(4)))
      default:
        // 0xc1, fixext 1, 2 and 16: checkMsgpack refuses them.
        throw new SerializationError(`msgpack: unexpected byte 0x${b.toString(16)}`)
    }
  }

  /** Moves `pos` past the next `n` bytes; returns where they start. */
  private take(n: number): number {
    const at = this.pos
    this.pos += n
    return at
  }

  private float(x: number, box: boolean): unknown {
    if (!box || !Number.isInteger(x)) return x
    const boxed = new Number(x)
    this.kinds.set(boxed, 'float')
    return boxed
  }

  private string(length: number): string {
    // Invalid UTF-8 (which Python refuses) becomes U+FFFD as in msgpackr, which decodes as V8 does.
    const at = this.take(length)
    return this.data.toString('utf8', at, at + length)
  }

  private bin(length: number): Buffer {
    const at = this.take(length)
    return this.data.subarray(at, at + length)
  }

  private array(length: number): unknown[] {
    const array: unknown[] = []
    for (let i = 0; i < length; i++) array.push(this.item(true))
    return array
  }

  private map(length: number): Record<string, unknown> {
    const object: Record<string, unknown> = {}
    // The map's order, once a str key that is an array index (which JS lists first) is met:
    // remembered as `deserialize` remembers it, so that the value is written back in this order.
    let order: string[] | undefined
    for (let i = 0; i < length; i++) {
      const raw = this.item(false)
      const key = propertyName(raw)
      if (order !== undefined) {
        if (!Object.hasOwn(object, key)) order.push(key)
      } else if (typeof raw === 'string' && isIndexKey(raw)) {
        order = Object.keys(object)
        order.push(key)
        rememberKeyOrder(object, order)
      }
      // An own property, `__proto__` too, as `deserialize` makes it (never the prototype).
      setOwn(object, key, this.item(true))
    }
    return object
  }

  /** A uint64, as msgpackr reads it with `int64AsType`. */
  private uint64(at: number): unknown {
    const view = this.view
    switch (this.int64AsType) {
      case 'number':
        return view.getUint32(at) * 0x100000000 + view.getUint32(at + 4)
      case 'string':
        return view.getBigUint64(at).toString()
      case 'auto': {
        const value = view.getBigUint64(at)
        return value <= MAX_AUTO ? Number(value) : value
      }
      default:
        return view.getBigUint64(at)
    }
  }

  /** An int64, as msgpackr reads it with `int64AsType`. */
  private int64(at: number): unknown {
    const view = this.view
    switch (this.int64AsType) {
      case 'number':
        return view.getInt32(at) * 0x100000000 + view.getUint32(at + 4)
      case 'string':
        return view.getBigInt64(at).toString()
      case 'auto': {
        const value = view.getBigInt64(at)
        return value >= -MAX_AUTO && value <= MAX_AUTO ? Number(value) : value
      }
      default:
        return view.getBigInt64(at)
    }
  }

  /**
   * The extension whose type byte is at `pos` and whose `length` bytes follow it: a timestamp
   * (type -1, 4, 8 or 12 bytes, the only one the gate lets through), as msgpackr's `Date`.
   */
  private timestamp(length: number): Date {
    const start = this.take(1 + length)
    if (this.data[start] !== 0xff || (length !== 4 && length !== 8 && length !== 12)) {
      throw new SerializationError('msgpack: only the timestamp extension is read')
    }
    const data = this.data
    const at = (i: number) => data[start + 1 + i] as number
    // msgpackr's formulas, term for term (the gate bounded the seconds: they are exact here).
    if (length === 4) {
      return new Date((at(0) * 0x1000000 + (at(1) << 16) + (at(2) << 8) + at(3)) * 1000)
    }
    if (length === 8) {
      return new Date(
        ((at(0) << 22) + (at(1) << 14) + (at(2) << 6) + (at(3) >> 2)) / 1000000 +
          ((at(3) & 0x3) * 0x100000000 + at(4) * 0x1000000 + (at(5) << 16) + (at(6) << 8) + at(7)) *
            1000,
      )
    }
    return new Date(
      ((at(0) << 24) + (at(1) << 16) + (at(2) << 8) + at(3)) / 1000000 +
        ((at(4) & 0x80 ? -0x1000000000000 : 0) +
          at(6) * 0x10000000000 +
          at(7) * 0x100000000 +
          at(8) * 0x1000000 +
          (at(9) << 16) +
          (at(10) << 8) +
          at(11)) *
          1000,
    )
  }
}

/**
 * `'auto'` reads a 64-bit integer up to ±(2^53 − 1) as a number, as `deserialize` does (msgpackr's
 * own goes to ±2^53, which `deserialize` reads as bigints: see `TWO_POW_53`).
 */
const MAX_AUTO = BigInt(Number.MAX_SAFE_INTEGER)

/** A map key as a property name, as msgpackr's `mapsAsObjects` names it. */
export function propertyName(key: unknown): string {
  if (typeof key === 'string') return key
  if (
    typeof key === 'number' ||
    typeof key === 'boolean' ||
    typeof key === 'bigint' ||
    key === null ||
    key === undefined
  ) {
    return String(key)
  }
  throw new SerializationError(
    'msgpack: a map key must be a str, a number, a boolean or nil to become a property name (a dict with bytes, tuple or other keys cannot be read as a JavaScript object)',
  )
}
