import { ErrorReply } from '@redis/client'
import { commandRefusal, refusalRemedy, refusalWords, type Warn, warner } from './_acl.ts'
import type { NodeClients, NodeHandle, NodeSender } from './_cluster-nodes.ts'
import { within } from './_connect.ts'
import { isClientClosed } from './_errors.ts'
import type { Sender } from './_options.ts'
import { replicaStateOf, type Shard, setAllReaders, setReadersOf } from './_slot-map.ts'

// How each cluster node is doing: a `PING` probe marks it down or up, an `INFO replication`
// check lets a replica into the read rotation or out of it. The state lives on the node handles;
// the read rotations of the current map (`shards()`) follow it.

/** What the probes and checks use of the topology. */
export interface HealthContext {
  nodes: NodeClients
  /** The shards of the current slot map (it is replaced on each change). */
  shards(): ReadonlyMap<string, Shard>
  /** How long one `INFO replication` may take. */
  askTimeoutMs: number
  /**
   * Called when a check takes `node`, which served reads, out of its shard's read rotation (its
   * link to the primary is down, it is no replica any more, or it did not answer): a local tier
   * drops what it read from it, which a node cut off from its primary never reports written.
   * @default nothing is done
   */
  onOut?(node: NodeHandle): void
  /**
   * Where to say, once, that the replicas cannot be checked because the ACL user may not run
   * `INFO` (reads then stay on the primaries). @default `warner()` (Node's `process.emitWarning`)
   */
  warn?: Warn
}

/** The node clients (one set per cluster connection) whose `INFO` refusal was reported. */
const warned = new WeakSet<NodeClients>()

/**
 * `PING`s `node`; its answer clears `down` (and `refused`), a lost connection sets it. Never
 * rejects. A node down because it refused the connection stays down for that reason until its
 * `PING` is answered: its client, not ready, fails the `PING` unsent, which says less.
 */
export function probe(context: HealthContext, node: NodeHandle): Promise<void> {
  const sent = performance.now()
  node.probeSince = sent
  return context.nodes
    .connect(node)
    .then(() => (node.sender as Sender<NodeSender>).as(false).sendCommand(['PING']))
    .then(
      () => {
        if (node.probeSince === sent) node.probeSince = 0
        if (node.down) {
          node.down = false
          node.downReason = ''
          node.refused = false
          setAllReaders(context.shards())
        }
      },
      (error: unknown) => {
        if (node.probeSince === sent) node.probeSince = 0
        if (isClientClosed(error)) {
          // node-redis dropped its client: resolve it again at the next probe.
          context.nodes.set(node, undefined)
          return
        }
        if (node.refused) return
        if (error instanceof ErrorReply) {
          // An error reply is an answer (LOADING, MASTERDOWN…): the node is up.
          if (node.down) {
            node.down = false
            setAllReaders(context.shards())
          }
          return
        }
        markDown(node, error instanceof Error ? error.message : String(error), context.shards())
        setAllReaders(context.shards())
      },
    )
}

/** Marks `node` down for `reason` (its calls fail at once); a replica is checked again after. */
export function markDown(
  node: NodeHandle,
  reason: string,
  shards: ReadonlyMap<string, Shard>,
): void {
  node.down = true
  node.downReason = reason
  node.failedAt = performance.now()
  if (node.replica !== undefined && shards.get(node.address) === undefined) {
    // A replica that comes back is checked again before it serves reads.
    node.replica = undefined
  }
}

/**
 * Asks a replica for `INFO replication`; it serves reads only when it reports a live link, and
 * `onOut` is told when this check takes it out of the rotation it served in. A replica that may
 * not run `INFO` — an ACL refusal (`NOPERM`), or `INFO` renamed or disabled there (`ERR unknown
 * command`) — is not asked again: it serves no reads, and that is reported once per cluster
 * connection.
 */
export async function checkReplica(context: HealthContext, node: NodeHandle): Promise<void> {
  if (node.infoRefused) return
  let state: ReturnType<typeof replicaStateOf>
  try {
    await context.nodes.connect(node)
    const info = String(
      await within(
        (node.sender as Sender<NodeSender>).as(true).sendCommand(['INFO', 'replication']),
        context.askTimeoutMs,
        `INFO replication on ${node.address}`,
      ),
    )
    state = replicaStateOf(info)
  } catch (error) {
    state = undefined
    const refusal = commandRefusal(error)
    if (refusal?.command === 'info') {
      node.infoRefused = true
      if (!warned.has(context.nodes)) {
        warned.add(context.nodes)
        ;(context.warn ?? warner())(
          `cachex: on the cluster replica ${node.address}, INFO ${refusalWords(refusal)}, and cachex needs it to check that a replica is in sync with its primary (INFO replication): reads stay on the primaries (readFromReplicas has no effect). ${refusalRemedy(refusal, '+info')} to read from the replicas.`,
        )
      }
    }
  }
  const shards = context.shards()
  const served = readsFrom(shards, node)
  const before = node.replica
  node.replica = state
  if (before?.linkUp !== state?.linkUp || before?.synced !== state?.synced) {
    setReadersOf(shards, node)
  }
  // Out of the rotation from now on: what it served may be stale (once per out).
  if (served && !readsFrom(shards, node)) context.onOut?.(node)
}

/** Whether `node` is in the read rotation of a shard it is a replica of. */
function readsFrom(shards: ReadonlyMap<string, Shard>, node: NodeHandle): boolean {
  for (const shard of shards.values()) {
    if (shard.replicas.includes(node) && shard.readers.includes(node)) return true
  }
  return false
}
