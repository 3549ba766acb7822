import { ClosedError, ConnectionError, type RedisArgument } from '@cachex/core'
import { bounded, markUnsent } from '@cachex/core/internal'
import type { BlockingClient } from './_blocking.ts'
import {
  type NodeHandle,
  type NodeRedisNodeClientLike,
  type NodeSender,
  newHandle,
} from './_cluster-node-handle.ts'
import { NodeOpener, type NodeOpenerOptions } from './_cluster-node-open.ts'
import { closeWithin, destroyClient } from './_connect.ts'
import { validAddress } from './_node-address.ts'
import { Sender } from './_options.ts'
import { nodesChanged } from './_scripts.ts'
import type { TrackingClientLike } from './_tracking.ts'

export type {
  NodeHandle,
  NodeRedisNodeClientLike,
  NodeSender,
  ReplicaState,
} from './_cluster-node-handle.ts'

// The clients of a cluster's nodes as cachex routes to them: node-redis's own for each node, or
// one cachex opens (and closes) for a node node-redis does not know — opened and closed by a
// `NodeOpener` (`_cluster-node-open.ts`), with the cluster's node options.

/** One node of node-redis's slot map (`cluster.slots[n].master`, `cluster.masters[i]`). */
export interface NodeRedisClusterNodeLike {
  /** `host:port`. */
  readonly address?: string
  readonly host?: string
  readonly port?: number
  /** Whether node-redis connected to it in `READONLY` mode (a replica it reads from). */
  readonly readonly?: boolean
  /** The node's client once it is connected. */
  readonly client?: NodeRedisNodeClientLike
}

/** What the cluster factory needs of a node-redis cluster (`createCluster()`). */
export interface NodeRedisClusterLike {
  sendCommand(
    firstKey: RedisArgument | undefined,
    isReadonly: boolean | undefined,
    args: ReadonlyArray<RedisArgument>,
    options?: object,
  ): Promise<unknown>
  connect(): Promise<unknown>
  close(): Promise<unknown>
  destroy(): void
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off?(event: string, listener: (...args: unknown[]) => void): unknown
  nodeClient(node: NodeRedisClusterNodeLike): Promise<NodeRedisNodeClientLike>
  getSlotRandomNode(slot: number): NodeRedisClusterNodeLike
  readonly slots: ReadonlyArray<
    { master: NodeRedisClusterNodeLike; replicas?: readonly NodeRedisClusterNodeLike[] } | undefined
  >
  readonly masters: readonly NodeRedisClusterNodeLike[]
  readonly isOpen: boolean
  readonly isReady: boolean
  /** node-redis's nodes by `host:port`: their clients are shared with cachex. */
  readonly nodeByAddress?: ReadonlyMap<string, NodeRedisClusterNodeLike>
  /** node-redis's options: `defaults` and `nodeAddressMap` for the nodes cachex connects to itself. */
  readonly _options?: { defaults?: object; nodeAddressMap?: unknown }
  /** node-redis's slot map, told to rediscover the cluster when cachex saw it change. */
  readonly _slots?: {
    rediscover?(startWith?: unknown, excludedAddresses?: ReadonlySet<string>): Promise<unknown>
  }
}

/** Each node client with cachex's command options, made once per client. */
const SENDERS = new WeakMap<NodeRedisNodeClientLike, Sender<NodeSender>>()

/**
 * `client` with cachex's command options set once: passing them on each call costs node-redis
 * more than half its throughput on one node client (measured: 200k against 460k GET/s).
 */
export function senderOf(client: NodeRedisNodeClientLike): Sender<NodeSender> {
  let sender = SENDERS.get(client)
  if (sender === undefined) {
    sender = new Sender<NodeSender>(client, (options) => ({
      sendCommand: (args, extra) =>
        client.sendCommand(args, extra === undefined ? options : { ...options, ...extra }),
    }))
    SENDERS.set(client, sender)
  }
  return sender
}

/** Options of `NodeClients`: the cluster, and its node options (see `NodeOpenerOptions`). */
export interface NodeClientsOptions extends NodeOpenerOptions {
  cluster: NodeRedisClusterLike
  /** Where the cluster is, for messages. */
  where: string
  /** A client cachex opened reported `error`: the node may be in trouble, or refuse the user. */
  onTrouble(node: NodeHandle, error: unknown): void
  /** A client cachex opened is ready again after a reconnection. */
  onReady(node: NodeHandle): void
  /** A node's client was set, replaced or dropped. */
  onClientChange(node: NodeHandle): void
}

/**
 * The handle of each cluster node cachex knows (`handle`), and its client: resolved on demand
 * (`connect`) to node-redis's client of the node, or to one cachex opens with the cluster's node
 * options; switched back to node-redis's once it has one (`adopt`); closed when idle out of the
 * map (`closeIdle`) or when the connection closes (`close`).
 */
