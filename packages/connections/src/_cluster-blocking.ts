// A cluster's blocking commands (`BLPOP`, `BLMOVE`, `XREAD … BLOCK`…) on dedicated clients of
// each node, so that a long block holds up none of the node's other calls, following `MOVED` and
// `ASK` as every other command does.

import type { RedisArgument } from '@cachex/core'
import { ResponseError } from '@cachex/core'
import { type BlockingClient, BlockingClients } from './_blocking.ts'
import type { NodeHandle } from './_cluster-nodes.ts'
import type { Deadlines } from './_deadlines.ts'
import type { ReplyForm } from './_options.ts'
import { redirectTarget } from './_redirects.ts'
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

/** The dedicated clients of a cluster's blocking commands, by node address. */
export class ClusterBlocking {
  readonly #options: ClusterBlockingOptions
  readonly #clients = new Map<string, BlockingClients>()

  constructor(options: ClusterBlockingOptions) {
    this.#options = options
  }

  /**
   * Runs `args` on a dedicated client of `node`, the primary of `slot`. `MOVED` and `ASK` are
   * followed as `followRedirects` does, up to `maxRedirects` times (a redirected command did not
   * run, so it is sent again): on a dedicated client of the named node, after `ASKING` for an
   * `ASK`; for a `MOVED`, the map says so at once for the slot and is refreshed soon. Each send
   * is bounded by `socketTimeout + blockMs` — a block that a slot move cut short (Redis answers a
   * blocked client `MOVED`) is sent again whole — so a call is bounded by that times the
   * redirects it follows.
   */
  run(
    args: RedisArgument[],
    slot: number,
    node: NodeHandle,
    text: ReplyForm,
    blockMs: number,
  ): Promise<unknown> {
    const { topology, maxRedirects, closed } = this.#options
    const attempt = (to: NodeHandle, asking: boolean, redirects: number): Promise<unknown> => {
      if (to.down) return Promise.reject(topology.downError(to))
      return this.#of(to)
        .run(args, text, blockMs, asking)
        .catch((error: unknown) => {
          const message = error instanceof ResponseError ? error.message : ''
          const moved = message.startsWith('MOVED ')
          if (!(moved || message.startsWith('ASK ')) || closed() || redirects >= maxRedirects) {
            throw error
          }
          const address = redirectTarget(message)
          const next = moved ? topology.moved(slot, address) : topology.askTarget(address)
          return attempt(next, !moved, redirects + 1)
        })
    }
    return attempt(node, false, 0)
  }

  /** Closes every dedicated client: calls waiting on them reject. */
  close(): void {
    for (const clients of this.#clients.values()) clients.close()
    this.#clients.clear()
  }

  /** The dedicated clients of `node`, made on first use. */
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
      this.#clients.set(node.address, clients)
    }
    return clients
  }
}
