import type { RedisConnectionClient, RedisConnectionClients } from '@cachex/connections'
import {
  isNodeRedisClient,
  isNodeRedisCluster,
  isRedisSentinel,
} from '@cachex/connections/internal'
import { type Cache, ClosedError, InvalidArgumentError } from '@cachex/core'
import {
  checkBoolean,
  closestName,
  describeArgument,
  own,
  processWide,
  readingOptions,
  unknownName,
} from '@cachex/core/internal'
import { checkCache } from './_check-cache.ts'
import {
  checkCacheGlobals,
  checkCreateCacheOptions,
  checkOptionValues,
  OPTION_NAMES,
} from './_option-names.ts'
import type { CacheGlobals, CachesConfig, ClientName } from './_options.ts'
import { prefixOverlaps } from './_overlaps.ts'
import { buildCache, checkOptionsObject } from './create-cache.ts'

/** The caches of the process: what `configureCaches()` set, and what `caches` made of it. */
interface RegistryState {
  config: CachesConfig | undefined
  globals: CacheGlobals
  instances: Map<string, Cache>
  /**
   * Set by `caches.close()`, cleared by `configureCaches()`: work still in flight when the process
   * shuts down must not open the caches again (new connections would keep the process alive).
   */
  closed: boolean
  /** The caches `caches.close()` is closing: a second call waits for them too. */
  closing: Promise<void>
}

/**
 * The process's registry, one whichever copy of this package is loaded (`processWide`): so that
 * `configureCaches()` in one copy configures `caches` of every other.
 */
const state = processWide<RegistryState>('@cachex/redis:registry:1', () => ({
  config: undefined,
  globals: {},
  instances: new Map(),
  closed: false,
  closing: Promise.resolve(),
}))
const instances = state.instances

/**
 * The registry's caches closed by their user (`caches.get('default').close()`), not by
 * `caches.close()`: `caches.get()` refuses them, saying so, rather than hand out a cache whose
 * every call fails (or, under `ignoreExceptions`, quietly answers its default). One per process,
 * as the registry is.
 */
const closedByUser = processWide<WeakSet<Cache>>(
  '@cachex/redis:registry-closed-by-user:1',
  () => new WeakSet(),
)

/** Marks `cache`, the registry's for `alias`, closed by its user when its `close()` is called. */
function watchClose(cache: Cache, alias: string): void {
  const close = cache.close
  Object.defineProperty(cache, 'close', {
    __proto__: null,
    // `caches.close()` takes the cache out of the registry before closing it: not the user's.
    value: (...args: []) => {
      if (instances.get(alias) === cache) closedByUser.add(cache)
      return close.apply(cache, args)
    },
    writable: true,
    configurable: true,
    enumerable: false,
  } as PropertyDescriptor)
}

/**
 * Sets the caches of the process, once at start-up, as Django's `CACHES` setting:
 * `configureCaches({ default: { location: 'redis://…' }, sessions: { … } })`. Calling it again
 * after a cache was used rejects; call `caches.close()` first. After `caches.close()`, calling it
 * again opens the caches anew. The registry is one per process, whichever copy of `@cachex/redis`
 * is called (its ESM and CommonJS builds loaded side by side share it). Every alias's options and
 * the globals are checked first, each alias merged with the globals as `caches.get()` will build
 * it — everything `createCache` refuses (a URL it cannot read, a timeout out of range, an unknown
 * serializer, `keyPrefix: '__cachex'`…), without connecting — so that a refused configuration
 * (`InvalidArgumentError`) leaves the one before in force. Only what the user's own code decides
 * (a `connectionFactory`, a node-redis object given as `location`, `telemetry`) is left to the
 * first `caches.get()`.
 *
 * Warns through the globals' `logger` (`warn`, else `error`) when two caches on one server and
 * database have overlapping prefixes — equal, one the other plus `:…` (`ab` and `ab:c`), or one
 * empty — since then one's `clear()` deletes the other's keys.
 */
