// The handle of one cluster node as cachex routes to it: its address, client and state.
import type { RedisArgument } from '@cachex/core'
import type { Sender } from './_options.ts'
import { UnreadableBackoff } from './_unreadable.ts'

/** What the cluster factory needs of a node-redis client connected to one cluster node. */
export interface NodeRedisNodeClientLike {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: object): Promise<unknown>
  withCommandOptions?(options: object): Pick<NodeRedisNodeClientLike, 'sendCommand'>
  /** Whether the client is usable (not closed); node-redis clients have it. */
  readonly isOpen?: boolean
  /** Whether the connection is up; node-redis clients have it. */
  readonly isReady?: boolean
}

/** A node client seen through cachex's command options (bytes, or text). */
export type NodeSender = {
  sendCommand(args: ReadonlyArray<RedisArgument>, options?: object): Promise<unknown>
}

/** Replica health, from its own `INFO replication`. */
export interface ReplicaState {
  /** `master_link_status:up`. */
  linkUp: boolean
  /** It synchronised with its primary since it started (its data is whole, if old). */
  synced: boolean
}

/** One cluster node as cachex routes to it. */
export interface NodeHandle {
  /** `host:port`, as the cluster announces it (`CLUSTER SLOTS`, `MOVED`, `ASK`). */
  readonly address: string
  readonly host: string
  readonly port: number
  /** The client that reaches it: node-redis's own for this node, or one cachex opened. */
  client: NodeRedisNodeClientLike | undefined
  /** `client` with cachex's command options (replies as bytes, or as text). */
  sender: Sender<NodeSender> | undefined
  /** cachex opened `client` (node-redis has none for this node) and closes it. */
  own: boolean
  /** The client is in `READONLY` mode: it may read from a replica. */
  readonlyClient: boolean
  /**
   * Known to be down: its probe went unanswered for `socketTimeout`, or its connection is lost.
   * Calls to it fail at once until it answers again.
   */
  down: boolean
  /** Why it is down, for messages. */
  downReason: string
  /**
   * Down because it refused the connection's handshake with an error reply (`WRONGPASS`,
   * `NOAUTH`…: ACL users and passwords are set per node): its calls fail at once quoting the
   * refusal, which a failed probe does not replace, until it answers a probe.
   */
  refused: boolean
  /** When the probe (`PING`) in flight was sent, or 0. */
  probeSince: number
  /** When it last failed (0 never): it is not asked for the slot map for a while after. */
  failedAt: number
  /** When a call last went to it outside the slot map (an `ASK` target), for closing idle clients. */
  usedAt: number
  /** For a replica cachex reads from: its health at the last check, `undefined` until known. */
  replica: ReplicaState | undefined
  /**
   * With a local tier: its tracking connection is not up in every tracking group, so as a
   * replica it serves no reads (a value read from it could not be kept coherent).
   */
  untracked: boolean
  /**
   * The ACL user may not run `INFO` on it (`NOPERM`): as a replica it is never checked, and so
   * serves no reads.
   */
  infoRefused: boolean
  /** `host:port` of its socket (after `nodeAddressMap`), to match node-redis's node events. */
  readonly socketKey: string
  /**
   * Why its last client was destroyed for a reply it could not read (`dropUnreadable`), until
   * its next one is ready: the commands that client dropped say so. `''` otherwise.
   */
  dropReason: string
  /** When its connections, dropped for replies they could not read, connect again. */
  readonly unreadable: UnreadableBackoff
  /**
   * Until when (`performance.now()`) no client is opened to it after `dropUnreadable`, or after
   * it refused the user or password (`NodeWatch`), and calls that would open one fail at once (0:
   * none held).
   */
  heldUntil: number
  /**
   * With a `READONLY` client: how many commands were sent to it as to its slots' primary (see
   * `ClusterRoute.send`), numbering them in send order — the order its replies come in.
   */
  sent: number
  /**
   * With a `READONLY` client: the slots it answered `MOVED` (or `READONLY`) for, each with that
   * reply and the number (`sent`) of the command that got it, first one kept. A read sent to it
   * as to the primary after that command, and answered (as a replica), follows that reply instead
   * (see `_cluster-read-order.ts`). Empty in steady state; a slot is forgotten once the node owns
   * it again (a `MOVED` to it, a map built since that names it): at most one entry per slot.
   */
  moved: Map<number, MovedReply>
}

/**
 * A `MOVED` or `READONLY` a node answered, the number of the command that got it and the slot
 * table it was sent under (`NodeHandle.moved`).
 */
export interface MovedReply {
  readonly number: number
  readonly error: Error
  readonly table: unknown
}

/**
 * A new handle for the node at `address` (`host:port`, valid), whose socket goes to `socketKey`
 * (its address after `nodeAddressMap`): no client yet, up.
 */
export function newHandle(address: string, socketKey: string): NodeHandle {
  const colon = address.lastIndexOf(':')
  return {
    address,
    host: address.slice(0, colon),
    port: Number(address.slice(colon + 1)),
    client: undefined,
    sender: undefined,
    own: false,
    readonlyClient: false,
    down: false,
    downReason: '',
    refused: false,
    probeSince: 0,
    failedAt: 0,
    usedAt: 0,
    replica: undefined,
    untracked: false,
    infoRefused: false,
    socketKey,
    dropReason: '',
    unreadable: new UnreadableBackoff(),
    heldUntil: 0,
    sent: 0,
    moved: new Map(),
  }
}
