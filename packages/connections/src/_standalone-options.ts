import { type ConnectionOptions, InvalidArgumentError, type RedisArgument } from '@cachex/core'
import {
  describeArgument,
  describeObject,
  isPlainObject,
  MAX_TIMER_MS,
} from '@cachex/core/internal'
import { createClientPool } from '@redis/client'
import { newClient } from './_client-factory.ts'
import { DEFAULT_URL, parseLocation } from './_location.ts'
import { type Credentials, checkCredentials, checkUserHasPassword } from './_options.ts'
import { reconnectDelay } from './_retry.ts'
import { checkClientTimers, checkPoolTimers } from './_timer-bounds.ts'
import type { TrackingClientLike } from './_tracking.ts'
import { parseRedisUrl, redactUrl } from './url.ts'

/**
 * How often (ms) a tracking connection `PING`s when it has no `pingInterval` of its own. It sends
 * nothing else while no key is written, and a server with `timeout N` (managed services often set
 * 300 s) closes a client idle that long, which empties the local tier; and a connection the
 * server lost without a close reaching this process is known lost once a `PING` goes unanswered
 * (`SILENT_GRACE_MS` in _tracking.ts): 15 s keeps that within about 20 s.
 */
const TRACKING_PING_INTERVAL_MS = 15_000

/**
 * The `pingInterval` of a tracking connection made with the node-redis options `given`: theirs
 * when they set one (`0` turns the pings off), else `TRACKING_PING_INTERVAL_MS`. One past what a
 * Node.js timer holds (a handed-in client's: cachex refuses it in `clientOptions`) is cut to
 * 2^31 - 1 ms, lest Node fire it every millisecond.
 */
export function trackingPingInterval(given: unknown): unknown {
  const own =
    typeof given === 'object' && given !== null
      ? (given as { pingInterval?: unknown }).pingInterval
      : undefined
  if (typeof own === 'number' && own > MAX_TIMER_MS) return MAX_TIMER_MS
  return own ?? TRACKING_PING_INTERVAL_MS
}

/** What the standalone factory needs of a node-redis client or client pool. */
export interface NodeRedisClientLike {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: object): Promise<unknown>
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  once?(event: 'connect', listener: () => void): unknown
  readonly isOpen: boolean
  readonly isReady?: boolean
}

/** Options of the `standalone` factory: one Redis server, reached by URL or through a client you made. */
export interface StandaloneOptions extends ConnectionOptions {
  /**
   * A `redis://`, `rediss://` or `unix://` URL, or an existing node-redis client or client pool.
   * @default 'redis://127.0.0.1:6379/0'
   */
  location?: ConnectionOptions['location']
}

/** Whether `value` looks like a node-redis client or client pool handed in by the user. */
export function isNodeRedisClient(value: unknown): value is NodeRedisClientLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NodeRedisClientLike).sendCommand === 'function' &&
    typeof (value as NodeRedisClientLike).connect === 'function'
  )
}

/** The client of a standalone connection, and how to talk about it. */
export interface ClientSource {
  /** The client (or pool) to use first. */
  client: NodeRedisClientLike
  /**
   * Makes a new client for the URL, to replace one that timed out; `undefined` for a client the
   * user handed in, which cachex never destroys.
   */
  makeClient: (() => NodeRedisClientLike) | undefined
  /** Whether `close()` closes the client: always for one cachex made, else `closeConnection`. */
  closeClient: boolean
  /** Whether it is a client pool (a handed-in pool, or `connectionPool` set). */
  isPool: boolean
  /** Whether the URL asked for TLS (`rediss://`). */
  tls: boolean
  /** The passwords that must never appear in a message. */
  secrets: string[]
  /** The URL, password redacted, or "the given client", for messages. */
  where: string
  /**
   * Makes the dedicated RESP3 client of `Connection.track` (same server, database and
   * credentials); `undefined` for a handed-in pool, which cannot be duplicated.
   */
  makeTrackingClient: (() => TrackingClientLike) | undefined
  /**
   * Makes a dedicated client of the same server for blocking commands (`CommandRoute.blockMs`);
   * `undefined` for a pool, which gives each command a client of its own already, and for a
   * handed-in client that cannot be duplicated (blocking commands then run on it).
   */
  makeBlockingClient: (() => NodeRedisClientLike | Promise<NodeRedisClientLike>) | undefined
}

/**
 * The database a handed-in client has selected now, from `db=` of `CLIENT INFO`: `client.select(n)`
 * changes it, and node-redis's `duplicate()` does not follow (it takes the database the client
 * was created with). `undefined` (the creation's database) where the server cannot say: before
 * Redis 6.2, or a user without `CLIENT INFO`.
 */
async function selectedDatabase(client: NodeRedisClientLike): Promise<number | undefined> {
  try {
    const info = await client.sendCommand(['CLIENT', 'INFO'])
    const db = /(?:^|\s)db=(\d+)/.exec(String(info))
    return db === null ? undefined : Number(db[1])
  } catch {
    return undefined
  }
}

