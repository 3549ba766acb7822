import {
  type ClosedError,
  type CommandRoute,
  type Connection,
  type ConnectionOptions,
  InvalidArgumentError,
  type RedisArgument,
} from '@cachex/core'
import { createSentinel, ErrorReply } from '@redis/client'
import {
  Breaker,
  callBounds,
  closedError,
  closeWithin,
  connectBounded,
  SharedAttempt,
  scanNode,
  within,
} from './_connect.ts'
import { commandWeight, type Deadlines } from './_deadlines.ts'
import { toCachexError } from './_errors.ts'
import { COMMAND_OPTIONS, TEXT_COMMAND_OPTIONS, withOptions } from './_options.ts'
import { isClientClosed } from './standalone.ts'
import { parseRedisUrl, redactUrl } from './url.ts'

/**
 * `sentinelOptions` of the `sentinel` factory (django-redis's `SENTINEL_KWARGS`): how to reach
 * the sentinels themselves, and how many connections to open to the nodes they report.
 */
export type SentinelConnectionOptions = {
  /** Password of the sentinels (their `requirepass`); not the data nodes' password. @default none */
  password?: string
  /** ACL user of the sentinels, with `password`. @default none */
  username?: string
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
   * Connections to each replica. Above 0, commands routed as `readonly` (the cache's reads) run
   * on the replicas, in turn; with 0 every command runs on the primary. @default 1
   */
  replicaPoolSize?: number
  /** Connections to the primary. @default 1 */
  masterPoolSize?: number
  /**
   * Milliseconds between checks of the topology with the sentinels, on top of the
   * notifications they publish (`switch-master`, `+sdown`…); 0 relies on the notifications
   * alone. @default 0
   */
  scanInterval?: number
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

/**
 * A primary and its replicas found through Redis Sentinel (django-redis's `SentinelClient`),
 * over node-redis's `createSentinel`. Writes run on the current primary; commands routed as
 * `readonly` run on a replica when `sentinelOptions.replicaPoolSize` is above 0 (the default)
 * and one is connected, else on the primary, and a read a replica fails with a connection error
 * runs again on the primary. When the sentinels fail over, the connection moves to the promoted
 * replica by itself: commands sent during the failover wait for it, each within `socketTimeout`.
 * Connecting (to a sentinel, then to the nodes it reports) is bounded by `socketConnectTimeout`;
 * errors are `CachexError`s without passwords.
 *
 * Fail fast: once connecting failed, calls reject with a `ConnectionError` at once while it is
 * retried in the background (`reconnectDelay` apart). While node-redis reports its client of the
 * primary down (its `Master Client (…)` error events), calls for the primary reject at once while
 * a `PING` checks it in the background; a new primary announced by the sentinels ends that too.
 * `maxInFlightBytes` caps what awaits replies.
 *
 * `client()` resolves the connected node-redis `RedisSentinel` for both `write: true` and
 * `write: false`: it routes each command itself (`sentinel.sendCommand(isReadonly, args)`, or
 * its command methods, which send read-only commands to replicas when it has replica clients).
 */
export function sentinel(options: SentinelOptions = {}): Connection {
  return new SentinelConnection(options)
}

/** A read on a replica that failed this way runs again on the primary. */
function isReplicaFailure(error: unknown): boolean {
  if (!(error instanceof ErrorReply)) return true
  return /^(LOADING|MASTERDOWN)\b/.test(error.message)
}

/** Whether `error`, or an error it wraps, is an error reply (a wrong password, an unknown user…). */
function isErrorReply(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ErrorReply) return true
  }
  return false
}

/** Whether an error event of node-redis's sentinel comes from its client of the primary. */
function isPrimaryError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Master Client (')
}

/** How long the answer to "is a replica connected?" is reused. */
const REPLICA_CHECK_MS = 100

