import { requireOptional, type Serializer } from '@cachex/core'

/** Options of `msgpackSerializer`. */
export interface MsgpackSerializerOptions {
  /**
   * How integers stored as 64-bit read back: `'auto'` gives a `number` when safe and a `bigint`
   * beyond 2^53. @default 'auto'
   */
  int64AsType?: 'auto' | 'bigint' | 'number' | 'string'
}

interface MsgpackrModule {
  Packr: new (options: object) => { pack(value: unknown): Buffer }
  Unpackr: new (options: object) => { unpack(data: Buffer): unknown }
}

const INT32_MIN = -0x80000000
const UINT32_MAX = 0xffffffff
const INT64_MIN = -(2 ** 63)
const UINT64_LIMIT = 2 ** 64

/**
 * MessagePack as Python's `msgpack` writes and reads it with its defaults (and django-redis's
 * `MSGPackSerializer`): str and bin types distinct (`Buffer` ↔ bytes), floats as float64, no
 * msgpackr records or extensions, integers beyond 32 bits as int64/uint64 (msgpackr alone would
 * write them as float64, which Python reads as a float), 64-bit integers beyond 2^53 as
 * `bigint`. Needs the optional peer `msgpackr`.
 *
 * Maps decode to plain objects; Python dicts with non-string keys (which django-redis's own
 * reader refuses) come back with string keys. `undefined` is written as nil; a `Date` as the
 * msgpack timestamp extension (Python reads a `msgpack.Timestamp`).
 */
export function msgpackSerializer(options: MsgpackSerializerOptions = {}): Serializer {
  const { Packr, Unpackr } = requireOptional<MsgpackrModule>(
    'msgpackr',
    'msgpackSerializer',
    import.meta.url,
  )
  const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true })
  const unpackr = new Unpackr({
    useRecords: false,
    mapsAsObjects: true,
    int64AsType: options.int64AsType ?? 'auto',
  })
  return {
    name: 'msgpack',
    serialize(value) {
      if (typeof value === 'function' || typeof value === 'symbol') {
        throw new TypeError(`a ${typeof value} cannot be stored as MessagePack`)
      }
      return packr.pack(hasWideInteger(value) ? widenIntegers(value) : value)
    },
    deserialize(data) {
      return unpackr.unpack(data)
    },
  }
}

/** Whether `value` holds an integer outside the 32-bit range (a read-only walk, no allocation). */
function hasWideInteger(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) {
    return (
      typeof value === 'number' &&
      (value > UINT32_MAX || value < INT32_MIN) &&
      Number.isInteger(value)
    )
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      if ((typeof item === 'object' && item !== null) || typeof item === 'number') {
        if (hasWideInteger(item)) return true
      }
    }
    return false
  }
  if (value instanceof Map) {
    for (const item of value.values()) if (hasWideInteger(item)) return true
    return false
  }
  const object = value as Record<string, unknown>
  for (const key in object) {
    const item = object[key]
    if ((typeof item === 'object' && item !== null) || typeof item === 'number') {
      if (hasWideInteger(item)) return true
    }
  }
  return false
}

/**
 * `value` with every integer outside the 32-bit range turned into a `bigint`, so that it is
 * written as int64/uint64 like Python does. Containers are copied only on the path to such an
 * integer; the common case allocates nothing.
 */
function widenIntegers(value: unknown, depth = 0): unknown {
  if (typeof value === 'number') {
    // Beyond 64 bits Python itself writes a float64, and so does msgpackr.
    return Number.isInteger(value) &&
      (value < INT32_MIN || value > UINT32_MAX) &&
      value >= INT64_MIN &&
      value < UINT64_LIMIT
      ? BigInt(value)
      : value
  }
  if (typeof value !== 'object' || value === null || depth > 1000) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      const widened = widenIntegers(item, depth + 1)
      if (widened !== item) {
        copy ??= value.slice()
        copy[i] = widened
      }
    }
    return copy ?? value
  }
  if (value instanceof Map) {
    let copy: Map<unknown, unknown> | undefined
    for (const [key, item] of value) {
      const widened = widenIntegers(item, depth + 1)
      if (widened !== item) {
        copy ??= new Map(value)
        copy.set(key, widened)
      }
    }
    return copy ?? value
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  let copy: Record<string, unknown> | undefined
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key]
    const widened = widenIntegers(item, depth + 1)
    if (widened !== item) {
      copy ??= { ...(value as Record<string, unknown>) }
      copy[key] = widened
    }
  }
  return copy ?? value
}
