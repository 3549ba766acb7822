// How a value is written as Python's msgpack writes it: one read-only walk that refuses what
// msgpackr would write lossily (and says whether a 64-bit integer is inside), then msgpackr, then
// the type bytes Python would have chosen.

import { SerializationError } from '@cachex/core'
import { hasRememberedOrders, isPlainPrototype, reorderedKeys } from '@cachex/core/internal'
import { MAX_MSGPACK_DEPTH } from './_msgpack-check.ts'

const INT32_MIN = -0x80000000
const UINT32_MAX = 0xffffffff
/** The integers MessagePack holds (int64 and uint64), as Python's msgpack writes them. */
const INT64_MIN = -(2n ** 63n)
const UINT64_MAX = 2n ** 64n - 1n
const INT64 = 0xd3
const UINT64 = 0xcf

/**
 * `value` packed by `pack` (msgpackr with Python's options) into the bytes Python's msgpack would
 * write, or a `TypeError` / `SerializationError` for a value that would not read back as written.
 */
export function packAsPython(pack: (value: unknown) => Buffer, value: unknown): Buffer {
  keyNames = false
  ordersRemembered = hasRememberedOrders()
  try {
    // The common case holds no 64-bit integer, no Map key to name and no object to reorder:
    // msgpackr alone writes Python's bytes.
    const wide = withDepthCheck(value, scan)
    if (!wide && !keyNames && reordered === null) return pack(value)
    const packed = pack(widenIntegers(value))
    return wide ? unsignInt64s(packed) : packed
  } finally {
    reordered = null // not to keep the value alive
  }
}

/**
 * Set by `scan` when a `Map` has a key that is not a string: `widenIntegers` then writes it as
 * the property name it reads back as, since Python's msgpack (`strict_map_key`, its default,
 * and django-redis's) reads only str and bytes map keys.
 */
let keyNames = false

/** Whether a reader remembered a dict's key order (@cachex/core's `_key-order.ts`) yet. */
let ordersRemembered = false

/**
 * Set by `scan`: the plain objects read from a Python dict whose keys are to be written in
 * another order than JS lists them (array-index keys, which JS lists first), with that order.
 * `widenIntegers` writes each as a `Map` of its entries in that order (the same bytes).
 */
let reordered: Map<object, readonly string[]> | null = null

/** Thrown by the walks below past MAX_MSGPACK_DEPTH; `withDepthCheck` says why. */
class TooDeep extends Error {}

function tooDeep(): never {
  throw new TooDeep()
}

/**
 * Runs a walk that throws `TooDeep` past MAX_MSGPACK_DEPTH levels, and turns that into the
 * `SerializationError` that says whether `value` is circular or only deep (told apart on this
 * error path only).
 */
function withDepthCheck<T>(value: unknown, walk: (value: unknown, depth: number) => T): T {
  try {
    return walk(value, 0)
  } catch (error) {
    if (!(error instanceof TooDeep)) throw error
    throw new SerializationError(
      isCircular(value)
        ? 'msgpack: a circular structure cannot be stored as MessagePack'
        : `msgpack: value nested more than ${MAX_MSGPACK_DEPTH} levels deep: Python's msgpack reads no deeper`,
    )
  }
}

/** Whether `root` contains itself (arrays, Maps and objects), with an explicit stack. */
function isCircular(root: unknown): boolean {
  const onPath = new Set<unknown>()
  const stack: Array<{ value: unknown; children: unknown[] }> = []
  const containers = (value: unknown): unknown[] => {
    if (typeof value !== 'object' || value === null) return []
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Date) {
      return []
    }
    const items = Array.isArray(value)
      ? value
      : value instanceof Map
        ? [...value.values()]
        : Object.values(value)
    return items.filter((item) => typeof item === 'object' && item !== null)
  }
  onPath.add(root)
  stack.push({ value: root, children: containers(root) })
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { value: unknown; children: unknown[] }
    if (top.children.length === 0) {
      onPath.delete(top.value)
      stack.pop()
      continue
    }
    const next = top.children.pop()
    if (onPath.has(next)) return true
    if (stack.length > MAX_MSGPACK_DEPTH) continue
    onPath.add(next)
    stack.push({ value: next, children: containers(next) })
  }
  return false
}

