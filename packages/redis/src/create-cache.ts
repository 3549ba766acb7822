import {
  type ClusterOptions,
  type MemoryOptions,
  memory,
  type SentinelOptions,
} from '@cachex/connections'
import { isMemoryLocation } from '@cachex/connections/internal'
import {
  Cache,
  type CacheOptions,
  type Compressor,
  type ConnectionFactory,
  type ConnectionOptions,
  InvalidArgumentError,
  type Serializer,
} from '@cachex/core'
import { describeArgument } from '@cachex/core/internal'
import { lockFactory, semaphoreFactory } from '@cachex/lock'
import type { PickleClasses } from '@cachex/serializers'
import { checkCreateCacheOptions } from './_option-names.ts'
import { CLIENTS, COMPRESSORS, lookup, SERIALIZERS } from './_tables.ts'

/** Serializers `createCache` knows by name: the keys of its serializer table. */
export type SerializerName = keyof typeof SERIALIZERS
/** Compressors `createCache` knows by name; `'none'` stores values uncompressed. */
export type CompressorName = 'none' | keyof typeof COMPRESSORS
/**
 * Topologies `createCache` knows by name (`CLIENT_CLASS`): `'default'` is one server, or a
 * primary with read replicas when `location` lists several URLs; `'sentinel'` finds the primary
 * and replicas through Redis Sentinel (`location: 'redis://<service>/<db>'`, `sentinels`);
 * `'cluster'` is a Redis Cluster (`location`: the seed node URLs).
 */
export type ClientName = keyof typeof CLIENTS

/**
 * Options of `createCache`: Django's `CACHES` entry, with `OPTIONS` flattened in. Seconds stay
 * seconds. `IgnoreErrors` is the type of `ignoreExceptions`.
 */
export interface CreateCacheOptions<IgnoreErrors extends boolean = boolean>
  extends Omit<CacheOptions<IgnoreErrors>, 'connection' | 'serializer' | 'compressor'>,
    ConnectionOptions,
    Pick<ClusterOptions, 'readFromReplicas' | 'clusterOptions'>,
    Pick<SentinelOptions, 'sentinels' | 'sentinelOptions'>,
    Pick<MemoryOptions, 'memoryOptions'> {
  /**
   * Where Redis is (`LOCATION`): a URL (`redis://`, `rediss://`, `unix://`), a list of URLs or
   * a comma-separated string (the primary first, then read replicas), `redis://<service>/<db>`
   * with `client: 'sentinel'`, an existing node-redis client or client pool, or `memory://` /
   * `memory://<name>`: the in-process backend (a private store, or one shared by name within the
   * process; see docs/topologies.md).
   * @default 'redis://127.0.0.1:6379/0'
   */
  location?: ConnectionOptions['location']
  /** The topology (`CLIENT_CLASS`): a name or a connection factory. @default 'default' (one server) */
  client?: ClientName | ConnectionFactory
  /** A connection factory that builds the connection itself; wins over `client`. */
  connectionFactory?: ConnectionFactory
  /** The serializer (`SERIALIZER`), by name or as an object; a list migrates formats (first writes, all read). @default 'json' */
  serializer?: SerializerName | Serializer | ReadonlyArray<SerializerName | Serializer>
  /**
   * The pickle protocol `serializer: 'pickle'` writes (`PICKLE_VERSION`): 2–5, or -1 for the
   * highest. @default 4
   */
  pickleVersion?: number
  /**
   * Application classes `serializer: 'pickle'` reads (and writes), by Python global name: the
   * `classes` option of `pickleSerializer` (see docs/sharing-with-django.md). A handler is your
   * code run on data from Redis: check what it receives.
   * @default {} (none: globals off the built-in allow-list are refused)
   */
  pickleClasses?: PickleClasses
  /** The compressor (`COMPRESSOR`), by name or as an object; a list migrates formats. @default 'none' */
  compressor?: CompressorName | Compressor | ReadonlyArray<CompressorName | Compressor>
  /**
   * Telemetry attached to the cache once it is built: `openTelemetry()` from
   * `@cachex/redis/otel` (metrics and spans), or your own `CacheTelemetry`. In the registry it
   * gets each cache's alias. See docs/telemetry.md.
   */
  telemetry?: CacheTelemetry
}

/** What a `CacheTelemetry` learns of the cache it instruments. */
export interface TelemetryTarget {
  /** The cache's alias in the registry (`configureCaches`); absent for `createCache`. */
  alias?: string
  /**
   * The cache's `location` (URL, URLs or client object), for server attributes; absent for a
   * Sentinel service name (`client: 'sentinel'`), which names no server.
   */
  location?: unknown
}

