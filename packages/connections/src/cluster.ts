import {
  type CommandRoute,
  type Connection,
  type ConnectionOptions,
  CrossSlotError,
  InvalidArgumentError,
  type RedisArgument,
  ResponseError,
} from '@cachex/core'
import { createCluster, ErrorReply } from '@redis/client'
import { callBounds, closeWithin, connectBounded, SharedAttempt, scanNode } from './_connect.ts'
import { commandWeight, type Deadlines } from './_deadlines.ts'
import { isClientClosed, toCachexError } from './_errors.ts'
import { Lifecycle } from './_lifecycle.ts'
import { parseLocation } from './_location.ts'
import { Sender } from './_options.ts'
import { keySlot, patternSlot } from './_slots.ts'
import { type NodeHandle, type NodeRedisClusterLike, type Shard, Topology } from './_topology.ts'
import { parseRedisUrl, redactUrl } from './url.ts'

export { keySlot } from './_slots.ts'
export type {
  NodeRedisClusterLike,
  NodeRedisClusterNodeLike,
  NodeRedisNodeClientLike,
} from './_topology.ts'

/** Options of the `cluster` factory: a Redis Cluster, reached through seed nodes or a cluster you made. */
export interface ClusterOptions extends ConnectionOptions {
  /**
   * The seed nodes: a list of `redis://` / `rediss://` URLs, or one string of comma-separated URLs
   * (any node will do; the rest of the cluster is discovered from it), or an existing node-redis
   * cluster (`createCluster()`), closed by `close()` only with `closeConnection: true`. A user
   * name and password in a URL apply to every node. No default: a cluster needs seeds.
   */
  location?: ConnectionOptions['location']
  /** Password for every node, used where no seed URL has one. @default none */
  password?: string
  /**
   * Seconds to wait for the cluster: the discovery of its slot map and, for each node, a TCP
   * connection. @default 5
   */
  socketConnectTimeout?: number
  /** Seconds one call may take (a split command counts as one call); `null` for no bound. @default 5 */
  socketTimeout?: number | null
  /**
   * Extra node-redis client options for every node connection (node-redis `defaults`): `socket`
   * TLS files (`ca`, `cert`, `key`), `RESP`… @default {}
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
   * five); set it here to change that.
   * @default {}
   */
  clusterOptions?: Record<string, unknown>
}

/**
 * A command that names its keys together and must run on one node: its keys must share a hash
 * slot. `keys` says where they are, `what` what cachex uses it for, `hint` how to fix it.
 */
interface Atomic {
  keys: (args: readonly RedisArgument[]) => readonly RedisArgument[]
  what: string
  hint: string
}

/** MGET: one MGET per slot, replies put back in the order of the keys. */
const MGET = 1
/** MSET: one MSET per slot (key, value pairs). */
const MSET = 2
/** DEL, UNLINK, EXISTS, TOUCH: one per slot, the counts summed. */
const SUM = 3
/** How a multi-key command is split by slot. */
type Kind = typeof MGET | typeof MSET | typeof SUM

const DEFAULT_TOPOLOGY_REFRESH_MS = 1000
/** How long a call retries `TRYAGAIN` without `socketTimeout`: most of 5 s. */
const DEFAULT_RETRY_BUDGET_MS = 5000
/** The first wait before a `TRYAGAIN` is retried, then doubled up to `TRYAGAIN_MAX_MS`. */
const TRYAGAIN_FIRST_MS = 10
const TRYAGAIN_MAX_MS = 100
/** How many times a split read or delete retries `TRYAGAIN` whole before going key by key. */
const TRYAGAIN_WHOLE = 3

const TAG_HINT =
  "give the keys a common hash tag — the part of a key between '{' and '}' is all that is hashed, so 'cart:{user42}' and 'orders:{user42}' share a slot"

const SPLIT: ReadonlyMap<string, Kind> = new Map<string, Kind>([
  ['MGET', MGET],
  ['MSET', MSET],
  ['DEL', SUM],
  ['UNLINK', SUM],
  ['EXISTS', SUM],
  ['TOUCH', SUM],
])

