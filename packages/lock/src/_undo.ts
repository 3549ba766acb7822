// An acquisition that failed without an answer (a timeout, a lost connection) may still run on
// the server: its bytes were sent, and a frozen server runs them when it wakes. The lock or the
// permit would then be held by no one — for ever without a timeout. So its token is released in
// the background a few times, until the server has surely run what it was sent; a release of a
// token no one holds does nothing, and tokens are random, so no other holder's is touched.
import { type Connection, ResponseError, runScript, type Script } from '@cachex/core'

/** When the release is tried, in milliseconds after the failure. */
const AFTER_MS = [1_000, 5_000, 30_000]

/**
 * Releases `args` (a token) with `script` on `keys` at each of `AFTER_MS`, unless `stillOurs()`
 * says it is held again by its owner by then. Timers do not keep the process alive; errors
 * (a closed cache, a server still down) are dropped.
 */
export function releaseLater(
  connection: Connection,
  script: Script,
  keys: readonly string[],
  args: readonly string[],
  stillOurs: () => boolean,
): void {
  for (const ms of AFTER_MS) {
    setTimeout(() => {
      if (stillOurs()) return
      runScript(connection, script, keys, args).catch(() => undefined)
    }, ms).unref()
  }
}

/** Whether `error` leaves the outcome of a command unknown (no reply from the server). */
export function outcomeUnknown(error: unknown): boolean {
  return !(error instanceof ResponseError)
}
