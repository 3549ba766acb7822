import {
  type ClosedError,
  type CommandRoute,
  type Connection,
  type ConnectionOptions,
  InvalidArgumentError,
  type RedisArgument,
} from '@cachex/core'
import { createClient, createClientPool, ErrorReply } from '@redis/client'
import {
  callBounds,
  closedError,
  closeWithin,
  connectBounded,
  SharedAttempt,
  scanNode,
} from './_connect.ts'
import { bounded, type Deadlines } from './_deadlines.ts'
import { toCachexError } from './_errors.ts'
import { COMMAND_OPTIONS, TEXT_COMMAND_OPTIONS, withOptions } from './_options.ts'
import { parseRedisUrl, redactUrl } from './url.ts'

/** What the standalone factory needs of a node-redis client or client pool. */
export interface NodeRedisClientLike {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: object): Promise<unknown>
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
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

const DEFAULT_URL = 'redis://127.0.0.1:6379/0'

/**
 * A connection to one Redis server. Connects on first use, reconnects by itself, and bounds every
 * call: waiting for a connection by `socketConnectTimeout`, waiting for a reply by
 * `socketTimeout` — so no call waits forever, whatever the server does. Commands are never queued
 * while disconnected (node-redis's offline queue is off): a call made during an outage waits for
 * the reconnection at most `socketConnectTimeout`, then rejects with `ConnectionError`.
 */
