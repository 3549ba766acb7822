// What the JSON serializer refuses to write, checked in one walk before writing: values that
// `JSON.stringify` would silently change (a Map written as `{}`, an `undefined` array item
// written as `null`, a class instance read back as a plain object) or that would not be read back (nesting deeper
// than MAX_JSON_DEPTH). The walk also says whether `JSON.stringify` can write the value exactly,
// or whether it holds a number it would write as `null` (NaN, ±Infinity) or as an integer of
// another value (2^53 or more in magnitude), or a `bigint` it refuses.
//
// It costs one pass over the value's own properties, no allocation; JSON.stringify costs about
// three to five times as much on the same value (measured on the bench values, see json.ts).

import { bounded } from './_bounded.ts'
import { dateForm } from './_json-date.ts'
import { MAX_JSON_DEPTH } from './_limits.ts'
import { enumeratesKeys } from './_own.ts'
import { isDate } from './_plain.ts'

/** `JSON.stringify` writes the value exactly. */
export const EXACT = 0
/**
 * The value holds NaN, ±Infinity, a number of 2^53 or more in magnitude or a `bigint`: Python's
 * form must write it.
 */
export const NEEDS_PYTHON = 1

const HINT = 'use the msgpack or pickle serializer, or convert it'

/**
 * Walks `value` (an object) and returns `EXACT` or `NEEDS_PYTHON`; throws a `TypeError` saying
 * what JSON would change and what to do instead. Allowed: plain objects (any realm, or a null
 * prototype), arrays, a valid `Date` (written as an ISO string, as Django's encoder does, read
 * back as a string; an invalid one is refused) and objects with their own `toJSON()` (their
 * choice of form), strings, finite numbers, booleans, `null`; a property whose value is
 * `undefined` is left out, as `JSON.stringify` does (reading it back gives `undefined` all the
 * same).
 */
export function checkJsonValue(value: object, arrayToJson = true): number {
  // A check that runs inside another's walk (a getter that stores a value) adds to its `chosen`.
  if (checking === 0) chosen = false
  const outer = arraysChoose
  arraysChoose = arrayToJson
  checking++
  try {
    return checkValue(value)
  } finally {
    checking--
    arraysChoose = outer
  }
}

function checkValue(value: object): number {
  prototypeKeys = enumeratesKeys(Object.prototype)
  if (prototypeKeys) return walk(value, 0, value, undefined)
  let flags: number
  try {
    flags = walk(value, 0, value, undefined)
  } catch (error) {
    // The walk by `for…in` visited what JSON.stringify does not when a getter made
    // Object.prototype enumerate a key meanwhile: walked again by own keys, it throws what JSON
    // would change, if anything (a refusal is the rare path: its getters run once more, as
    // JSON.stringify's do). Otherwise the refusal stands.
    if (!enumeratesKeys(Object.prototype)) throw error
    prototypeKeys = true
    return walk(value, 0, value, undefined)
  }
  if (flags === NEEDS_PYTHON && enumeratesKeys(Object.prototype)) {
    prototypeKeys = true
    return walk(value, 0, value, undefined)
  }
  return flags
}

/**
 * Numbers below this in magnitude are written exactly by `JSON.stringify` and read back as the
 * same number. From 2^53 on (every such double is an integer) it writes digits, which Python and
 * the reader take for an integer, of another value (2 ** 60 is written 1152921504606847000):
 * Python's form writes them as floats (`1.152921504606847e+18`), as it does NaN and ±Infinity.
 */
const EXACT_BELOW = 2 ** 53

/**
 * Whether the last `checkJsonValue` met an object with a `toJSON()` (a Date's aside): what it
 * returns is not walked, so only its written text can tell how deep it nests (`choseForm`).
 */
let chosen = false

/** How many `checkJsonValue` calls are under way (one inside another's walk: a getter's). */
let checking = 0

/**
 * Whether an array's `toJSON()` chooses its form (`JSON.stringify` calls it; Python's form, as
 * Django's encoder, writes a list as a list): `checkJsonValue`'s `arrayToJson`.
 */
let arraysChoose = true

/** An array or object with a `toJSON()`: its choice of form, not walked (`chosen`). */
function chose(): number {
  chosen = true
  return EXACT
}

/** Whether the value the last `checkJsonValue` walked holds an object with a `toJSON()`. */
export function choseForm(): boolean {
  return chosen
}

/**
 * Whether `Object.prototype` has an enumerable property (an old polyfill's method), which
 * `for…in` would visit on every plain object: read at the start of each walk.
 */
let prototypeKeys = false

