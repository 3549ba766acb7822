import { type Cache, type ConnectionFactory, InvalidArgumentError, type Logger } from '@cachex/core'
import { prefixOverlaps } from './_overlaps.ts'
import { type CreateCacheOptions, createCache } from './create-cache.ts'

/**
 * Registry-wide defaults, Django's `DJANGO_REDIS_*` settings. Each applies to every alias that
 * does not set it itself.
 */
export interface CacheGlobals {
  /** `DJANGO_REDIS_CONNECTION_FACTORY`: the connection factory of every cache. */
  connectionFactory?: ConnectionFactory
  /** `DJANGO_REDIS_IGNORE_EXCEPTIONS`. @default false */
  ignoreExceptions?: boolean
  /** `DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS`. @default false */
  logIgnoredExceptions?: boolean
  /** `DJANGO_REDIS_LOGGER`. @default console */
  logger?: Logger
  /** `DJANGO_REDIS_CLOSE_CONNECTION`. @default false */
  closeConnection?: boolean
  /** `DJANGO_REDIS_SCAN_ITERSIZE`: keys per `SCAN`. @default 1000 (django-redis: 10) */
  scanItersize?: number
}

/** Django's `CACHES`: options per alias. */
export type CachesConfig = Record<string, CreateCacheOptions>

let config: CachesConfig | undefined
let globals: CacheGlobals = {}
const instances = new Map<string, Cache>()

/**
 * Sets the caches of the process, once at start-up, as Django's `CACHES` setting:
 * `configureCaches({ default: { location: 'redis://…' }, sessions: { … } })`. Calling it again
 * after a cache was used rejects; call `caches.close()` first.
 *
 * Warns through the globals' `logger` (`warn`, else `error`) when two caches on one server and
 * database have overlapping prefixes — equal, one the other plus `:…` (`ab` and `ab:c`), or one
 * empty — since then one's `clear()` deletes the other's keys.
 */
export function configureCaches(caches: CachesConfig, defaults: CacheGlobals = {}): void {
  if (instances.size > 0) {
    throw new InvalidArgumentError(
      'configureCaches() was already called and caches are in use: call caches.close() first',
    )
  }
  if (caches === null || typeof caches !== 'object') {
    throw new InvalidArgumentError('configureCaches() takes an object of cache aliases')
  }
  config = { ...caches }
  globals = { ...defaults }
  const logger = globals.logger ?? console
  for (const message of prefixOverlaps(config)) {
    if (typeof logger.warn === 'function') logger.warn(message)
    else logger.error(message)
  }
}

/** The configured caches, by alias (Django's `django.core.cache.caches`). */
export const caches = {
  /**
   * The cache of `alias`, created on first use; one instance per alias. Typed `Cache`:
   * an alias may ignore errors (its own `ignoreExceptions` or the globals'), so `incr`, `hincrby`,
   * `lpush`… may resolve `null`.
   */
  get(alias = 'default'): Cache {
    const existing = instances.get(alias)
    if (existing !== undefined) return existing
    const options = config?.[alias]
    if (options === undefined) {
      throw new InvalidArgumentError(
        config === undefined
          ? `no caches are configured: call configureCaches() before caches.get('${alias}')`
          : `the cache alias '${alias}' is not configured (configured: ${Object.keys(config).join(', ')})`,
      )
    }
    const cache = createCache({ ...globals, ...options })
    instances.set(alias, cache)
    return cache
  },

  /** The aliases that are configured. */
  aliases(): string[] {
    return Object.keys(config ?? {})
  },

  /** Closes every cache created so far; `configureCaches()` may be called again afterwards. */
  async close(): Promise<void> {
    const open = [...instances.values()]
    instances.clear()
    await Promise.all(open.map((cache) => cache.close()))
  },
}

/**
 * The connected node-redis client behind a cache, for commands cachex does not wrap: the primary
 * with `write: true` (the default), a replica for reads where there are replicas.
 */
export async function getRedisConnection(
  alias = 'default',
  options: { write?: boolean } = {},
): Promise<unknown> {
  return caches.get(alias).connection.client({ write: options.write ?? true })
}
