// Argument checks shared by the cache methods: options objects, Django's positional timeout and
// key versions. Each check costs nothing when the argument is absent (the hot path), and a short
// loop over the keys of an options object when one is given. The number checks (integers,
// amounts, scores, milliseconds): `_args-numbers.ts`, re-exported here.

import { isGiven, own, unreadable } from './_own.ts'
import { describeObject, isDate, isPlainObject } from './_plain.ts'
import { checkSeconds, describe } from './_timeout.ts'
import type { IncrOptions, MoveOptions, SetOptions, VersionOption } from './cache-options.ts'
import { InvalidArgumentError } from './errors.ts'
import type { Connection } from './types.ts'

export {
  checkInteger,
  checkItersize,
  checkMs,
  checkNumber,
  integerAmount,
} from './_args-numbers.ts'

/** An options object: its keys, for the unknown-key check. */
type Options = object | undefined

/**
 * Throws `InvalidArgumentError` unless `options` is `undefined` or a plain object (`{ … }`,
 * `Object.create(null)`, or one from another realm) whose keys are all in `allowed`: a misspelt
 * or misplaced option (`ttl(key, { versoin: 2 })`) would otherwise be ignored without a word, and
 * so would a Date, a Map or a class instance, which have no keys of their own to check. Only the
 * keys it gives count, as only they are read (`own`): its own and those it inherits from an object
 * of the caller's; an enumerable property another library put on `Object.prototype` is neither
 * refused nor read.
 */
export function checkOptions(options: unknown, method: string, allowed: readonly string[]): void {
  if (options === undefined) return
  try {
    checkKeys(options, method, allowed)
  } catch (error) {
    throw unreadable(`the options of ${method}()`, error)
  }
}

/** `checkOptions`, but for what reading `options` may throw. */
function checkKeys(options: unknown, method: string, allowed: readonly string[]): void {
  if (typeof options !== 'object' || options === null || !isPlainObject(options)) {
    throw new InvalidArgumentError(
      `${method}() takes an options object { ${allowed.join(', ')} }, got ${describeOptions(options)}`,
    )
  }
  // `for…in` with a check of where the name comes from allocates nothing (`Object.keys` would, on
  // the hot path); names `Object.prototype` lends every object are skipped (`isGiven`).
  for (const name in options) {
    if (!isGiven(options, name)) continue
    if (!allowed.includes(name)) {
      throw new InvalidArgumentError(
        `${method}() does not take the option '${name}' (it takes ${allowed.join(', ')})`,
      )
    }
  }
}

/**
 * Django's positional timeout or an options object, in one argument position: `set(k, v, 60)`,
 * `set(k, v, null)`, `set(k, v, { timeout: 60, nx: true })`, and `set(k, v, 60, { nx: true })`
 * (the positional seconds, then the other options). Returns the options object to read
 * everything but the timeout from, and the timeout (`undefined` → the cache's default), checked
 * here except for its value, which `timeoutToMs` checks. `allowed` lists the option keys,
 * `timeout` included.
 */
export function timeoutArguments<O extends { timeout?: number | null }>(
  method: string,
  timeoutOrOptions: number | null | O | undefined,
  options: Options,
  allowed: readonly string[],
): [timeout: number | null | undefined, options: O | undefined] {
  try {
    return readTimeoutArguments(method, timeoutOrOptions, options, allowed)
  } catch (error) {
    throw unreadable(`the options of ${method}()`, error)
  }
}

