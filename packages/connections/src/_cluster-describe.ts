// What a cluster connection's failures say: node-redis's own words ("All the root nodes are
// unavailable") name neither the cause nor the fix.
import { isRootNodesUnavailable, toCachexError } from './_errors.ts'
import { withPlainHintText } from './_mismatch-hints.ts'
import { withAuthHint } from './_retry.ts'

/** How `describeClusterFailure` words the failures of one cluster connection. */
export interface ClusterWording {
  /** The passwords to cut out. */
  secrets: readonly string[]
  /** Where a password the nodes require goes (see `withAuthHint`). */
  passwordGoes: string
  /**
   * What to change if plain seeds reach TLS-only nodes (see `withPlainHintText`): for a cluster
   * cachex made from `redis://` seeds, until it first connected.
   */
  plainAdvice: string | undefined
}

/**
 * The message of `error`, a failure of a cluster connection, passwords cut out. node-redis says
 * only that no seed answered (`RootNodesUnavailableError`): why is in `lastEvent`, the error it
 * emitted last, quoted. A refused password or certificate says in words what it means and where
 * the password or the TLS options go (see `withAuthHint`), and plain seeds that TLS-only nodes
 * drop unanswered get the hint one server gives: as on one server.
 */
export function describeClusterFailure(
  error: unknown,
  lastEvent: unknown,
  wording: ClusterWording,
): string {
  const { secrets, plainAdvice } = wording
  const text = toCachexError(error, secrets).message
  const root = isRootNodesUnavailable(error) && lastEvent instanceof Error && lastEvent !== error
  const described = root ? `${text} (${toCachexError(lastEvent, secrets).message.trimEnd()})` : text
  const hinted =
    plainAdvice === undefined
      ? described
      : withPlainHintText(described, root ? lastEvent : error, plainAdvice)
  return withAuthHint(hinted, wording.passwordGoes)
}
