import {
  ClosedError,
  type CommandRoute,
  type Connection,
  ConnectionError,
  type ConnectionOptions,
  InvalidArgumentError,
  type RedisArgument,
  ResponseError,
  TimeoutError,
} from '@cachex/core'
import { DEFAULT_CONNECT_TIMEOUT, seconds } from './_connect.ts'
import { isNodeRedisClient, StandaloneConnection } from './standalone.ts'

/**
 * Options of the `replica` factory: a primary and its read replicas, as django-redis's
 * `DefaultClient` with a list of URLs.
 */
export interface ReplicaOptions extends ConnectionOptions {
  /**
   * The primary's URL first, then one URL per read replica: a list, or one comma-separated
   * string. Each URL may carry its own user, password and database; `password` fills in where a
   * URL has none. Every other option (`socketTimeout`, `clientOptions`, `connectionPool`…) applies
   * to every node.
   * @default 'redis://127.0.0.1:6379/0' (a primary without replicas)
   */
  location?: ConnectionOptions['location']
}

const DEFAULT_URL = 'redis://127.0.0.1:6379/0'

/**
 * A primary with read replicas. Every command runs on the primary, except those routed as
 * `readonly` (the cache's reads), which run on a replica picked at random among the ready ones.
 * A replica that is down, still connecting, loading its data or unreachable is skipped, and a
 * read it fails with a connection error runs again on the primary, so a replica going away never
 * fails a read. A replica that failed or timed out is left out for `socketConnectTimeout`, and
 * after that for as long as its connection is known to be down (a timeout resets it, and it is
 * not ready until it answers again): a dead or frozen replica does not slow reads. `scan` and
 * `flush` run on the primary. Every node is a `standalone` connection, with its bounds and its
 * circuit breaker.
 *
 * `client({ write: false })` resolves a replica's node-redis client (the primary's when no
 * replica can be reached); `client()` the primary's.
 */
export function replica(options: ReplicaOptions = {}): Connection {
  return new ReplicaConnection(options)
}

/**
 * Whether a replica that failed a read this way is left out for a while: it could not be reached,
 * dropped the connection, did not answer in time, or cannot serve reads yet.
 */
function isReplicaFailure(error: unknown): boolean {
  if (error instanceof ConnectionError) return true
  // A replica still loading its data set, or cut off from its primary with
  // `replica-serve-stale-data no`, answers these; the primary can serve the read.
  return error instanceof ResponseError && /^(LOADING|MASTERDOWN)\b/.test(error.message)
}

/**
 * Whether the primary runs a read again after the replica failed it. Not after a timeout: the
 * call has used up its `socketTimeout` already.
 */
function retriesOnPrimary(error: unknown): boolean {
  return isReplicaFailure(error) && !(error instanceof TimeoutError)
}

class ReplicaConnection implements Connection {
  readonly #primary: StandaloneConnection
  readonly #replicas: StandaloneConnection[]
  /** `performance.now()` until which a replica is left out, after it failed. */
  readonly #benchedUntil: number[]
  readonly #benchMs: number
  #closed = false
  #started = false

