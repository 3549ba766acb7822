import { defineSerializer, SerializationError, type Serializer } from '@cachex/core'
import {
  type InspectingSerializer,
  isIndexKey,
  itemBound,
  own,
  rememberKeyOrder,
  requireOptional,
  setOwn,
} from '@cachex/core/internal'
import { checkMsgpack, TWO_POW_53 } from './_msgpack-check.ts'
import { inspectMsgpack, propertyName } from './_msgpack-inspect.ts'
import { packAsPython } from './_msgpack-write.ts'

/** Options of `msgpackSerializer`. */
export interface MsgpackSerializerOptions {
  /**
   * How integers stored as 64-bit read back: `'auto'` gives a `number` when safe (within
   * ±(2^53 − 1)) and a `bigint` otherwise — ±2^53 too, as the JSON and pickle readers do: a
   * number 2^53 would be written back as a float. @default 'auto'
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
 * A map with str keys such as `'10'`, which a JS object lists first, is written back in the
 * order it was read (the object's order is remembered out of band; keys added since come last).
 * `undefined` is written as nil; a `Date` as the msgpack timestamp extension (Python reads a
 * `msgpack.Timestamp`). A bin value reads as a `Buffer` that owns its bytes (a copy, not a view
 * of the bytes read: it keeps no reply buffer alive).
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
  const int64AsType = own(options, 'int64AsType') ?? 'auto'
  // `copyBuffers`: a bin value is a Buffer of its own, not a view of the bytes read — which
  // node-redis hands over as a view into the chunk the socket read, so a 4-byte view would keep
  // that whole chunk (60 KB and more, with the other replies read with it) alive.
  const unpackr = new Unpackr({
    useRecords: false,
    mapsAsObjects: true,
    int64AsType,
    copyBuffers: true,
  })
  // msgpackr renames a map key "__proto__" to "__proto_", and a plain object lists a key such
  // as '10' first: such values are read as Maps instead, then turned into plain objects here,
  // remembering the order of the maps with such keys (for writing back in Python's order).
  const mapUnpackr = new Unpackr({
    useRecords: false,
    mapsAsObjects: false,
    int64AsType,
    copyBuffers: true,
  })
  // msgpackr's `'auto'` reads ±2^53 as a number: a value holding one is read with 64-bit integers
  // as bigints, the safe ones then made numbers (`mapsToObjects`).
  const auto = int64AsType === 'auto'
  const exactUnpackr = auto
    ? new Unpackr({
        useRecords: false,
        mapsAsObjects: false,
        int64AsType: 'bigint',
        copyBuffers: true,
      })
    : mapUnpackr
  const serializer = defineSerializer({
    name: 'msgpack',
    serialize(value) {
      if (typeof value === 'function' || typeof value === 'symbol') {
        throw new TypeError(`a ${typeof value} cannot be stored as MessagePack`)
      }
      return packAsPython(pack, value)
    },
    deserialize(data) {
      const how = checkMsgpack(data)
      try {
        if (how === 0) {
          try {
            return unpackr.unpack(data)
          } catch {
            // A map key no property name can be (a tuple: an array or a map), which msgpackr
            // refuses naming its own options: read with Maps, it is refused in cachex's words.
            return mapsToObjects(mapUnpackr.unpack(data), auto)
          }
        }
        return mapsToObjects(
          ((how & TWO_POW_53) !== 0 ? exactUnpackr : mapUnpackr).unpack(data),
          auto,
        )
      } catch (error) {
        throw readError(error)
      }
    },
  })
  // For inspection tools (the admin UI): which numbers are whole floats (`1.0`), which
  // `deserialize` reads as ints.
  const inspecting: InspectingSerializer = {
    ...serializer,
    inspect(data, maxItems) {
      // Past the bound, refused here, before the reader builds anything.
      checkMsgpack(data, itemBound(maxItems))
      try {
        return inspectMsgpack(data, int64AsType)
      } catch (error) {
        throw readError(error)
      }
    },
  }
  return inspecting
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** A `SerializationError` for what reading threw (as is when it is one). */
function readError(error: unknown): SerializationError {
  if (error instanceof SerializationError) return error
  return new SerializationError(`msgpack: ${(error as Error)?.message ?? error}`, { cause: error })
}

/**
 * `data` as msgpackr's `mapsAsObjects` reads it, from a value read with Maps: each Map a plain
 * object whose keys are own properties (`__proto__` too, which msgpackr would rename). Keys are
 * turned into strings as msgpackr does. The order of a map with a str key that is an array index
 * is remembered (`rememberKeyOrder`), so that it is written back in that order. With `auto`
 * (`int64AsType: 'auto'`), a safe bigint (read with 64-bit integers as bigints: see `TWO_POW_53`)
 * is a number, as `'auto'` reads it. Recursive: checkMsgpack capped the depth.
 */
function mapsToObjects(value: unknown, auto: boolean): unknown {
  if (typeof value === 'bigint') {
    return auto && value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = mapsToObjects(value[i], auto)
    return value
  }
  if (!(value instanceof Map)) return value
  const object: Record<string, unknown> = {}
  let order: string[] | undefined
  for (const [key, item] of value) {
    const name = propertyName(key)
    if (order !== undefined) {
      // A key seen already (2 and '2' name one property) keeps its place.
      if (!Object.hasOwn(object, name)) order.push(name)
    } else if (typeof key === 'string' && isIndexKey(key)) {
      order = Object.keys(object)
      order.push(name)
      rememberKeyOrder(object, order)
    }
    setOwn(object, name, mapsToObjects(item, auto))
  }
  return object
}
