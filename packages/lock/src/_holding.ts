// What `withLock` and `withPermit` do around the caller's function: release however it ends, as
// `await using` does — a failed release hides neither the function's error nor, when the cache
// was closed meanwhile, its result.
import { ClosedError } from '@cachex/core'

/**
 * Runs `fn`, then `release()`, and settles as `fn` did. A release that fails after `fn` threw
 * rejects with a `SuppressedError` (`error`: the release's, `suppressed`: `fn`'s), as the end of
 * an `await using` block does; after `fn` resolved, with the release's error (the lock was lost
 * while `fn` ran, or the release failed: one that failed unsent or without an answer was handed
 * to the background by `release()` itself, see `_handoff.ts`). A release refused because the
 * cache was closed is dropped: the lock or the permits expire by their timeout.
 */
export async function holding<T>(
  fn: () => T | Promise<T>,
  release: () => Promise<void>,
): Promise<T> {
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
