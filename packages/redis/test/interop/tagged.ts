// The tagged JSON form in which values cross between the tests and django_side.py, so that no
// type is lost on the way: Python int vs float, bytes vs str, tuple vs list, set, dict keys.

/** A value in the tagged form. `missing` only comes back from `get` when there is no key. */
export type Tagged =
  | { t: 'int'; v: string }
  | { t: 'float'; v: string }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'none' }
  | { t: 'missing' }
  | { t: 'list' | 'tuple' | 'set'; v: Tagged[] }
  | { t: 'dict'; v: Array<[Tagged, Tagged]> }

/** What `fromTagged` gives for `{ t: 'missing' }`. */
export const MISSING: unique symbol = Symbol('missing')

/** Tagged constructors, to write expected Python values by hand. */
export const py = {
  int: (v: number | bigint | string): Tagged => ({ t: 'int', v: String(v) }),
  float: (v: number | string): Tagged => ({
    t: 'float',
    v: typeof v === 'number' ? floatText(v) : v,
  }),
  str: (v: string): Tagged => ({ t: 'str', v }),
  bytes: (v: Buffer | number[]): Tagged => ({ t: 'bytes', v: Buffer.from(v).toString('base64') }),
  bool: (v: boolean): Tagged => ({ t: 'bool', v }),
  none: { t: 'none' } as Tagged,
  missing: { t: 'missing' } as Tagged,
  list: (...v: Tagged[]): Tagged => ({ t: 'list', v }),
  tuple: (...v: Tagged[]): Tagged => ({ t: 'tuple', v }),
  set: (...v: Tagged[]): Tagged => ({ t: 'set', v }),
  dict: (...v: Array<[Tagged | string, Tagged]>): Tagged => ({
    t: 'dict',
    v: v.map(([k, item]) => [typeof k === 'string' ? py.str(k) : k, item]),
  }),
}

/** A JS number as a Python float literal that `float()` reads back exactly. */
function floatText(value: number): string {
  if (Number.isNaN(value)) return 'nan'
  if (value === Number.POSITIVE_INFINITY) return 'inf'
  if (value === Number.NEGATIVE_INFINITY) return '-inf'
  return Object.is(value, -0) ? '-0.0' : String(value)
}

/** Whether `value` is the pickle serializer's `PyTuple` (without importing it). */
function isPyTuple(value: object): value is { items: readonly unknown[] } {
  return (
    value.constructor?.name === 'PyTuple' && Array.isArray((value as { items?: unknown }).items)
  )
}

/**
 * The tagged form of a JS value, as Python should see it: a safe integer or a `bigint` is an
 * `int`, any other number a `float`; a `Buffer` is `bytes`, an array a `list`, a `PyTuple` a
 * `tuple`, a `Set` a `set`, a `Map` or a plain object a `dict`.
 */
export function toTagged(value: unknown): Tagged {
  switch (typeof value) {
    case 'number':
      return Number.isSafeInteger(value) ? py.int(value) : py.float(value)
    case 'bigint':
      return py.int(value)
    case 'string':
      return py.str(value)
    case 'boolean':
      return py.bool(value)
    case 'object': {
      if (value === null) return py.none
      if (Buffer.isBuffer(value) || value instanceof Uint8Array) return py.bytes(Buffer.from(value))
      if (Array.isArray(value)) return py.list(...value.map(toTagged))
      if (value instanceof Set) return py.set(...[...value].map(toTagged))
      if (value instanceof Map) {
        return { t: 'dict', v: [...value].map(([k, v]) => [toTagged(k), toTagged(v)]) }
      }
      if (isPyTuple(value)) return py.tuple(...value.items.map(toTagged))
      return { t: 'dict', v: Object.entries(value).map(([k, v]) => [py.str(k), toTagged(v)]) }
    }
    default:
      throw new TypeError(`no tagged form for a ${typeof value}`)
  }
}

/**
 * The JS value of a tagged Python value, as DESIGN §2 reads values back: an `int` is a `number`
 * when safe, else a `bigint`; `bytes` a `Buffer`; a `tuple` an array; a `set` a `Set`; a `dict`
 * a plain object when every key is a string, else a `Map`. `missing` is `MISSING`.
 */
export function fromTagged(tagged: Tagged): unknown {
  switch (tagged.t) {
    case 'int': {
      const big = BigInt(tagged.v)
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(big)
        : big
    }
    case 'float':
      return parseFloatText(tagged.v)
    case 'str':
      return tagged.v
    case 'bytes':
      return Buffer.from(tagged.v, 'base64')
    case 'bool':
      return tagged.v
    case 'none':
      return null
    case 'missing':
      return MISSING
    case 'list':
    case 'tuple':
      return tagged.v.map(fromTagged)
    case 'set':
      return new Set(tagged.v.map(fromTagged))
    case 'dict': {
      const entries = tagged.v.map(([k, v]) => [fromTagged(k), fromTagged(v)] as const)
      if (entries.every(([k]) => typeof k === 'string')) {
        const object: Record<string, unknown> = {}
        for (const [k, v] of entries) {
          Object.defineProperty(object, k as string, {
            value: v,
            writable: true,
            enumerable: true,
            configurable: true,
          })
        }
        return object
      }
      return new Map(entries)
    }
  }
}

function parseFloatText(text: string): number {
  switch (text.toLowerCase()) {
    case 'nan':
      return Number.NaN
    case 'inf':
    case 'infinity':
      return Number.POSITIVE_INFINITY
    case '-inf':
    case '-infinity':
      return Number.NEGATIVE_INFINITY
    default:
      return Number(text)
  }
}

/**
 * `tagged` in a canonical form for comparing: floats by value (`1e+16` and `10000000000000000`
 * are the same float), set members sorted (Python iterates sets in hash order).
 */
export function canonical(tagged: Tagged): Tagged {
  switch (tagged.t) {
    case 'float':
      return py.float(parseFloatText(tagged.v))
    case 'list':
    case 'tuple':
      return { t: tagged.t, v: tagged.v.map(canonical) }
    case 'set': {
      const items = tagged.v.map(canonical)
      items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
      return { t: 'set', v: items }
    }
    case 'dict':
      return { t: 'dict', v: tagged.v.map(([k, v]) => [canonical(k), canonical(v)]) }
    default:
      return tagged
  }
}
