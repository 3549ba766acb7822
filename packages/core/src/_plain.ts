// What counts as an options object: a plain object. A Date, a Map, a boxed number or a class
// instance has no enumerable keys of its own, so a walk over its keys would read it as `{}` and
// the call would go ahead with the defaults (a Date as `set()`'s timeout stored for 300 s).

/**
 * Whether `value` is a plain object: an object literal, `Object.create(null)`, or a plain object
 * of another realm (a `vm` context), whose prototype is that realm's `Object.prototype`.
 */
export function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return true
  return (
    Object.getPrototypeOf(proto) === null &&
    Object.prototype.toString.call(value) === '[object Object]'
  )
}

/** Whether `value` is a `Date`, of this realm or another. */
export function isDate(value: unknown): value is Date {
  return (
    value instanceof Date ||
    (typeof value === 'object' &&
      value !== null &&
      Object.prototype.toString.call(value) === '[object Date]')
  )
}

/** Boxed primitives (`new Number(60)`): named so, not as the number they hold. */
const BOXED = new Set(['Number', 'String', 'Boolean', 'BigInt', 'Symbol'])

/**
 * A short description of an object that is not a plain object, for an error message: `a Date`,
 * `a Map`, `a Number object`, `a Settings instance` (its class), `an array`. Never its contents.
 */
export function describeObject(value: object): string {
  if (Array.isArray(value)) return 'an array'
  const tag = Object.prototype.toString.call(value).slice(8, -1)
  if (tag !== 'Object') {
    if (BOXED.has(tag)) return `a ${tag} object`
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
