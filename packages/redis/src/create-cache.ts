import { memory } from '@cachex/connections'
import {
  DEFAULT_URL,
  isMemoryLocation,
  isNodeRedisCluster,
  isRedisSentinel,
} from '@cachex/connections/internal'
import {
  Cache,
  type CacheOptions,
  type Compressor,
  type Connection,
  type ConnectionFactory,
  InvalidArgumentError,
  type Serializer,
} from '@cachex/core'
import { describeArgument, ownOptions, readingOptions } from '@cachex/core/internal'
import { lockFactory, semaphoreFactory } from '@cachex/lock'
import { checkCreateCacheOptions, checkOptionValues, OPTION_NAMES } from './_option-names.ts'
import type { ClientName, CompressorName, CreateCacheOptions, SerializerName } from './_options.ts'
import { CLIENTS, COMPRESSORS, lookup, SERIALIZERS } from './_tables.ts'

/**
 * Creates a `Cache` from Django-style options: picks the connection factory, resolves serializers
 * and compressors given by name, and wires in `@cachex/lock` so that `cache.lock()` and `cache.semaphore()` work.
 * Nothing connects until the first command. `ignoreExceptions: true` gives a `Cache<true>`, whose
 * `incr`, `hincrby`, `lpush`… may resolve `null`; without it, a `Cache<false>`. Both pass
 * for a bare `Cache` (`Cache<boolean>`, any cache). The options are read from their own
 * properties only: one inherited from `Object.prototype` (where another library may have put it:
 * prototype pollution) counts for nothing.
 */
export function createCache<IgnoreErrors extends boolean = false>(
  options: CreateCacheOptions<IgnoreErrors> = {},
): Cache<IgnoreErrors> {
  // An option object that cannot be read (a revoked Proxy, a trap that throws) is refused naming it.
  return readingOptions(
    options,
    (path) => (path.length === 0 ? 'createCache() options' : path.join('.')),
    () => {
      checkOptionsObject(options, 'createCache() takes')
      return buildCache(options, undefined)
    },
    OPTION_NAMES,
  )
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

/**
 * `createCache`, for the registry's `alias` (which its `telemetry` reports). Reads a copy of the
 * options' own properties (`ownOptions`), which the connection factory is handed too.
 */
export function buildCache<IgnoreErrors extends boolean = false>(
  given: CreateCacheOptions<IgnoreErrors>,
  alias: string | undefined,
): Cache<IgnoreErrors> {
  const plan = planCache(given, alias)
  const { options, telemetry } = plan
  const cache = new Cache<IgnoreErrors>(cacheOptionsOf(plan, plan.factory(options)))
  if (telemetry !== undefined) {
    const location = telemetryLocation(options)
    telemetry.instrument(cache, alias === undefined ? { location } : { alias, location })
  }
  return cache
}

/** What `buildCache` makes a cache of, every option checked that can be without a connection. */
export interface CachePlan {
  /** The own options, as the connection factory is handed them. */
  options: CreateCacheOptions
  /** The serializers and compressors, resolved. */
  serializer: Serializer[]
  compressor: Compressor[]
  /** The connection factory the options pick, handed them as they are. */
  factory: (options: CreateCacheOptions) => Connection
  /** Whether `factory` is one of cachex's (not a `connectionFactory` or `client` function). */
  builtIn: boolean
  telemetry: CreateCacheOptions['telemetry']
}

/**
 * Checks `given`'s names and values, resolves its serializers, compressors and connection
 * factory (refusing an unknown name), and calls nothing of the user's: what `buildCache` and
 * `configureCaches()` (through `checkCache`) both do first.
 */
export function planCache(given: CreateCacheOptions, alias: string | undefined): CachePlan {
  const options = ownOptions(given)
  // An unknown name is refused before anything is built (a misspelt keyPrefix left the prefix
  // empty, and clear() then flushed the database).
  checkCreateCacheOptions(
    options,
    alias === undefined ? 'createCache()' : `configureCaches(): the alias '${alias}'`,
  )
  // And a value of the wrong kind (`closeConnection: 'false'`) before a connection exists.
  checkOptionValues(
    options,
    alias === undefined ? undefined : `configureCaches(): the alias '${alias}'`,
  )
  // Resolve every name first, so that a bad one throws before a connection exists.
  const serializer = toList(options.serializer ?? 'json').map((s) => resolveSerializer(s, options))
  const compressor = toList(options.compressor ?? 'none')
    .filter((c) => c !== 'none')
    .map(resolveCompressor)
  const own =
    options.connectionFactory ?? (typeof options.client === 'function' ? options.client : undefined)
  const factory =
    options.connectionFactory ??
    (isMemoryLocation(options.location)
      ? memoryClient(options.client)
      : resolveClient(options.client ?? impliedClient(options.location), options.location))
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError(
      'connectionFactory takes a function that returns a Connection (given the cache options)',
    )
  }
  const telemetry = options.telemetry
  if (telemetry !== undefined && typeof telemetry?.instrument !== 'function') {
    throw new InvalidArgumentError(
      "telemetry takes what openTelemetry() from '@cachex/redis/otel' returns (an object with instrument())",
    )
  }
  return {
    options,
    serializer,
    compressor,
    // `password: null` (none, as Django's settings and a JSON config write it) goes through: each
    // topology takes it, though `ConnectionOptions` types a string only.
    factory: factory as (options: CreateCacheOptions) => Connection,
    builtIn: own === undefined,
    telemetry,
  }
}