/** `timeoutArguments`, but for what reading the caller's objects may throw. */
function readTimeoutArguments<O extends { timeout?: number | null }>(
  method: string,
  timeoutOrOptions: number | null | O | undefined,
  options: Options,
  allowed: readonly string[],
): [timeout: number | null | undefined, options: O | undefined] {
  if (timeoutOrOptions === undefined || timeoutOrOptions === null) {
    checkOptions(options, method, withoutTimeout(allowed))
    return [timeoutOrOptions, options as O | undefined]
  }
  if (typeof timeoutOrOptions === 'number') {
    checkOptions(options, method, withoutTimeout(allowed))
    return [checkSeconds(timeoutOrOptions, `${method}() timeout`), options as O | undefined]
  }
  if (typeof timeoutOrOptions === 'object' && isPlainObject(timeoutOrOptions)) {
    checkOptions(timeoutOrOptions, method, allowed)
    if (options !== undefined) {
      throw new InvalidArgumentError(
        `${method}() takes the timeout in seconds followed by options, or one options object, not two objects`,
      )
    }
    const timeout = own(timeoutOrOptions as { timeout?: number | null }, 'timeout')
    if (timeout !== undefined && timeout !== null) {
      if (isDate(timeout)) throw dateTimeout(method)
      checkSeconds(timeout, `${method}() timeout`)
    }
    return [timeout, timeoutOrOptions]
  }
  if (isDate(timeoutOrOptions)) throw dateTimeout(method)
  throw new InvalidArgumentError(
    `${method}() takes a timeout in seconds (a number, or null for no expiry) or an options object { ${allowed.join(', ')} }, got ${describeOptions(timeoutOrOptions)}`,
  )
}

/** A Date given as a timeout: a point in time where a duration is taken. */
function dateTimeout(method: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `${method}() takes a timeout in seconds (or null for no expiry), not a Date: for an expiry at a point in time, pass the seconds until then ((date.getTime() - Date.now()) / 1000), or write without one and call expireAt() / pexpireAt() with the Date`,
  )
}

/** `describeArgument`, naming the kind of an object that is not a plain one (`a Date`, `a Map`). */
function describeOptions(value: unknown): string {
  return typeof value === 'object' && value !== null
    ? describeObject(value)
    : describeArgument(value)
}

const NO_TIMEOUT = new Map<readonly string[], readonly string[]>()

/** `allowed` without `timeout`, computed once per list. */
function withoutTimeout(allowed: readonly string[]): readonly string[] {
  let list = NO_TIMEOUT.get(allowed)
  if (list === undefined) {
    list = allowed.filter((name) => name !== 'timeout')
    NO_TIMEOUT.set(allowed, list)
  }
  return list
}

/** A key version given in options: an integer, or `undefined` for the cache's own. */
export function checkVersionOption(version: unknown): number | undefined {
  if (version === undefined || Number.isSafeInteger(version)) return version as number | undefined
  throw new InvalidArgumentError(`version must be an integer, got ${describe(version)}`)
}

/** `describe`, telling arrays and strings apart from other objects. */
export function describeArgument(value: unknown): string {
  if (typeof value === 'string') return 'a string'
  if (typeof value === 'object' && value !== null) {
    try {
      if (Array.isArray(value)) return 'an array'
      if (value instanceof Set) return 'a Set'
    } catch {
      // A revoked Proxy (or a throwing `getPrototypeOf` trap): an object all the same.
    }
    return 'an object'
  }
  return describe(value)
}

/** What every `Connection` has (`transaction` is optional). */
const CONNECTION_METHODS = ['command', 'batch', 'scan', 'flush', 'client', 'close'] as const

/**
 * Throws `InvalidArgumentError` unless `connection` has the methods of a `Connection`: what a
 * custom `connectionFactory` returns is checked before the first call would fail on it.
 */
export function checkConnection(connection: unknown): void {
  for (const method of CONNECTION_METHODS) {
    if (typeof (connection as Partial<Connection> | null)?.[method] !== 'function') {
      throw new InvalidArgumentError(
        `a Cache needs a Connection (command, batch, scan, flush, client and close), and what it was given has no ${method}()`,
      )
    }
  }
}

/**
 * Splits the options object off the end of a string-variadic argument list (`hdel(key, 'a', 'b',
 * { version: 2 })`): unambiguous, since the other arguments are strings (or `Buffer`s, which a
 * field name may be; no typed array is taken as the options: the name checks describe it).
 */
