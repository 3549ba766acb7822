// Given properties: options are read from the properties the caller's object has itself or
// inherits from an object of the caller's (a defaults object, a class), never from
// `Object.prototype`, and a property is set as the object's own whatever its name.
import { types } from 'node:util'
import { isPlainObject } from './_plain.ts'
import { CachexError, InvalidArgumentError } from './errors.ts'

/**
 * Whether `o` is `Object.prototype`, of this realm or another (a `vm` context, Jest's sandbox):
 * where an options object's own chain ends, and what another library may have polluted.
 */
function isObjectPrototype(o: object): boolean {
  return (
    o === Object.prototype ||
    (Object.getPrototypeOf(o) === null &&
      Object.hasOwn(o, 'isPrototypeOf') &&
      Object.hasOwn(o, '__proto__'))
  )
}

/**
 * Whether `for…in` over `object` visits its own enumerable string keys only, as `Object.keys`
 * lists them: its prototype is `null`, or this realm's `Object.prototype` and that enumerates
 * nothing (no polyfill's method put on it). Then `for (const key in object) object[key]` reads
 * each value from where the object's shape keeps it, where a read by a key `Object.keys` gave
 * looks the name up (callgrind, the bench's `setMany` of 100 entries: about 270 instructions a
 * read).
 */
export function forInIsOwn(object: object): boolean {
  // Not a Proxy: its `getPrototypeOf` may answer one prototype here and another to `for…in`.
  if (types.isProxy(object)) return false
  const proto: unknown = Object.getPrototypeOf(object)
  return proto === null || (proto === Object.prototype && !enumeratesKeys(Object.prototype))
}

/** Whether `object` has an enumerable property, its own or inherited. */
export function enumeratesKeys(object: object): boolean {
  for (const _ in object) return true
  return false
}

/**
 * Whether `name` is given by `options`: its own property, or one it inherits from a prototype
 * other than `Object.prototype` (a defaults object it was made from with `Object.create`, a class
 * of the caller's: its fields, getters and methods). A property another library put on
 * `Object.prototype` (prototype pollution, an old polyfill) is inherited by every object literal:
 * it is no option anyone gave.
 */
export function isGiven(options: object, name: PropertyKey): boolean {
  for (let o: object | null = options; o !== null && !isObjectPrototype(o); ) {
    if (Object.hasOwn(o, name)) return true
    o = Object.getPrototypeOf(o) as object | null
  }
  return false
}

/**
 * The names `options` gives (`isGiven`), each once, nearest first, with whether each is enumerable
 * where it is found: its own, enumerable or not, then those of each prototype of the caller's (a
 * defaults object, a class: its getters and methods, not enumerable), never `Object.prototype`'s
 * nor a prototype's `constructor`. A Proxy is asked through its traps (`ownKeys`,
 * `getOwnPropertyDescriptor`, `getPrototypeOf`): a reactive store's Proxy of a class instance
 * gives its class's getters. For options that are listed, not read by name (`clusterOptions`'
 * `defaults`, merged into each node's options); read once, when a connection is built.
 */
export function givenNames(options: object): Map<string, boolean> {
  const names = new Map<string, boolean>()
  // A Proxy's `getPrototypeOf` may answer a chain that comes back on itself: each object once.
  const seen = new Set<object>()
  for (let o: object | null = options; o !== null && !isObjectPrototype(o) && !seen.has(o); ) {
    seen.add(o)
    for (const name of Object.getOwnPropertyNames(o)) {
      if (names.has(name) || (o !== options && (name === 'constructor' || name === '__proto__'))) {
        continue
      }
      names.set(name, Object.prototype.propertyIsEnumerable.call(o, name))
    }
    o = Object.getPrototypeOf(o) as object | null
  }
  return names
}

/**
 * A plain object of the `names` that `options` gives (`own`: its own, or inherited from an object
 * of the caller's — a defaults object, a class's getter, read once here), for what a factory is
 * handed and reads by spreading: a rest spread (`{ version, ...rest }`) copies own enumerable
 * properties only, so an inherited `timeout` was dropped (a lock that never expires). Own
 * enumerable symbol keys are copied too, as the spread copied them.
 */
export function pickGiven(
  options: object | undefined | null,
  names: readonly string[],
): Record<string, unknown> {
  const picked: Record<PropertyKey, unknown> = {}
  for (const name of names) {
    const value = own(options as Record<string, unknown> | undefined, name)
    if (value !== undefined) picked[name] = value
  }
  // Own enumerable symbol keys pass as a spread passed them (no check reads them): a custom
  // factory's own tags.
  if (options != null) {
    for (const symbol of Object.getOwnPropertySymbols(options)) {
      if (Object.prototype.propertyIsEnumerable.call(options, symbol)) {
        picked[symbol] = (options as Record<symbol, unknown>)[symbol]
      }
    }
  }
  return picked
}

