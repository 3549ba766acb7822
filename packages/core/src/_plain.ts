// What counts as an options object: an ordinary object. A Date, a Map, a boxed number has no
// enumerable keys of its own, so a walk over its keys would read it as `{}` and the call would go
// ahead with the defaults (a Date as `set()`'s timeout stored for 300 s).
import { types } from 'node:util'

/**
 * Whether `value` is an ordinary object, whose keys are its options: an object literal,
 * `Object.create(null)`, one of another realm (a `vm` context), an instance of a class of yours
 * (its fields, whatever its `Symbol.toStringTag`), one that inherits from a defaults object, a
 * module namespace. Not an array, nor a built-in object that holds its data elsewhere than in
 * keys — a `Date`, a `Map`, a `Set`, a boxed `Number`, a `Promise`, a `RegExp`, an `Error`, binary
 * data — told by what it is (`util.types`, of any realm), not by what it calls itself.
 */
export function isPlainObject(value: object): boolean {
  return !(
    Array.isArray(value) ||
    types.isDate(value) ||
    types.isMap(value) ||
    types.isSet(value) ||
    types.isWeakMap(value) ||
    types.isWeakSet(value) ||
    types.isBoxedPrimitive(value) ||
    types.isPromise(value) ||
    types.isRegExp(value) ||
    types.isNativeError(value) ||
    types.isAnyArrayBuffer(value) ||
    types.isArrayBufferView(value)
  )
}

/** Whether `value` is a `Date`, of this realm or another. */
export function isDate(value: unknown): value is Date {
  return types.isDate(value)
}

/** Boxed primitives (`new Number(60)`): named so, not as the number they hold. */
const BOXED = new Set(['Number', 'String', 'Boolean', 'BigInt', 'Symbol'])

/** Built-ins named by their tag (typed arrays by a pattern). */
const BUILT_IN = new Set([
  'Date',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'WeakRef',
  'Promise',
  'RegExp',
  'Error',
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Arguments',
  'Generator',
  'AsyncGenerator',
  'Module',
])

/**
 * A short description of an object that is not a plain object, for an error message: `a Date`,
 * `a Map`, `a Number object`, `a Settings instance` (its class), `an array`. Never its contents.
 */
export function describeObject(value: object): string {
  try {
    return describe(value)
  } catch {
    // A revoked Proxy throws at every look.
    return 'an object'
  }
}

/** `describeObject`, which may throw (a revoked Proxy). */
function describe(value: object): string {
  if (Array.isArray(value)) return 'an array'
  let tag = 'Object'
  try {
    tag = Object.prototype.toString.call(value).slice(8, -1)
  } catch {
    // A `Symbol.toStringTag` getter that throws (or a revoked Proxy): described by the rest.
  }
  // Only the names of built-ins: a `Symbol.toStringTag` of one's own may say anything.
  if (BOXED.has(tag)) return `a ${tag} object`
  if (BUILT_IN.has(tag) || /^(?:Big)?(?:Int|Uint|Float)\d+(?:Clamped)?Array$/.test(tag)) {
    return `${/^[AEIO]/.test(tag) ? 'an' : 'a'} ${tag}`
  }
  if (isPlainObject(value)) return 'an object'
  let name: unknown
  try {
    name = (value as { constructor?: { name?: unknown } }).constructor?.name
  } catch {
    // A getter that throws: described without its name.
  }
  return typeof name === 'string' && /^[\w$]{1,60}$/.test(name)
    ? `${/^[AEIO]/i.test(name) ? 'an' : 'a'} ${name} instance`
    : 'an object with a prototype'
}
