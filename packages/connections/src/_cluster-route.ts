// Where a cluster call goes: to the node cachex's slot map names for its key's slot (following
// `MOVED`, `ASK` and `TRYAGAIN`), or — a command without a key, or a slot the map has no node for
// — through node-redis's own routing (`router`). And what its failure says: a node client that
// node-redis closed (`ClientClosedError`) is a `ClosedError` only once this connection is closed.
import { ConnectionError, type RedisArgument } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import { rejectAfterTurn } from './_after-turn.ts'
import { type ClusterErrorWording, mapClusterError, noteNode } from './_cluster-errors.ts'
import type { NodeHandle, NodeRedisClusterLike } from './_cluster-nodes.ts'
import { isRead, noteMoved, staleRead } from './_cluster-read-order.ts'
import { isClientClosed, isDisconnected } from './_errors.ts'
import { validAddress } from './_node-address.ts'
import type { ReplyForm, Sender } from './_options.ts'
import { commandResend, followRedirects, type RedirectContext } from './_redirects.ts'
import type { Kind } from './_routing.ts'
import { asEval } from './_scripts.ts'
import type { Shard } from './_slot-map.ts'
import { keySlot } from './_slots.ts'
import type { Topology } from './_topology.ts'

/** What a `ClusterRoute` routes with. */
export interface ClusterRouteOptions {
  /** node-redis's cluster (its slot map, for a slot cachex's has no node of). */
  cluster: NodeRedisClusterLike
  /** The cluster seen through cachex's command options, for the commands node-redis routes. */
  router: Sender<Pick<NodeRedisClusterLike, 'sendCommand'>>
  /** cachex's slot map and node health. */
  topology: Topology
  /** Which cluster, for messages. */
  where: string
  /** Whether this connection is closed (then node-redis's errors are left for `mapError`). */
  closed: () => boolean
  /** `MOVED` redirections followed at most (node-redis's `maxCommandRedirections`). */
  maxRedirects: number
  /** How long `TRYAGAIN` is retried (see `tryAgainBudgetMs`). */
  retryBudgetMs: number
}

/** The routes of one cluster connection's calls (see `ClusterRoute.send`). */
export class ClusterRoute {
  /** What `followRedirects` uses: the map, the bounds, the senders. */
  readonly redirects: RedirectContext
  /** The same, for a call that has `TRYAGAIN` at once (`route.tryAgain: false`). */
  readonly noTryAgain: RedirectContext
  /** While a read batch is sent: the node each shard's reads go to (see `pin`). */
  #pinned: Map<Shard, NodeHandle> | undefined
  /** The node `#sendOnce` just sent to (`undefined`: none of the map), for `noteNode`. */
  #sentTo: NodeHandle | undefined
  /**
   * The number (`NodeHandle.sent`) `#sendOnce` just gave a command sent as to a primary whose
   * client is `READONLY` (0: another command): see `send`.
   */
  #number = 0
  readonly #options: ClusterRouteOptions

  constructor(options: ClusterRouteOptions) {
    this.#options = options
    this.redirects = {
      topology: options.topology,
      maxRedirects: options.maxRedirects,
      retryBudgetMs: options.retryBudgetMs,
      closed: options.closed,
      sendOnce: (slot, readonly, args, text) => this.#sendOnce(slot, readonly, args, text),
      send: (key, readonly, args, text) => this.send(key, readonly, args, text),
    }
    this.noTryAgain = { ...this.redirects, retryBudgetMs: 0 }
  }

  /**
   * Runs `send` with the reads of one shard going to one of its nodes, not round robin (`GET`
   * and `PTTL` of a key of one batch must see the same copy of it).
   */
  pinned<T>(send: () => T): T {
    this.#pinned = new Map()
    try {
      return send()
    } finally {
      this.#pinned = undefined
    }
  }

