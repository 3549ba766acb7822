// What a standalone link known down says of it: whether the cause is a refusal by a server that
// is up, not an outage (`isLastingRefusal`), and the error a call rejects with at once meanwhile
// (`downError`). The words of a refusal and its schedules are `_retry.ts`'s; the state is
// `ClientLink`'s (`_standalone-link.ts`).
import { ConnectionError } from '@cachex/core'
import { markUnsent } from '@cachex/core/internal'
import { isErrorReply, scrub, toCachexError } from './_errors.ts'
import { hasPlainHint } from './_mismatch-hints.ts'
import { isRefusedHandshake, refusalState } from './_retry.ts'

/** Error replies of a server state that passes by itself: `LOADING`, `BUSY` (a script). */
const PASSING = /^(?:LOADING|BUSY)\b/

/** Whether `cause`, or an error it was caused by, is a `PASSING` reply. */
function passes(cause: unknown): boolean {
  for (let e = cause, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (PASSING.test(e.message)) return true
  }
  return false
}

/** Adds to a connection failure the hint of a TLS mismatch either way (`tlsMismatchHint`). */
export type FailureHint = (failure: unknown, everReady: boolean) => unknown

/**
 * Whether `cause`, why a link is down, says that the server is up and refuses the connection,
 * not that it is dead: the server refused its handshake (`isRefusedHandshake`), or answered it
 * with another error reply (`ERR max number of clients reached`; not `LOADING` or `BUSY`, which
 * pass by themselves), or, the link never ready (`everReady` false), the failure gets the hint
 * that the server serves TLS only (`hint`). No failover is coming for such a server. See
 * `ClientLink.isRefused`.
 */
export function isLastingRefusal(
  cause: unknown,
  everReady: boolean,
  hint: FailureHint,
  secrets: readonly string[],
): boolean {
  // An error reply is an answer: the server is up (the refusal's backoff is `isRefusedHandshake`'s).
  // But not one of a state that passes by itself (a dataset loading, a script running).
  if (isRefusedHandshake(cause)) return true
  if (isErrorReply(cause) && !passes(cause)) return true
  // The background reconnections record node-redis's raw error: hinted here as `downError` does.
  return !everReady && hasPlainHint(hint(toCachexError(cause, secrets), false))
}

/**
 * The error a call rejects with at once while the link to `where` is down for `cause` (`text`:
 * its message, passwords cut out), marked unsent: a `ConnectionError` that says whether the
 * server is unreachable or refuses, with the hint of a TLS mismatch (`hint`).
 */
export function downError(
  where: string,
  cause: unknown,
  text: string,
  secrets: readonly string[],
  hint: FailureHint,
  everReady: boolean,
): Error {
  // A server that refuses the credentials is reachable, and a certificate refused was no
  // outage: saying "unreachable" sends one looking at the network.
  const state = refusalState(text, cause)
  // The background attempts record their raw errors: the hint of the first failure is kept.
  const error = new ConnectionError(
    `${where} ${state}, not waiting (reconnecting in the background): ${text}`,
    { cause: scrub(cause, secrets) },
  )
  // Refused before anything was sent: a lock's release can tell it from one that may have run.
  return markUnsent(hint(error, everReady) as Error)
}