export class NodeClients {
  readonly #options: NodeClientsOptions
  /** Opens and closes cachex's own clients. */
  readonly #opener: NodeOpener
  readonly #handles = new Map<string, NodeHandle>()
  readonly #connecting = new Map<NodeHandle, Promise<void>>()
  /** How to fail the connect under way to each node at once (see `refuse`). */
  readonly #refusers = new Map<NodeHandle, (error: Error) => void>()
  #closed = false

  constructor(options: NodeClientsOptions) {
    this.#options = options
    this.#opener = new NodeOpener(options)
  }

  /** Every node handle made so far. */
  all(): IterableIterator<NodeHandle> {
    return this.#handles.values()
  }

  /**
   * The handle of the node at `address` (`host:port`), made when it is new. Throws an unsent
   * `ConnectionError` for an address no node can have (`validAddress`): nothing is connected to.
   */
  handle(address: string): NodeHandle {
    const known = this.#handles.get(address)
    if (known !== undefined) return known
    if (!validAddress(address)) {
      throw markUnsent(
        new ConnectionError(
          `cannot reach the cluster node ${JSON.stringify(bounded(address, 128))}: not a valid host:port`,
        ),
      )
    }
    const mapped = this.#opener.mapAddress(address)
    const handle = newHandle(
      address,
      mapped === undefined ? address : `${mapped.host}:${mapped.port}`,
    )
    this.#handles.set(address, handle)
    return handle
  }