/**
 * Whether `value` holds a 64-bit integer (a safe integer outside the 32-bit range, or a
 * `bigint`), in one read-only walk. It refuses a `bigint` outside -2^63 … 2^64-1, which neither
 * MessagePack nor Python's msgpack holds, with a `SerializationError` saying what to do (before
 * msgpackr, whose own message names options that msgpackSerializer() does not take); and, with a
 * `TypeError` saying what to do, what msgpackr would write without a word but not as it is: a
 * string that is not well-formed UTF-16 (a lone surrogate: msgpackr writes U+FFFD, Python's
 * msgpack refuses it), a function or a symbol inside a container (written as nil), an invalid
 * `Date` (unreadable), a `Set` (an array), a boxed primitive or a class instance (its own fields,
 * read back as a plain object), and `Map` keys that are not scalars or that read back as one
 * property name (`1` and `'1'`). Walks the whole value, which must not nest more than
 * MAX_MSGPACK_DEPTH containers deep (it throws).
 */
function scan(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) throw notWellFormed()
      return false
    case 'number':
      return (value > UINT32_MAX || value < INT32_MIN) && Number.isSafeInteger(value)
    case 'bigint':
      if (value < INT64_MIN || value > UINT64_MAX) throw beyond64Bits()
      return true
    case 'boolean':
    case 'undefined':
      return false
    case 'function':
    case 'symbol':
      throw new TypeError(
        `a ${typeof value} inside a value would be stored as nil: leave it out or convert it`,
      )
  }
  if (value === null) return false
  // Bytes are leaves (a `for…in` would list every byte of a Buffer).
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return false
  if (depth >= MAX_MSGPACK_DEPTH) tooDeep()
  let found = false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (scan(value[i], depth + 1)) found = true
    return found
  }
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null || isPlainPrototype(proto)) {
    const object = value as Record<string, unknown>
    if (ordersRemembered) {
      const keys = reorderedKeys(object)
      if (keys !== null) {
        reordered ??= new Map()
        reordered.set(object, keys)
      }
    }
    // Own keys only, as msgpackr writes them: `for…in` would also visit an enumerable property of
    // Object.prototype (an old polyfill's method). Object.keys measured no slower on 100 keys.
    const keys = Object.keys(object)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string
      if (!isWellFormed(key)) throw notWellFormed()
      if (scan(object[key], depth + 1)) found = true
    }
    return found
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('an invalid Date cannot be stored')
    return false
  }
  if (value instanceof Map) {
    const names = new Set<string>()
    for (const [key, item] of value) {
      if (typeof key !== 'string') keyNames = true
      else if (!isWellFormed(key)) throw notWellFormed()
      const name = mapKeyName(key)
      if (names.has(name)) {
        throw new TypeError(
          `a Map with the keys ${describeKeys(value, name)} would read back with one of them: they name the same property`,
        )
      }
      names.add(name)
      if (scan(item, depth + 1)) found = true
    }
    return found
  }
  if (value instanceof Set) {
    throw new TypeError(
      'a Set would be stored as an array: use the pickle serializer (a Python set), or convert it ([...set])',
    )
  }
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  throw new TypeError(
    `${typeof name === 'string' && name !== '' ? `${/^[AEIO]/i.test(name) ? 'an' : 'a'} ${name} instance` : 'an object with a prototype'} would be read back as a plain object: convert it ({ ...value }), or use the pickle serializer with pickleClasses`,
  )
}

/** The refusal of a `bigint` outside -2^63 … 2^64-1, with what to do instead. */
function beyond64Bits(): SerializationError {
  return new SerializationError(
    "a bigint beyond 64 bits cannot be stored as MessagePack, which holds integers from -2^63 to 2^64-1 (so does Python's msgpack, which reads what is written here): store it with the pickle or JSON serializer, or as a string",
  )
}

/** `String.prototype.isWellFormed` (ES2024, in Node 20): O(1) for a one-byte string. */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed()
}

function notWellFormed(): TypeError {
  return new TypeError(
    "a string with a lone surrogate (half of a UTF-16 pair) cannot be stored as MessagePack's UTF-8: Python's msgpack refuses it too",
  )
}

/** A `Map` key's property name once read back; refuses a key that is not a scalar. */
function mapKeyName(key: unknown): string {
  if (typeof key === 'object' && key !== null) {
    throw new TypeError(
      'a Map key must be a string, a number, a boolean, a bigint or null: other keys cannot be read back',
    )
  }
  if (typeof key === 'function' || typeof key === 'symbol') {
    throw new TypeError(`a ${typeof key} cannot be a Map key in MessagePack`)
  }
  return String(key)
}

/** The keys of `map` that read back as `name`, for a message. */
function describeKeys(map: Map<unknown, unknown>, name: string): string {
  const keys: string[] = []
  for (const key of map.keys()) {
    if (typeof key !== 'object' && String(key) === name) {
      keys.push(typeof key === 'string' ? JSON.stringify(key) : String(key))
    }
  }
  return keys.join(' and ')
}