/**
 * The client of the standalone connection for `options.location`: the node-redis client or pool
 * handed in, or one made for the one URL listed — its address, database and credentials, no
 * offline queue, `socketConnectTimeout` and cachex's reconnection backoff, `clientOptions` on
 * top. Refuses a location that is not exactly one URL, and a timer option of `clientOptions` or
 * `connectionPool` that a Node.js timer cannot hold (`checkClientTimers`, `checkPoolTimers`).
 */
export function clientSource(options: StandaloneOptions, connectTimeoutMs: number): ClientSource {
  const location = options.location ?? DEFAULT_URL
  if (isNodeRedisClient(location)) {
    const given = location as NodeRedisClientLike & { duplicate?: (options: object) => unknown }
    const duplicate = 'isReady' in given ? given.duplicate : undefined
    return {
      makeTrackingClient:
        typeof duplicate === 'function'
          ? () =>
              duplicate.call(given, {
                RESP: 3,
                emitInvalidate: true,
                clientSideCache: undefined,
                // The given client's own interval (a duplicate copies its options), else ours.
                pingInterval: trackingPingInterval((given as { options?: unknown }).options),
              }) as TrackingClientLike
          : undefined,
      makeBlockingClient:
        typeof duplicate === 'function'
          ? async () =>
              duplicate.call(given, {
                database: await selectedDatabase(given),
              }) as NodeRedisClientLike
          : undefined,
      client: location,
      makeClient: undefined,
      closeClient: options.closeConnection ?? false,
      isPool: !('isReady' in location),
      tls: false,
      secrets: options.password ? [options.password] : [],
      where: 'the given client',
    }
  }
  const url = singleUrl(location)
  const address = parseRedisUrl(url)
  // Without a prototype when none is given: `Object.prototype.socket` is no option of the caller's.
  const extra = (options.clientOptions ?? Object.create(null)) as Credentials & { socket?: object }
  refuseServerOptions(extra, 'clientOptions')
  checkClientTimers(extra, 'clientOptions.')
  checkPoolTimers(options.connectionPool)
  checkCredentials({ password: options.password })
  checkCredentials(extra, 'clientOptions.')
  checkDatabase(extra as { database?: unknown }, address.database, url)
  refuseTlsDowngrade(extra, address.tls === true, 'clientOptions')
  // The URL's credentials, else the options', else those of `clientOptions`.
  const password = address.password ?? options.password ?? extra.password
  const username = address.username ?? extra.username
  checkUserHasPassword(username, password, redactUrl(url))
  const socket = address.path ? { path: address.path } : { host: address.host, port: address.port }
  const clientOptions = {
    ...extra,
    username,
    password,
    database: address.database,
    disableOfflineQueue: true,
    socket: {
      ...socket,
      connectTimeout: connectTimeoutMs,
      // Retry for as long as the connection is open, with a short backoff: the circuit
      // breaker relies on the client reconnecting by itself.
      reconnectStrategy: reconnectDelay,
      ...extra.socket,
      // The scheme's TLS last: a `tls: undefined` of the caller's (own, so spread) would
      // otherwise take it away. (A Unix socket's address has none.)
      ...(address.tls ? { tls: true as const } : {}),
    },
  }
  const pool = options.connectionPool
  const makeClient = () =>
    (pool !== undefined
      ? createClientPool(clientOptions as never, pool as never)
      : newClient(clientOptions)) as unknown as NodeRedisClientLike
  return {
    client: makeClient(),
    makeClient,
    makeBlockingClient:
      pool !== undefined
        ? undefined
        : () => newClient(clientOptions) as unknown as NodeRedisClientLike,
    makeTrackingClient: () =>
      newClient({
        ...clientOptions,
        RESP: 3,
        emitInvalidate: true,
        // node-redis refuses emitInvalidate beside its own client-side cache.
        clientSideCache: undefined,
        // Idle between writes: a keepalive, lest a server's `timeout` close it (emptying the tier).
        pingInterval: trackingPingInterval(extra),
      } as never) as unknown as TrackingClientLike,
    closeClient: true,
    isPool: pool !== undefined,
    tls: address.tls,
    secrets: [password, extra.password].filter((s): s is string => !!s),
    where: redactUrl(url),
  }
}

/**
 * The one URL of `location`. A comma-separated string drops its blank parts; a list counts
 * every entry, blank ones included (`['redis://a', '']` is two entries, refused).
 */
function singleUrl(location: unknown): string {
  const urls = parseLocation(location)
  if (urls === undefined) {
    throw new InvalidArgumentError(
      'location must be a Redis URL, a list of URLs, or a node-redis client or client pool',
    )
  }
  const count = Array.isArray(location) ? location.length : urls.length
  if (count === 0) {
    // `location: process.env.REDIS_URL` with `REDIS_URL=` set empty, say.
    throw new InvalidArgumentError(
      `location holds no Redis URL (got ${JSON.stringify(location)}): give one, such as redis://127.0.0.1:6379/0, or leave location unset for that one`,
    )
  }
  if (count !== 1) {
    throw new InvalidArgumentError(
      `the standalone connection takes one URL, got ${count}; use the replica factory for a primary with replicas`,
    )
  }
  // A one-entry list holding a blank: `parseRedisUrl('')` refuses it as an invalid URL.
  return urls[0] ?? ''
}