  constructor(options: ReplicaOptions) {
    const location = options.location ?? DEFAULT_URL
    if (isNodeRedisClient(location)) {
      throw new InvalidArgumentError(
        'the replica connection takes URLs (the primary first, then the replicas), not a client',
      )
    }
    const urls = splitUrls(location)
    const [primaryUrl, ...replicaUrls] = urls
    if (primaryUrl === undefined) {
      throw new InvalidArgumentError('location must list at least one URL (the primary)')
    }
    this.#benchMs = seconds(
      options.socketConnectTimeout,
      DEFAULT_CONNECT_TIMEOUT,
      'socketConnectTimeout',
    )
    const node = (url: string) => new StandaloneConnection({ ...options, location: url })
    this.#primary = node(primaryUrl)
    this.#replicas = replicaUrls.map(node)
    this.#benchedUntil = this.#replicas.map(() => 0)
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    if (this.#closed) return Promise.reject(this.#closedError())
    if (!this.#started) this.#start()
    if (route?.readonly !== true) return this.#primary.command(args, route)
    const index = this.#pick()
    if (index < 0) return this.#primary.command(args, route)
    return (this.#replicas[index] as StandaloneConnection).command(args, route).catch((error) => {
      if (this.#closed || !isReplicaFailure(error)) throw error
      this.#bench(index)
      if (!retriesOnPrimary(error)) throw error
      return this.#primary.command(args, route)
    })
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    if (this.#closed) throw this.#closedError()
    if (!this.#started) this.#start()
    if (route?.readonly !== true) return this.#primary.batch(commands, route)
    const index = this.#pick()
    if (index < 0) return this.#primary.batch(commands, route)
    let replies: unknown[]
    try {
      replies = await (this.#replicas[index] as StandaloneConnection).batch(commands, route)
    } catch (error) {
      if (this.#closed || !isReplicaFailure(error)) throw error
      this.#bench(index)
      if (!retriesOnPrimary(error)) throw error
      return this.#primary.batch(commands, route)
    }
    if (!this.#closed && replies.some(isReplicaFailure)) {
      this.#bench(index)
      // The replica went away half-way: the commands only read, so the primary runs them again.
      if (replies.some(retriesOnPrimary)) return this.#primary.batch(commands, route)
    }
    return replies
  }

  scan(pattern: string, count: number): AsyncIterable<string[]> {
    if (!this.#started && !this.#closed) this.#start()
    return this.#primary.scan(pattern, count)
  }

  flush(): Promise<void> {
    if (!this.#started && !this.#closed) this.#start()
    return this.#primary.flush()
  }

  async client(options: { write?: boolean } = {}): Promise<unknown> {
    if (this.#closed) throw this.#closedError()
    if (!this.#started) this.#start()
    if (options.write !== false || this.#replicas.length === 0) return this.#primary.client()
    const index = this.#pick()
    if (index >= 0) return (this.#replicas[index] as StandaloneConnection).client()
    // None is ready yet: the first replica that connects (each within socketConnectTimeout).
    const now = performance.now()
    const candidates = this.#replicas.filter((_, i) => (this.#benchedUntil[i] as number) <= now)
    try {
      return await Promise.any(candidates.map((node) => node.client()))
    } catch {
      if (this.#closed) throw this.#closedError()
      return this.#primary.client()
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([this.#primary, ...this.#replicas].map((node) => node.close()))
  }

  /** On first use, every replica starts connecting, so that reads can move to them. */
  #start(): void {
    this.#started = true
    for (const node of this.#replicas) node.warm()
  }

  /**
   * A random replica that is ready and not benched, or -1. Replicas that are not ready start
   * connecting (again) in the background.
   */
  #pick(): number {
    const replicas = this.#replicas
    const count = replicas.length
    if (count === 0) return -1
    const first = Math.floor(Math.random() * count)
    let now = 0
    for (let step = 0; step < count; step++) {
      const index = (first + step) % count
      const node = replicas[index] as StandaloneConnection
      if (!node.ready) {
        node.warm()
        continue
      }
      const benched = this.#benchedUntil[index] as number
      if (benched !== 0) {
        now ||= performance.now()
        if (benched > now) continue
        this.#benchedUntil[index] = 0
      }
      return index
    }
    return -1
  }

  #bench(index: number): void {
    this.#benchedUntil[index] = performance.now() + this.#benchMs
  }

  #closedError(): ClosedError {
    return new ClosedError('the connection is closed')
  }
}

/** The URLs of `location`: a list, or a comma-separated string. */
export function splitUrls(location: unknown): string[] {
  const list =
    typeof location === 'string'
      ? location.split(',')
      : Array.isArray(location)
        ? (location as unknown[])
        : undefined
  if (list === undefined) {
    throw new InvalidArgumentError('location must be a Redis URL or a list of Redis URLs')
  }
  const urls: string[] = []
  for (const item of list) {
    if (typeof item !== 'string') {
      throw new InvalidArgumentError(
        `location must list Redis URLs, got ${typeof item === 'object' ? 'an object' : typeof item}`,
      )
    }
    const url = item.trim()
    if (url !== '') urls.push(url)
  }
  return urls
}