const twoKeys = (args: readonly RedisArgument[]) => args.slice(1, 3)
const allKeys = (args: readonly RedisArgument[]) => args.slice(1)
const scriptKeys = (args: readonly RedisArgument[]) => {
  const count = Number(String(args[2]))
  return Number.isSafeInteger(count) && count > 0 ? args.slice(3, 3 + count) : []
}
const pairKeys = (args: readonly RedisArgument[]) => args.filter((_, i) => i % 2 === 1)

const VERSION_HINT =
  "put a hash tag in the key, such as 'user:{42}', so that every version of it (':1:user:{42}', ':2:user:{42}') shares a slot"
const MOVE_HINT = `${TAG_HINT}, such as 'jobs:{mail}:pending' and 'jobs:{mail}:done'`

const ATOMIC: ReadonlyMap<string, Atomic> = new Map([
  ['RENAME', { keys: twoKeys, what: 'incrVersion/decrVersion', hint: VERSION_HINT }],
  ['RENAMENX', { keys: twoKeys, what: 'a rename', hint: VERSION_HINT }],
  ['LMOVE', { keys: twoKeys, what: 'lmove', hint: MOVE_HINT }],
  ['BLMOVE', { keys: twoKeys, what: 'a list move', hint: MOVE_HINT }],
  ['RPOPLPUSH', { keys: twoKeys, what: 'a list move', hint: MOVE_HINT }],
  ['BRPOPLPUSH', { keys: twoKeys, what: 'a list move', hint: MOVE_HINT }],
  ['SMOVE', { keys: twoKeys, what: 'a set move', hint: MOVE_HINT }],
  ['COPY', { keys: twoKeys, what: 'a copy', hint: MOVE_HINT }],
  ['MSETNX', { keys: pairKeys, what: 'an all-or-nothing MSETNX', hint: TAG_HINT }],
  ['EVAL', { keys: scriptKeys, what: 'a Lua script', hint: TAG_HINT }],
  ['EVALSHA', { keys: scriptKeys, what: 'a Lua script', hint: TAG_HINT }],
  ['EVAL_RO', { keys: scriptKeys, what: 'a Lua script', hint: TAG_HINT }],
  ['EVALSHA_RO', { keys: scriptKeys, what: 'a Lua script', hint: TAG_HINT }],
  ['FCALL', { keys: scriptKeys, what: 'a Redis function', hint: TAG_HINT }],
  ['FCALL_RO', { keys: scriptKeys, what: 'a Redis function', hint: TAG_HINT }],
  ['SINTERSTORE', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SUNIONSTORE', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SDIFFSTORE', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SINTER', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SUNION', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['SDIFF', { keys: allKeys, what: 'a set operation', hint: TAG_HINT }],
  ['PFMERGE', { keys: allKeys, what: 'a HyperLogLog merge', hint: TAG_HINT }],
  ['PFCOUNT', { keys: allKeys, what: 'a HyperLogLog count', hint: TAG_HINT }],
])

/**
 * Commands that name no key: without a `route.key` they go to node-redis, whose command table
 * routes them (FLUSHDB and DBSIZE to every primary, PING to any node…).
 */
const KEYLESS = new Set([
  'PING',
  'ECHO',
  'INFO',
  'TIME',
  'DBSIZE',
  'FLUSHDB',
  'FLUSHALL',
  'KEYS',
  'SCAN',
  'RANDOMKEY',
  'SCRIPT',
  'FUNCTION',
  'CONFIG',
  'CLUSTER',
  'CLIENT',
  'COMMAND',
  'MEMORY',
  'LATENCY',
  'SLOWLOG',
  'WAIT',
  'LASTSAVE',
  'PUBLISH',
])

const LOWER = /[a-z]/
const READONLY: CommandRoute = { readonly: true }

/**
 * A connection to a Redis Cluster. Discovers the cluster from its seed nodes on first use,
 * routes every command to the primary of its key's hash slot, and follows the cluster when slots
 * move or a replica is promoted. Calls are bounded as in `standalone`: waiting for the cluster by
 * `socketConnectTimeout`, each call by `socketTimeout`, with one timer per connection, and
 * `maxInFlightBytes` caps what awaits replies. Once the discovery failed, calls reject with a
 * `ConnectionError` at once while it is retried in the background (`reconnectDelay` apart).
 *
 * While the cluster changes: `MOVED` and `ASK` are followed to any node (connecting to it when
 * node-redis has no client for it, such as a new primary that owns no slot yet), and `TRYAGAIN`
 * (a multi-key command on a slot being migrated) is retried within `socketTimeout`. cachex keeps
 * its own slot map and, when a call times out or waits long, a node's connection fails or a reply
 * says `CLUSTERDOWN`, probes the nodes and asks a primary that answers for the map, every 200 ms
 * while a node is in trouble: a node silent for `socketTimeout` fails its calls at once (a dead
 * one already does: its client has no offline queue), and the replica promoted in its place gets
 * its slots as soon as the cluster says so.
 *
 * Multi-key commands are split by slot and the parts run in parallel, one command per slot,
 * pipelined per node: `MGET` (the replies come back in the order of the keys), `MSET`, and
 * `DEL`/`UNLINK`/`EXISTS`/`TOUCH` (the counts are summed), as redis-py's `mget_nonatomic` and
 * `mset_nonatomic` do. Such a command is atomic only among keys of one slot, and a part of a read
 * or a delete that keeps meeting `TRYAGAIN` runs key by key. Commands that must
 * stay atomic across their keys — `RENAME` (`incrVersion`), `LMOVE`, scripts — run as they are
 * when their keys share a slot, and otherwise reject with a `CrossSlotError` that explains hash
 * tags.
 */
export function cluster(options: ClusterOptions = {}): Connection {
  return new ClusterConnection(options)
}

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

class ClusterConnection implements Connection {
  readonly #cluster: NodeRedisClusterLike
  /** The cluster seen through cachex's command options, for the commands node-redis routes. */
  readonly #router: Sender<Pick<NodeRedisClusterLike, 'sendCommand'>>
  readonly #closeClient: boolean
  readonly #connectTimeoutMs: number
  readonly #deadlines: Deadlines
  readonly #secrets: string[]
  readonly #where: string
  readonly #connecting = new SharedAttempt()
  /** Closed or not; the guard every call passes (a failed discovery trips its breaker). */
  readonly #life: Lifecycle
  #lastError: unknown
  /** cachex's slot map and node health: what calls are routed by. */
  readonly #topology: Topology
  /** How long a call may retry `TRYAGAIN`: most of `socketTimeout`. */
  readonly #retryBudgetMs: number
  readonly #maxRedirects: number

  constructor(options: ClusterOptions) {
    const { connectTimeoutMs, deadlines } = callBounds(options)
    this.#connectTimeoutMs = connectTimeoutMs
    this.#deadlines = deadlines
    const location = options.location
    if (isNodeRedisCluster(location)) {
      this.#cluster = location
      this.#closeClient = options.closeConnection ?? false
      this.#secrets = options.password ? [options.password] : []
      this.#where = 'the given cluster'
    } else {
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
      const password = withAuth?.password ?? options.password
      const username = withAuth?.username ?? seeds.find((s) => s.address.username)?.address.username
      this.#secrets = [
        ...new Set(
          [options.password, ...seeds.map((s) => s.address.password)].filter(
            (p): p is string => typeof p === 'string' && p !== '',
          ),
        ),
      ]
      this.#where = `the cluster at ${urls.map(redactUrl).join(', ')}`
      const tls = seeds.some(({ address }) => address.tls)
      const extra = (options.clientOptions ?? {}) as { socket?: object }
      this.#cluster = createCluster({
        rootNodes: seeds.map(({ address }) => ({
          socket: { host: address.host, port: address.port },
        })),
        // What every node connection gets; rootNodes only serve the discovery.
        defaults: {
          ...extra,
          username,
          password,
          // A node that is down fails its commands at once instead of queueing them.
          disableOfflineQueue: true,
          socket: {
            connectTimeout: this.#connectTimeoutMs,
            ...(tls ? { tls: true as const } : {}),
            ...extra.socket,
          },
        },
        useReplicas: options.readFromReplicas ?? false,
        topologyRefreshOnReconnectionAttemptStrategy: DEFAULT_TOPOLOGY_REFRESH_MS,
        ...options.clusterOptions,
      } as never) as unknown as NodeRedisClusterLike
      this.#closeClient = true
    }
    this.#life = new Lifecycle({
      where: this.#where,
      ready: () => this.#cluster.isReady,
      connect: () => this.#connect(),
      describe: (error) => this.#describe(error),
    })
    const cluster = this.#cluster
    // The nodes node-redis does not know are reached with its own node options.
    const given = cluster._options
    const redirects = (given as { maxCommandRedirections?: unknown } | undefined)
      ?.maxCommandRedirections
    this.#maxRedirects = typeof redirects === 'number' && redirects > 0 ? redirects : 16
    const timeoutMs = this.#deadlines.timeoutMs
    this.#retryBudgetMs = Math.round((timeoutMs ?? DEFAULT_RETRY_BUDGET_MS) * 0.8)
    this.#topology = new Topology({
      cluster,
      nodeDefaults:
        given === undefined ? undefined : ((given.defaults ?? {}) as Record<string, unknown>),
      nodeAddressMap: given?.nodeAddressMap,
      readFromReplicas: isNodeRedisCluster(location)
        ? (given as { useReplicas?: boolean } | undefined)?.useReplicas === true
        : (options.readFromReplicas ?? false),
      downAfterMs: timeoutMs ?? DEFAULT_RETRY_BUDGET_MS,
      askTimeoutMs: Math.min(this.#connectTimeoutMs, timeoutMs ?? this.#connectTimeoutMs),
      where: this.#where,
    })
    // A call that timed out or waits long: a node may be frozen; watch the nodes and the map.
    this.#deadlines.onExpire = () => this.#topology.watch()
    this.#deadlines.onStall = () => this.#topology.watch()
    this.#router = new Sender(cluster, (options) => ({
      sendCommand: (key, readonly, args) => cluster.sendCommand(key, readonly, args, options),
    }))
    // An 'error' event without a listener crashes the process; remember it for messages instead.
    this.#cluster.on('error', (error) => {
      this.#lastError = error
    })
    // The slot map is known and every primary reached, whoever started the discovery.
    this.#cluster.on('connect', () => {
      this.#life.breaker.up()
      this.#topology.build()
    })
  }

  command(args: RedisArgument[], route?: CommandRoute): Promise<unknown> {
    if (this.#life.open) return this.#run(args, route)
    return this.#life.whenReady().then(() => this.#run(args, route))
  }

  async batch(commands: RedisArgument[][], route?: CommandRoute): Promise<unknown[]> {
    await this.#life.whenReady()
    // Each command goes to the node of its own key (its first argument; `route.key` names only
    // the first command's). Sent in the same tick, they leave in one write per node: one round
    // trip.
    const each = route?.readonly === true ? READONLY : undefined
    return Promise.all(commands.map((args) => this.#run(args, each).catch((error: Error) => error)))
  }

  async *scan(pattern: string, count: number): AsyncIterable<string[]> {
    await this.#life.whenReady()
    this.#topology.build()
    // A pattern that pins a hash tag (`:1:user:{42}:*`) can only match keys of one slot.
    const slot = patternSlot(pattern)
    const shard = slot === undefined ? undefined : this.#topology.table[slot]
    const primaries = shard === undefined ? this.#topology.primaries() : [shard.master]
    for (const node of primaries) {
      yield* scanNode((args) => this.#onNode(node, args), pattern, count)
    }
  }

  async flush(): Promise<void> {
    await this.#life.whenReady()
    this.#topology.build()
    await Promise.all(this.#topology.primaries().map((node) => this.#onNode(node, ['FLUSHDB'])))
  }

  async client(): Promise<unknown> {
    await this.#life.whenReady()
    return this.#cluster
  }

  async close(): Promise<void> {
    if (!this.#life.close()) return
    await this.#topology.close()
    const cluster = this.#cluster
    if (!this.#closeClient || !cluster.isOpen) return
    if (!cluster.isReady) {
      cluster.destroy()
      return
    }
    await closeWithin(
      () => cluster.close(),
      () => cluster.destroy(),
      this.#deadlines.timeoutMs ?? this.#connectTimeoutMs,
    )
  }

  /** Runs one command: split by slot, checked for one slot, or routed by its key; bounded. */
  #run(args: RedisArgument[], route: CommandRoute | undefined): Promise<unknown> {
    const head = args[0]
    let name = typeof head === 'string' ? head : String(head)
    let split = SPLIT.get(name)
    let atomic = split === undefined ? ATOMIC.get(name) : undefined
    if (split === undefined && atomic === undefined && LOWER.test(name)) {
      name = name.toUpperCase()
      split = SPLIT.get(name)
      atomic = split === undefined ? ATOMIC.get(name) : undefined
    }
    const readonly = route?.readonly === true
    const text = route?.text === true
    const weight = commandWeight(args)
    const refused = this.#deadlines.refuse(weight, name, this.#where)
    if (refused !== undefined) return Promise.reject(refused)
    let reply: Promise<unknown>
    if (split !== undefined) {
      reply = this.#split(split, args, readonly, text)
    } else if (atomic !== undefined) {
      const keys = atomic.keys(args)
      const error = crossSlot(name, keys, atomic)
      if (error !== undefined) return Promise.reject(error)
      reply = this.#send(keys[0] ?? route?.key, readonly, args, text)
    } else {
      reply = this.#send(route?.key ?? impliedKey(name, args), readonly, args, text)
    }
    return this.#bound(reply, name, weight)
  }

  /** Splits a multi-key command by slot, runs the parts in parallel, and combines their replies. */
  #split(kind: Kind, args: RedisArgument[], readonly: boolean, text: boolean): Promise<unknown> {
    const step = kind === MSET ? 2 : 1
    const count = (args.length - 1) / step
    // Malformed (no keys, a key without a value): let the server say what is wrong.
    if (!Number.isInteger(count) || count < 1) return this.#send(args[1], readonly, args, text)
    const head = args[0] as RedisArgument
    const bySlot = new Map<number, number[]>()
    for (let i = 0; i < count; i++) {
      const slot = keySlot(args[1 + i * step] as RedisArgument)
      const group = bySlot.get(slot)
      if (group === undefined) bySlot.set(slot, [i])
      else group.push(i)
    }
    // One slot: the command as it is, atomic as on one server.
    if (bySlot.size === 1) return this.#send(args[1], readonly, args, text, kind)
    const groups = [...bySlot.values()]
    const parts = groups.map((group) => {
      const part: RedisArgument[] = [head]
      for (const i of group) {
        part.push(args[1 + i * step] as RedisArgument)
        if (step === 2) part.push(args[2 + i * step] as RedisArgument)
      }
      return this.#send(part[1], readonly, part, text, kind)
    })
    return Promise.all(parts).then((replies) => {
      if (kind === MSET) return replies[0]
      if (kind === SUM) {
        let sum = 0
        for (const reply of replies) sum += Number(reply)
        return sum
      }
      const values = new Array<unknown>(count)
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g] as number[]
        const reply = replies[g] as unknown[]
        for (let j = 0; j < group.length; j++) values[group[j] as number] = reply[j]
      }
      return values
    })
  }

  /**
   * Sends one single-slot command straight to the node that serves `key`'s slot in cachex's map
   * (for a read with `readFromReplicas`, the next of the shard's healthy nodes). node-redis's own
   * `cluster.sendCommand` costs about half the throughput on this path (command-policy lookup, a
   * parser per call), so it is kept for key-less commands. A `MOVED`, `ASK` or `TRYAGAIN` reply
   * is followed by `#recover`.
   */
  #send(
    key: RedisArgument | undefined,
    readonly: boolean,
    args: RedisArgument[],
    text = false,
    kind?: Kind,
  ): Promise<unknown> {
    if (key === undefined) {
      return this.#router.as(text).sendCommand(undefined, readonly, args)
    }
    const slot = keySlot(key)
    return this.#sendOnce(slot, readonly, args, text).catch((error: unknown) =>
      this.#recover(error, slot, readonly, args, text, kind),
    )
  }

  /** One attempt: to the node cachex's map names for `slot`. */
  #sendOnce(
    slot: number,
    readonly: boolean,
    args: RedisArgument[],
    text: boolean,
  ): Promise<unknown> {
    const shard = this.#topology.table[slot]
    if (shard === undefined) return this.#unmapped(slot, readonly, args, text)
    const node = readonly ? reader(shard) : shard.master
    if (node.down) return Promise.reject(this.#topology.downError(node))
    const sender = node.sender
    if (sender !== undefined) return sender.as(text).sendCommand(args)
    return this.#topology.sendTo(node, args, text)
  }

  /** A slot cachex's map has no node for: the map is built first, or node-redis routes it. */
  #unmapped(
    slot: number,
    readonly: boolean,
    args: RedisArgument[],
    text: boolean,
  ): Promise<unknown> {
    if (!this.#topology.built) {
      this.#topology.build()
      if (this.#topology.table[slot] !== undefined)
        return this.#sendOnce(slot, readonly, args, text)
    }
    // A slot no primary serves (the cluster lost a shard): node-redis says so in its own words.
    void this.#topology.refresh()
    return this.#router.as(text).sendCommand(args[1], readonly, args)
  }

  /**
   * Follows what a node answered instead of a reply, bounded by `maxCommandRedirections` and, for
   * `TRYAGAIN`, by most of `socketTimeout`:
   * - `MOVED <slot> <host:port>`: the slot lives there now; the map says so at once for that slot
   *   and is refreshed soon, and the command goes there — to any address, connecting when needed.
   * - `ASK <slot> <host:port>`: the key is being migrated; the command goes there after
   *   `ASKING`, even to a primary that owns no slot yet (node-redis finds only slot owners).
   * - `TRYAGAIN`: a multi-key command met a slot half migrated; retried after 10 ms, doubling up
   *   to 100 ms, until the migration of the slot is done. A part of a split read or delete
   *   (`MGET`, `EXISTS`, `TOUCH`, `DEL`, `UNLINK`: `kind`) that still meets it after 3 tries runs
   *   one key at a time instead (each key then follows its own `ASK`), as a migration left half
   *   done would otherwise fail it for as long as it lasts; `MSET` stays whole.
   * - a node client closed under cachex (node-redis dropped the node): sent again through the map.
   * Anything else is the call's error; a lost connection or `CLUSTERDOWN` also sets cachex
   * watching the nodes and the slot map.
   */
  async #recover(
    first: unknown,
    slot: number,
    readonly: boolean,
    args: RedisArgument[],
    text: boolean,
    kind?: Kind,
  ): Promise<unknown> {
    let error = first
    let redirects = 0
    let wait = TRYAGAIN_FIRST_MS
    let retryingSince = 0
    let tries = 0
    for (;;) {
      if (!(error instanceof Error) || this.#life.closed) throw error
      const message = error.message
      let reply: Promise<unknown>
      if (error instanceof ErrorReply && message.startsWith('MOVED ')) {
        if (++redirects > this.#maxRedirects) throw error
        reply = this.#topology.sendTo(this.#topology.moved(slot, target(message)), args, text)
      } else if (error instanceof ErrorReply && message.startsWith('ASK ')) {
        if (++redirects > this.#maxRedirects) throw error
        reply = this.#topology.asking(this.#topology.handle(target(message)), args, text)
      } else if (error instanceof ErrorReply && message.startsWith('TRYAGAIN')) {
        const now = performance.now()
        retryingSince ||= now
        if (++tries > TRYAGAIN_WHOLE && kind !== undefined && kind !== MSET && args.length > 2) {
          return this.#keyByKey(kind, args, readonly, text)
        }
        if (now - retryingSince + wait > this.#retryBudgetMs) throw error
        await delay(wait)
        wait = Math.min(wait * 2, TRYAGAIN_MAX_MS)
        reply = this.#sendOnce(slot, readonly, args, text)
      } else if (isClientClosed(error)) {
        if (++redirects > this.#maxRedirects) throw error
        this.#topology.forgetClosed()
        reply = this.#sendOnce(slot, readonly, args, text)
      } else {
        if (!(error instanceof ErrorReply) || message.startsWith('CLUSTERDOWN')) {
          this.#topology.watch()
        }
        throw error
      }
      try {
        return await reply
      } catch (next) {
        error = next
      }
    }
  }

  /** `MGET k1 k2…` as `MGET k1`, `MGET k2`…; `DEL k1 k2…` as `DEL k1`…, the counts summed. */
  async #keyByKey(
    kind: Kind,
    args: RedisArgument[],
    readonly: boolean,
    text: boolean,
  ): Promise<unknown> {
    const head = args[0] as RedisArgument
    const replies = await Promise.all(
      args.slice(1).map((key) => this.#send(key, readonly, [head, key], text)),
    )
    if (kind === MGET) return replies.map((reply) => (reply as unknown[])[0] ?? null)
    let sum = 0
    for (const reply of replies) sum += Number(reply)
    return sum
  }

  /** Runs a command on one given node (SCAN, FLUSHDB on each primary); bounded. */
  #onNode(node: NodeHandle, args: RedisArgument[]): Promise<unknown> {
    const weight = commandWeight(args)
    const refused = this.#deadlines.refuse(weight, args[0] as RedisArgument, this.#where)
    if (refused !== undefined) return Promise.reject(refused)
    return this.#bound(this.#topology.sendTo(node, args, false), String(args[0]), weight)
  }

  #bound(reply: Promise<unknown>, command: string, weight: number): Promise<unknown> {
    return this.#deadlines.track(reply, command, this.#mapError, weight)
  }

  readonly #mapError = (error: unknown): Error => {
    if (this.#life.closed && isClientClosed(error)) return this.#life.closedError()
    const typed = toCachexError(error, this.#secrets)
    if (typed instanceof ResponseError && typed.message.startsWith('CROSSSLOT')) {
      return new CrossSlotError(
        `${typed.message}: Redis Cluster runs a multi-key command only when all its keys are in one hash slot; ${TAG_HINT}`,
        { cause: error },
      )
    }
    return typed
  }

  #describe(error: unknown): string {
    return toCachexError(error, this.#secrets).message
  }

  /** Waits for the slot map, at most `socketConnectTimeout`; starts the discovery if needed. */
  #connect(): Promise<void> {
    return this.#connecting.run(() => {
      const cluster = this.#cluster
      return connectBounded({
        emitter: cluster,
        where: this.#where,
        timeoutMs: this.#connectTimeoutMs,
        // The cluster emits 'connect' once it knows the slot map and reaches every primary.
        readyEvent: 'connect',
        opening: !cluster.isOpen
          ? cluster.connect()
          : cluster.isReady
            ? Promise.resolve()
            : undefined,
        lastError: () => this.#lastError,
        setLastError: (error) => {
          this.#lastError = error
        },
        describe: (error) => this.#describe(error),
      })
    })
  }
}

