import {
  brotliCompressor,
  gzipCompressor,
  lz4Compressor,
  lzmaCompressor,
  zlibCompressor,
  zstdCompressor,
} from '@cachex/compressors'
import {
  type ClusterOptions,
  cluster,
  replica,
  type SentinelOptions,
  sentinel,
  standalone,
} from '@cachex/connections'
import { parseLocation } from '@cachex/connections/internal'
import {
  Cache,
  type CacheOptions,
  type Compressor,
  type Connection,
  type ConnectionFactory,
  type ConnectionOptions,
  InvalidArgumentError,
  jsonSerializer,
  type Serializer,
} from '@cachex/core'
import { lockFactory } from '@cachex/lock'
import { msgpackSerializer, type PickleClasses, pickleSerializer } from '@cachex/serializers'

/** Serializers `createCache` knows by name. */
export type SerializerName = 'json' | 'msgpack' | 'pickle'
/** Compressors `createCache` knows by name; `'none'` stores values uncompressed. */
export type CompressorName = 'none' | 'zlib' | 'gzip' | 'brotli' | 'lz4' | 'zstd' | 'lzma'
/**
 * Topologies `createCache` knows by name (`CLIENT_CLASS`): `'default'` is one server, or a
 * primary with read replicas when `location` lists several URLs; `'sentinel'` finds the primary
 * and replicas through Redis Sentinel (`location: 'redis://<service>/<db>'`, `sentinels`);
 * `'cluster'` is a Redis Cluster (`location`: the seed node URLs).
 */
export type ClientName = 'default' | 'sentinel' | 'cluster'

/**
 * Options of `createCache`: Django's `CACHES` entry, with `OPTIONS` flattened in. Seconds stay
 * seconds. `IgnoreErrors` is the type of `ignoreExceptions`.
 */
export interface CreateCacheOptions<IgnoreErrors extends boolean = boolean>
  extends Omit<CacheOptions<IgnoreErrors>, 'connection' | 'serializer' | 'compressor'>,
    ConnectionOptions,
    Pick<ClusterOptions, 'readFromReplicas' | 'clusterOptions'>,
    Pick<SentinelOptions, 'sentinels' | 'sentinelOptions'> {
  /**
   * Where Redis is (`LOCATION`): a URL (`redis://`, `rediss://`, `unix://`), a list of URLs or
   * a comma-separated string (the primary first, then read replicas), `redis://<service>/<db>`
   * with `client: 'sentinel'`, or an existing node-redis client or client pool.
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
}

const SERIALIZERS: Record<SerializerName, (options: CreateCacheOptions) => Serializer> = {
  json: () => jsonSerializer(),
  msgpack: () => msgpackSerializer(),
  pickle: (options) =>
    pickleSerializer({ pickleVersion: options.pickleVersion, classes: options.pickleClasses }),
}

const COMPRESSORS: Record<Exclude<CompressorName, 'none'>, () => Compressor> = {
  zlib: () => zlibCompressor(),
  gzip: () => gzipCompressor(),
  brotli: () => brotliCompressor(),
  lz4: () => lz4Compressor(),
  zstd: () => zstdCompressor(),
  lzma: () => lzmaCompressor(),
}

const CLIENTS: Record<ClientName, ConnectionFactory> = {
  default: defaultClient,
  sentinel,
  cluster,
}

/**
 * Creates a `Cache` from Django-style options: picks the connection factory, resolves serializers
 * and compressors given by name, and wires in `@cachex/lock` so that `cache.lock()` works.
 * Nothing connects until the first command. `ignoreExceptions: true` gives a `Cache<true>`, whose
 * `incr`, `hincrby`, `lpush`… may resolve `null`; without it, a `Cache<false>`. Both pass
 * for a bare `Cache` (`Cache<boolean>`, any cache).
 */
export function createCache<IgnoreErrors extends boolean = false>(
  options: CreateCacheOptions<IgnoreErrors> = {},
): Cache<IgnoreErrors> {
  // Resolve every name first, so that a bad one throws before a connection exists.
  const serializer = toList(options.serializer ?? 'json').map((s) => resolveSerializer(s, options))
  const compressor = toList(options.compressor ?? 'none')
    .filter((c) => c !== 'none')
    .map(resolveCompressor)
  const factory = options.connectionFactory ?? resolveClient(options.client ?? 'default')
  return new Cache({
    ...options,
    connection: factory(options),
    serializer,
    compressor,
    lockFactory: options.lockFactory ?? lockFactory,
  })
}

/**
 * `client: 'default'` (django-redis's `DefaultClient`): one server, or, when `location` lists
 * more than one URL (a list or a comma-separated string), the first as the primary and the rest
 * as read replicas.
 */
function defaultClient(options: ConnectionOptions): Connection {
  return (parseLocation(options.location)?.length ?? 0) > 1 ? replica(options) : standalone(options)
}

function resolveClient(client: ClientName | ConnectionFactory): ConnectionFactory {
  if (typeof client === 'function') return client
  const factory = CLIENTS[client]
  if (factory === undefined) {
    throw new InvalidArgumentError(
      `unknown client '${String(client)}': use ${Object.keys(CLIENTS).join(', ')} or a connection factory`,
    )
  }
  return factory
}

function resolveSerializer(
  serializer: SerializerName | Serializer,
  options: CreateCacheOptions,
): Serializer {
  if (typeof serializer !== 'string') return serializer
  const make = SERIALIZERS[serializer]
  if (make === undefined) {
    throw new InvalidArgumentError(
      `unknown serializer '${serializer}': use ${Object.keys(SERIALIZERS).join(', ')} or a Serializer object`,
    )
  }
  return make(options)
}

function resolveCompressor(compressor: CompressorName | Compressor): Compressor {
  if (typeof compressor !== 'string') return compressor
  const make = COMPRESSORS[compressor as Exclude<CompressorName, 'none'>]
  if (make === undefined) {
    throw new InvalidArgumentError(
      `unknown compressor '${compressor}': use none, ${Object.keys(COMPRESSORS).join(', ')} or a Compressor object`,
    )
  }
  return make()
}

function toList<T>(value: T | ReadonlyArray<T>): T[] {
  return Array.isArray(value) ? [...(value as ReadonlyArray<T>)] : [value as T]
}
