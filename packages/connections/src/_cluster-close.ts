// How cachex closes a node-redis cluster client it owns, whatever node-redis is doing then:
// discovering the cluster for the first time, rediscovering it, or serving calls.
import type { NodeRedisClusterLike, NodeRedisNodeClientLike } from './_cluster-nodes.ts'
import { closeWithin, type DestroyableClient, destroyClient, settledWithin } from './_connect.ts'
import { destroySeedProbes } from './_seed-probes.ts'

/** What closing a cluster client needs to know. */
export interface ClusterClose {
  /** The first discovery (`cluster.connect()`), when cachex started it. */
  opening: Promise<unknown> | undefined
  /** How long the first discovery may still take. */
  connectTimeoutMs: number
  /** How long a graceful close may wait for the calls in flight before the clients are destroyed. */
  graceMs: number
}

/**
 * Closes `cluster`: gracefully once ready (calls in flight answered, at most `graceMs`); destroyed
 * once its first discovery ends when it is not ready yet (destroyed while it discovers, node-redis
 * goes on connecting to the nodes it finds, and keeps the sockets of those it was connecting to);
 * then the sockets a discovery still has open to a seed are destroyed (node-redis moves on to the
 * next seed when one times out, and checks that it was closed only then), and the node clients a
 * rediscovery opens after the close too.
 */
export async function closeCluster(
  cluster: NodeRedisClusterLike,
  how: ClusterClose,
): Promise<void> {
  if (!cluster.isReady) {
    await settledWithin(how.opening, how.connectTimeoutMs)
    cluster.destroy()
  } else {
    // node-redis forgets its node clients as its close() starts; a client still waiting on a
    // frozen node (its handshake or a call) would then outlive the destroy below, socket open.
    const clients = nodeClients(cluster)
    await closeWithin(
      () => cluster.close(),
      () => {
        cluster.destroy()
        // Closing (no longer open) but still draining: destroy() ends its socket all the same.
        for (const client of clients) destroyClient(client)
      },
      how.graceMs,
    )
  }
  destroySeedProbes(cluster)
  destroyLateClients(cluster)
}

/** The clients `cluster` holds to its nodes now. */
function nodeClients(
  cluster: NodeRedisClusterLike,
): Array<NodeRedisNodeClientLike & DestroyableClient> {
  const clients: Array<NodeRedisNodeClientLike & DestroyableClient> = []
  for (const node of cluster.nodeByAddress?.values() ?? []) {
    const client = node.client as (NodeRedisNodeClientLike & DestroyableClient) | undefined
    if (client !== undefined) clients.push(client)
  }
  return clients
}

/**
 * Destroys the node clients `cluster` opens after it was closed, now and as they show up. A
 * discovery under way when node-redis 6 closes a cluster goes on: once it has the slot map, it
 * opens a client to every node of it, and their sockets hold the process open for good (seen
 * under load, when cachex had just asked node-redis to rediscover a changed map). node-redis
 * forgets its nodes on close, so any client it knows of afterwards is one of those.
 */
function destroyLateClients(cluster: NodeRedisClusterLike): void {
  const sweep = () => {
    for (const client of nodeClients(cluster)) if (client.isOpen) destroyClient(client)
  }
  sweep()
  // A client reports itself once connected, failing, or retrying.
  for (const event of ['node-ready', 'node-error', 'node-reconnecting']) cluster.on(event, sweep)
}
