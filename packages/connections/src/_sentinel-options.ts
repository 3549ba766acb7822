import { isIPv6 } from 'node:net'
import type { ConnectionOptions, RedisArgument } from '@cachex/core'
import { InvalidArgumentError } from '@cachex/core'
import { closestName, MAX_TIMER_MS, unknownName } from '@cachex/core/internal'
import { parseLocation } from './_location.ts'
import { checkCredentials } from './_options.ts'
import {
  checkOptionsObject,
  refuseServerOptions,
  refuseTlsDowngrade,
} from './_standalone-options.ts'
import { checkClientTimers, checkPoolTimers, checkSocketTimers } from './_timer-bounds.ts'
import { parseRedisUrl, type RedisAddress, redactUrl } from './url.ts'

/**
 * `sentinelOptions` of the `sentinel` factory (django-redis's `SENTINEL_KWARGS`): how to reach
 * the sentinels themselves, and how many connections to open to the nodes they report.
 */
export type SentinelConnectionOptions = {
  /**
   * Password of the sentinels (their `requirepass`); not the data nodes' password. `null` is
   * none. @default none
   */
  password?: string | null
  /** ACL user of the sentinels, with `password`; `null` is none. @default none */
  username?: string | null
  /** Reach the sentinels over TLS. @default false */
  tls?: boolean
  /**
   * Extra node-redis socket options for the sentinel connections, such as `ca`, `cert` and `key`
   * for TLS. @default {}
   */
  socket?: Record<string, unknown>
  /** Extra node-redis client options for the sentinel connections. @default {} */
  clientOptions?: Record<string, unknown>
  /**
   * 0 runs every command on the primary; above 0, commands routed as `readonly` (the cache's
   * reads) run on the replicas in the read rotation. Each node gets one pipelined connection
   * (`connectionPool` makes it a pool); a handed-in `RedisSentinel` keeps its own pools. @default 1
   */
  replicaPoolSize?: number
  /** Accepted for compatibility (1 or more): the primary gets one pipelined connection. @default 1 */
  masterPoolSize?: number
  /**
   * Milliseconds between asks of the topology to the sentinels, on top of the notifications
   * they publish (`+switch-master`, `+sdown`…) and of the asks after each; 0 relies on those
   * alone. At most 2^31 - 1 (about 24.8 days, the longest timer of Node.js). @default 0
   */
  scanInterval?: number
  /**
   * While the sentinels fail the primary over (or it is known down), writes wait for the new
   * primary, at most `socketTimeout`, instead of rejecting at once with a `FailoverError`.
   * @default false
   */
  waitForPrimary?: boolean
}

/** Options of the `sentinel` factory: a primary and replicas found through Redis Sentinel. */
export interface SentinelOptions extends ConnectionOptions {
  /**
   * `redis://[[user]:password@]<service name>[/db]` (or `rediss://` for TLS to the data nodes):
   * the host is the name the sentinels monitor (`sentinel monitor <name> …`), the path the
   * database; the user and password are the data nodes' (`password` fills in where the URL has
   * none). An existing node-redis `RedisSentinel` is used as it is.
   * @default none (required)
   */
  location?: ConnectionOptions['location']
  /** The sentinels as `[host, port]` pairs; one that answers is enough. @default none (required) */
  sentinels?: ReadonlyArray<readonly [string, number]>
  /** How to reach the sentinels, and the pool sizes. @default {} */
  sentinelOptions?: SentinelConnectionOptions
}

/** What the sentinel factory needs of a node-redis `RedisSentinel`. */
export interface RedisSentinelLike {
  sendCommand(
    isReadonly: boolean | undefined,
    args: ReadonlyArray<RedisArgument>,
    options?: object,
  ): Promise<unknown>
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): Promise<unknown>
  getMasterNode(): { host: string; port: number } | undefined
  getReplicaNodes(): Map<{ host: string; port: number }, number>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off(event: string, listener: (...args: unknown[]) => void): unknown
  readonly isOpen: boolean
  readonly isReady: boolean
}

/** Whether `value` looks like a node-redis `RedisSentinel`. */
export function isRedisSentinel(value: unknown): value is RedisSentinelLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RedisSentinelLike).sendCommand === 'function' &&
    typeof (value as RedisSentinelLike).getMasterNode === 'function' &&
    typeof (value as RedisSentinelLike).getReplicaNodes === 'function'
  )
}