class SentinelConnection implements Connection {
  readonly #sentinel: RedisSentinelLike
  /** The sentinel seen through `withCommandOptions(COMMAND_OPTIONS)`. */
  readonly #sender: Pick<RedisSentinelLike, 'sendCommand'>
  /** The same, replying with bulk strings as text. */
  readonly #textSender: Pick<RedisSentinelLike, 'sendCommand'>
  readonly #closeSentinel: boolean
  readonly #connectTimeoutMs: number
  readonly #deadlines: Deadlines
  readonly #secrets: string[]
  readonly #where: string
  readonly #useReplicas: boolean
  #closed = false
  /** `sentinel.connect()` in flight. */
  #opening: Promise<void> | undefined
  /** One bounded wait for `#opening`, shared by the calls that arrive meanwhile. */
  readonly #connecting = new SharedAttempt()
  /** After connecting failed: calls fail fast while it is retried in the background. */
  readonly #breaker = new Breaker()
  /**
   * After node-redis reported an error of the primary's client: calls for the primary fail fast
   * while a `PING` checks it in the background, until one answers, a new primary is announced,
   * or the sentinel is ready again.
   */
  readonly #primary = new Breaker()
  #lastError: unknown
  #replicasUp = false
  #replicasCheckedAt = Number.NEGATIVE_INFINITY