export function configureCaches(caches: CachesConfig, defaults: CacheGlobals = {}): void {
  // An option object that cannot be read (a revoked Proxy, a trap that throws) is refused naming it.
  readingOptions(
    { caches, defaults },
    configuredName,
    () => configure(caches, defaults),
    OPTION_NAMES,
  )
}

/** The option that `path` leads to in `configureCaches()`'s arguments, for `readingOptions`. */
function configuredName(path: readonly string[]): string {
  const [argument, alias, ...rest] = path
  if (argument === 'defaults') {
    return alias === undefined
      ? 'configureCaches() defaults'
      : `configureCaches() defaults: ${[alias, ...rest].join('.')}`
  }
  if (alias === undefined) return 'configureCaches() caches'
  return rest.length === 0
    ? `configureCaches(): the alias '${alias}' options`
    : `configureCaches(): the alias '${alias}': ${rest.join('.')}`
}

/** `configureCaches()`, once what reading its arguments throws is named. */
function configure(caches: CachesConfig, defaults: CacheGlobals): void {
  // A cache its user closed is in use no more.
  if ([...instances.values()].some((cache) => !closedByUser.has(cache))) {
    throw new InvalidArgumentError(
      'configureCaches() was already called and caches are in use: call caches.close() first',
    )
  }
  if (caches === null || typeof caches !== 'object' || Array.isArray(caches)) {
    // An array would configure the aliases '0', '1'…
    throw new InvalidArgumentError(
      `configureCaches() takes an object of cache aliases ({ default: { location: 'redis://…' }, … }), got ${describeArgument(caches)}`,
    )
  }
  // Everything is checked before anything is configured.
  for (const [alias, options] of Object.entries(caches)) {
    checkOptionsObject(options, `configureCaches(): the alias '${alias}' takes`)
    checkCreateCacheOptions(options, `configureCaches(): the alias '${alias}'`)
    checkOptionValues(options, `configureCaches(): the alias '${alias}'`)
  }
  if (typeof defaults !== 'object' || Array.isArray(defaults)) {
    throw new InvalidArgumentError(
      `configureCaches() takes the registry-wide defaults as an object ({ ignoreExceptions: true, … }), got ${describeArgument(defaults)}`,
    )
  }
  if (defaults !== null) {
    checkCacheGlobals(defaults)
    checkOptionValues(defaults, 'configureCaches()')
  }
  // Then each alias as its first caches.get() will build it, so that none fails there (inside a
  // request) on a value createCache() refuses: nothing connects, nothing is kept.
  for (const [alias, options] of Object.entries(caches)) {
    checkCache(withGlobals(defaults ?? {}, options), alias)
  }
  const overlaps = prefixOverlaps(caches)
  instances.clear()
  state.config = { ...caches }
  state.globals = { ...defaults }
  state.closed = false
  const logger = state.globals.logger ?? console
  for (const message of overlaps) {
    if (typeof logger.warn === 'function') logger.warn(message)
    else logger.error(message)
  }
}

/** The options of `alias` (an own key of the configuration, never an `Object.prototype` member). */
function aliasOptions(alias: string): CachesConfig[string] | undefined {
  return state.config !== undefined && Object.hasOwn(state.config, alias)
    ? state.config[alias]
    : undefined
}

/**
 * The globals with `options` on top, skipping the options set to `undefined`: an alias's
 * `ignoreExceptions: process.env.X ? true : undefined` leaves the global in force.
 */
function withGlobals(globals: CacheGlobals, options: CachesConfig[string]): CachesConfig[string] {
  const merged: Record<string, unknown> = { ...globals }
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) merged[name] = value
  }
  return merged as CachesConfig[string]
}

