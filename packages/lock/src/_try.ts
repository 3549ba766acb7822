// One try of an acquisition, a lock's or a semaphore's: its script sent, undone in the background
// when it may have run without an answer, not taken when a cluster's slot is being migrated, and
// undone at once when the cache that made it closes while the try is in flight (`startTry`).
import { type Connection, runScript, type Script } from '@cachex/core'
import { slotMigrating } from './_migrating.ts'
import { outcomeUnknown, releaseLater, startTry } from './_undo.ts'

/** What one try needs besides its script: how to undo it, and what to name its errors with. */
export interface TryOf {
  /** The script that gives `token` back on `key` (the lock's or semaphore's release). */
  release: Script
  /** The lock's or semaphore's key. */
  key: string
  /** The token (a semaphore's member) the try stores. */
  token: string
  /** The cache's close signal (see `startTry`). */
  signal: AbortSignal | undefined
  /** The route of the script's call. */
  route?: Parameters<typeof runScript>[4]
  /** The error the try rejects with, for the error of its script. */
  named(error: unknown): unknown
}

/**
 * Runs `script` once over `connection` and resolves its reply; `0` (not taken, as when
 * contended) when a cluster refused it whole for a slot being migrated. Rejects with `named` of
 * any other error, after handing the release of the token to the background when the try may
 * have run without an answer (`outcomeUnknown`: the token is released unless this process holds
 * it by then). Rejects with the signal's reason when the cache closed while it was in flight.
 */
export async function tryOnce(
  connection: Connection,
  script: Script,
  keys: string[],
  args: string[],
  of: TryOf,
): Promise<unknown> {
  const attempt = startTry(connection, of.release, of.key, of.token, of.signal)
  try {
    return await runScript(connection, script, keys, args, of.route)
  } catch (error) {
    if (slotMigrating(error)) return 0
    if (outcomeUnknown(error)) releaseLater(connection, of.release, of.key, of.token)
    throw await of.named(error)
  } finally {
    // Aborted meanwhile: the try was undone, and this rejects with the signal's reason.
    attempt.end()
  }
}
