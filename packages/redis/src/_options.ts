// The options of createCache() and configureCaches(), as types: apart from the code that reads
// them, which the option-name check, the registry and the telemetry bridge all import.
import type { ClusterOptions, MemoryOptions, SentinelOptions } from '@cachex/connections'
import type {
  Cache,
  CacheOptions,
  Compressor,
  ConnectionFactory,
  ConnectionOptions,
  Logger,
  Serializer,
} from '@cachex/core'
import type { PickleClasses } from '@cachex/serializers'
import type { CLIENTS, COMPRESSORS, SERIALIZERS } from './_tables.ts'

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
    Omit<ConnectionOptions, 'password'>,
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
  /**
   * Password for every node, used where the URL has none (`OPTIONS.PASSWORD`); `null` for
   * none, as Django's settings and JSON configs write it.
   */
  password?: string | null | undefined
  /** The topology (`CLIENT_CLASS`): a name or a connection factory. @default 'default' (one server) */
  client?: ClientName | ConnectionFactory | undefined
  /** A connection factory that builds the connection itself; wins over `client`. */
  connectionFactory?: ConnectionFactory | undefined
  /** The serializer (`SERIALIZER`), by name or as an object; a list migrates formats (first writes, all read). @default 'json' */
  serializer?: SerializerName | Serializer | ReadonlyArray<SerializerName | Serializer> | undefined
  /**
   * The pickle protocol `serializer: 'pickle'` writes (`PICKLE_VERSION`): 2–5, or -1 for the
   * highest. @default 4
   */
  pickleVersion?: number | undefined
  /**
   * Application classes `serializer: 'pickle'` reads (and writes), by Python global name: the
   * `classes` option of `pickleSerializer` (see docs/sharing-with-django.md). A handler is your
   * code run on data from Redis: check what it receives.
   * @default {} (none: globals off the built-in allow-list are refused)
   */
  pickleClasses?: PickleClasses | undefined
  /** The compressor (`COMPRESSOR`), by name or as an object; a list migrates formats. @default 'none' */
  compressor?: CompressorName | Compressor | ReadonlyArray<CompressorName | Compressor> | undefined
  /**
   * Telemetry attached to the cache once it is built: `openTelemetry()` from
   * `@cachex/redis/otel` (metrics and spans), or your own `CacheTelemetry`. In the registry it
   * gets each cache's alias. See docs/telemetry.md.
   */
  telemetry?: CacheTelemetry | undefined
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
 * Registry-wide defaults, Django's `DJANGO_REDIS_*` settings. Each applies to every alias that
 * does not set it itself (an alias's option set to `undefined` leaves the default in force).
 */
export interface CacheGlobals {
  /** `DJANGO_REDIS_CONNECTION_FACTORY`: the connection factory of every cache. */
  connectionFactory?: ConnectionFactory | undefined
  /** `DJANGO_REDIS_IGNORE_EXCEPTIONS`. @default false */
  ignoreExceptions?: boolean | undefined
  /** `DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS`. @default false */
  logIgnoredExceptions?: boolean | undefined
  /** `DJANGO_REDIS_LOGGER`. @default console */
  logger?: Logger | undefined
  /** `DJANGO_REDIS_CLOSE_CONNECTION`. @default false */
  closeConnection?: boolean | undefined
  /** `DJANGO_REDIS_SCAN_ITERSIZE`: keys per `SCAN`. @default 1000 (django-redis: 10) */
  scanItersize?: number | undefined
  /**
   * Telemetry for every cache (`openTelemetry()` from `@cachex/redis/otel`): each reports its
   * alias as `cachex.cache.alias`. See docs/telemetry.md.
   */
  telemetry?: CacheTelemetry | undefined
}

/** Django's `CACHES`: options per alias. */
export type CachesConfig = Record<string, CreateCacheOptions>