  /**
   * Sends one single-slot command straight to the node that serves `key`'s slot in cachex's map
   * (for a read with `readFromReplicas`, the next of the shard's healthy nodes). node-redis's own
   * `cluster.sendCommand` costs about half the throughput on this path (command-policy lookup, a
   * parser per call), so it is kept for key-less commands (`routed`). A `MOVED`, `ASK` or
   * `TRYAGAIN` reply is followed by `followRedirects`.
   *
   * A node whose client is `READONLY` (met as a replica, with `readFromReplicas`) answers a read
   * as a replica once it is demoted, where it answers a write `MOVED`: sent to it as to the
   * primary right behind a write (a pipeline, calls of one tick), a read would overtake the
   * write. Such a node's primary commands are numbered in send order (its replies' order), a
   * `MOVED` (or a script's `READONLY`) it answers is noted with its command's number, and a read
   * answered after it for the same slot follows that reply instead (see `_cluster-read-order.ts`).
   */
  send(
    key: RedisArgument | undefined,
    readonly: boolean,
    args: RedisArgument[],
    text: ReplyForm = false,
    kind?: Kind,
    redirects: RedirectContext = this.redirects,
  ): Promise<unknown> {
    if (key === undefined) return this.routed(undefined, readonly, args, text)
    const slot = keySlot(key)
    const reply = this.#sendOnce(slot, readonly, args, text)
    const node = this.#sentTo
    const number = this.#number
    const failed = (error: unknown) => {
      if (node !== undefined) {
        // A connection dropped under it (a node failed over, killed) names its node.
        noteNode(error, node)
        if (number !== 0) noteMoved(node, slot, number, error, this.#options.topology.table)
      }
      return followRedirects(
        redirects,
        error,
        slot,
        // A script goes with its source: the node it goes to now may not have it.
        commandResend(redirects, slot, readonly, asEval(args), text, kind),
      )
    }
    // Only a read to a `READONLY` client as to the primary has its reply checked (one closure).
    if (number === 0 || node === undefined || !isRead(args)) return reply.catch(failed)
    return reply.then((value: unknown) => {
      const moved = staleRead(node, slot, number, this.#options.topology.table)
      if (moved === undefined) return value
      // Answered by a replica after a write's MOVED: sent after that write, where it went.
      return followRedirects(
        redirects,
        moved.error,
        slot,
        commandResend(redirects, slot, readonly, asEval(args), text, kind),
      )
    }, failed)
  }

  /**
   * A command node-redis routes (`cluster.sendCommand`: key-less ones, or one for a slot cachex's
   * map has no node of). A node client node-redis closed under it (`ClientClosedError`: it closes
   * the client of a node it drops from its slot map, and nothing was sent) has it sent once more,
   * routed anew; refused so again, it fails with a `ConnectionError` marked unsent (`markUnsent`:
   * safe to retry) — never node-redis's error, which says the connection was closed. Once this
   * connection is closed, node-redis's error is left as it is, for `mapError` to word.
   */
  routed(
    key: RedisArgument | undefined,
    readonly: boolean,
    args: RedisArgument[],
    text: ReplyForm,
  ): Promise<unknown> {
    const router = this.#options.router
    const send = () => router.as(text).sendCommand(key, readonly, args)
    return send().catch((error: unknown) => {
      if (!isClientClosed(error) || this.#options.closed()) throw error
      return send().catch((again: unknown) => {
        if (!isClientClosed(again) || this.#options.closed()) throw again
        throw closedUnderRouting(again, this.#options.where)
      })
    })
  }

  /** One attempt: to the node cachex's map names for `slot`. */
  #sendOnce(
    slot: number,
    readonly: boolean,
    args: RedisArgument[],
    text: ReplyForm,
  ): Promise<unknown> {
    const topology = this.#options.topology
    const shard = topology.table[slot]
    this.#sentTo = undefined
    this.#number = 0
    if (shard === undefined) return this.#unmapped(slot, readonly, args, text)
    const node = readonly ? this.#reader(shard) : shard.master
    if (node.down) return rejectAfterTurn(topology.downError(node))
    this.#sentTo = node
    // Numbered in send order: see `send` (a counter, only for a `READONLY` client).
    this.#number = !readonly && node.readonlyClient ? ++node.sent : 0
    const sender = node.sender
    if (sender !== undefined) return sender.as(text).sendCommand(args)
    return topology.sendTo(node, args, text)
  }

  /** The node of `shard` a read goes to: the batch's pick while one is sent, else the next. */
  #reader(shard: Shard): NodeHandle {
    const pinned = this.#pinned
    if (pinned === undefined) return reader(shard)
    let node = pinned.get(shard)
    if (node === undefined) {
      node = reader(shard)
      pinned.set(shard, node)
    }
    return node
  }

  /** A slot cachex's map has no node for: the map is built first, or node-redis routes it. */
  #unmapped(
    slot: number,
    readonly: boolean,
    args: RedisArgument[],
    text: ReplyForm,
  ): Promise<unknown> {
    const topology = this.#options.topology
    if (!topology.built) {
      topology.build()
      if (topology.table[slot] !== undefined) return this.#sendOnce(slot, readonly, args, text)
    }
    // Asked again, of the seeds too: a cluster formed after cachex started has its slots now.
    topology.rediscover()
    // A slot node-redis knows a node of: it routes the command (and follows its redirections).
    const known = this.#options.cluster.slots[slot]?.master.address
    if (known !== undefined && validAddress(known))
      return this.routed(args[1], readonly, args, text)
    // None does (the cluster lost a shard, or had no slot assigned yet): not node-redis's TypeError.
    return rejectAfterTurn(
      markUnsent(
        new ConnectionError(
          `no node of ${this.#options.where} serves slot ${slot} (yet): its slot map assigns it to no valid node — a cluster not formed yet, or one that lost a shard; the map is asked again, of the seeds too (the command was not sent)`,
        ),
      ),
    )
  }
}

/** How `clusterCallError` tells a closed connection from one whose node client was closed. */
export interface ClusterCallErrors extends ClusterErrorWording {
  /** Whether this connection is closed (`close()`). */
  closed(): boolean
  /** The error of a call made on it once closed. */
  closedError(): Error
  /** For a cluster of the user's that its owner closed, the error that says so. */
  stopped(): Error | undefined
}

/**
 * A failure of a cluster call as cachex words it: a `ClosedError` only once this connection is
 * closed (a node client closed or destroyed under the call then says so). Before that, a node
 * client node-redis closed (`ClientClosedError`: nothing was sent) is the owner's closing of a
 * cluster of theirs, or a `ConnectionError` marked unsent, safe to retry; anything else as
 * `mapClusterError` words it.
 */
export function clusterCallError(error: unknown, errors: ClusterCallErrors): Error {
  const closedClient = isClientClosed(error)
  if (errors.closed() && (closedClient || isDisconnected(error))) return errors.closedError()
  if (closedClient) return errors.stopped() ?? closedUnderRouting(error, errors.where)
  return mapClusterError(error, errors)
}

/**
 * A call refused by a node client closed under it (`ClientClosedError`) while this connection is
 * open: a `ConnectionError` marked unsent (`markUnsent`).
 */
function closedUnderRouting(error: unknown, where: string): ConnectionError {
  return markUnsent(
    new ConnectionError(
      `a node client of ${where} was closed under this command (node-redis closes the client of a node it drops from its slot map); the command was not sent — try again`,
      { cause: error },
    ),
  )
}

/** The next node of a shard's read rotation (round robin). */
function reader(shard: Shard): NodeHandle {
  const readers = shard.readers
  if (readers.length === 1) return readers[0] as NodeHandle
  const node = readers[shard.turn % readers.length] as NodeHandle
  shard.turn = (shard.turn + 1) & 0x3fffffff
  return node
}
