// The option names createCache() and configureCaches() take, and the check that refuses the
// others: a misspelt `keyPrefix` would otherwise leave the prefix empty, and clear() without a
// prefix is FLUSHDB.
import { InvalidArgumentError } from '@cachex/core'
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
 * Throws `InvalidArgumentError` when `options` has a key `createCache` does not take
 * (`keyprefix`, `url`, `ttl`…), naming it and, when one is close, the option meant. `what`
 * begins the message: `createCache()`, or `configureCaches(): the alias '…'`.
 */
export function checkCreateCacheOptions(options: object, what: string): void {
  const name = unknownName(options, CREATE_CACHE_OPTIONS)
  if (name === undefined) return
  const meant = closest(name, CREATE_CACHE_OPTIONS)
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
  const meant = closest(name, CACHE_GLOBALS)
  const own = CREATE_CACHE_OPTIONS.includes(name) ? ': set it on each alias' : ''
  throw new InvalidArgumentError(
    meant === undefined
      ? `configureCaches() does not take the default '${name}' (it takes ${CACHE_GLOBALS.join(', ')})${own}`
      : `configureCaches() does not take the default '${name}': did you mean '${meant}'?`,
  )
}

/** The first own key of `options` that is not in `allowed`. */
function unknownName(options: object, allowed: readonly string[]): string | undefined {
  for (const name of Object.keys(options)) if (!allowed.includes(name)) return name
  return undefined
}

/** The name in `allowed` that `name` most likely meant, if one is close. */
function closest(name: string, allowed: readonly string[]): string | undefined {
  const wanted = normalize(name)
  const alias = ALIASES[wanted]
  if (alias !== undefined && allowed.includes(alias)) return alias
  // A case or separator difference (`keyprefix`, `KEY_PREFIX`), else a typo or two.
  const typos = wanted.length > 5 ? 2 : 1
  return (
    allowed.find((candidate) => normalize(candidate) === wanted) ??
    allowed.find((candidate) => distance(normalize(candidate), wanted) <= typos)
  )
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '')
}

/** The Levenshtein distance of `a` and `b` (short option names: a table row at a time). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + cost,
      )
    }
    row = next
  }
  return row[b.length] as number
}