/** What the sentinel connection takes from its options, checked. */
export interface SentinelSettings {
  /** The `location` URL: the service name (its host), the database, the data nodes' credentials. */
  address: RedisAddress
  /** The service name the sentinels monitor. */
  name: string
  /** The sentinels given, to ask first. */
  roots: Array<{ host: string; port: number }>
  /** The data nodes' password: the URL's, else `password`. */
  password: string | undefined
  /** `sentinelOptions`, as given. */
  extra: SentinelConnectionOptions
  replicaPoolSize: number
  scanIntervalMs: number
  waitForPrimary: boolean
}

// Every key of `SentinelConnectionOptions`, and no other: the compiler says when one is added to
// the type and not here.
const SENTINEL_OPTIONS_TABLE = {
  password: true,
  username: true,
  tls: true,
  socket: true,
  clientOptions: true,
  replicaPoolSize: true,
  masterPoolSize: true,
  scanInterval: true,
  waitForPrimary: true,
} as const satisfies Record<keyof SentinelConnectionOptions, true>
const SENTINEL_OPTIONS = Object.keys(SENTINEL_OPTIONS_TABLE)

/**
 * `sentinelOptions`, checked to be an object of the names `SentinelConnectionOptions` has: a
 * misspelt name (`waitForPrimay`, `pasword`) would otherwise leave its default silently.
 */
function checkSentinelOptions(given: unknown): SentinelConnectionOptions {
  if (given === undefined) return {}
  checkOptionsObject(given, 'sentinelOptions', 'an object ({ password, waitForPrimary, … })')
  const name = unknownName(given, SENTINEL_OPTIONS)
  if (name !== undefined) {
    const meant = closestName(name, SENTINEL_OPTIONS)
    throw new InvalidArgumentError(
      meant === undefined
        ? `sentinelOptions does not take '${name}' (it takes ${SENTINEL_OPTIONS.join(', ')})`
        : `sentinelOptions does not take '${name}': did you mean '${meant}'?`,
    )
  }
  const options = given as SentinelConnectionOptions
  if (options.tls === true) {
    refuseTlsDowngrade(options, true, 'sentinelOptions', 'sentinelOptions.tls')
    refuseTlsDowngrade(
      options.clientOptions,
      true,
      'sentinelOptions.clientOptions',
      'sentinelOptions.tls',
    )
  }
  return options
}

/** Checks the options of the sentinel connection (not a handed-in `RedisSentinel`). */
export function sentinelSettings(options: SentinelOptions): SentinelSettings {
  const extra = checkSentinelOptions(options.sentinelOptions)
  const given = typeof options.location === 'string' ? parseLocation(options.location) : undefined
  if (given?.length !== 1) {
    throw new InvalidArgumentError(
      "the sentinel connection needs location: 'redis://<service name>/<db>' (or a node-redis RedisSentinel)",
    )
  }
  const location = given[0] as string
  const address = parseRedisUrl(location)
  if (address.path !== undefined) {
    throw new InvalidArgumentError(
      `the sentinel location names a service, not a socket: ${redactUrl(location)}`,
    )
  }
  const roots = sentinelNodes(options.sentinels)
  // The data nodes are the ones the sentinels report; the sentinels are `sentinels`.
  refuseServerOptions(options.clientOptions, 'clientOptions')
  // Checked now: the data nodes are connected to once the sentinels named them, where the
  // refusal would show only as a node that could not be reached.
  refuseTlsDowngrade(options.clientOptions, address.tls === true, 'clientOptions')
  // `null` is unset, as `clientOptions: null` is.
  checkOptionsObject(
    extra.clientOptions ?? undefined,
    'sentinelOptions.clientOptions',
    'an object of node-redis client options',
  )
  refuseServerOptions(extra.clientOptions, 'sentinelOptions.clientOptions')
  refuseServerOptions({ socket: extra.socket }, 'sentinelOptions')
  const replicaPoolSize = poolSize(extra.replicaPoolSize, 1, 'replicaPoolSize', 0)
  poolSize(extra.masterPoolSize, 1, 'masterPoolSize', 1)
  const scanInterval = extra.scanInterval ?? 0
  if (typeof scanInterval !== 'number' || Number.isNaN(scanInterval) || scanInterval < 0) {
    throw new InvalidArgumentError('sentinelOptions.scanInterval must be 0 or more milliseconds')
  }
  // A longer interval makes Node.js's timers fire after 1 ms: the sentinels asked nonstop.
  if (scanInterval > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `sentinelOptions.scanInterval must be at most ${MAX_TIMER_MS} ms (about 24.8 days, the longest timer of Node.js), got ${scanInterval}`,
    )
  }
  // The timer options node-redis arms, checked now: the data nodes are connected to only once
  // the sentinels named them, where a refusal would show as a failed discovery.
  checkClientTimers(options.clientOptions, 'clientOptions.')
  checkPoolTimers(options.connectionPool)
  checkClientTimers(extra.clientOptions, 'sentinelOptions.clientOptions.')
  checkSocketTimers(extra.socket, 'sentinelOptions.socket.')
  const wait = extra.waitForPrimary ?? false
  if (typeof wait !== 'boolean') {
    throw new InvalidArgumentError('sentinelOptions.waitForPrimary must be true or false')
  }
  // node-redis takes strings (a number, `password: 123456` from a JSON file, fails every
  // connection as if the nodes were down). The type is named, never the value.
  checkCredentials({ password: options.password })
  checkCredentials(options.clientOptions, 'clientOptions.')
  checkCredentials(extra, 'sentinelOptions.')
  checkCredentials(extra.clientOptions, 'sentinelOptions.clientOptions.')
  return {
    address,
    name: address.host as string,
    roots,
    password: address.password ?? options.password ?? undefined,
    extra,
    replicaPoolSize,
    scanIntervalMs: scanInterval,
    waitForPrimary: wait,
  }
}