/**
 * Throws `InvalidArgumentError` unless the option `name`'s `value` is unset or an object that
 * holds options in its keys (`isPlainObject`): a `Map` or a `Date` holds none (a
 * `new Map([['password', 'pw']])` would lose its password), a boxed `new String('tls')` would be
 * read as options `0`, `1`… `wanted` says what it takes (`an object of node-redis client options`).
 */
export function checkOptionsObject(
  value: unknown,
  name: string,
  wanted: string,
): asserts value is Record<string, unknown> | undefined {
  if (value === undefined || (typeof value === 'object' && value !== null && isPlainObject(value)))
    return
  const got =
    typeof value === 'object' && value !== null ? describeObject(value) : describeArgument(value)
  throw new InvalidArgumentError(`${name} takes ${wanted}, got ${got}`)
}

/**
 * Refuses node-redis options in `given` (named `name` in messages) that name a server — `url`,
 * `socket.host`, `socket.port`, `socket.path` — and would silently replace the one `location`
 * names, and a `socket` that is no plain object (`isPlainObject`): a string would be spread as
 * options `0`, `1`…, so would a `new String('tls')`, and a `Map` or a `Date` holds no options in
 * keys (`new Map([['tls', true]])` would lose its `tls`). `null` is no socket options, as unset.
 * Other socket options (`tls`, `keepAlive`…) pass.
 */
export function refuseServerOptions(given: unknown, name: string): void {
  if (typeof given !== 'object' || given === null) return
  const socket = (given as { socket?: unknown }).socket
  if (socket != null && (typeof socket !== 'object' || !isPlainObject(socket))) {
    throw new InvalidArgumentError(
      `${name}.socket takes an object of node-redis socket options, got ${typeof socket === 'object' ? describeObject(socket) : `a ${typeof socket}`}`,
    )
  }
  const naming = [
    ...('url' in given && given.url !== undefined ? ['url'] : []),
    ...(typeof socket === 'object' && socket !== null
      ? ['host', 'port', 'path']
          .filter((key) => (socket as Record<string, unknown>)[key] !== undefined)
          .map((key) => `socket.${key}`)
      : []),
  ]
  if (naming.length === 0) return
  throw new InvalidArgumentError(
    `${naming.map((key) => `${name}.${key}`).join(', ')} would replace the server location names: name the server in location (such as redis://host:6379/0 or unix:///path.sock) instead`,
  )
}

/** What turns TLS on for `refuseTlsDowngrade`, unless it is told otherwise. */
const TLS_SCHEME = "the location's rediss:// (or valkeys://) scheme"

/**
 * Refuses a `socket.tls` in `given` (node-redis options, named `name` in messages) that turns off
 * the TLS `by` (a `rediss://` or `valkeys://` location; `sentinelOptions.tls`) turns on (`tls`):
 * spread over it, it would win, and the connection would send the password and the data in plain
 * text without a word. (`tls: true` with a plain scheme passes: it turns TLS on, as it always did.)
 */
export function refuseTlsDowngrade(
  given: unknown,
  tls: boolean,
  name: string,
  by = TLS_SCHEME,
): void {
  if (!tls || typeof given !== 'object' || given === null) return
  const socket = (given as { socket?: unknown }).socket
  if (typeof socket !== 'object' || socket === null) return
  const asked = (socket as { tls?: unknown }).tls
  if (asked === undefined || asked === true) return
  throw new InvalidArgumentError(
    `${name}.socket.tls (${String(asked)}) would turn off the TLS ${by} turns on, and the password and data would go in plain text: leave socket.tls out${by === TLS_SCHEME ? ', or use redis:// for a plain connection' : ''}`,
  )
}

/**
 * Refuses a `clientOptions.database` other than the URL's (which is 0 when the URL names none):
 * the URL's would win, and the cache would read and write another database than the one asked.
 */
function checkDatabase(extra: { database?: unknown }, database: number, url: string): void {
  if (extra.database === undefined || extra.database === database) return
  // Quoted only when it is a database number: another value (a string) may be anything, a
  // password given in the wrong place among them.
  const asked = Number.isSafeInteger(extra.database) ? String(extra.database) : undefined
  throw new InvalidArgumentError(
    `clientOptions.database (${asked ?? describeArgument(extra.database)}) is not the database of ${redactUrl(url)} (${database}${/\/\d+\/?$|[?&]db=[^&#]/.test(url) ? '' : ', as the URL names none'}): name the database in the URL, such as redis://host:6379/${asked ?? '2'}`,
  )
}