/** The `CrossSlotError` for a command whose keys span slots, or `undefined` when they share one. */
function crossSlot(
  command: string,
  keys: readonly RedisArgument[],
  atomic: Atomic,
): CrossSlotError | undefined {
  if (keys.length < 2) return undefined
  const first = keys[0] as RedisArgument
  const slot = keySlot(first)
  for (let i = 1; i < keys.length; i++) {
    const other = keys[i] as RedisArgument
    const otherSlot = keySlot(other)
    if (otherSlot !== slot) {
      return new CrossSlotError(
        `${command} across hash slots (${atomic.what}): keys '${String(first)}' (slot ${slot}) and '${String(other)}' (slot ${otherSlot}) are in different hash slots, and Redis Cluster runs it atomically only within one slot; ${atomic.hint}`,
      )
    }
  }
  return undefined
}

/** The key a command without a `route.key` is routed by: its first argument, unless it names none. */
function impliedKey(name: string, args: readonly RedisArgument[]): RedisArgument | undefined {
  return KEYLESS.has(name) ? undefined : args[1]
}

/** The next node of a shard's read rotation (round robin). */
function reader(shard: Shard): NodeHandle {
  const readers = shard.readers
  if (readers.length === 1) return readers[0] as NodeHandle
  const node = readers[shard.turn % readers.length] as NodeHandle
  shard.turn = (shard.turn + 1) & 0x3fffffff
  return node
}

/** The `host:port` of a `MOVED`/`ASK` reply: its last word. */
function target(message: string): string {
  return message.slice(message.lastIndexOf(' ') + 1).trim()
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
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
