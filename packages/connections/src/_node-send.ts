import { ConnectionError } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import type { NodeClients, NodeHandle, NodeSender } from './_cluster-nodes.ts'
import { isClientClosed } from './_errors.ts'
import type { Sender } from './_options.ts'

// Sending to one given cluster node through a client that is open. node-redis closes the client
// of a node it drops from its slot map (its rediscovery after a failover, or after a map it was
// told of that left the node out), and a closed client refuses every call with its
// `ClientClosedError` — which, mapped as is, says the cache was closed.

/**
 * `node`'s sender, connected first when it has none or node-redis closed its client (it is
 * resolved again: node-redis's new client of the node, or one of cachex's own).
 */
export async function openSender(
  nodes: NodeClients,
  node: NodeHandle,
): Promise<Sender<NodeSender>> {
  if (node.client?.isOpen === false) nodes.set(node, undefined)
  await nodes.connect(node)
  return node.sender as Sender<NodeSender>
}

/**
 * Runs `send` with `node`'s open sender (`openSender`). A call its client refused as closed
 * (`ClientClosedError`: nothing was sent — closed between the check and the call) is sent once
 * more through a client resolved again; refused so again, it fails with a `ConnectionError`
 * marked unsent (`markUnsent`: safe to retry), never node-redis's error. Once `closed()` (the
 * cluster connection closed), node-redis's error is left as it is, for the caller to word.
 */
export function sendOpen<T>(
  nodes: NodeClients,
  node: NodeHandle,
  send: (sender: Sender<NodeSender>) => Promise<T>,
  closed: () => boolean,
  where: string,
): Promise<T> {
  // An open client's sender is used at once (the call sent in the order it was made).
  const sender = node.sender
  const first =
    sender !== undefined && node.client?.isOpen !== false
      ? send(sender)
      : openSender(nodes, node).then(send)
  return first.catch((error: unknown) => {
    if (!isClientClosed(error) || closed()) throw error
    return openSender(nodes, node)
      .then(send)
      .catch((again: unknown) => {
        if (!isClientClosed(again) || closed()) throw again
        throw markUnsent(
          new ConnectionError(
            `the client of the cluster node ${node.address} of ${where} was closed under the call (node-redis closes the client of a node it drops from its slot map); the command was not sent — try again`,
            { cause: again },
          ),
        )
      })
  })
}
