// A cluster's blocking commands (`BLPOP`, `BLMOVE`, `XREAD … BLOCK`…) on dedicated clients of
// each node, so that a long block holds up none of the node's other calls, following `MOVED`,
// `ASK` and `TRYAGAIN` as every other command does.

import type { RedisArgument } from '@cachex/core'
import { ResponseError } from '@cachex/core'
import { rejectAfterTurn } from './_after-turn.ts'
import { type BlockingClient, BlockingClients } from './_blocking.ts'
import type { NodeHandle } from './_cluster-nodes.ts'
import type { Deadlines } from './_deadlines.ts'
import type { ReplyForm } from './_options.ts'
import { followRedirects, type RedirectBounds } from './_redirects.ts'

/** What `ClusterBlocking` needs of its connection. */
export interface ClusterBlockingOptions {
  /** The cluster's map and the bounds its calls follow redirections within. */
  redirects: RedirectBounds
  deadlines: Deadlines
  connectTimeoutMs: number
  mapError: (error: unknown) => Error
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
  #closed = false

  constructor(options: ClusterBlockingOptions) {
    this.#options = options
  }

  /**
   * Runs `args` on a dedicated client of `node`, the primary of `slot`. What a node answers
   * instead of a reply is followed by `followRedirects`, as for every cluster call, each send on
   * a dedicated client of the node it names (after `ASKING` for an `ASK`; a `TRYAGAIN` where the
   * map says), and one more case:
   * - `UNBLOCKED the stream key no longer exists` (a blocked `XREADGROUP` whose stream a reshard
   *   moved: `MIGRATE` deletes it on the old owner): if an `EXISTS` (sent and followed the same
   *   way) finds every stream of the call, the read is sent again, counted as a redirect,
   *   blocking only for what is left of its block; otherwise (the stream was deleted) the call
   *   fails with that error.
   * Each send is bounded by `socketTimeout + blockMs` — a block that a slot move cut short (Redis
   * answers a blocked client `MOVED`) is sent again whole — so a call is bounded by that times
   * the redirects it follows. An `XREAD` of `'$'` reads from each such stream's last entry ID,
   * asked first (see `#withoutDollar`), so that a read sent again misses nothing added meanwhile.
   * Every command goes on dedicated clients, which `close()` unblocks, then destroys.
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

  /**
   * Closes every dedicated client (see `BlockingClients.close`): calls opening one reject; calls
   * in flight are unblocked through each node's own client, and resolve with what the node
   * handed them meanwhile, else reject. Resolves once they are done; never rejects.
   */
  close(): Promise<void> {
    this.#closed = true
    const closing = [...this.#clients.values()].map((clients) => clients.close())
    this.#clients.clear()
    return Promise.all(closing).then(() => undefined)
  }

  /** `run`'s sends and what it follows (see `run`); `blockMs` 0 for a command that does not block. */
  async #follow(
    args: RedisArgument[],
    slot: number,
    node: NodeHandle,
    text: ReplyForm,
    blockMs: number,
  ): Promise<unknown> {
    const { redirects } = this.#options
    const { topology } = redirects
    const startedAt = performance.now()
    let command = args
    let block = blockMs
    /** The node sent to last: where a `TRYAGAIN` goes again when the map names no primary. */
    let last = node
    const send = (to: NodeHandle, asking: boolean): Promise<unknown> => {
      last = to
      if (to.down) return rejectAfterTurn(topology.downError(to))
      return this.#of(to).run(command, text, block, asking)
    }
    const again = () => send(topology.table[slot]?.master ?? last, false)
    try {
      return await send(node, false)
    } catch (error) {
      return followRedirects(redirects, error, slot, {
        to: (to) => send(to, false),
        asking: (to) => send(to, true),
        again,
        otherwise: async (error) => {
          if (!(error instanceof ResponseError) || !error.message.startsWith(UNBLOCKED_DELETED)) {
            return undefined
          }
          const streams = streamsOf(args)
          if (streams === undefined || !(await this.#stillThere(streams.keys, slot, last))) {
            return undefined
          }
          command = [...args]
          if (streams.block !== undefined) {
            block = Math.max(1, Math.ceil(blockMs - (performance.now() - startedAt)))
            command[streams.block] = String(block)
          }
          return again
        },
      })
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
      const { redirects, connectTimeoutMs, deadlines, mapError } = this.#options
      clients = new BlockingClients({
        make: () => redirects.topology.blockingClient(node) as BlockingClient,
        connectTimeoutMs,
        deadlines,
        mapError,
        where: `the cluster node ${node.address}`,
        // On the node's own client, the one that stays up while they block.
        unblock: (id) => {
          const sender = node.down ? undefined : node.sender
          return sender?.as(true).sendCommand(['CLIENT', 'UNBLOCK', id])
        },
      })
      // Closed already: it holds no call to wait for.
      if (this.#closed) void clients.close()
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