export function splitOptions<O extends object = VersionOption>(
  args: ReadonlyArray<string | O>,
): [names: string[], options: O | undefined] {
  const last = args[args.length - 1]
  if (last !== null && typeof last === 'object' && !ArrayBuffer.isView(last)) {
    return [args.slice(0, -1) as string[], last as O]
  }
  return [args as string[], undefined]
}

// The option keys of each method family, shared so that the lists live in one place.
export const VERSION_ONLY = ['version'] as const

/** The keys of `MoveOptions`. */
export const MOVE_KEYS = ['version', 'versionSrc', 'versionDst'] as const

/**
 * The `{ version }` of a move's source and of its destination, from its options (checked): each
 * its own `versionSrc` / `versionDst`, else `version`; `undefined` for the cache's version.
 */
export function moveVersions(
  options: MoveOptions | undefined,
  method: string,
): [from: VersionOption | undefined, to: VersionOption | undefined] {
  if (options === undefined) return [undefined, undefined]
  checkOptions(options, method, MOVE_KEYS)
  const version = checkVersionOption(own(options, 'version'))
  const from = checkVersionOption(own(options, 'versionSrc')) ?? version
  const to = checkVersionOption(own(options, 'versionDst')) ?? version
  return [
    from === undefined ? undefined : { version: from },
    to === undefined ? undefined : { version: to },
  ]
}
export const SET_KEYS = ['timeout', 'version', 'nx', 'xx', 'get'] as const
export const TIMEOUT_KEYS = ['timeout', 'version'] as const
export const GET_OR_SET_KEYS = [
  'timeout',
  'version',
  'waitTimeout',
  'distributed',
  'earlyRecompute',
  'grace',
  'lockTimeout',
] as const
export const SCAN_KEYS = ['itersize', 'version'] as const
export const INCR_KEYS = ['version', 'as'] as const
export const ZADD_KEYS = ['nx', 'xx', 'gt', 'lt', 'ch', 'incr', 'version'] as const
export const ZRANGE_KEYS = ['desc', 'withScores', 'version'] as const
export const ZRANGEBYSCORE_KEYS = ['offset', 'count', 'withScores', 'version'] as const
export const ZREVRANGE_KEYS = ['withScores', 'version'] as const
export const LPOS_KEYS = ['rank', 'count', 'maxlen', 'version'] as const
/** What a lock is made with: handed to the factory. */
export const LOCK_OPTIONS = ['timeout', 'sleep', 'blocking', 'blockingTimeout'] as const
export const LOCK_KEYS = [...LOCK_OPTIONS, 'version'] as const
export const ACQUIRE_LOCK_KEYS = [...LOCK_KEYS, 'token'] as const

/** A key version: an integer. */
export function checkVersion(version: unknown): number {
  if (!Number.isSafeInteger(version)) {
    throw new InvalidArgumentError(`version must be an integer, got ${describe(version)}`)
  }
  return version as number
}

/** The `coalesceReads` option: a boolean, `true` when absent. */
export function checkCoalesce(coalesce: unknown): boolean {
  return checkBoolean(coalesce, 'coalesceReads', true)
}

/**
 * A boolean option `name`: `fallback` when absent. Anything else is refused, a string above all:
 * `'false'` (from an environment variable or a JSON file) would otherwise mean true.
 */
export function checkBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') {
    throw new InvalidArgumentError(`${name} must be a boolean, got ${describeGiven(value)}`)
  }
  return value
}

/**
 * A per-call boolean option (`nx`, `withScores`, a stream's `mkstream`…) of `method`: `true`,
 * `false` or left out (`false`). Anything else is refused: `{ nx: 'false' }` read truthily would
 * apply NX.
 */
export function flagOption(value: unknown, method: string, name: string): boolean {
  return checkBoolean(value, `${method}(): ${name}`, false)
}

