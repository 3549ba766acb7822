// What a `getOrSet` call (`get-or-set.ts`, and its stampede-controlled path:
// `_get-or-set-controlled.ts`) does once its conditional store was refused or failed: read the
// value that won on the primary, or keep the computed one when `close()` came meanwhile.
import type { CacheContext } from '../_context.ts'
import { isWrongType } from '../_messages.ts'
import { ClosedError } from '../errors.ts'

/** What `getOrSet`'s reads resolve for a missing key, told apart from a stored `null`. */
export const MISSING: unique symbol = Symbol('missing')

/**
 * What the primary holds at `rkey` once a conditional store of `value` was refused (an `add` that
 * found the key taken, a refresh's compare-and-set that found it changed), or `value` when the key
 * is gone since. On the primary, where the refusal was decided: a replica may not have the write
 * that won yet, and would answer with the value the call started from, or with no value — and the
 * caller would get its own, which Redis does not hold. Errors follow the error policy, as `get`'s.
 */
export async function readAfterLostRace<T>(
  context: CacheContext,
  key: string,
  rkey: string,
  value: T,
): Promise<T> {
  try {
    // A local tier reads a key this process just wrote (the refused store) on the primary too.
    return (await context.store.get(rkey, key, value, true)) as T
  } catch (caught) {
    const error = isWrongType(caught)
      ? await context.wrongType(caught, 'getOrSet', key, rkey)
      : caught
    return context.fail(error, value, 'getOrSet')
  }
}

/**
 * Whether the store of a computed value failed because the cache was closed while the factory ran:
 * the call was made before `close()`, which answers it, but its store comes after — the caller
 * gets the value it computed, not stored, rather than a `ClosedError` for a value it has. (A
 * caller whose wait on another call's computation `close()` ended computes nothing: it rejects
 * with `ClosedError`, see `afterWaiting`.)
 */
export function closedWhileComputing(error: unknown): boolean {
  return error instanceof ClosedError
}
