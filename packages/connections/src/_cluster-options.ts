import { CachexError, type ConnectionOptions, InvalidArgumentError } from '@cachex/core'
import { describeArgument, givenNames } from '@cachex/core/internal'
import { createCluster } from '@redis/client'
import type { NodeRedisClusterLike } from './_cluster-nodes.ts'
import { parseLocation } from './_location.ts'
import { nodeSocketOptions } from './_node-reconnect.ts'
import { type Credentials, checkCredentials, checkUserHasPassword } from './_options.ts'
import { ownConnectionOptions } from './_own.ts'
import { SeedProbes, trackSeedProbes } from './_seed-probes.ts'
import {
  checkOptionsObject,
  refuseServerOptions,
  refuseTlsDowngrade,
} from './_standalone-options.ts'
import { checkClientTimers } from './_timer-bounds.ts'
import { parseRedisUrl, redactUrl } from './url.ts'

/** Options of the `cluster` factory: a Redis Cluster, reached through seed nodes or a cluster you made. */
export interface ClusterOptions extends ConnectionOptions {
  /**
   * The seed nodes: a list of `redis://` / `rediss://` URLs, or one string of comma-separated URLs
   * (any node will do; the rest of the cluster is discovered from it), or an existing node-redis
   * cluster (`createCluster()`), closed by `close()` only with `closeConnection: true`. A user
   * name and password in a URL apply to every node. No default: a cluster needs seeds.
   */
  location?: ConnectionOptions['location']
  /** Password for every node, used where no seed URL has one; `null` is none. @default none */
  password?: string | null
  /**
   * Seconds to wait for the cluster: the discovery of its slot map and, for each node, a TCP
   * connection (`null` is refused: leave it unset for the default). @default 5
   */
  socketConnectTimeout?: number
  /** Seconds one call may take (a split command counts as one call); `null` for no bound. @default 5 */
  socketTimeout?: number | null
  /**
   * Extra node-redis client options for every node connection (node-redis `defaults`): `socket`
   * TLS files (`ca`, `cert`, `key`), `RESP`… Their timer options (`pingInterval`,
   * `socket.reconnectStrategy`, `socket.connectTimeout`, `socket.socketTimeout`) take 0 to
   * 2^31 - 1 ms, as in `clusterOptions.defaults`. Without a `socket.reconnectStrategy` of
   * yours, a node connection is tried again 100 ms later, doubling up to 2 s; a node that
   * refused the handshake (a wrong password, `READONLY` renamed away on a replica) is tried again
   * by cachex, with a new connection, 10 s later, doubling up to 5 minutes. @default {}
   */
  clientOptions?: Record<string, unknown>
  /** Not used: node-redis keeps one connection per cluster node and pipelines on it. */
  connectionPool?: Record<string, unknown>
  /** Closes a cluster handed in as `location` when this connection is closed. @default false */
  closeConnection?: boolean
  /**
   * Send read-only commands (`get`, `getMany`, `ttl`…) to the nodes of the key's shard in turn,
   * replicas included (node-redis `useReplicas`). A replica takes reads only while it reports
   * `role:slave` with `master_link_status:up` (checked every second, and again whenever its
   * connection comes back), so one that restarted empty gets none until it has resynchronised;
   * while the shard's primary is down, a replica that had synchronised keeps serving. Replicas lag
   * behind their primary, so a read right after a write may miss it. @default false
   */
  readFromReplicas?: boolean
  /**
   * Extra `createCluster()` options, such as `nodeAddressMap` (for nodes behind NAT or Docker;
   * cachex applies it to the nodes it connects to itself too) or `maxCommandRedirections` (how
   * many `MOVED`/`ASK` one call follows, 16 by default). cachex sets
   * `topologyRefreshOnReconnectionAttemptStrategy` to 1000 (node-redis rediscovers its own slot
   * map, used for key-less commands, one second after a node starts reconnecting, instead of
   * five); set it here to change that. Its `defaults` (node-redis's options of every node's
   * client) are merged into `clientOptions`, with the same checks; `rootNodes` is refused (the
   * seeds are the URLs of `location`).
   * @default {}
   */
  clusterOptions?: Record<string, unknown>
}

