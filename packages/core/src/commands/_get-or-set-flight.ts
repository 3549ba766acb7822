// How the getOrSet calls for one key in a process share one computation (`context.flights`): what
// a caller that joined one resolves, when it ends with no value for it too.
import { bounded } from '../_bounded.ts'
import type { CacheContext } from '../_context.ts'
import { CLOSED, TIMED_OUT } from '../_single-flight.ts'
import type { VersionOption } from '../cache-options.ts'
import { ClosedError } from '../errors.ts'

/**
 * What a refresh's flight settles with when it stored nothing of its own (it failed, or another
 * process holds the lock): its caller keeps the value it served, but a miss that joined the
 * flight needs a value — the one the refresh started from may be gone (expired past its grace,
 * deleted) — and goes back through the flights, so that the misses share one computation.
 */
export const KEPT: unique symbol = Symbol('kept')

/** Registers `computation` as the one in flight for `rkey`, which later calls join; returns it. */
export function inFlight<T>(
  context: CacheContext,
  rkey: string,
  computation: Promise<T>,
): Promise<T> {
  context.flights.start(rkey, computation)
  return computation
}

/**
 * What a caller that joined another call's computation for `key` at `at` (`context.flights.join`)
 * resolves, given what it waited for (`outcome`): the value computed; or, when the computation
 * outlived the caller's bound (a hung factory?), its own value, `compute(true)`; when it was a
 * refresh that kept the value (`KEPT`), the value shared again, whose computation the first of
 * its callers starts and the others join; when `close()` ended the wait, a `ClosedError`, its
 * factory not run.
 */
export function afterWaiting<T>(
  context: CacheContext,
  key: string,
  at: VersionOption | undefined,
  waitMs: number | null,
  outcome: unknown,
  compute: (gaveUp: boolean) => Promise<T>,
): T | Promise<T> {
  if (outcome === TIMED_OUT) return compute(true)
  if (outcome === KEPT) {
    const rkey = context.key(key, at)
    const joined = context.flights.join(rkey, waitMs)
    if (joined === undefined) return inFlight(context, rkey, compute(false))
    return joined.then((again) => afterWaiting(context, key, at, waitMs, again, compute))
  }
  if (outcome === CLOSED) return closedWhileWaiting(context, key, compute)
  return outcome as T
}

/**
 * A caller whose wait on another call's computation `close()` ended: rejects with `ClosedError`,
 * its factory not run (a shutdown would otherwise call it once per waiter, each call's store
 * meeting the closed connection). Under `ignoreExceptions`, which answers every call with a
 * value, it computes its own, as a getOrSet made after `close()` does.
 */
function closedWhileWaiting<T>(
  context: CacheContext,
  key: string,
  compute: (gaveUp: boolean) => Promise<T>,
): Promise<T> {
  context.fail(
    new ClosedError(`getOrSet('${bounded(key)}'): the cache is closed`),
    undefined,
    'getOrSet',
  )
  return compute(true)
}