/** The options of `new Cache()` that `plan` makes, over `connection`. */
export function cacheOptionsOf<IgnoreErrors extends boolean>(
  plan: CachePlan,
  connection: Connection,
): CacheOptions<IgnoreErrors> {
  // Every option the plan holds, those a class of the caller's gave as getters or methods too
  // (not enumerable in `ownOptions`' copy, which a spread would drop); not `telemetry`.
  const cacheOptions: Record<string, unknown> = Object.create(null)
  const given = plan.options as Record<string, unknown>
  for (const name of Object.getOwnPropertyNames(given)) {
    if (name !== 'telemetry') cacheOptions[name] = given[name]
  }
  return {
    ...(cacheOptions as unknown as CacheOptions<IgnoreErrors>),
    connection,
    serializer: plan.serializer,
    compressor: plan.compressor,
    lockFactory: plan.options.lockFactory ?? lockFactory,
    semaphoreFactory: plan.options.semaphoreFactory ?? semaphoreFactory,
  }
}

/**
 * The location the cache's telemetry reports (`server.address`…): the one it connects to,
 * `redis://127.0.0.1:6379/0` when left unset for the default client, which connects there.
 * None for a sentinel location (it names a service, not a server), and none unset under a
 * connection factory of the user's, which connects where it likes.
 */
function telemetryLocation(options: CreateCacheOptions): unknown {
  if (options.client === 'sentinel') return undefined
  if (options.location !== undefined) return options.location
  const defaultClient = options.client === undefined || options.client === 'default'
  return defaultClient && options.connectionFactory === undefined ? DEFAULT_URL : undefined
}

/** `location: 'memory://…'`: the in-process backend, which is one topology of its own. */
function memoryClient(client: ClientName | ConnectionFactory | undefined): ConnectionFactory {
  if (client === undefined || client === 'default') return memory
  if (typeof client === 'function') return client
  throw new InvalidArgumentError(
    `client '${String(client)}' cannot use a memory:// location: the in-memory backend has no ${String(client)}; leave client unset`,
  )
}

/**
 * The topology a `location` handed in as a node-redis object implies when `client` is unset: its
 * cluster (`createCluster`) or sentinel (`createSentinel`) is one, not a server's client.
 */
function impliedClient(location: unknown): ClientName {
  if (isNodeRedisCluster(location)) return 'cluster'
  if (isRedisSentinel(location)) return 'sentinel'
  return 'default'
}

function resolveClient(
  client: ClientName | ConnectionFactory,
  location: unknown,
): ConnectionFactory {
  if (typeof client === 'function') return client
  const implied = impliedClient(location)
  if (implied !== 'default' && client !== implied) {
    throw new InvalidArgumentError(
      `location is a node-redis ${implied} (create${implied === 'cluster' ? 'Cluster' : 'Sentinel'}()): use client: '${implied}', or leave client unset, not client: '${client}'`,
    )
  }
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
