// The option names createCache() and configureCaches() take, and the check that refuses the
// others: a misspelt `keyPrefix` would otherwise leave the prefix empty, and clear() without a
// prefix is FLUSHDB.
import { InvalidArgumentError } from '@cachex/core'
import {
  checkBoolean,
  checkLogger,
  closestName,
  describeObject,
  isPlainObject,
  unknownName,
} from '@cachex/core/internal'
import type { CacheGlobals, CreateCacheOptions } from './_options.ts'

// Each table has every key of its type, and no other: the compiler says when an option is added
// to the type and not here. The options of every topology are in it (an option of another
// topology than the cache's is unused, as a `sentinels` list with `client: 'cluster'`).
const CREATE_CACHE_TABLE = {
  location: true,
  client: true,
  connectionFactory: true,
  keyPrefix: true,
  version: true,
  timeout: true,
  keyFunction: true,
  reverseKeyFunction: true,
  serializer: true,
  pickleVersion: true,
  pickleClasses: true,
  compressor: true,
  maxValueSize: true,
  ignoreExceptions: true,
  logIgnoredExceptions: true,
  logger: true,
  scanItersize: true,
  coalesceReads: true,
  lockFactory: true,
  semaphoreFactory: true,
  local: true,
  telemetry: true,
  password: true,
  socketConnectTimeout: true,
  socketTimeout: true,
  maxInFlightBytes: true,
  connectionPool: true,
  closeConnection: true,
  clientOptions: true,
  readFromReplicas: true,
  clusterOptions: true,
  sentinels: true,
  sentinelOptions: true,
  memoryOptions: true,
} as const satisfies Record<keyof CreateCacheOptions, true>

const GLOBALS_TABLE = {
  connectionFactory: true,
  ignoreExceptions: true,
  logIgnoredExceptions: true,
  logger: true,
  closeConnection: true,
  scanItersize: true,
  telemetry: true,
} as const satisfies Record<keyof CacheGlobals, true>

/** Names from other libraries and settings, by their normalized form (see `normalize`). */
const ALIASES: Readonly<Record<string, string>> = {
  url: 'location', // node-redis, ioredis
  ttl: 'timeout', // cache-manager, Keyv
  namespace: 'keyPrefix', // cache-manager, Keyv
  prefix: 'keyPrefix',
  clientclass: 'client', // Django's CLIENT_CLASS
}

const CREATE_CACHE_OPTIONS = Object.keys(CREATE_CACHE_TABLE)
const CACHE_GLOBALS = Object.keys(GLOBALS_TABLE)

/**
 * The names a cache's options and `configureCaches()`'s defaults are read by: what building one
 * reads of a Proxy given as them, whether it holds them or not (`readingOptions`).
 */
export const OPTION_NAMES: readonly string[] = [
  ...new Set([...CREATE_CACHE_OPTIONS, ...CACHE_GLOBALS]),
]

/**
 * Throws `InvalidArgumentError` when `options` has a key `createCache` does not take
 * (`keyprefix`, `url`, `ttl`…), naming it and, when one is close, the option meant. `what`
 * begins the message: `createCache()`, or `configureCaches(): the alias '…'`.
 */
export function checkCreateCacheOptions(options: object, what: string): void {
  const name = unknownName(options, CREATE_CACHE_OPTIONS)
  if (name === undefined) return
  const meant = closestName(name, CREATE_CACHE_OPTIONS, ALIASES)
  throw new InvalidArgumentError(
    meant === undefined
      ? `${what} does not take the option '${name}' (it takes ${CREATE_CACHE_OPTIONS.join(', ')})`
      : `${what} does not take the option '${name}': did you mean '${meant}'?`,
  )
}

/**
 * Throws `InvalidArgumentError` when the registry-wide defaults of `configureCaches` (its second
 * argument) have a key that is not one of them: an unknown name, or a cache option that is each
 * alias's own (`keyPrefix`, `location`).
 */
export function checkCacheGlobals(defaults: object): void {
  const name = unknownName(defaults, CACHE_GLOBALS)
  if (name === undefined) return
  const meant = closestName(name, CACHE_GLOBALS, ALIASES)
  const own = CREATE_CACHE_OPTIONS.includes(name) ? ': set it on each alias' : ''
  throw new InvalidArgumentError(
    meant === undefined
      ? `configureCaches() does not take the default '${name}' (it takes ${CACHE_GLOBALS.join(', ')})${own}`
      : `configureCaches() does not take the default '${name}': did you mean '${meant}'?`,
  )
}