/**
 * Containers nested deeper than this are walked with an explicit stack: a recursive walk as deep
 * as MAX_JSON_DEPTH may overflow the call stack (measured: about 4,000 frames of this walk under
 * a test runner).
 */
const RECURSE_TO = 512

/** Containers left to walk, with their depths: the explicit stack of a deep walk. */
interface Pending {
  values: object[]
  depths: number[]
}

/**
 * Checks one container. Children are walked recursively, or, with `pending`, pushed onto it (the
 * caller's loop walks them). Returns `NEEDS_PYTHON` when this container (or a child walked
 * recursively) holds NaN, ±Infinity, a number of 2^53 or more in magnitude or a bigint. Arrays
 * and objects have a loop each, so that each stays monomorphic (measured: a quarter faster than
 * one loop for both).
 */
function walk(value: object, depth: number, root: object, pending: Pending | undefined): number {
  if (depth >= RECURSE_TO) {
    if (depth >= MAX_JSON_DEPTH) throw tooDeep(root)
    if (pending === undefined) return walkDeep(value, depth, root)
  }
  if (Array.isArray(value)) return walkArray(value, depth, root, pending)
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null && !isPlainPrototype(proto)) {
    return leaf(value)
  }
  return walkObject(value as Record<string, unknown>, depth, root, pending, proto)
}

function walkArray(
  array: readonly unknown[],
  depth: number,
  root: object,
  pending: Pending | undefined,
): number {
  // JSON.stringify writes what an array's own toJSON() returns, as an object's.
  if (arraysChoose && typeof (array as { toJSON?: unknown }).toJSON === 'function') return chose()
  let flags = EXACT
  for (let i = 0; i < array.length; i++) {
    const item = array[i]
    // Each `typeof` compared where it is taken: the optimizing compiler turns each into a check
    // of the value's kind, where one `typeof` kept in a variable is a call that makes its name.
    if (typeof item === 'string' || typeof item === 'boolean') continue
    if (typeof item === 'number') {
      // NaN fails both comparisons.
      if (!(item < EXACT_BELOW && item > -EXACT_BELOW)) flags = NEEDS_PYTHON
    } else if (typeof item === 'object') {
      if (item !== null) flags |= child(item, depth + 1, root, pending)
    } else if (typeof item === 'bigint') {
      flags = NEEDS_PYTHON
    } else if (item === undefined) {
      throw new TypeError(
        `undefined at index ${i} of an array would be stored as null: store null instead`,
      )
    } else {
      throw new TypeError(
        `a ${typeof item} at index ${i} of an array would be stored as null: ${HINT}`,
      )
    }
  }
  return flags
}

function walkObject(
  object: Record<string, unknown>,
  depth: number,
  root: object,
  pending: Pending | undefined,
  proto: unknown,
): number {
  // A toJSON() says how the object is written (JSON.stringify calls it, whatever the rest holds),
  // its own, enumerable or not, or its prototype's.
  if (typeof object.toJSON === 'function') return chose()
  let flags = EXACT
  if (proto === null || (proto === Object.prototype && !prototypeKeys)) {
    // `for…in` visits the own enumerable keys, in `Object.keys`' order, and those the prototype
    // chain enumerates, which there are none of here. Its reads of `object[key]` take the
    // property from where the object's shape says it is; a read by a key from `Object.keys`
    // looks the name up, and meets every property name of every value stored (callgrind, the
    // bench's setMany of 100 values of 5 properties and an array: about 800 instructions a value).
    for (const key in object) flags |= property(object[key], key, depth, root, pending)
    return flags
  }
  // Own keys only, as JSON.stringify writes them: `for…in` would also visit an enumerable
  // property of the prototype chain (an old polyfill's method on Object.prototype).
  const keys = Object.keys(object)
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    flags |= property(object[key], key, depth, root, pending)
  }
  return flags
}

/**
 * Checks the property `key` of an object, whose value is `item`: returns `EXACT` or
 * `NEEDS_PYTHON`, or throws.
 */
function property(
  item: unknown,
  key: string,
  depth: number,
  root: object,
  pending: Pending | undefined,
): number {
  // Each `typeof` compared where it is taken: the optimizing compiler turns each into a check of
  // the value's kind, where one `typeof` kept in a variable is a call that makes its name.
  if (typeof item === 'string' || typeof item === 'boolean') return EXACT
  if (typeof item === 'number') {
    return item < EXACT_BELOW && item > -EXACT_BELOW ? EXACT : NEEDS_PYTHON
  }
  if (typeof item === 'object') return item === null ? EXACT : child(item, depth + 1, root, pending)
  if (typeof item === 'bigint') return NEEDS_PYTHON
  // Left out, as JSON.stringify does: reading the property back gives `undefined` either way
  // (an optional property in TypeScript), and objects built with optional fields are common.
  if (item === undefined) return EXACT
  throw new TypeError(`a ${typeof item} at key '${bounded(key)}' would be dropped: ${HINT}`)
}