/** How soon node-redis rediscovers its own slot map after a node starts reconnecting. */
const DEFAULT_TOPOLOGY_REFRESH_MS = 1000

/** Whether `value` looks like a node-redis cluster (`createCluster()`) handed in by the user. */
export function isNodeRedisCluster(value: unknown): value is NodeRedisClusterLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NodeRedisClusterLike).sendCommand === 'function' &&
    typeof (value as NodeRedisClusterLike).nodeClient === 'function' &&
    typeof (value as NodeRedisClusterLike).getSlotRandomNode === 'function'
  )
}

/**
 * A node-redis cluster made from the seed URLs of `location`, and how to talk about it:
 * `plainAdvice`, for plain seeds (`redis://`, no `tls` in `clientOptions.socket`), says what to
 * change if the nodes serve TLS only (`withPlainHintText`).
 */
export function clusterFromSeeds(
  given: ClusterOptions,
  connectTimeoutMs: number,
): { cluster: NodeRedisClusterLike; secrets: string[]; where: string; plainAdvice?: string } {
  const options = ownConnectionOptions(given)
  const location = options.location
  const urls = seedUrls(location)
  const seeds = urls.map((url) => ({ url, address: parseRedisUrl(url) }))
  for (const { url, address } of seeds) {
    if (address.path !== undefined) {
      throw new InvalidArgumentError(
        `a cluster node is reached over TCP, not a Unix socket: ${redactUrl(url)}`,
      )
    }
    if (address.database !== 0) {
      throw new InvalidArgumentError(
        `Redis Cluster has only database 0, got ${address.database} in ${redactUrl(url)}`,
      )
    }
  }
  const withAuth = seeds.find(({ address }) => address.password !== undefined)?.address
  const { defaults, rest: clusterOptions } = splitClusterOptions(options.clusterOptions)
  refuseServerOptions(options.clientOptions, 'clientOptions')
  refuseServerOptions(defaults, 'clusterOptions.defaults')
  // Every node's client arms timers with them: past 2^31 - 1 ms Node fires them after 1 ms.
  checkClientTimers(options.clientOptions, 'clientOptions.')
  checkClientTimers(defaults, 'clusterOptions.defaults.')
  // `clusterOptions.defaults` is node-redis's name for what `clientOptions` gives: merged into
  // it (spread over cachex's own defaults, it would drop the TLS, the password and the rest).
  checkCredentials({ password: options.password })
  checkCredentials(options.clientOptions, 'clientOptions.')
  checkCredentials(defaults, 'clusterOptions.defaults.')
  const extra = mergeClientOptions(options.clientOptions, defaults)
  const database = (extra as { database?: unknown }).database
  if (database !== undefined && database !== 0) {
    const from =
      (defaults as { database?: unknown } | undefined)?.database === database
        ? 'clusterOptions.defaults'
        : 'clientOptions'
    throw new InvalidArgumentError(
      `Redis Cluster has only database 0, got ${from}.database ${describeArgument(database)}`,
    )
  }
  // The URLs' credentials, else the options', else those of `clientOptions`.
  const password = withAuth?.password ?? options.password ?? extra.password
  const username =
    withAuth?.username ?? seeds.find((s) => s.address.username)?.address.username ?? extra.username
  const secrets = [
    ...new Set(
      [options.password, extra.password, ...seeds.map((s) => s.address.password)].filter(
        (p): p is string => typeof p === 'string' && p !== '',
      ),
    ),
  ]
  const where = `the cluster at ${urls.map(redactUrl).join(', ')}`
  checkUserHasPassword(username, password, where)
  const tls = seeds.some(({ address }) => address.tls)
  refuseTlsDowngrade(options.clientOptions, tls, 'clientOptions')
  refuseTlsDowngrade(defaults, tls, 'clusterOptions.defaults')
  const probes = new SeedProbes()
  const cluster = createCluster({
    // A seed that accepts the connection and never answers (frozen) would hold the discovery,
    // and its socket, for good: its client (only the discovery's) gives up once idle that long.
    // Closing the cluster does not reach that client: `probes` ends its socket (`closeCluster`).
    rootNodes: seeds.map(({ address }) => ({
      socket: probes.socket({
        host: address.host,
        port: address.port,
        socketTimeout: connectTimeoutMs,
      }),
    })),
    // What every node connection gets; rootNodes only serve the discovery.
    defaults: {
      ...extra,
      username,
      password,
      // A node that is down fails its commands at once instead of queueing them.
      disableOfflineQueue: true,
      // Each node's client backs off a handshake the node refuses (`nodeSocketOptions`).
      socket: nodeSocketOptions({
        connectTimeout: connectTimeoutMs,
        ...extra.socket,
        // Last: a `tls: undefined` of the caller's (own, so spread) would otherwise take it away.
        ...(tls ? { tls: true as const } : {}),
      }),
    },
    useReplicas: options.readFromReplicas ?? false,
    // The discovery ends with the slot map, without waiting to reach every node: a primary that
    // is down or frozen as the cache starts would otherwise hold it until the node came back.
    minimizeConnections: true,
    topologyRefreshOnReconnectionAttemptStrategy: DEFAULT_TOPOLOGY_REFRESH_MS,
    ...clusterOptions,
  } as never) as unknown as NodeRedisClusterLike
  trackSeedProbes(cluster, probes)
  const plain = /^(redis|valkey):\/\//i.exec(urls[0] ?? '')?.[1]?.toLowerCase()
  const tlsSocket = (extra.socket as { tls?: unknown } | undefined)?.tls === true
  return {
    cluster,
    secrets,
    where,
    ...(tls || tlsSocket || plain === undefined
      ? {}
      : { plainAdvice: `if it serves TLS only, use ${plain}s://` }),
  }
}

