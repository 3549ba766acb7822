// What `withLock` and `withPermit` do around the caller's function: release however it ends, as
// `await using` does — a failed release hides neither the function's error nor, when the cache
// was closed meanwhile, its result. And the error of a lock no longer held (`notOwned`).
import {
  ClosedError,
  type Connection,
  InvalidArgumentError,
  LockNotOwnedError,
  ResponseError,
  runScript,
} from '@cachex/core'
import { bounded, describeArgument } from '@cachex/core/internal'
import { RELEASE } from './_lock-scripts.ts'
import { releaseLater, unhold } from './_undo.ts'
import { releaseRefused } from './_wrong-type.ts'

/**
 * `withLock(fn)` / `withPermit(fn)` (`method`) of `held`: refuses an `fn` that is not a function
 * with `InvalidArgumentError` before anything is taken, then `acquire()`s (rejecting with
 * `refused()` when that answers false) and runs `fn` while held (`holding`).
 */
export async function withHeld<T>(
  method: string,
  fn: () => T | Promise<T>,
  held: { acquire(): Promise<boolean>; release(): Promise<void> },
  refused: () => Error,
): Promise<T> {
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`${method}() takes a function, got ${describeArgument(fn)}`)
  }
  if (!(await held.acquire())) throw refused()
  return holding(fn, () => held.release())
}

/**
 * Runs `fn`, then `release()`, and settles as `fn` did. A release that fails after `fn` threw
 * rejects with a `SuppressedError` (`error`: the release's, `suppressed`: `fn`'s), as the end of
 * an `await using` block does; after `fn` resolved, with the release's error (the lock was lost
 * while `fn` ran, or the release failed: one that failed unsent or without an answer was handed
 * to the background by `release()` itself, see `_handoff.ts`). A release refused because the
 * cache was closed is dropped: the lock or the permits expire by their timeout.
 */
async function holding<T>(fn: () => T | Promise<T>, release: () => Promise<void>): Promise<T> {
  let result: T
  try {
    result = await fn()
  } catch (error) {
    await release().catch((releaseError: unknown) => {
      if (!(releaseError instanceof ClosedError)) throw suppressedError(releaseError, error)
    })
    throw error
  }
  await release().catch((releaseError: unknown) => {
    if (!(releaseError instanceof ClosedError)) throw releaseError
  })
  return result
}

type SuppressedErrorClass = new (error: unknown, suppressed: unknown, message?: string) => Error

/** ES2025's `SuppressedError` (Node 24), or an `Error` shaped like it, as TypeScript's `await using` makes. */
function suppressedError(error: unknown, suppressed: unknown): Error {
  const message = `${messageOf(error)}, after the function had thrown: ${messageOf(suppressed)}`
  const Native = (globalThis as { SuppressedError?: SuppressedErrorClass }).SuppressedError
  if (Native !== undefined) return new Native(error, suppressed, message)
  return Object.assign(new Error(message), { name: 'SuppressedError', error, suppressed })
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * `withLock`'s release of its own `token` of the lock `name` while the `Lock`'s current hold is
 * another task's (a `Lock` shared by concurrent tasks): the script deletes only that token's
 * hold, and nothing of the current hold's state is touched (its hand-off to the background,
 * whether its release may have run). Rejects with `LockNotOwnedError` (`notOwned`) when the hold
 * is gone. One that fails unsent or without an answer is tried again in the background, alone.
 */
export async function releaseOther(
  connection: Connection,
  name: string,
  token: string,
  notOwned: string,
): Promise<void> {
  let reply: unknown
  try {
    reply = await runScript(connection, RELEASE, [name], [token])
  } catch (error) {
    const refused = releaseRefused(error, connection, 'lock', name, token)
    if (refused !== undefined) throw await refused
    if (!(error instanceof ResponseError || error instanceof ClosedError)) {
      // Forgotten first, as a hand-off does: a try skips a token this process still holds.
      unhold(connection, name, token)
      releaseLater(connection, RELEASE, name, token)
    }
    throw error
  }
  unhold(connection, name, token)
  if (reply !== 1) throw new LockNotOwnedError(notOwned)
}

/**
 * redis-py's words for a lock no longer held by this token (`cannot release a lock that's no
 * longer owned`), then which lock (`name`, bounded) and how it was lost (`timeout`: the lock's).
 */
export function notOwned(
  action: 'release' | 'extend' | 'reacquire',
  name: string,
  timeout: number | null,
): LockNotOwnedError {
  const how =
    timeout === null
      ? 'its key was deleted (a delete, a clear, an eviction)'
      : `it expired (its timeout: ${timeout} s, or what extend() gave it), or its key was deleted (a delete, a clear, an eviction)`
  return new LockNotOwnedError(
    `cannot ${action} a lock that's no longer owned: the lock '${bounded(name)}' is not held by this token — ${how}, and another holder may have taken it since`,
  )
}