/** The configured caches, by alias (Django's `django.core.cache.caches`). */
export const caches = {
  /**
   * The cache of `alias`, created on first use; one instance per alias. Typed `Cache`:
   * an alias may ignore errors (its own `ignoreExceptions` or the globals'), so `incr`, `hincrby`,
   * `lpush`… may resolve `null`.
   *
   * After `caches.close()` it throws `ClosedError` until `configureCaches()` is called again, so
   * that a request still in flight during shutdown cannot open a new connection that would keep
   * the process alive. A cache closed on its own (`caches.get('default').close()`, as Django does
   * after each request) stays closed: `caches.get()` throws `ClosedError` saying so. The registry
   * is one per process (Django's is one per thread): one request closing it would close it under
   * every other request, and reopening it would make a connection per request.
   */
  get(alias = 'default'): Cache {
    const existing = instances.get(alias)
    if (existing !== undefined) {
      if (closedByUser.has(existing)) {
        throw new ClosedError(
          `caches.get('${alias}'): the cache was closed with cache.close(); the registry's caches stay open for the whole process, shared by every request, and close with caches.close() at shutdown (do not close them after each request, as Django does its per-thread ones). To open it anew, call caches.close() and configureCaches() again`,
        )
      }
      return existing
    }
    if (state.closed) {
      throw new ClosedError(
        `caches.get('${alias}'): the caches were closed with caches.close(); call configureCaches() to open them again`,
      )
    }
    const options = aliasOptions(alias)
    if (options === undefined) {
      throw new InvalidArgumentError(
        state.config === undefined
          ? `no caches are configured: call configureCaches() before caches.get('${alias}')`
          : `the cache alias '${alias}' is not configured (configured: ${Object.keys(state.config).join(', ')})`,
      )
    }
    // Built now, from the options configureCaches() was given: a Proxy among them that cannot
    // be read (revoked since) is refused naming it, as there.
    const cache = readingOptions(
      { caches: { [alias]: options }, defaults: state.globals },
      configuredName,
      () => buildCache(withGlobals(state.globals, options), alias),
      OPTION_NAMES,
    )
    watchClose(cache, alias)
    instances.set(alias, cache)
    return cache
  },

  /** The aliases that are configured. */
  aliases(): string[] {
    return Object.keys(state.config ?? {})
  },

  /**
   * Closes every cache created so far. Until `configureCaches()` is called again, `caches.get()`
   * throws `ClosedError` instead of opening a cache anew. Calls made on a cache before it closes
   * are answered; calls made after reject with `ClosedError` (or resolve their default under
   * `ignoreExceptions`). A call while
   * an earlier one is still closing (two shutdown hooks) resolves once that one's caches are
   * closed too.
   */
  async close(): Promise<void> {
    state.closed = true
    const open = [...instances.values()]
    instances.clear()
    const earlier = state.closing
    const own = Promise.all(open.map((cache) => cache.close()))
    // Never rejects: a later call waits for these caches, and reports only its own.
    state.closing = Promise.allSettled([earlier, own]).then(() => undefined)
    const [result] = await Promise.allSettled([own, earlier])
    if (result.status === 'rejected') throw result.reason
  },
}

/** Options of `getRedisConnection`. */
export interface GetRedisConnectionOptions<Client extends ClientName = ClientName> {
  /** The primary (`true`) or, where the cache has replicas, a replica (`false`). @default true */
  write?: boolean | undefined
  /**
   * The topology you configured for the alias: the result is then typed as that topology's
   * node-redis object, and the call rejects with `InvalidArgumentError` if the cache's client is
   * of another kind. Without it, the result is the union of them all.
   */
  client?: Client
}

/**
 * The connected node-redis client behind a cache, for commands cachex does not wrap: the primary
 * with `write: true` (the default), a replica for reads where there are replicas. It is typed by
 * topology: `getRedisConnection('default', { client: 'cluster' })` resolves a `RedisClusterType`
 * (and checks that it is one); without `client`, the union of node-redis's client, client pool,
 * sentinel and cluster types. It is the client the cache itself runs on, not a copy: a command
 * that changes the connection's state (`SELECT`, `CLIENT REPLY`, a `MULTI` left open) changes it
 * under the cache too (a `SELECT 11` moves the cache's reads and writes to database 11); for
 * those, use a client of your own (node-redis's `client.duplicate()`).
 */
