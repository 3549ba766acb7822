import { defineSerializer, SerializationError, type Serializer } from '@cachex/core'
import { type InspectingSerializer, requireOptional, setOwn } from '@cachex/core/internal'
import { checkMsgpack } from './_msgpack-check.ts'
import { inspectMsgpack, propertyName } from './_msgpack-inspect.ts'
import { packAsPython } from './_msgpack-write.ts'

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

/**
 * MessagePack as Python's `msgpack` writes and reads it with its defaults (and django-redis's
 * `MSGPackSerializer`): str and bin types distinct (`Buffer` ↔ bytes), floats as float64, no
 * msgpackr records or extensions, safe integers beyond 32 bits as int64/uint64 (msgpackr alone
 * would write them as float64, which Python reads as a float), non-negative ones in the unsigned
 * forms as Python does (so the bytes are Python's), 64-bit integers beyond 2^53 read as `bigint`.
 * A number beyond 2^53 is a float (float64), as for the codec: write a `bigint` for an integer.
 * Needs the optional peer `msgpackr`.
 *
 * Maps decode to plain objects, every key an own property (`__proto__` included); Python dicts
 * with non-string keys (which django-redis's own reader refuses) come back with string keys.
 * `undefined` is written as nil; a `Date` as the msgpack timestamp extension (Python reads a
 * `msgpack.Timestamp`).
 *
 * Reading accepts only what Python's msgpack writes: nil, booleans, integers, floats, str, bin,
 * arrays, maps and the timestamp extension (type -1, with seconds a `Date` holds: ±8.64e12 from
 * 1970, years past Python's `datetime` included). msgpackr's own forms — records, bundled
 * strings, structured clones and cycles, `RegExp`, `Set`, `Error`, typed arrays, any other
 * extension type — are refused with a `SerializationError`, as are truncated input, bytes after
 * the value and nesting deeper than 1024 levels (Python's msgpack reads and writes no deeper;
 * writing such a value throws too).
 */
export function msgpackSerializer(options: MsgpackSerializerOptions = {}): Serializer {
  const { Packr, Unpackr } = requireOptional<MsgpackrModule>(
    'msgpackr',
    'msgpackSerializer',
    import.meta.url,
  )
  const packr = new Packr({ useRecords: false, variableMapSize: true, encodeUndefinedAsNil: true })
  const pack = (value: unknown): Buffer => packr.pack(value)
  const int64AsType = options.int64AsType ?? 'auto'
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType })
  // msgpackr renames a map key "__proto__" to "__proto_": such values are read as Maps instead,
  // then turned into plain objects here.
  const mapUnpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType })
  const serializer = defineSerializer({
    name: 'msgpack',
    serialize(value) {
      if (typeof value === 'function' || typeof value === 'symbol') {
        throw new TypeError(`a ${typeof value} cannot be stored as MessagePack`)
      }
      return packAsPython(pack, value)
    },
    deserialize(data) {
      const protoKey = checkMsgpack(data)
      try {
        return protoKey ? mapsToObjects(mapUnpackr.unpack(data)) : unpackr.unpack(data)
      } catch (error) {
        throw readError(error)
      }
    },
  })
  // For inspection tools (the admin UI): which numbers are whole floats (`1.0`), which
  // `deserialize` reads as ints.
  const inspecting: InspectingSerializer = {
    ...serializer,
    inspect(data) {
      checkMsgpack(data)
      try {
        return inspectMsgpack(data, int64AsType)
      } catch (error) {
        throw readError(error)
      }
    },
  }
  return inspecting
}

/** A `SerializationError` for what reading threw (as is when it is one). */
function readError(error: unknown): SerializationError {
  if (error instanceof SerializationError) return error
  return new SerializationError(`msgpack: ${(error as Error)?.message ?? error}`, { cause: error })
}

/**
 * `data` as msgpackr's `mapsAsObjects` reads it, from a value read with Maps: each Map a plain
 * object whose keys are own properties (`__proto__` too, which msgpackr would rename). Keys are
 * turned into strings as msgpackr does. Recursive: checkMsgpack capped the depth.
 */
function mapsToObjects(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = mapsToObjects(value[i])
    return value
  }
  if (!(value instanceof Map)) return value
  const object: Record<string, unknown> = {}
  for (const [key, item] of value) {
    setOwn(object, propertyName(key), mapsToObjects(item))
  }
  return object
}
