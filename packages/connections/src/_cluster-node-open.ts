import { ConnectionError } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import type { BlockingClient } from './_blocking.ts'
import { clientAt } from './_client-factory.ts'
import type { NodeHandle, NodeRedisNodeClientLike } from './_cluster-node-handle.ts'
import { closeWithin, destroyClient, within } from './_connect.ts'
import { scrub } from './_errors.ts'
import { trackingPingInterval } from './_standalone-options.ts'
import type { TrackingClientLike } from './_tracking.ts'

// The clients cachex opens itself to cluster nodes (`NodeOpener`), with the cluster's node
// options: where their sockets go (`nodeAddressMap`, applied as node-redis applies it), a
// bounded connect for a node node-redis does not know, the tracking and blocking clients, and a
// bounded close. Which node uses which client is `NodeClients`' business.

/** Options of a `NodeOpener`: the cluster's node options and the bounds. */
export interface NodeOpenerOptions {
  /** node-redis client options for the nodes cachex connects to itself; `undefined`: it cannot. */
  nodeDefaults: Record<string, unknown> | undefined
  /** node-redis's `nodeAddressMap` (an object or a function), if any. */
  nodeAddressMap: unknown
  /** Open cachex's own clients in `READONLY` mode (they may read from a replica). */
  readFromReplicas: boolean
  /** How long closing a client may take before it is destroyed. */
  closeTimeoutMs: number
  /** How long cachex's own connects may take. */
  connectTimeoutMs: number
}

/** A client cachex opened to a node: what `NodeClients` uses of it beyond sending. */
export type OwnNodeClient = NodeRedisNodeClientLike & {
  connect(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  once(event: 'connect', listener: () => void): unknown
  readonly isOpen: boolean
  readonly isReady: boolean
}

/** Opens and closes cachex's own clients to cluster nodes, with the cluster's node options. */
export class NodeOpener {
  readonly #options: NodeOpenerOptions

  constructor(options: NodeOpenerOptions) {
    this.#options = options
  }

  /**
   * A new RESP3 client to `node` for the local tier's tracking (`emitInvalidate`), with the
   * cluster's node options; `undefined` when they are unknown (a handed-in cluster without them).
   */
  trackingClient(node: NodeHandle): TrackingClientLike | undefined {
    const defaults = this.#options.nodeDefaults
    if (defaults === undefined) return undefined
    return clientAt(defaults, this.#socketOf(node), {
      RESP: 3,
      emitInvalidate: true,
      // node-redis refuses emitInvalidate beside its own client-side cache.
      clientSideCache: undefined,
      // Idle between writes: a keepalive, lest a server's `timeout` close it (emptying the tier).
      pingInterval: trackingPingInterval(defaults),
    }) as unknown as TrackingClientLike
  }

  /**
   * A new client to `node` for blocking commands (see `BlockingClients`), with the cluster's node
   * options; `undefined` when they are unknown (a handed-in cluster without them).
   */
  blockingClient(node: NodeHandle): BlockingClient | undefined {
    const defaults = this.#options.nodeDefaults
    if (defaults === undefined) return undefined
    return clientAt(defaults, this.#socketOf(node)) as unknown as BlockingClient
  }

  /**
   * Opens a client of cachex's own to `node`, with the cluster's node options (`READONLY` with
   * `readFromReplicas`), its errors told to `onError`; waits for it to connect (bounded by
   * `connectTimeoutMs`: destroyed and failed, the password cut out, past it). Fails at once,
   * unsent, while `node` is held (`heldUntil`): node-redis's client of it failed, refused by it,
   * as this open was asked for (that refusal held it), and another try now would be refused too.
   */
  async open(node: NodeHandle, onError: (error: unknown) => void): Promise<OwnNodeClient> {
    const defaults = this.#options.nodeDefaults
    const held = node.heldUntil - performance.now()
    if (held > 0) {
      throw markUnsent(
        new ConnectionError(
          `cannot connect to the cluster node ${node.address} for ${Math.ceil(held)} ms more: ${node.dropReason || 'it refused the last connection'}`,
        ),
      )
    }
    if (defaults === undefined) {
      throw new ConnectionError(
        `cannot reach the cluster node ${node.address}: it is not in node-redis's slot map`,
      )
    }
    const client = clientAt(defaults, this.#socketOf(node), {
      readonly: this.#options.readFromReplicas,
    }) as unknown as OwnNodeClient
    client.on('error', onError)
    try {
      await within(
        client.connect(),
        this.#options.connectTimeoutMs,
        `connecting to ${node.address}`,
      )
    } catch (error) {
      destroyClient(client)
      const password = this.#options.nodeDefaults?.password
      throw new ConnectionError(`could not connect to the cluster node ${node.address}`, {
        cause: scrub(error, typeof password === 'string' ? [password] : []),
      })
    }
    return client
  }

  /** Closes `client`, destroyed past `closeTimeoutMs` (or at once when it cannot close). */
  close(client: NodeRedisNodeClientLike): Promise<void> {
    const c = client as NodeRedisNodeClientLike & { close?(): Promise<unknown>; destroy?(): void }
    if (c.close === undefined) {
      c.destroy?.()
      return Promise.resolve()
    }
    return closeWithin(
      () => (c.close as () => Promise<unknown>).call(c),
      () => c.destroy?.(),
      this.#options.closeTimeoutMs,
    )
  }

  /** node-redis's `nodeAddressMap` applied to `address`, as node-redis applies it. */
  mapAddress(address: string): { host: string; port: number } | undefined {
    const map = this.#options.nodeAddressMap
    if (typeof map === 'function')
      return (map as (a: string) => { host: string; port: number })(address)
    if (typeof map === 'object' && map !== null) {
      return (map as Record<string, { host: string; port: number } | undefined>)[address]
    }
    return undefined
  }

  /** Where `node`'s socket goes: its address after `nodeAddressMap`. */
  #socketOf(node: NodeHandle): { host: string; port: number } {
    return this.mapAddress(node.address) ?? { host: node.host, port: node.port }
  }
}