/**
 * Telemetry for the caches `createCache` builds (the `telemetry` option): `openTelemetry()`
 * from `@cachex/redis/otel`, or anything with this shape (over `cache.on()`).
 */
export interface CacheTelemetry {
  /** Starts reporting `cache`'s activity; returns the function that stops it. */
  instrument(cache: Cache, target: TelemetryTarget): () => void
}

/**
 * Creates a `Cache` from Django-style options: picks the connection factory, resolves serializers
 * and compressors given by name, and wires in `@cachex/lock` so that `cache.lock()` and `cache.semaphore()` work.
 * Nothing connects until the first command. `ignoreExceptions: true` gives a `Cache<true>`, whose
 * `incr`, `hincrby`, `lpush`… may resolve `null`; without it, a `Cache<false>`. Both pass
 * for a bare `Cache` (`Cache<boolean>`, any cache).
 */
export function createCache<IgnoreErrors extends boolean = false>(
  options: CreateCacheOptions<IgnoreErrors> = {},
): Cache<IgnoreErrors> {
  checkOptionsObject(options, 'createCache() takes')
  return buildCache(options, undefined)
}

/**
 * Throws `InvalidArgumentError` unless `options` is an options object: a URL given alone
 * (`createCache('redis://…')`) would otherwise make a cache on the default server. `what` begins
 * the message.
 */
export function checkOptionsObject(options: unknown, what: string): void {
  if (options !== null && typeof options === 'object' && !Array.isArray(options)) return
  throw new InvalidArgumentError(
    `${what} an options object ({ location: 'redis://…', … }), got ${describeArgument(options)}`,
  )
}

/** `createCache`, for the registry's `alias` (which its `telemetry` reports). */
export function buildCache<IgnoreErrors extends boolean = false>(
  options: CreateCacheOptions<IgnoreErrors>,
  alias: string | undefined,
): Cache<IgnoreErrors> {
  // An unknown name is refused before anything is built (a misspelt keyPrefix left the prefix
  // empty, and clear() then flushed the database).
  checkCreateCacheOptions(
    options,
    alias === undefined ? 'createCache()' : `configureCaches(): the alias '${alias}'`,
  )
  // Resolve every name first, so that a bad one throws before a connection exists.
  const serializer = toList(options.serializer ?? 'json').map((s) => resolveSerializer(s, options))
  const compressor = toList(options.compressor ?? 'none')
    .filter((c) => c !== 'none')
    .map(resolveCompressor)
  const factory =
    options.connectionFactory ??
    (isMemoryLocation(options.location)
      ? memoryClient(options.client)
      : resolveClient(options.client ?? 'default'))
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError(
      'connectionFactory takes a function that returns a Connection (given the cache options)',
    )
  }
  const { telemetry, ...cacheOptions } = options
  if (telemetry !== undefined && typeof telemetry?.instrument !== 'function') {
    throw new InvalidArgumentError(
      "telemetry takes what openTelemetry() from '@cachex/redis/otel' returns (an object with instrument())",
    )
  }
  const cache = new Cache({
    ...cacheOptions,
    connection: factory(options),
    serializer,
    compressor,
    lockFactory: options.lockFactory ?? lockFactory,
    semaphoreFactory: options.semaphoreFactory ?? semaphoreFactory,
  })
  if (telemetry !== undefined) {
    const location = options.client === 'sentinel' ? undefined : options.location
    telemetry.instrument(cache, alias === undefined ? { location } : { alias, location })
  }
  return cache
}

/** `location: 'memory://…'`: the in-process backend, which is one topology of its own. */
function memoryClient(client: ClientName | ConnectionFactory | undefined): ConnectionFactory {
  if (client === undefined || client === 'default') return memory
  if (typeof client === 'function') return client
  throw new InvalidArgumentError(
    `client '${String(client)}' cannot use a memory:// location: the in-memory backend has no ${String(client)}; leave client unset`,
  )
}

function resolveClient(client: ClientName | ConnectionFactory): ConnectionFactory {
  if (typeof client === 'function') return client
  return lookup(CLIENTS, 'client', client, 'a connection factory')
}

function resolveSerializer(
  serializer: SerializerName | Serializer,
  options: CreateCacheOptions,
): Serializer {
  if (typeof serializer !== 'string') return serializer
  return lookup(SERIALIZERS, 'serializer', serializer, 'a Serializer object')(options)
}

function resolveCompressor(compressor: CompressorName | Compressor): Compressor {
  if (typeof compressor !== 'string') return compressor
  return lookup(COMPRESSORS, 'compressor', compressor, 'a Compressor object', ['none'])()
}

function toList<T>(value: T | ReadonlyArray<T>): T[] {
  return Array.isArray(value) ? [...(value as ReadonlyArray<T>)] : [value as T]
}
