// The tries of `Lock.acquire()`: the acquisition script sent, and while blocking sent again every
// `sleep` seconds, until the lock is taken or the wait is over.
import { type Connection, LockError } from '@cachex/core'
import { bounded } from '@cachex/core/internal'
import { withAclHint } from './_acl-hint.ts'
import { fenceKey } from './_fence-key.ts'
import { ACQUIRE, RELEASE } from './_lock-scripts.ts'
import { delay } from './_seconds.ts'
import { tryOnce } from './_try.ts'
import { releaseLater } from './_undo.ts'
import { notForeign } from './_wrong-type.ts'

/** How one `acquire()` waits: its settings, the lock's `sleep` and close signal. */
export interface LockWait {
  blocking: boolean
  /** Seconds it waits at most; `null` as long as it takes. */
  blockingTimeout: number | null
  /** Seconds between tries. */
  sleep: number
  signal: AbortSignal | undefined
}

/**
 * Takes the lock `name` with `token` (and `ttlMs`, or no expiry) and its fencing token, in one
 * script; blocking, tries again every `wait.sleep` seconds until `wait.blockingTimeout` runs out.
 * Resolves the fencing token, or `null` when the lock was not taken. A reply that is no token
 * the script can give throws `LockError`, the token released in the background.
 */
export async function takeLock(
  connection: Connection,
  name: string,
  token: string,
  ttlMs: number | null,
  wait: LockWait,
): Promise<number | null> {
  const { blocking, blockingTimeout, signal } = wait
  const stopAt =
    blockingTimeout === null ? Number.POSITIVE_INFINITY : performance.now() + blockingTimeout * 1000
  const fence = fenceKey(name)
  // No `touch()`: a release of a stale token still under way in the background is what lets
  // this acquisition take the lock (the scripts delete only that token's hold).
  const keys = [name, fence]
  const args = [token, ttlMs === null ? '' : String(ttlMs)]
  let typeCheckAt = 0 // When a refused blocking try next asks the key's type (`notForeign`).
  for (;;) {
    // Before each try: an abort between the last wait and this try sends nothing.
    signal?.throwIfAborted()
    // Sent without an answer, it may still run: undone then, unless this process holds the
    // token by then (a retry with the caller's token that got the lock). A cluster's refusal
    // for a half-migrated slot comes at once (not retried): this loop waits, by `sleep`.
    const reply = await tryOnce(connection, ACQUIRE, keys, args, {
      release: RELEASE,
      key: name,
      token,
      signal,
      route: { key: name, tryAgain: false },
      named: (error) => withAclHint(error, name, fence),
    })
    if (reply !== 0) {
      // Nothing read from Redis is trusted: anything but a token our script can return means
      // the server is not running our script. The lock may be set with our token, held by no
      // one (for ever without a timeout): released in the background, as after a lost reply.
      if (typeof reply !== 'number' || !Number.isSafeInteger(reply) || reply < 1) {
        releaseLater(connection, RELEASE, name, token)
        throw new LockError(`unexpected reply to the acquisition of the lock '${bounded(name)}'`)
      }
      return reply
    }
    if (!blocking) return null
    // `SET NX` refuses another type of key too, which no release deletes: said, not waited on.
    if (performance.now() >= typeCheckAt) {
      typeCheckAt = performance.now() + 1000
      await notForeign(connection, 'lock', name)
    }
    const left = stopAt - performance.now()
    if (left <= 0) return null
    await delay(Math.min(wait.sleep * 1000, left), signal)
  }
}