  /** The handle whose socket is node-redis's node event `info` (`{ host, port }`), if any. */
  bySocket(info: unknown): NodeHandle | undefined {
    const { host, port } = (info ?? {}) as { host?: string; port?: number }
    const key = `${host}:${port}`
    for (const node of this.#handles.values()) if (node.socketKey === key) return node
    return undefined
  }

  /**
   * Resolves `node`'s client: node-redis's for it, or one cachex opens (one attempt at a time).
   * Fails early when the node refuses the connection (`refuse`).
   */
  connect(node: NodeHandle): Promise<void> {
    if (node.sender !== undefined && node.client?.isOpen !== false) return Promise.resolve()
    const held = node.heldUntil - performance.now()
    if (held > 0) {
      return Promise.reject(
        markUnsent(
          new ConnectionError(
            `the cluster node ${node.address} is connected to again in ${Math.ceil(held)} ms: ${node.dropReason}`,
          ),
        ),
      )
    }
    let connecting = this.#connecting.get(node)
    if (connecting === undefined) {
      // A client whose handshake is refused retries it for good, and its `connect()` waits
      // meanwhile: the calls waiting for it would wait for their timeout, unsent.
      const refused = new Promise<never>((_, reject) => this.#refusers.set(node, reject))
      connecting = Promise.race([this.#resolve(node), refused]).finally(() => {
        this.#connecting.delete(node)
        this.#refusers.delete(node)
      })
      this.#connecting.set(node, connecting)
    }
    return connecting
  }

  /**
   * `node` refused the connection's handshake (an error reply): the connect under way to it, if
   * any, fails now with `error`, and so do the calls waiting for it.
   */
  refuse(node: NodeHandle, error: Error): void {
    this.#refusers.get(node)?.(error)
  }

  /**
   * A connection to `node` could not read a reply (`isUnreadableReply`, `error`): node-redis kept
   * its socket and the commands waiting for replies, so each later reply would go to the command
   * before its own (a get would resolve another key's value), or its handshake would wait for
   * ever. Its clients are destroyed — node-redis's, which it makes anew on the next call to the
   * node (as it does after a failed connect), and cachex's own — so that the commands in flight
   * reject as dropped (a write's outcome unknown, saying why: `dropReason`) and the next call
   * connects afresh: at once the first time after the connection was up, but while the node
   * garbles again within 5 s of being up, or in the handshake, not before 100 ms, doubling up to
   * 2 s (`UnreadableBackoff`; calls that would connect fail at once meanwhile: one that garbles
   * a reply after every login is not knocked at in a loop).
   */
  dropUnreadable(node: NodeHandle, error: Error): void {
    node.dropReason = `a reply from it could not be read: ${error.message}; cachex reset the connection`
    const known = this.#options.cluster.nodeByAddress?.get(node.address) as
      | { client?: NodeRedisNodeClientLike }
      | undefined
    const theirs = known?.client
    const ready = (node.client ?? theirs)?.isReady === true
    node.heldUntil = performance.now() + node.unreadable.next(ready)
    if (known !== undefined && theirs !== undefined) {
      known.client = undefined
      destroyClient(theirs as never)
    }
    const mine = node.client
    if (mine === undefined) return
    this.set(node, undefined)
    if (mine !== theirs) destroyClient(mine as never)
  }

  /** node-redis closed a client under cachex: forget the closed clients, so they are resolved again. */
  forgetClosed(): void {
    for (const node of this.#handles.values()) {
      if (node.client !== undefined && node.client.isOpen === false) this.set(node, undefined)
    }
  }

  /** Switches nodes from cachex's own clients to node-redis's, once node-redis has one. */
  adopt(): void {
    for (const node of this.#handles.values()) {
      if (!node.own || node.client === undefined) continue
      const known = this.#options.cluster.nodeByAddress?.get(node.address)
      const client = known?.client
      if (client === undefined || client.isReady !== true) continue
      if (this.#options.readFromReplicas && node.readonlyClient && known?.readonly !== true)
        continue
      const mine = node.client
      this.set(node, client, false, known?.readonly === true)
      void this.#opener.close(mine)
    }
  }

  /**
   * Closes the clients cachex opened for nodes out of `inUse` and unused for `idleMs`, and forgets
   * the handles of such nodes left with no client open and no failure for `idleMs` (a node naming
   * ever new addresses in `MOVED` and `ASK` would grow them without bound): a later redirection,
   * or map, makes a new one.
   */
  closeIdle(inUse: ReadonlySet<NodeHandle>, idleMs: number): void {
    const now = performance.now()
    for (const node of this.#handles.values()) {
      // 0: never (`performance.now()` counts from the start of the process).
      if (inUse.has(node) || (node.usedAt !== 0 && now - node.usedAt <= idleMs)) continue
      const { client, own } = node
      if (own) {
        this.set(node, undefined)
        if (client !== undefined) void this.#opener.close(client)
      }
      // What a recent failure taught (down, held, quarantined as a source) is kept a while.
      const open = !own && client !== undefined && client.isOpen !== false
      const recent = (node.failedAt !== 0 && now - node.failedAt <= idleMs) || node.heldUntil > now
      if (!open && !recent && !this.#connecting.has(node)) {
        this.#handles.delete(node.address)
      }
    }
  }

  /** Closes the clients cachex opened; no client is opened after. */
  async close(): Promise<void> {
    // A client being opened carries calls made before the close (the first to a node): they are
    // sent once it is open, and answered before it is closed below (at most its connect timeout).
    const opening = [...this.#connecting.values()]
    if (opening.length > 0) {
      await closeWithin(
        () => Promise.allSettled(opening),
        () => undefined,
        this.#options.connectTimeoutMs,
      )
    }
    this.#closed = true
    const own = [...this.#handles.values()].filter((node) => node.own && node.client !== undefined)
    await Promise.all(own.map((node) => this.#opener.close(node.client as NodeRedisNodeClientLike)))
  }

  /** Sets (or, `undefined`, drops) `node`'s client: whether cachex owns it, whether `READONLY`. */
  set(
    node: NodeHandle,
    client: NodeRedisNodeClientLike | undefined,
    own = false,
    readonlyClient = false,
  ): void {
    node.client = client
    if (client?.isReady === true) node.unreadable.up()
    node.own = client !== undefined && own
    node.readonlyClient = client !== undefined && readonlyClient
    node.sender = client === undefined ? undefined : senderOf(client)
    this.#options.onClientChange(node)
  }

  async #resolve(node: NodeHandle): Promise<void> {
    if (this.#closed) throw this.#closedError()
    const cluster = this.#options.cluster
    const known = cluster.nodeByAddress?.get(node.address)
    if (known !== undefined) {
      try {
        const client = known.client ?? (await cluster.nodeClient(known))
        // node-redis opens a node's client on first use: one opened as the cluster closed is
        // no longer among its nodes, and nothing else would close it.
        if (this.#closed) {
          if (cluster.nodeByAddress?.get(node.address) !== known) destroyClient(client as never)
          throw this.#closedError()
        }
        if (client.isOpen !== false) {
          this.set(node, client, false, known.readonly === true)
          return
        }
      } catch (error) {
        if (error instanceof ClosedError) throw error
        // node-redis could not connect it: try a client of cachex's own.
      }
    }
    await this.#open(node)
  }

  /** A new tracking client to `node` (see `NodeOpener.trackingClient`). */
  trackingClient(node: NodeHandle): TrackingClientLike | undefined {
    return this.#opener.trackingClient(node)
  }

  /** A new client to `node` for blocking commands (see `NodeOpener.blockingClient`). */
  blockingClient(node: NodeHandle): BlockingClient | undefined {
    return this.#opener.blockingClient(node)
  }

  /** Opens cachex's own client to `node`, with the cluster's node options; waits for it (bounded). */
  async #open(node: NodeHandle): Promise<void> {
    const client = await this.#opener.open(node, (error) => this.#options.onTrouble(node, error))
    if (this.#closed) {
      client.destroy()
      throw this.#closedError()
    }
    // Another call may have resolved it meanwhile.
    if (node.sender !== undefined && node.client?.isOpen !== false) {
      void this.#opener.close(client)
      return
    }
    this.set(node, client, true, this.#options.readFromReplicas)
    // Back after a reconnection (the first connection is checked when the node joins the map).
    client.on('ready', () => {
      // The node may have restarted, without the scripts it ran.
      nodesChanged()
      if (node.client === client) this.#options.onReady(node)
    })
  }

  #closedError(): ClosedError {
    return new ClosedError(`the connection to ${this.#options.where} is closed`)
  }
}