/**
 * `options[name]` when `options` gives it (`isGiven`: its own, or inherited from an object of the
 * caller's; any a Proxy's `get` answers), else `undefined` (and for `undefined` or `null`
 * options). Options are read so throughout cachex: read plainly, `Object.prototype.nx = true`
 * would make every `set()` an `NX` write. Allocates nothing, and an absent option costs one read:
 * for the options of the methods on the hot path.
 */
export function own<O extends object, K extends keyof O>(
  options: O | undefined | null,
  name: K,
): O[K] | undefined {
  if (options == null) return undefined
  try {
    const value = options[name]
    return value === undefined || isGiven(options, name) || types.isProxy(options)
      ? value
      : undefined
  } catch (error) {
    throw unreadable(`the option '${String(name)}'`, error)
  }
}

/**
 * What reading the caller's options (`what`) threw, as an `InvalidArgumentError`, which
 * `ignoreExceptions` never hides (another error became a `ConnectionError`, answered with the
 * method's fallback). Its message quotes nothing the caller's code said; that error is the cause.
 */
export function unreadable(what: string, error: unknown): CachexError {
  if (error instanceof CachexError) return error
  const refused = new InvalidArgumentError(
    `${what} could not be read: reading it threw (a revoked Proxy, or a Proxy or getter that throws); pass an ordinary object`,
    { cause: error },
  )
  UNREADABLE.add(refused)
  return refused
}

/**
 * What `read` returns, reading the caller's object (`what`: a mapping, keys, pairs); a throw of
 * the reading (a revoked Proxy, a trap or a getter of the caller's) is `unreadable`'s error.
 */
export function reading<T>(what: string, read: () => T): T {
  try {
    return read()
  } catch (error) {
    throw unreadable(what, error)
  }
}

/** The errors of `unreadable`: for `readingOptions`, which names the option itself instead. */
export const UNREADABLE = new WeakSet<Error>()

/**
 * A copy of a plain options object holding the properties it gives (`isGiven`: its own, then
 * those inherited from a defaults object or a class of the caller's — fields, getters, methods —
 * never `Object.prototype`'s, of any realm), without a prototype (so that nothing is inherited
 * when it is read): for options read once, when something is built (a cache, an admin handler),
 * where a copy costs nothing that counts. Inherited properties keep whether they are enumerable
 * (a class's methods and getters are not: no unknown-option check sees them, as before). A Proxy
 * is returned as it is (its `get` may answer options it has no key for), and so is anything else
 * (`undefined`, a Map, a Date, a function), for its own checks to describe.
 */
export function ownOptions<O>(options: O): O {
  if (typeof options !== 'object' || options === null || !isPlainObject(options)) return options
  if (types.isProxy(options)) return options
  const copy = Object.assign(Object.create(null), options) as Record<string, unknown>
  const given = options as Record<string, unknown>
  for (let o = Object.getPrototypeOf(options) as object | null; o !== null; ) {
    if (isObjectPrototype(o)) break
    for (const name of Object.getOwnPropertyNames(o)) {
      if (name === 'constructor' || name === '__proto__' || Object.hasOwn(copy, name)) continue
      const enumerable = Object.getOwnPropertyDescriptor(o, name)?.enumerable === true
      Object.defineProperty(copy, name, {
        __proto__: null,
        value: given[name],
        enumerable,
        writable: true,
        configurable: true,
      } as PropertyDescriptor)
    }
    o = Object.getPrototypeOf(o) as object | null
  }
  return copy as O
}

/**
 * Sets `name` on `target` as an own, enumerable, writable property, whatever the name. A plain
 * `target[name] = value` with `name === '__proto__'` calls the `Object.prototype.__proto__` setter
 * instead: the value becomes the object's prototype (a name that came from Redis could make
 * `result.isAdmin` true) and the field vanishes from `Object.keys`. Every other name, such as
 * `constructor` or `toString`, is an own property already; `target` keeps `Object.prototype`, so
 * results still compare equal to plain objects.
 */
export function setOwn(target: Record<string, unknown>, name: string, value: unknown): void {
  if (name === '__proto__') {
    // A descriptor without a prototype: an inherited `get` or `set` (a polluted Object.prototype)
    // would otherwise make it an accessor descriptor, and defineProperty throw.
    Object.defineProperty(target, name, {
      __proto__: null,
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    } as PropertyDescriptor)
  } else {
    target[name] = value
  }
}
