import {
  type CommandRoute,
  type Connection,
  type ConnectionOptions,
  InvalidArgumentError,
  type RedisArgument,
  type Tracking,
  type TrackingListener,
} from '@cachex/core'
import { SERVER_EPOCH } from '@cachex/core/internal'
import { PrimaryDataSet } from './_data-set.ts'
import { Lifecycle } from './_lifecycle.ts'
import { DEFAULT_URL, parseLocation } from './_location.ts'
import { buildingFrom, ownConnectionOptions } from './_own.ts'
import { STATIC_LOCATION } from './_readonly-hint.ts'
import { REPLICA_CHECK_MS, ReplicaRotation } from './_rotation.ts'
import { firstHealthy, readBatchOn, readOn } from './_rotation-reads.ts'
import { scriptEpoch } from './_scripts.ts'
import { DEFAULT_CONNECT_TIMEOUT, secondsToMs } from './_seconds.ts'
import { TrackingGate, TrackingGroup } from './_tracking-group.ts'
import { isNodeRedisClient, StandaloneConnection } from './standalone.ts'
import { parseRedisUrl, redactUrl } from './url.ts'

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

/**
 * A primary with read replicas. Every command runs on the primary, except those routed as
 * `readonly` (the cache's reads), which run on a replica picked at random among those in the read
 * rotation. A replica enters the rotation only once it reports itself in sync with the primary
 * (`role:slave` with `master_link_status:up`, asked with `INFO` on every new connection to it and
 * every second after) and replicates the primary's data set (its `master_replid` is the
 * primary's, asked of the primary once a second), and leaves it when that changes: a restarted,
 * empty replica is not read from until it has synced again, one re-pointed at another server is
 * not read from until it replicates the primary again, and one cut off from a primary that still
 * takes writes is left out (while the primary is known down, replicas that were in sync keep
 * serving reads: their data is the newest there is). With no replica in the rotation, the primary
 * serves reads. A read a replica fails with a connection error runs again on the primary, so a
 * replica going away never fails a read; a replica that failed or timed out is left out for
 * `socketConnectTimeout`, and after that until it is connected and checked again: a dead or
 * frozen replica does not slow reads. `scan` and `flush` run on the primary. Every node is a
 * `standalone` connection, with its bounds and its circuit breaker.
 *
 * `client({ write: false })` resolves the node-redis client of a replica in the rotation (the
 * primary's when none is); `client()` the primary's.
 */
export function replica(options: ReplicaOptions = {}): Connection {
  return buildingFrom(options, () => new ReplicaConnection(options))
}

class ReplicaConnection implements Connection {
  /** Changes when a node may have lost its Lua scripts (see `Connection.generation`). */
  get generation(): number {
    return scriptEpoch()
  }

  /** The primary's: cursor walks run there (`serverOf`). */
  [SERVER_EPOCH](): number {
    return this.#primary[SERVER_EPOCH]()
  }