/**
 * `value` with every safe integer outside the 32-bit range turned into a `bigint`, so that it is
 * written as int64/uint64 like Python does, every `Map` key that is not a string turned into
 * its property name, and every object `scan` found in `reordered` turned into a `Map` of its
 * entries in the remembered order. Containers are copied only on the path to such an integer,
 * key or object; the common case allocates nothing.
 */
function widenIntegers(value: unknown): unknown {
  if (typeof value === 'number') {
    // Beyond 2^53 a number is a float (Python's float 1e16 reads back as one): float64.
    return Number.isSafeInteger(value) && (value < INT32_MIN || value > UINT32_MAX)
      ? BigInt(value)
      : value
  }
  // scan already walked the whole value: the depth is within the cap.
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    for (let i = 0; i < value.length; i++) {
      const item = value[i]
      const widened = widenIntegers(item)
      if (widened !== item) {
        copy ??= value.slice()
        copy[i] = widened
      }
    }
    return copy ?? value
  }
  if (value instanceof Map) {
    // Each key as the property name it reads back as (`mapKeyName`; distinct, as scan checked).
    let changed = false
    const entries: Array<[unknown, unknown]> = []
    for (const [key, item] of value) {
      const name = typeof key === 'string' ? key : String(key)
      const widened = widenIntegers(item)
      if (widened !== item || name !== key) changed = true
      entries.push([name, widened])
    }
    return changed ? new Map(entries) : value
  }
  const keys = reordered?.get(value)
  if (keys !== undefined) {
    // msgpackr writes a Map's entries in order, with the header a plain object would have.
    const entries = new Map<string, unknown>()
    for (const key of keys) entries.set(key, widenIntegers((value as Record<string, unknown>)[key]))
    return entries
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  let copy: Record<string, unknown> | undefined
  const names = Object.keys(value)
  for (let i = 0; i < names.length; i++) {
    const key = names[i] as string
    const item = (value as Record<string, unknown>)[key]
    const widened = widenIntegers(item)
    if (widened !== item) {
      copy ??= { ...(value as Record<string, unknown>) }
      copy[key] = widened
    }
  }
  return copy ?? value
}

/**
 * msgpackr writes a non-negative `bigint` below 2^63 as int64 (0xd3); Python always writes
 * non-negative integers in the unsigned forms, here uint64 (0xcf). Both read the same value, but
 * bytes compared by Redis (sorted-set members, list elements) must be Python's. Walks the
 * encoded items and switches the type byte in place, the payload being the same 8 bytes.
 */
function unsignInt64s(data: Buffer): Buffer {
  let i = 0
  while (i < data.length) {
    const b = data[i] as number
    if (b <= 0x9f || b >= 0xe0) {
      // fixint, fixmap, fixarray, negative fixint (a container's items follow as items)
      i += 1
    } else if (b <= 0xbf) {
      i += 1 + (b & 0x1f) // fixstr
    } else if (b === INT64) {
      if ((data[i + 1] as number) < 0x80) data[i] = UINT64
      i += 9
    } else {
      i += itemSize(data, i, b)
    }
  }
  return data
}

/** The size, header included, of the item at `i` whose first byte is `b` (0xc0–0xdf). */
function itemSize(data: Buffer, i: number, b: number): number {
  switch (b) {
    case 0xc0: // nil, false, true
    case 0xc2:
    case 0xc3:
      return 1
    case 0xcc: // uint 8, int 8
    case 0xd0:
      return 2
    case 0xcd: // uint 16, int 16, fixext 1
    case 0xd1:
    case 0xd4:
    case 0xdc: // array 16, map 16 (headers)
    case 0xde:
      return 3
    case 0xd5: // fixext 2
      return 4
    case 0xca: // float 32, uint 32, int 32, array 32, map 32
    case 0xce:
    case 0xd2:
    case 0xdd:
    case 0xdf:
      return 5
    case 0xd6: // fixext 4
      return 6
    case 0xcb: // float 64, uint 64
    case 0xcf:
      return 9
    case 0xd7: // fixext 8
      return 10
    case 0xd8: // fixext 16
      return 18
    case 0xc4: // bin 8, str 8
    case 0xd9:
      return 2 + (data[i + 1] as number)
    case 0xc5: // bin 16, str 16
    case 0xda:
      return 3 + data.readUInt16BE(i + 1)
    case 0xc6: // bin 32, str 32
    case 0xdb:
      return 5 + data.readUInt32BE(i + 1)
    case 0xc7: // ext 8, ext 16, ext 32: length, type, data
      return 3 + (data[i + 1] as number)
    case 0xc8:
      return 4 + data.readUInt16BE(i + 1)
    case 0xc9:
      return 6 + data.readUInt32BE(i + 1)
    default:
      return data.length // 0xc1 is never written: stop
  }
}