/** The boolean options of createCache() and of the registry-wide defaults. */
const BOOLEAN_OPTIONS = [
  'ignoreExceptions',
  'logIgnoredExceptions',
  'closeConnection',
  'readFromReplicas',
  'coalesceReads',
] as const

/**
 * The credentials of createCache(), by the path of their option: each a string or unset, as
 * node-redis types them (a Buffer it would send, but cachex cuts only string passwords out of
 * its messages). node-redis's `clientOptions.credentialsProvider` is another option, unchecked.
 */
const CREDENTIALS: ReadonlyArray<readonly string[]> = [
  ['password'],
  ['clientOptions', 'password'],
  ['clientOptions', 'username'],
  ['sentinelOptions', 'password'],
  ['sentinelOptions', 'username'],
  ['sentinelOptions', 'clientOptions', 'password'],
  ['sentinelOptions', 'clientOptions', 'username'],
]

/** The options that take a function: `lockFactory: 5` would fail every lock with a TypeError. */
const FUNCTION_OPTIONS = ['lockFactory', 'semaphoreFactory'] as const

/** The options that take an object of node-redis options, which another kind would lose. */
const OBJECT_OPTIONS = ['clientOptions', 'connectionPool'] as const

/**
 * Throws `InvalidArgumentError` when a value of `options` (a cache's options, or the registry-wide
 * defaults) is of the wrong kind where nothing later would notice before it mattered: a boolean
 * option that is not a boolean (`'false'`, from an environment variable, would mean true), a
 * `logger` without an `error()` method (every ignored error would then be an untyped
 * `TypeError`), a `lockFactory` or `semaphoreFactory` that is not a function, a `clientOptions`
 * or `connectionPool` that is not an object (`clientOptions: 5` would be ignored), or a password or user name that is not a string (`password: 123456` from a JSON
 * file: every call would fail as if Redis were down). `what` begins the message, when given
 * (`configureCaches(): the alias '…'`).
 */
export function checkOptionValues(options: object, what?: string): void {
  const values = options as Record<string, unknown>
  try {
    for (const name of BOOLEAN_OPTIONS) checkBoolean(values[name], name, false)
    checkLogger(values.logger)
    for (const path of CREDENTIALS) checkCredential(values, path)
    for (const name of FUNCTION_OPTIONS) checkKind(values[name], name, 'function')
    for (const name of OBJECT_OPTIONS) checkKind(values[name], name, 'object')
  } catch (error) {
    if (what === undefined || !(error instanceof InvalidArgumentError)) throw error
    throw new InvalidArgumentError(`${what}: ${error.message}`)
  }
}

/**
 * Throws `InvalidArgumentError` unless the option at `path` of `values` is a string, unset or
 * `null` (a parent that is not an object is left to the check of its own). The message names its type
 * only: the value is a password.
 */
function checkCredential(values: Record<string, unknown>, path: readonly string[]): void {
  let value: unknown = values
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return
    // Own properties only, as they are read: not what a polluted Object.prototype holds.
    value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined
  }
  // `null` is absent, as before (a JSON config's `"password": null`: no password).
  if (value === undefined || value === null || typeof value === 'string') return
  throw new InvalidArgumentError(`${path.join('.')} must be a string, got ${typeOf(value)}`)
}

/**
 * Throws `InvalidArgumentError` unless the option `name`'s `value` is unset, `null` (unset, as a
 * JSON config writes it) or of `kind`: a function, or an object that holds options in its keys
 * (`isPlainObject`: not an array, a `Map`, a boxed `new String(…)`, a `Date`…, whose options
 * would be lost or read as `0`, `1`…).
 */
function checkKind(value: unknown, name: string, kind: 'function' | 'object'): void {
  if (value === undefined || value === null) return
  if (
    kind === 'function'
      ? typeof value === 'function'
      : typeof value === 'object' && isPlainObject(value)
  )
    return
  const wanted = kind === 'function' ? 'a function' : 'an object of node-redis options'
  const got =
    typeof value === 'object' && !Buffer.isBuffer(value) ? describeObject(value) : typeOf(value)
  throw new InvalidArgumentError(`${name} must be ${wanted}, got ${got}`)
}

/** What `value` is, by its type alone (`a number`, `a Buffer`, `null`): never its value. */
function typeOf(value: unknown): string {
  if (value === null) return 'null'
  if (Buffer.isBuffer(value)) return 'a Buffer'
  if (Array.isArray(value)) return 'an array'
  const type = typeof value
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}