function sentinelNodes(
  sentinels: SentinelOptions['sentinels'] | undefined,
): Array<{ host: string; port: number }> {
  if (!Array.isArray(sentinels) || sentinels.length === 0) {
    throw new InvalidArgumentError(
      'the sentinel connection needs sentinels: a list of [host, port] pairs',
    )
  }
  return sentinels.map((pair: unknown) => {
    const [host, port] = Array.isArray(pair) ? pair : []
    if (typeof host !== 'string' || host === '' || !Number.isInteger(port) || port <= 0) {
      throw new InvalidArgumentError(
        `each sentinel must be a [host, port] pair (such as ['10.0.0.1', 26379]), got ${shapeOf(pair)}${typeof pair === 'string' ? ": give each sentinel's host and port as a pair, and the sentinels' password as sentinelOptions.password" : ''}`,
      )
    }
    // A URL or credentials where a host goes (`redis://:pw@10.0.0.1`, `:pw@10.0.0.1`) would be
    // shown whole in every message that names the sentinels: refused without quoting it.
    // A `:` too, but in an IPv6 address (`host:secret`, a password after the host).
    if (/[@/\\?#\s]/.test(host) || (/[:[\]]/.test(host) && !isIPv6Host(host))) {
      throw new InvalidArgumentError(
        `each sentinel must be a [host, port] pair whose host is a host name or an IP address, got a host holding '@', '/', '\\', '?', '#', a space or a ':' outside an IPv6 address (not shown: it may hold a password): give the sentinels' password as sentinelOptions.password`,
      )
    }
    return { host, port: port as number }
  })
}

/**
 * What `value` is, by type and shape only (`a string`, `[string, string]`): a wrong sentinel
 * item is often a URL holding the sentinels' password, or the password put where the port goes,
 * and its value must not show in the error.
 */
function shapeOf(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (!Array.isArray(value)) return `a ${kindOf(value)}`.replace(/^a ([aeiou])/, 'an $1')
  const shown = value.slice(0, 4).map(kindOf)
  return `[${shown.join(', ')}${value.length > 4 ? ', …' : ''}]`
}

/** The kind of one value, for `shapeOf`: its `typeof`, or `null` / `array`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  return Array.isArray(value) ? 'array' : typeof value
}

function poolSize(value: unknown, fallback: number, what: string, min: number): number {
  const size = value ?? fallback
  if (typeof size !== 'number' || !Number.isInteger(size) || size < min) {
    throw new InvalidArgumentError(`sentinelOptions.${what} must be a whole number, ${min} or more`)
  }
  return size
}

/**
 * Whether `host` is an IPv6 address (in brackets or not), with a zone ID of 1 to 64 letters,
 * digits, `_`, `.` or `-` if any, as `ZONED_HOST` reads one: `isIPv6` takes any text after a `%`.
 */
function isIPv6Host(host: string): boolean {
  const [address, zone, ...more] = (/^\[(.*)\]$/.exec(host)?.[1] ?? host).split('%')
  return (
    more.length === 0 &&
    isIPv6(address as string) &&
    (zone === undefined || /^[A-Za-z0-9_.-]{1,64}$/.test(zone))
  )
}
