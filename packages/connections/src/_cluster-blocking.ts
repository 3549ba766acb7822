// A cluster's blocking commands (`BLPOP`, `BLMOVE`, `XREAD … BLOCK`…) on dedicated clients of
// each node, so that a long block holds up none of the node's other calls, following `MOVED`,
// `ASK` and `TRYAGAIN` as every other command does.

import type { RedisArgument } from '@cachex/core'
import { ResponseError } from '@cachex/core'
import { type BlockingClient, BlockingClients } from './_blocking.ts'
import type { NodeHandle } from './_cluster-nodes.ts'
import type { Deadlines } from './_deadlines.ts'
import type { ReplyForm } from './_options.ts'
import {
  delay,
  redirectTarget,
  TRYAGAIN_FIRST_MS,
  TRYAGAIN_MAX_MS,
  tryAgainBudgetMs,
} from './_redirects.ts'
import type { Topology } from './_topology.ts'

/** What `ClusterBlocking` needs of its connection. */
export interface ClusterBlockingOptions {
  topology: Topology
  deadlines: Deadlines
  connectTimeoutMs: number
  /** How many redirects a command follows (`maxCommandRedirections`). */
  maxRedirects: number
  mapError: (error: unknown) => Error
  /** Whether the connection was closed: no redirect is followed then. */
  closed: () => boolean
}

/**
 * What Redis 7 answers a blocked `XREADGROUP` whose stream key was deleted — also by the
 * `MIGRATE` of a reshard, which deletes the key on the old owner once it is on the new one.
 */
const UNBLOCKED_DELETED = 'UNBLOCKED the stream key no longer exists'

/** The dedicated clients of a cluster's blocking commands, by node address. */
export class ClusterBlocking {
  readonly #options: ClusterBlockingOptions
  readonly #clients = new Map<string, BlockingClients>()
  /** How long a call may retry `TRYAGAIN`, as every cluster call: most of `socketTimeout`. */
  readonly #retryBudgetMs: number
  #closed = false

  constructor(options: ClusterBlockingOptions) {
    this.#options = options
    this.#retryBudgetMs = tryAgainBudgetMs(options.deadlines.timeoutMs)
  }

  /**
   * Runs `args` on a dedicated client of `node`, the primary of `slot`. What a node answers
   * instead of a reply is followed as `followRedirects` does, up to `maxRedirects` times:
   * - `MOVED` and `ASK` (a redirected command did not run, so it is sent again): on a dedicated
   *   client of the named node, after `ASKING` for an `ASK`; for a `MOVED`, the map says so at
   *   once for the slot and is refreshed soon.
   * - `TRYAGAIN` (keys of the slot split by a migration): sent again where the map says after
   *   10 ms, doubling up to 100 ms, within 80 % of `socketTimeout`, past which the call fails with
   *   it; the `ASK` that sends a retry to the importing node is not counted.
   * - `UNBLOCKED the stream key no longer exists` (a blocked `XREADGROUP` whose stream a reshard
   *   moved: `MIGRATE` deletes it on the old owner): if an `EXISTS` (sent and followed the same
   *   way) finds every stream of the call, the read is sent again, counted as a redirect,
   *   blocking only for what is left of its block; otherwise (the stream was deleted) the call
   *   fails with that error.
   * Each send is bounded by `socketTimeout + blockMs` — a block that a slot move cut short (Redis
   * answers a blocked client `MOVED`) is sent again whole — so a call is bounded by that times
   * the redirects it follows. An `XREAD` of `'$'` reads from each such stream's last entry ID,
   * asked first (see `#withoutDollar`), so that a read sent again misses nothing added meanwhile.
   * Every command goes on dedicated clients, which `close()` destroys at once.
   */
  async run(
    args: RedisArgument[],
    slot: number,
    node: NodeHandle,
    text: ReplyForm,
    blockMs: number,
  ): Promise<unknown> {
    return this.#follow(await this.#withoutDollar(args, slot, node), slot, node, text, blockMs)
  }