/** A child container: walked now, or, in a deep walk, pushed for the caller's loop. */
function child(item: object, depth: number, root: object, pending: Pending | undefined): number {
  if (pending === undefined) return walk(item, depth, root, undefined)
  pending.values.push(item)
  pending.depths.push(depth)
  return EXACT
}

/** The walk below `RECURSE_TO` levels: the same checks, with an explicit stack. */
function walkDeep(value: object, depth: number, root: object): number {
  const pending: Pending = { values: [value], depths: [depth] }
  let flags = EXACT
  for (;;) {
    const next = pending.values.pop()
    if (next === undefined) return flags
    if (walk(next, pending.depths.pop() as number, root, pending) === NEEDS_PYTHON) {
      flags = NEEDS_PYTHON
    }
  }
}

/** An object that is not a plain object or an array: allowed as a whole, or refused. */
function leaf(value: object): number {
  if (isDate(value)) {
    const form = dateForm(value)
    if (form === 'exact') return EXACT
    if (form === 'chosen') return chose()
  }
  if (value instanceof Map) {
    throw new TypeError(
      `a Map would be stored as {}: ${HINT} (Object.fromEntries(map) for string keys)`,
    )
  }
  if (value instanceof Set) {
    throw new TypeError(
      `a Set would be stored as {}: use the pickle serializer (a Python set), or convert it ([...set])`,
    )
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    const name = Buffer.isBuffer(value) ? 'Buffer' : (value.constructor?.name ?? 'binary value')
    throw new TypeError(
      `${article(name)} ${name} would be stored as ${name === 'Buffer' ? '{ type, data }' : 'an object of numbers'}: use the msgpack or pickle serializer (bytes), or convert it (a base64 string)`,
    )
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return chose()
  const name = (value.constructor as { name?: unknown } | undefined)?.name
  throw new TypeError(
    `${typeof name === 'string' && name !== '' ? `${article(name)} ${name} instance` : 'an object with a prototype'} would be read back as a plain object: convert it ({ ...value }), give its class a toJSON(), or use the pickle serializer with pickleClasses`,
  )
}

/** `Object.prototype` of another realm (a `vm` context, a worker's structured clone). */
export function isPlainPrototype(proto: unknown): boolean {
  return (
    typeof proto === 'object' &&
    proto !== null &&
    Object.getPrototypeOf(proto) === null &&
    (proto as { constructor?: { name?: unknown } }).constructor?.name === 'Object'
  )
}

/** Too deep: circular, or nested deeper than what is read back. Told apart on this path only. */
function tooDeep(root: object): TypeError {
  return new TypeError(isCircular(root) ? CIRCULAR : NESTED_TOO_DEEP)
}

/** Why a circular value is refused. Shared with the writers, so all paths say the same. */
export const CIRCULAR = 'a circular structure cannot be stored as JSON'

/** Why a value nested deeper than `MAX_JSON_DEPTH` is refused (the writers say it too). */
export const NESTED_TOO_DEEP = `a value nested deeper than ${MAX_JSON_DEPTH} levels cannot be stored as JSON (it would not be read back)`

function isCircular(root: object): boolean {
  // Depth-first with an explicit stack (a circular value is as deep as the walk went): an object
  // met again while it is still on the current path closes a cycle.
  const onPath = new Set<object>()
  const stack: Array<{ value: object; children: object[] }> = []
  const enter = (value: object): boolean => {
    if (onPath.has(value)) return true
    onPath.add(value)
    const items = Array.isArray(value) ? value : Object.values(value)
    stack.push({
      value,
      children: items.filter((item): item is object => typeof item === 'object' && item !== null),
    })
    return false
  }
  if (enter(root)) return true
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { value: object; children: object[] }
    const child = top.children.pop()
    if (child === undefined) {
      onPath.delete(top.value)
      stack.pop()
    } else if (stack.length <= MAX_JSON_DEPTH && enter(child)) {
      return true
    }
  }
  return false
}

/**
 * `a` or `an` before a class name `word` (`an ArrayBuffer`, `an Error instance`; `a Uint8Array`,
 * `a URL`: a leading U is said "you").
 */
function article(word: string): string {
  return /^[aeio]/i.test(word) ? 'an' : 'a'
}