/**
 * `clusterOptions` apart: its `defaults` (node-redis's options of every node's client, which
 * cachex merges into `clientOptions`) and the rest, passed to `createCluster()`. `rootNodes` is
 * refused: the seeds are the URLs of `location`, and node-redis's would replace them and their
 * socket options (the TLS of a `rediss://` seed among them).
 */
function splitClusterOptions(given: Record<string, unknown> | undefined): {
  defaults: Record<string, unknown> | undefined
  rest: Record<string, unknown>
} {
  if (given === undefined || given === null) return { defaults: undefined, rest: {} }
  checkOptionsObject(given, 'clusterOptions', 'an object of node-redis cluster options')
  const { defaults, rootNodes, ...rest } = given
  if (rootNodes !== undefined) {
    throw new InvalidArgumentError(
      'clusterOptions.rootNodes is not taken: name the seed nodes in location (a URL or a list of URLs)',
    )
  }
  checkOptionsObject(defaults, 'clusterOptions.defaults', 'an object of node-redis client options')
  return { defaults: defaults as Record<string, unknown> | undefined, rest }
}

/**
 * `clientOptions` with `defaults` over it, their sockets merged the same way. An option of
 * `defaults` set to `undefined` leaves `clientOptions`' in force, as when it is absent (a spread
 * would copy it: `password: undefined` would drop clientOptions' password).
 */