  /** Closes every dedicated client: calls waiting on them (or opening one) reject. */
  close(): void {
    this.#closed = true
    for (const clients of this.#clients.values()) clients.close()
    this.#clients.clear()
  }

  /** `run`'s sends and what it follows (see `run`); `blockMs` 0 for a command that does not block. */
  async #follow(
    args: RedisArgument[],
    slot: number,
    node: NodeHandle,
    text: ReplyForm,
    blockMs: number,
  ): Promise<unknown> {
    const { topology, maxRedirects, closed } = this.#options
    const startedAt = performance.now()
    let to = node
    let asking = false
    let command = args
    let block = blockMs
    let redirects = 0
    let wait = TRYAGAIN_FIRST_MS
    let retryingSince = 0
    /** The call was just sent again after a `TRYAGAIN`: the `ASK` it meets is not counted. */
    let afterTryAgain = false
    for (;;) {
      if (to.down) throw topology.downError(to)
      try {
        return await this.#of(to).run(command, text, block, asking)
      } catch (error) {
        const message = error instanceof ResponseError ? error.message : ''
        if (message === '' || closed()) throw error
        const retried = afterTryAgain
        afterTryAgain = false
        if (message.startsWith('MOVED ')) {
          if (++redirects > maxRedirects) throw error
          to = topology.moved(slot, redirectTarget(message))
          asking = false
        } else if (message.startsWith('ASK ')) {
          if (!retried && ++redirects > maxRedirects) throw error
          to = topology.askTarget(redirectTarget(message))
          asking = true
        } else if (message.startsWith('TRYAGAIN')) {
          const now = performance.now()
          retryingSince ||= now
          if (now - retryingSince + wait > this.#retryBudgetMs) throw error
          await delay(wait)
          wait = Math.min(wait * 2, TRYAGAIN_MAX_MS)
          to = topology.table[slot]?.master ?? to
          asking = false
          afterTryAgain = true
        } else if (message.startsWith(UNBLOCKED_DELETED)) {
          const streams = streamsOf(args)
          if (streams === undefined || redirects >= maxRedirects) throw error
          if (!(await this.#stillThere(streams.keys, slot, to))) throw error
          redirects++
          command = [...args]
          if (streams.block !== undefined) {
            block = Math.max(1, Math.ceil(blockMs - (performance.now() - startedAt)))
            command[streams.block] = String(block)
          }
          to = topology.table[slot]?.master ?? to
          asking = false
        } else {
          throw error
        }
      }
    }
  }

  /** Whether every one of `keys` (of `slot`) exists, by `EXISTS`; `false` when that fails. */
  async #stillThere(keys: RedisArgument[], slot: number, node: NodeHandle): Promise<boolean> {
    try {
      const count = await this.#follow(['EXISTS', ...keys], slot, node, true, 0)
      return Number(count) === keys.length
    } catch {
      return false
    }
  }

  /**
   * `args`, an `XREAD` whose IDs include `'$'`, with each `'$'` replaced by the ID of its stream's
   * last entry (`0-0` for a stream without entries), asked first with `XREVRANGE … COUNT 1` (as
   * it is for a user the ACL refuses that); any other command as it is. `'$'` is taken by the node that runs the read: a read sent again
   * after a slot move would take it anew on the new owner, and miss what was added to the stream
   * while the slot moved.
   */
  async #withoutDollar(
    args: RedisArgument[],
    slot: number,
    node: NodeHandle,
  ): Promise<RedisArgument[]> {
    const streams = String(args[0]).toUpperCase() === 'XREAD' ? streamsOf(args) : undefined
    if (streams === undefined) return args
    const first = args.length - streams.keys.length
    let resolved = args
    for (const [i, key] of streams.keys.entries()) {
      if (String(args[first + i]) !== '$') continue
      let last: unknown
      try {
        last = await this.#follow(['XREVRANGE', key, '+', '-', 'COUNT', '1'], slot, node, true, 0)
      } catch (error) {
        // A user who may not run XREVRANGE reads with `'$'` as sent, as on one server.
        if (error instanceof ResponseError && error.message.startsWith('NOPERM')) return args
        throw error
      }
      const id = Array.isArray(last) && Array.isArray(last[0]) ? last[0][0] : undefined
      if (resolved === args) resolved = [...args]
      resolved[first + i] = id === undefined ? '0-0' : String(id)
    }
    return resolved
  }

  /**
   * The dedicated clients of `node`, made on first use; once closed, ones that refuse every call
   * (a redirect or retry under way when the connection was closed opens nothing).
   */
  #of(node: NodeHandle): BlockingClients {
    let clients = this.#clients.get(node.address)
    if (clients === undefined) {
      const { topology, connectTimeoutMs, deadlines, mapError } = this.#options
      clients = new BlockingClients({
        make: () => topology.blockingClient(node) as BlockingClient,
        connectTimeoutMs,
        deadlines,
        mapError,
        where: `the cluster node ${node.address}`,
      })
      if (this.#closed) clients.close()
      else this.#clients.set(node.address, clients)
    }
    return clients
  }
}

/**
 * The stream keys of an `XREAD`/`XREADGROUP` (the first half of what follows `STREAMS`) and the
 * index of its `BLOCK` value; `undefined` for any other command.
 */
function streamsOf(args: RedisArgument[]): { keys: RedisArgument[]; block?: number } | undefined {
  const name = String(args[0]).toUpperCase()
  // XREADGROUP GROUP <group> <consumer> …: names that could read as options come first.
  const first = name === 'XREADGROUP' ? 4 : name === 'XREAD' ? 1 : -1
  if (first === -1) return undefined
  let block: number | undefined
  for (let i = first; i < args.length; i++) {
    const word = String(args[i]).toUpperCase()
    if (word === 'BLOCK') block = i + 1
    else if (word === 'STREAMS') {
      const count = (args.length - i - 1) / 2
      if (!Number.isInteger(count) || count === 0) return undefined
      return { keys: args.slice(i + 1, i + 1 + count), block }
    }
  }
  return undefined
}