export function standalone(options: StandaloneOptions = {}): Connection {
  return new StandaloneConnection(options)
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

/**
 * The connection `standalone()` returns. Exported for the other topologies of this package, which
 * compose one per node; not part of the public API.
 * @internal
 */
export class StandaloneConnection implements Connection {
  readonly #client: NodeRedisClientLike
  /** The client with cachex's command options: replies as bytes, or as text. */
  readonly #sender: Pick<NodeRedisClientLike, 'sendCommand'>
  readonly #textSender: Pick<NodeRedisClientLike, 'sendCommand'>
  readonly #closeClient: boolean
  readonly #connectTimeoutMs: number
  readonly #deadlines: Deadlines | undefined
  readonly #secrets: string[]
  readonly #where: string
  readonly #isPool: boolean
  #closed = false
  readonly #connecting = new SharedAttempt()
  #lastError: unknown

  constructor(options: StandaloneOptions) {
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    this.#deadlines = deadlines
    const location = options.location ?? DEFAULT_URL
    if (isNodeRedisClient(location)) {
      this.#client = location
      this.#closeClient = options.closeConnection ?? false
      this.#secrets = options.password ? [options.password] : []
      this.#where = 'the given client'
      this.#isPool = !('isReady' in location)
    } else {
      if (typeof location !== 'string' && !Array.isArray(location)) {
        throw new InvalidArgumentError(
          'location must be a Redis URL, a list of URLs, or a node-redis client or client pool',
        )
      }
      const url = single(location as string | readonly string[])
      const address = parseRedisUrl(url)
      const password = address.password ?? options.password
      this.#secrets = password ? [password] : []
      this.#where = redactUrl(url)
      const extra = (options.clientOptions ?? {}) as { socket?: object }
      const socket = address.path
        ? { path: address.path }
        : { host: address.host, port: address.port, ...(address.tls ? { tls: true as const } : {}) }
      const clientOptions = {
        ...extra,
        username: address.username,
        password,
        database: address.database,
        disableOfflineQueue: true,
        socket: { ...socket, connectTimeout: this.#connectTimeoutMs, ...extra.socket },
      }
      this.#isPool = options.connectionPool !== undefined
      this.#client = (this.#isPool
        ? createClientPool(clientOptions as never, options.connectionPool as never)
        : createClient(clientOptions as never)) as unknown as NodeRedisClientLike
      this.#closeClient = true
    }
    const client = this.#client
    this.#sender = withOptions(client, COMMAND_OPTIONS, () => ({
      sendCommand: (args: ReadonlyArray<RedisArgument>) =>
        client.sendCommand(args, COMMAND_OPTIONS),
    }))
    this.#textSender = withOptions(client, TEXT_COMMAND_OPTIONS, () => ({
      sendCommand: (args: ReadonlyArray<RedisArgument>) =>
        client.sendCommand(args, TEXT_COMMAND_OPTIONS),
    }))
    // An 'error' event without a listener crashes the process; remember it for messages instead.
    this.#client.on('error', (error) => {
      this.#lastError = error
    })
  }

  /**
   * Whether a command sent now goes straight to the server: the client is connected and ready.
   * @internal
   */
  get ready(): boolean {
    return !this.#closed && this.#ready()
  }

  /**
   * Starts connecting in the background when not ready; the outcome is dropped (the next call
   * reports it). The attempt is bounded by `socketConnectTimeout`, as every other.
   * @internal
   */
  warm(): void {
    if (this.#closed || this.#ready()) return
    this.#connect().catch(() => undefined)
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closedError())
    const text = route?.text === true
    if (!this.#ready()) return this.#connect().then(() => this.#send(args, text))
    return this.#send(args, text)
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    if (this.#closed) throw this.#closedError()
    if (!this.#ready()) await this.#connect()
    // Commands sent in the same tick leave in one write: one round trip.
    const text = route?.text === true
    return Promise.all(
      commands.map((args) => this.#send(args, text).catch((error: Error) => error)),
    )
  }

  scan(pattern: string, count: number): AsyncIterable<string[]> {
    return scanNode((args) => this.command(args), pattern, count)
  }

  async flush(): Promise<void> {
    await this.command(['FLUSHDB'])
  }

  async client(): Promise<unknown> {
    if (this.#closed) throw this.#closedError()
    if (!this.#ready()) await this.#connect()
    return this.#client
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const client = this.#client
    if (!this.#closeClient || !client.isOpen) return
    if (!this.#ready()) {
      client.destroy()
      return
    }
    await closeWithin(
      () => client.close(),
      () => client.destroy(),
      this.#deadlines?.timeoutMs ?? this.#connectTimeoutMs,
    )
  }

  #send(args: RedisArgument[], text = false): Promise<unknown> {
    const reply = (text ? this.#textSender : this.#sender).sendCommand(args)
    return bounded(this.#deadlines, reply, String(args[0]), this.#mapError)
  }

  readonly #mapError = (error: unknown): Error =>
    this.#closed && isClientClosed(error)
      ? this.#closedError()
      : toCachexError(error, this.#secrets)

  #ready(): boolean {
    const client = this.#client
    return this.#isPool ? client.isOpen && !this.#connecting.pending : client.isReady === true
  }

  /** Waits for the client to be ready, at most `socketConnectTimeout`; starts connecting if needed. */
  #connect(): Promise<void> {
    return this.#connecting.run(() => {
      const client = this.#client
      return connectBounded({
        emitter: client,
        where: this.#where,
        timeoutMs: this.#connectTimeoutMs,
        // A pool has no 'ready' event: its connect() settling is the signal.
        readyEvent: this.#isPool ? undefined : 'ready',
        opening: client.isOpen ? undefined : client.connect(),
        isFatal: (error) => error instanceof ErrorReply,
        lastError: () => this.#lastError,
        setLastError: (error) => {
          this.#lastError = error
        },
        describe: (error) => toCachexError(error, this.#secrets).message,
      })
    })
  }

  #closedError(): ClosedError {
    return closedError(this.#where)
  }
}

export function isClientClosed(error: unknown): boolean {
  return error instanceof Error && error.constructor.name === 'ClientClosedError'
}

function single(location: string | readonly string[]): string {
  if (typeof location === 'string') {
    const parts = location
      .split(',')
      .map((part) => part.trim())
      .filter(Boolean)
    if (parts.length === 1) return parts[0] as string
    location = parts
  }
  if (location.length !== 1) {
    throw new InvalidArgumentError(
      `the standalone connection takes one URL, got ${location.length}; use the replica factory for a primary with replicas`,
    )
  }
  return location[0] as string
}
