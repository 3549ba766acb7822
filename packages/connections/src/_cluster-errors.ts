// What a cluster call's failure says. node-redis's own words for a node connection that went
// away under a command in flight ("Disconnects client" when it drops a node from its slot map,
// "read ECONNRESET" or "Socket closed unexpectedly" when the node dies) name neither the node nor
// that a write may have run; a refused password says nothing of where it goes.
import { ConnectionError, ResponseError } from '@cachex/core'
import { markUnsent, wasUnsent } from '@cachex/core/internal'
import { droppedError } from './_dropped.ts'
import { isClientOffline, isDisconnected, isDropped, toCachexError } from './_errors.ts'
import { isAuthRefusal, withAuthHint } from './_retry.ts'
import { withCrossSlotHint } from './_routing.ts'

/** How `mapClusterError` words the failures of one cluster connection. */
export interface ClusterErrorWording {
  /** Which cluster, for messages (`the cluster at redis://…`, `the given cluster`). */
  where: string
  /** The passwords to cut out. */
  secrets: readonly string[]
  /** Where a password the nodes require goes (see `withAuthHint`). */
  passwordGoes: string
}

/**
 * The node (`host:port`) whose connection each dropped-connection error came from (see
 * `noteNode`). node-redis rejects every command a connection loses with one error object, and
 * one connection is to one node: the error names its node wherever it ends up.
 */
const nodeOf = new WeakMap<Error, string>()

/** Why the client of the node each dropped-connection error names was dropped, when cachex did. */
const whyOf = new WeakMap<Error, string>()

/** A node as `noteNode` names it. */
export interface NodeRef {
  /** `host:port`. */
  readonly address: string
  /**
   * Why cachex destroyed the node's last client, until its next one is ready (`''`: it did not):
   * the commands that client dropped say so rather than node-redis's words.
   */
  readonly dropReason?: string
}

/**
 * Records that `error`, if it is a node connection dropped under the commands in flight on it
 * (see `isDropped`) or a call its reconnecting client refused (`isClientOffline`), came from the
 * connection to `node`: its message names that node, and why cachex dropped it if it did
 * (`mapClusterError`). Anything else is left alone; the first node noted stays.
 */
export function noteNode(error: unknown, node: NodeRef): void {
  if (!(error instanceof Error) || !(isDropped(error) || isClientOffline(error))) return
  if (nodeOf.has(error)) return
  nodeOf.set(error, node.address)
  if (node.dropReason) whyOf.set(error, node.dropReason)
}

/** `reply`, whose rejection for a dropped connection names `node` (`noteNode`). */
export function namingNode<T>(reply: Promise<T>, node: NodeRef): Promise<T> {
  return reply.catch((error: unknown) => {
    noteNode(error, node)
    throw error
  })
}

/**
 * A failure of a cluster call as a `CachexError`, passwords cut out (see `toCachexError`), saying
 * in words what node-redis's own text does not:
 * - a node connection that went away under the call (`isDropped`): which node, when known
 *   (`noteNode`; else "a node of the cluster at …"), that it was dropped before the reply came,
 *   and that a write may or may not have been applied — as one server and Sentinel say it. A
 *   `ConnectionError`, node-redis's error kept as its cause.
 * - a call a node's reconnecting client refused ("The client is offline"): which node, that it
 *   is unreachable, marked unsent (it was not sent).
 * - `CROSSSLOT`: what hash tags are (`withCrossSlotHint`).
 * - a node refusing the connection's credentials: what the refusal means and where the password
 *   goes (`withAuthHint`); a refusal made before the call was sent stays marked so
 *   (`wasUnsent`).
 * A closed connection's errors are the caller's to word (its `closedError`).
 */
export function mapClusterError(error: unknown, wording: ClusterErrorWording): Error {
  const { where, secrets } = wording
  if (isDropped(error)) {
    const address = nodeOf.get(error)
    const node =
      address === undefined ? `a node of ${where}` : `the cluster node ${address} of ${where}`
    const reason =
      whyOf.get(error) ??
      (isDisconnected(error)
        ? 'node-redis closed its client, as it does to a node that leaves its slot map, such as a primary failed over'
        : toCachexError(error, secrets).message)
    return droppedError(node, reason, error, secrets)
  }
  // Sent to a node's client in the moment between its connection dropping and cachex marking the
  // node down: node-redis refused it unsent ("The client is offline"). Worded as a node that is
  // down, which the call's node is.
  if (isClientOffline(error)) {
    const address = nodeOf.get(error as Error)
    const node =
      address === undefined ? `a node of ${where}` : `the cluster node ${address} of ${where}`
    return markUnsent(
      new ConnectionError(
        `${node} is unreachable, not waiting (its connection is reconnecting): the client is offline — the cluster moves its slots to a replica when it promotes one, and cachex follows`,
        { cause: error },
      ),
    )
  }
  const typed = toCachexError(error, secrets)
  if (typed instanceof ResponseError) return withCrossSlotHint(typed, error)
  // A node that refuses the connection's credentials (its calls fail at once): the refusal it
  // quotes (up to the `;` that ends it) says in words what it means, as on one server.
  if (
    typed instanceof ConnectionError &&
    typed.code === 'E_CONNECTION' &&
    isAuthRefusal(typed.message)
  ) {
    const message = typed.message.replace(/\b(?:NOAUTH|WRONGPASS)\b[^;]*/, (refusal) =>
      withAuthHint(refusal, wording.passwordGoes),
    )
    if (message !== typed.message) {
      const hinted = new ConnectionError(message, { cause: typed })
      // Refused before anything was sent (a breaker's refusal): still known unsent.
      return wasUnsent(typed) ? markUnsent(hinted) : hinted
    }
  }
  return typed
}