function mergeClientOptions(
  clientOptions: Record<string, unknown> | undefined,
  defaults: Record<string, unknown> | undefined,
): Credentials & { socket?: object } {
  const base = (clientOptions ?? Object.create(null)) as Credentials & { socket?: object }
  if (defaults === undefined) return base
  const socket = (defaults as { socket?: Record<string, unknown> }).socket
  // `clientOptions` read as `defaults` is (a spread would drop a class's password getter, or one
  // inherited: checked, then every node asked without it). Without a prototype, as each part
  // is: a password another library put on `Object.prototype` is no option anyone gave.
  const merged = Object.assign(
    Object.create(null) as Credentials & { socket?: object },
    definedOnly(base, 'clientOptions'),
    definedOnly(defaults, 'clusterOptions.defaults'),
  )
  // A `null` socket, as an absent one, leaves clientOptions' (`definedOnly(null)` is empty).
  merged.socket = Object.assign(
    Object.create(null) as object,
    definedOnly(base.socket, 'clientOptions.socket'),
    definedOnly(socket, 'clusterOptions.defaults.socket'),
  )
  return merged
}

/**
 * The properties `object` gives (`givenNames`: its own, and those inherited from an object of the
 * caller's — a defaults object, a class's getters — never `Object.prototype`'s; a reactive
 * store's Proxy through its traps) whose value is not `undefined`, nor `null` for the credentials
 * (`null` is none, where `clientOptions`' then applies, as for the `password` option), and not a
 * method (a function where it is found not enumerable: a class's). An inherited password is read
 * as `checkCredentials` read it: it was checked, then dropped (every node connected without it).
 * Nothing (an empty object) for what is not an object: `undefined`, `null`. An own getter that
 * throws is an `InvalidArgumentError` naming `path` and the option (not the getter's message,
 * which may hold a secret); an inherited one is left out (`readOption`).
 */
function definedOnly(object: object | null | undefined, path: string): Record<string, unknown> {
  const defined: Record<string, unknown> = Object.create(null)
  if (typeof object !== 'object' || object === null) return defined
  for (const [key, enumerable] of givenNames(object)) {
    const value = readOption(object, key, path)
    if (value === UNREAD) continue
    if (value === undefined || (value === null && (key === 'password' || key === 'username'))) {
      continue
    }
    // A method of the caller's class is no option: node-redis would take a `name()` for the name
    // it sends with CLIENT SETNAME.
    if (typeof value === 'function' && !enumerable) continue
    defined[key] = value
  }
  return defined
}

/** What `readOption` gives for a getter of the caller's class that throws: no option. */
const UNREAD: unique symbol = Symbol('unread')

/**
 * `object[key]`. A getter (or a Proxy's `get`) that throws is an `InvalidArgumentError` for an own
 * property; an inherited one is `UNREAD` — a class's getter of something else than node-redis
 * reads (a `connectionString` not configured) was never read before it was merged, and the
 * credentials were read (and checked) before this.
 */
function readOption(object: object, key: string, path: string): unknown {
  try {
    return (object as Record<string, unknown>)[key]
  } catch (error) {
    if (error instanceof CachexError) throw error
    if (!isOwn(object, key)) return UNREAD
    const kind = error instanceof Error ? error.name : typeof error
    throw new InvalidArgumentError(
      `${path}.${key} could not be read: its getter threw (${kind}); give the option as a value`,
    )
  }
}

/** Whether `key` is `object`'s own (false when a Proxy cannot say). */
function isOwn(object: object, key: string): boolean {
  try {
    return Object.hasOwn(object, key)
  } catch {
    return false
  }
}

function seedUrls(location: ClusterOptions['location']): string[] {
  if (location === undefined) {
    throw new InvalidArgumentError(
      'the cluster connection needs location: the seed node URLs (or a node-redis cluster)',
    )
  }
  const urls = parseLocation(location)
  if (urls === undefined) {
    throw new InvalidArgumentError(
      'location must be a list of seed node URLs, a comma-separated string of them, or a node-redis cluster',
    )
  }
  if (urls.length === 0) {
    throw new InvalidArgumentError('the cluster connection needs at least one seed node URL')
  }
  return urls
}