  constructor(options: SentinelOptions) {
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    this.#deadlines = deadlines
    const extra = (options.sentinelOptions ?? {}) as SentinelConnectionOptions
    const location = options.location
    if (isRedisSentinel(location)) {
      this.#sentinel = location
      this.#closeSentinel = options.closeConnection ?? false
      this.#secrets = [options.password, extra.password].filter((s): s is string => !!s)
      this.#where = 'the given sentinel'
      this.#useReplicas = true
    } else {
      if (typeof location !== 'string') {
        throw new InvalidArgumentError(
          "the sentinel connection needs location: 'redis://<service name>/<db>' (or a node-redis RedisSentinel)",
        )
      }
      const address = parseRedisUrl(location)
      if (address.path !== undefined) {
        throw new InvalidArgumentError(
          `the sentinel location names a service, not a socket: ${redactUrl(location)}`,
        )
      }
      const name = address.host as string
      const roots = sentinelNodes(options.sentinels)
      const password = address.password ?? options.password
      this.#secrets = [password, extra.password].filter((s): s is string => !!s)
      this.#where = `sentinel service '${name}' (sentinels ${roots.map((n) => `${n.host}:${n.port}`).join(', ')})`
      const replicaPoolSize = poolSize(extra.replicaPoolSize, 1, 'replicaPoolSize', 0)
      this.#useReplicas = replicaPoolSize > 0
      const clientOptions = (options.clientOptions ?? {}) as { socket?: object }
      const sentinelClientOptions = (extra.clientOptions ?? {}) as { socket?: object }
      this.#sentinel = createSentinel({
        name,
        sentinelRootNodes: roots,
        nodeClientOptions: {
          ...clientOptions,
          username: address.username,
          password,
          database: address.database,
          disableOfflineQueue: true,
          socket: {
            connectTimeout: this.#connectTimeoutMs,
            ...(address.tls ? { tls: true as const } : {}),
            ...clientOptions.socket,
          },
        } as never,
        sentinelClientOptions: {
          ...sentinelClientOptions,
          username: extra.username,
          password: extra.password,
          socket: {
            connectTimeout: this.#connectTimeoutMs,
            ...(extra.tls ? { tls: true as const } : {}),
            ...sentinelClientOptions.socket,
            ...extra.socket,
          },
        } as never,
        masterPoolSize: poolSize(extra.masterPoolSize, 1, 'masterPoolSize', 1),
        replicaPoolSize,
        scanInterval: extra.scanInterval ?? 0,
        // Node client errors reach the 'error' listener below: for messages, and to fail fast
        // on a wrong password instead of at the end of socketConnectTimeout.
        passthroughClientErrorEvents: true,
        commandOptions: COMMAND_OPTIONS,
      }) as unknown as RedisSentinelLike
      this.#closeSentinel = true
    }
    const sentinel = this.#sentinel
    this.#sender = withOptions(sentinel, COMMAND_OPTIONS, () => ({
      sendCommand: (isReadonly: boolean, args: ReadonlyArray<RedisArgument>) =>
        sentinel.sendCommand(isReadonly, args, COMMAND_OPTIONS),
    }))
    this.#textSender = withOptions(sentinel, TEXT_COMMAND_OPTIONS, () => ({
      sendCommand: (isReadonly: boolean, args: ReadonlyArray<RedisArgument>) =>
        sentinel.sendCommand(isReadonly, args, TEXT_COMMAND_OPTIONS),
    }))
    // An 'error' event without a listener crashes the process; remember it for messages instead.
    this.#sentinel.on('error', (error) => {
      this.#lastError = error
      this.#replicasCheckedAt = Number.NEGATIVE_INFINITY
      // node-redis passes its primary client's errors on (passthroughClientErrorEvents) as
      // "Master Client (host:port): …": the only sign it gives that the primary is unreachable.
      if (isPrimaryError(error) && this.#ready() && !this.#closed) {
        this.#primary.down(error, this.#checkPrimary)
      }
    })
    this.#sentinel.on('topology-change', (event) => {
      this.#replicasCheckedAt = Number.NEGATIVE_INFINITY
      if ((event as { type?: string } | undefined)?.type === 'MASTER_CHANGE') this.#primary.up()
    })
    this.#sentinel.on('ready', () => {
      this.#breaker.up()
      this.#primary.up()
    })
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    const readonly = route?.readonly === true
    const text = route?.text === true
    if (!this.#closed && this.#ready()) return this.#send(args, readonly, text)
    return this.#whenReady().then(() => this.#send(args, readonly, text))
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    await this.#whenReady()
    const readonly = route?.readonly === true
    const text = route?.text === true
    return Promise.all(
      commands.map((args) => this.#send(args, readonly, text).catch((error: Error) => error)),
    )
  }

  scan(pattern: string, count: number): AsyncIterable<string[]> {
    return scanNode((args) => this.command(args), pattern, count)
  }

  async flush(): Promise<void> {
    await this.command(['FLUSHDB'])
  }

  /** The connected node-redis `RedisSentinel`, whatever `write` says: it routes commands itself. */
  async client(_options?: { write?: boolean }): Promise<unknown> {
    await this.#whenReady()
    return this.#sentinel
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#breaker.close()
    this.#primary.close()
    const sentinel = this.#sentinel
    if (!this.#closeSentinel || (!sentinel.isOpen && this.#opening === undefined)) return
    await closeWithin(
      () => sentinel.close(),
      () => {
        sentinel.destroy().catch(() => undefined)
      },
      this.#deadlines.timeoutMs ?? this.#connectTimeoutMs,
    )
  }

  #send(args: RedisArgument[], readonly: boolean, text: boolean): Promise<unknown> {
    const weight = commandWeight(args)
    const refused = this.#deadlines.refuse(weight, args[0] as RedisArgument, this.#where)
    if (refused !== undefined) return Promise.reject(refused)
    const onReplica = readonly && this.#useReplicas && this.#replicasReady()
    if (!onReplica && this.#primary.isDown) {
      return Promise.reject(
        this.#primary.error(`the primary of ${this.#where}`, (error) => this.#text(error)),
      )
    }
    const sender = text ? this.#textSender : this.#sender
    let reply = sender.sendCommand(onReplica, args)
    if (onReplica) {
      reply = reply.catch((error: unknown) => {
        if (this.#closed || !isReplicaFailure(error)) throw error
        this.#replicasCheckedAt = Number.NEGATIVE_INFINITY
        return sender.sendCommand(false, args)
      })
    }
    return this.#deadlines.track(reply, String(args[0]), this.#mapError, weight)
  }

  readonly #mapError = (error: unknown): Error =>
    this.#closed && isClientClosed(error)
      ? this.#closedError()
      : toCachexError(error, this.#secrets)

  /**
   * Whether some replica has a ready client, so that node-redis can serve a read there (it throws
   * when it has no replica client, and keeps re-asking the sentinels while the one it picked is
   * down). Reused for `REPLICA_CHECK_MS`, and asked again after an error or a topology change.
   */
  #replicasReady(): boolean {
    const now = performance.now()
    if (now - this.#replicasCheckedAt < REPLICA_CHECK_MS) return this.#replicasUp
    this.#replicasCheckedAt = now
    let up = false
    for (const count of this.#sentinel.getReplicaNodes().values()) {
      if (count > 0) {
        up = true
        break
      }
    }
    this.#replicasUp = up
    return up
  }

  #ready(): boolean {
    return this.#sentinel.isOpen && this.#opening === undefined
  }

  /**
   * Resolves when the sentinel is connected; waits for it (at most `socketConnectTimeout`) the
   * first time, and rejects at once while the last attempt failed (it is retried in the
   * background, `reconnectDelay` apart).
   */
  #whenReady(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError())
    if (this.#ready()) return Promise.resolve()
    if (this.#breaker.isDown) {
      return Promise.reject(this.#breaker.error(this.#where, (error) => this.#text(error)))
    }
    return this.#connect().catch((error: unknown) => {
      if (!this.#closed) this.#breaker.down(error, this.#reconnect)
      throw error
    })
  }

  readonly #reconnect = (): Promise<void> => this.#connect()

  /** The background check of a primary reported down: a `PING`, bounded by `socketTimeout`. */
  readonly #checkPrimary = (): Promise<unknown> =>
    within(
      this.#sender.sendCommand(false, ['PING']),
      this.#deadlines.timeoutMs ?? this.#connectTimeoutMs,
      `no PING reply from the primary of ${this.#where}`,
    )

  /**
   * Waits for the sentinel to connect, at most `socketConnectTimeout`; starts connecting if
   * needed. A connection attempt that outlives the wait goes on, and later calls wait for it.
   */
  #connect(): Promise<void> {
    const sentinel = this.#sentinel
    if (this.#opening === undefined && !sentinel.isOpen) {
      const opening = sentinel.connect().then(() => undefined)
      this.#opening = opening
      const clear = () => {
        if (this.#opening === opening) this.#opening = undefined
      }
      opening.then(clear, (error: unknown) => {
        this.#lastError = error
        clear()
      })
    }
    const opening = this.#opening
    if (opening === undefined) return Promise.resolve()
    return this.#connecting.run(() =>
      connectBounded({
        emitter: sentinel,
        where: this.#where,
        timeoutMs: this.#connectTimeoutMs,
        opening,
        // A sentinel or a data node refused the handshake (a wrong password, an unknown user).
        isFatal: isErrorReply,
        lastError: () => this.#lastError,
        setLastError: (error) => {
          this.#lastError = error
        },
        describe: (error) => this.#text(error),
      }),
    )
  }

  /** The message of `error` (a node-redis error, or the string node-redis sometimes emits), redacted. */
  #text(error: unknown): string {
    const main = toCachexError(error, this.#secrets).message
    const cause = error instanceof Error ? error.cause : undefined
    return cause instanceof Error && !main.includes(cause.message)
      ? `${main} (${toCachexError(cause, this.#secrets).message})`
      : main
  }

  #closedError(): ClosedError {
    return closedError(this.#where)
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
        `each sentinel must be a [host, port] pair, got ${JSON.stringify(pair)}`,
      )
    }
    return { host, port: port as number }
  })
}

function poolSize(value: unknown, fallback: number, what: string, min: number): number {
  const size = value ?? fallback
  if (typeof size !== 'number' || !Number.isInteger(size) || size < min) {
    throw new InvalidArgumentError(`sentinelOptions.${what} must be a whole number, ${min} or more`)
  }
  return size
}
