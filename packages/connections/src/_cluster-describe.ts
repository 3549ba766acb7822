// What a cluster connection's failures say: node-redis's own words ("All the root nodes are
// unavailable") name neither the cause nor the fix.
import { isRootNodesUnavailable, toCachexError } from './_errors.ts'
import { withPlainHintText } from './_mismatch-hints.ts'
import { isRefusedHandshake, withAuthHint } from './_retry.ts'

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

/**
 * What one cluster connection knows to word its failures: its passwords, where a password goes,
 * the plain-seeds advice until it first connected, and the last error node-redis emitted (why no
 * seed answered), with whether a seed refused the handshake in the discovery under way.
 */
export class ClusterFailures {
  /** The passwords to cut out. */
  readonly secrets: readonly string[]
  /** Where a password the nodes require goes (see `withAuthHint`): the URLs, or the given cluster. */
  readonly passwordGoes: string
  /** What to change if plain seeds reach TLS-only nodes (`ClusterWording`); none once connected. */
  #plainAdvice: string | undefined
  /** The last error node-redis emitted: why no seed answered (WRONGPASS, NOAUTH, refused…). */
  #lastEvent: unknown
  /**
   * Whether a seed refused the handshake (`isRefusedHandshake`: a wrong password, an unknown
   * user) during the last discovery cachex started: then its failure is backed off as a refused
   * password is on one server (see `Breaker.refusal`).
   */
  seedRefused = false

  constructor(wording: ClusterWording) {
    this.secrets = wording.secrets
    this.passwordGoes = wording.passwordGoes
    this.#plainAdvice = wording.plainAdvice
  }

  /** An error node-redis emitted. */
  emitted(error: unknown): void {
    this.#lastEvent = error
    if (isRefusedHandshake(error)) this.seedRefused = true
  }

  /** The cluster connected once: plain seeds reached the nodes, no advice is due. */
  connected(): void {
    this.#plainAdvice = undefined
  }

  /** The message of `error`, as one server words it (see `describeClusterFailure`). */
  describe(error: unknown): string {
    return describeClusterFailure(error, this.#lastEvent, {
      secrets: this.secrets,
      passwordGoes: this.passwordGoes,
      plainAdvice: this.#plainAdvice,
    })
  }
}