export function getRedisConnection(
  alias?: string,
  options?: GetRedisConnectionOptions & { client?: undefined },
): Promise<RedisConnectionClient>
export function getRedisConnection<Client extends ClientName>(
  alias: string,
  options: GetRedisConnectionOptions<Client> & { client: Client },
): Promise<RedisConnectionClients[Client]>
export async function getRedisConnection(
  alias = 'default',
  options: GetRedisConnectionOptions = {},
): Promise<RedisConnectionClient> {
  checkConnectionArguments(alias, options)
  const client = await caches.get(alias).connection.client({ write: own(options, 'write') ?? true })
  if (
    own(options, 'client') !== undefined &&
    !isKind(client, own(options, 'client') as ClientName, aliasOptions(alias)?.client)
  ) {
    throw new InvalidArgumentError(
      `getRedisConnection('${alias}', { client: '${String(options.client)}' }): the cache '${alias}' runs on a ${KIND_NAMES[kindOf(client)]}`,
    )
  }
  return client as RedisConnectionClient
}

const CONNECTION_OPTIONS = ['write', 'client'] as const
const CLIENT_NAMES: readonly ClientName[] = ['default', 'sentinel', 'cluster']

/**
 * `getRedisConnection()`'s arguments, checked: the alias a string, the options an object of
 * `write` (a boolean) and `client` (a topology name) — a misspelt option (`writ: false`) or
 * `write: 'false'` would otherwise hand out the primary without a word.
 */
function checkConnectionArguments(alias: unknown, options: unknown): void {
  if (typeof alias !== 'string') {
    const objectHint =
      typeof alias === 'object' && alias !== null
        ? ": the alias goes first, the options second (getRedisConnection('default', { write: false }))"
        : ''
    throw new InvalidArgumentError(
      `getRedisConnection() takes the cache alias as a string, got ${describeArgument(alias)}${objectHint}`,
    )
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(
      `getRedisConnection() takes an options object { ${CONNECTION_OPTIONS.join(', ')} }, got ${describeArgument(options)}`,
    )
  }
  const name = unknownName(options, CONNECTION_OPTIONS)
  if (name !== undefined) {
    const meant = closestName(name, CONNECTION_OPTIONS)
    throw new InvalidArgumentError(
      meant === undefined
        ? `getRedisConnection() does not take the option '${name}' (it takes ${CONNECTION_OPTIONS.join(', ')})`
        : `getRedisConnection() does not take the option '${name}': did you mean '${meant}'?`,
    )
  }
  const given = options as GetRedisConnectionOptions
  checkBoolean(own(given, 'write'), 'getRedisConnection(): write', true)
  const client = own(given, 'client')
  if (client !== undefined && !CLIENT_NAMES.includes(client as ClientName)) {
    throw new InvalidArgumentError(
      `getRedisConnection(): client must be ${CLIENT_NAMES.map((n) => `'${n}'`).join(', ')} or left out, got ${typeof client === 'string' ? `'${client.slice(0, 20)}'` : describeArgument(client)}`,
    )
  }
}

const KIND_NAMES: Record<ClientName | 'other', string> = {
  default: "node-redis client or client pool (client: 'default')",
  sentinel: "Redis Sentinel (client: 'sentinel')",
  cluster: "Redis Cluster (client: 'cluster')",
  other: 'connection of its own (a custom connection factory)',
}

/**
 * Whether `client` is what the topology `kind` resolves: a Sentinel cache resolves the node-redis
 * client of its primary or a replica (or the `RedisSentinel` handed in).
 */
function isKind(client: unknown, kind: ClientName, configured: unknown): boolean {
  const actual = kindOf(client)
  return (
    actual === kind || (kind === 'sentinel' && actual === 'default' && configured === 'sentinel')
  )
}

/** Which topology's node-redis object `client` is. */
function kindOf(client: unknown): ClientName | 'other' {
  if (isNodeRedisCluster(client)) return 'cluster'
  if (isRedisSentinel(client)) return 'sentinel'
  if (isNodeRedisClient(client)) return 'default'
  return 'other'
}