  readonly #primary: StandaloneConnection
  readonly #replicas: StandaloneConnection[]
  readonly #rotation: ReplicaRotation
  /** With a local tier, a replica serves reads only while tracked (see `track`). */
  readonly #gate = new TrackingGate<StandaloneConnection>()
  /** Closed or not: each node guards its own calls, and this the whole connection's. */
  readonly #life = new Lifecycle({
    where: undefined,
    ready: () => true,
    connect: () => Promise.resolve(),
    describe: String,
  })
  /**
   * The first `close()`'s work: a later call returns it, so that it too resolves only once the
   * calls made before the first are answered.
   */
  #closing: Promise<void> | undefined
  #started = false

  constructor(given: ReplicaOptions) {
    const options = ownConnectionOptions(given)
    const location = options.location ?? DEFAULT_URL
    if (isNodeRedisClient(location)) {
      throw new InvalidArgumentError(
        'the replica connection takes URLs (the primary first, then the replicas), not a client',
      )
    }
    const urls = parseLocation(location)
    if (urls === undefined) {
      throw new InvalidArgumentError('location must be a Redis URL or a list of Redis URLs')
    }
    const [primaryUrl, ...replicaUrls] = urls
    if (primaryUrl === undefined) {
      throw new InvalidArgumentError('location must list at least one URL (the primary)')
    }
    // A replica holds every database of its primary: URLs naming different ones are a mistake
    // that would send each read to another database than the writes.
    const database = parseRedisUrl(primaryUrl).database
    for (const url of replicaUrls) {
      const other = parseRedisUrl(url).database
      if (other !== database) {
        throw new InvalidArgumentError(
          `location lists database ${database} for the primary and ${other} for a replica (${redactUrl(url)}): a replica copies every database of its primary, so reads and writes must name the same one`,
        )
      }
    }
    const benchMs = secondsToMs(
      options.socketConnectTimeout,
      DEFAULT_CONNECT_TIMEOUT,
      'socketConnectTimeout',
    )
    // A static location: a `READONLY` reply of the first URL's server says it is a replica now.
    const node = (url: string) =>
      new StandaloneConnection({ ...options, location: url }, STATIC_LOCATION)
    const primary = node(primaryUrl)
    this.#primary = primary
    this.#replicas = replicaUrls.map(node)
    // A replica whose link is down keeps serving reads only while the primary is known down:
    // its data is then the newest there is.
    const gate = this.#gate
    this.#rotation = new ReplicaRotation({
      primaryUp: () => !primary.isDown,
      benchMs,
      admits: (node) => gate.admits(node),
      // What the tier read from a replica that left the rotation goes (see `TrackingGate.left`).
      onOut: (node) => gate.left(node),
      // A replica re-pointed at another server holds another data set: it serves no read.
      dataSet: new PrimaryDataSet(primary, REPLICA_CHECK_MS),
    })
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    if (this.#life.closed) return Promise.reject(this.#life.closedError())
    if (!this.#started) this.#start()
    if (route?.readonly !== true) return this.#primary.command(args, route)
    return readOn(this.#rotation, this.#primaryNode, args, route, this.#isClosed)
  }

  /** A transaction runs on the primary (see `Connection.transaction`). */
  transaction(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    return this.#primary.transaction(commands, route)
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    if (this.#life.closed) throw this.#life.closedError()
    if (!this.#started) this.#start()
    if (route?.readonly !== true) return this.#primary.batch(commands, route)
    return readBatchOn(this.#rotation, this.#primaryNode, commands, route, this.#isClosed)
  }

  readonly #primaryNode = (): StandaloneConnection => this.#primary
  readonly #isClosed = (): boolean => this.#life.closed

  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>> {
    if (!this.#started && !this.#life.closed) this.#start()
    return this.#primary.scan(pattern, count)
  }

  flush(): Promise<void> {
    if (!this.#started && !this.#life.closed) this.#start()
    return this.#primary.flush()
  }

  async client(options: { write?: boolean } = {}): Promise<unknown> {
    if (this.#life.closed) throw this.#life.closedError()
    if (!this.#started) this.#start()
    if (options.write !== false || this.#replicas.length === 0) return this.#primary.client()
    return (await firstHealthy(this.#rotation, () => this.#life.closed)) ?? this.#primary.client()
  }

  /**
   * Tracks every node (the primary and each replica: any of them may serve a read) on a
   * connection of its own (see `Connection.track`). Up while the primary's is; a replica serves
   * reads only while its own is up (one down leaves the rotation, the tier is emptied once, and
   * it comes back once tracked again).
   */
  track(prefixes: readonly string[], listener: TrackingListener): Tracking {
    if (this.#life.closed) throw this.#life.closedError()
    if (!this.#started) this.#start()
    const primary = this.#primary
    const group = new TrackingGroup<StandaloneConnection>(prefixes, listener, {
      gated: (node) => node !== primary,
    })
    group.set([primary, ...this.#replicas])
    this.#gate.add(group)
    return {
      close: async () => {
        this.#gate.delete(group)
        await group.close()
      },
    }
  }

  /**
   * Closes the connection: its nodes close, answering the calls made before it (see
   * `StandaloneConnection.close`); a second call resolves with the first, once they are.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown()
    return this.#closing
  }

  /** The work of the first `close()`. */
  async #shutdown(): Promise<void> {
    this.#life.close()
    this.#rotation.close()
    await Promise.all([this.#primary, ...this.#replicas].map((node) => node.close()))
  }

  /**
   * On first use, every node starts connecting: the replicas are checked and enter the rotation
   * once healthy, and the primary's state tells whether a replica cut off from it may still serve.
   */
  #start(): void {
    this.#started = true
    this.#primary.warm()
    for (const node of this.#replicas) this.#rotation.add(node)
  }
}