/**
 * A bad option value for an error message: a number as it is, a string quoted (its first 20
 * characters: `the string '4'`, what an environment variable gives), an object by its kind
 * (`describeObject`), else `describeArgument`.
 * Only for values that are no secret.
 */
export function describeGiven(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (value === '') return 'an empty string'
  if (typeof value === 'string') return `the string '${value.slice(0, 20)}'`
  // An object by its kind: `new Boolean(false)` is `a Boolean object`, a `Map` `a Map`
  // (`describeObject` never throws; `Buffer.isBuffer` reads the prototype, which a Proxy's trap
  // may refuse).
  if (typeof value === 'object' && value !== null) return describeObject(value)
  return describeArgument(value)
}

/**
 * The `logger` option: an object with an `error()` method (and, if it has one, a `warn()`
 * method), or `undefined`. Checked up front: a logger without them would turn every ignored
 * error into an untyped `TypeError` at the moment it is logged.
 */
export function checkLogger(logger: unknown): void {
  // `null` means the default (console), as `undefined` does.
  if (logger === undefined || logger === null) return
  if (
    (typeof logger !== 'object' && typeof logger !== 'function') ||
    typeof (logger as { error?: unknown }).error !== 'function'
  ) {
    throw new InvalidArgumentError(
      `logger must be an object with an error() method (such as console), got ${describeArgument(logger)}${typeof logger === 'object' ? ' without one' : ''}`,
    )
  }
  const warn = (logger as { warn?: unknown }).warn
  if (warn !== undefined && typeof warn !== 'function') {
    throw new InvalidArgumentError(
      `logger.warn must be a method (or absent, for error() to be used), got ${describe(warn)}`,
    )
  }
}

/**
 * `set()`'s arguments, checked: the timeout, the other options, the write's condition and
 * whether it resolves the old value (`get`). Shared by the method and its pipeline form.
 */
export function setArguments(
  timeoutOrOptions: number | null | SetOptions | undefined,
  options: Omit<SetOptions, 'timeout'> | undefined,
): [
  timeout: number | null | undefined,
  rest: SetOptions | undefined,
  condition: 'nx' | 'xx' | undefined,
  get: boolean,
] {
  const [timeout, rest] = timeoutArguments('set', timeoutOrOptions, options, SET_KEYS)
  const nx = flagOption(own(rest, 'nx'), 'set', 'nx')
  const xx = flagOption(own(rest, 'xx'), 'set', 'xx')
  const get = flagOption(own(rest, 'get'), 'set', 'get')
  if (nx && xx) throw new InvalidArgumentError('set() takes nx or xx, not both')
  return [timeout, rest, nx ? 'nx' : xx ? 'xx' : undefined, get]
}

/**
 * `incr()`'s delta and options, checked; resolves whether it answers a number (`as: 'number'`).
 * `method`: the method called (`decr` checks the delta its caller gave, before negating it).
 */
export function incrArguments(
  delta: unknown,
  options: IncrOptions | undefined,
  method: 'incr' | 'decr' = 'incr',
): boolean {
  if (!(typeof delta === 'bigint' || Number.isSafeInteger(delta))) {
    // An integer past 2^53 as a number has lost its last digits already: only a bigint is exact.
    const unsafe = Number.isInteger(delta)
      ? ' beyond ±(2^53 - 1), where a number is no longer exact: pass it as a bigint (e.g. 2n ** 60n)'
      : ''
    throw new InvalidArgumentError(
      `${method}() takes an integer delta (a safe integer or a bigint), got ${describe(delta)}${unsafe}`,
    )
  }
  checkOptions(options, method, INCR_KEYS)
  const as = own(options, 'as')
  const asNumber = as !== undefined
  if (asNumber && as !== 'number') {
    throw new InvalidArgumentError(`${method}() takes as: 'number' or no as, got ${describe(as)}`)
  }
  return asNumber
}
