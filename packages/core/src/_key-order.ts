// Python dicts keep their insertion order; JS objects list array-index keys ('0'…'4294967294',
// canonical form) first, ascending, then the other keys in insertion order. A reader that builds
// a plain object from a dict with such keys remembers the dict's order here, out of band (the
// object stays a plain object), so that a writer writes the keys back in Python's order and an
// untouched value written back is the bytes it was read from.

// The remembered orders; null until one is remembered, so that writers pay nothing but this
// check while no reader ever met an array-index key.
let remembered: WeakMap<object, string[]> | null = null

/** Whether `key` is an array index, a key JS objects list before the others (ascending). */
export function isIndexKey(key: string): boolean {
  const c = key.charCodeAt(0)
  if (!(c >= 0x30 && c <= 0x39)) return false
  if (key.length > 10 || (c === 0x30 && key.length > 1)) return false
  for (let i = 1; i < key.length; i++) {
    const d = key.charCodeAt(i)
    if (d < 0x30 || d > 0x39) return false
  }
  return Number(key) < 4294967295
}

/**
 * Remembers `keys`, the own keys of `object` in the order the source (a Python dict) had them.
 * The reader may still append to `keys` while it fills `object`; nothing changes it after.
 */
export function rememberKeyOrder(object: object, keys: string[]): void {
  remembered ??= new WeakMap()
  remembered.set(object, keys)
}

/**
 * The own enumerable keys of `object` in the order to write them: for an object whose order
 * was remembered, the remembered keys still there, in that order, then the keys added since (in
 * JS order), as a Python dict appends them; for any other object, `Object.keys(object)`. The
 * array returned is not to be changed.
 */
export function keysInOrder(object: object): readonly string[] {
  const keys = Object.keys(object)
  if (remembered === null) return keys
  const order = remembered.get(object)
  return order === undefined ? keys : pythonOrder(object, order, keys)
}

/**
 * Whether any order was remembered in this process: until one is, every object is written in JS
 * order, and a writer that checks this once per value pays nothing per object.
 */
export function hasRememberedOrders(): boolean {
  return remembered !== null
}

/**
 * The keys of `object` in the order to write them (`keysInOrder`) when that differs from JS's
 * order, `Object.keys(object)`; `null` when it does not (the object was never remembered, or
 * JS lists its keys in the remembered order already). For a writer that writes objects in JS
 * order and must reorder only these.
 */
export function reorderedKeys(object: object): readonly string[] | null {
  if (remembered === null) return null
  const order = remembered.get(object)
  if (order === undefined) return null
  const keys = Object.keys(object)
  // Both list each own enumerable key once.
  const inOrder = pythonOrder(object, order, keys)
  for (let i = 0; i < keys.length; i++) if (inOrder[i] !== keys[i]) return inOrder
  return null
}

const isEnumerable = Object.prototype.propertyIsEnumerable

function pythonOrder(object: object, order: readonly string[], keys: string[]): readonly string[] {
  // Untouched (the same keys): the remembered order itself.
  if (order.length === keys.length) {
    let same = true
    for (const key of order) {
      if (!isEnumerable.call(object, key)) {
        same = false
        break
      }
    }
    if (same) return order
  }
  const left = new Set(keys)
  const out: string[] = []
  for (const key of order) if (left.delete(key)) out.push(key)
  if (left.size > 0) for (const key of keys) if (left.has(key)) out.push(key)
  return out
}
