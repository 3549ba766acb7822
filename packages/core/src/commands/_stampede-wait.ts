// The bounds of `distributed` getOrSet's waits: how long a holder keeps the lock, and the one
// computation the callers of a process share once they gave up waiting on a holder elsewhere.
import type { CacheContext } from '../_context.ts'
import { MAX_TIMER_MS } from '../_limits.ts'
import type { VersionOption } from '../cache-options.ts'
import { afterWaiting, inFlight } from './_get-or-set-flight.ts'
import { heartbeat, releaseAndNotify } from './_stampede.ts'

/**
 * Holds the lock at `lockKey` (taken with `token`) while its holder computes the value at `rkey`:
 * extended every third of `lockMs` (`heartbeat`), for at most `waitMs` — no waiter with the
 * holder's options waits longer, they compute their own value then — or `lockMs` when longer.
 * Then the lock is released (deleted if still ours, waiters woken), though the computation runs
 * on: a hung factory keeps the key from the fleet for that long, not for ever. Returns the
 * release, which the holder calls once its value is stored; it releases (and wakes) once.
 */
export function holdLock(
  context: CacheContext,
  lockKey: string,
  token: string,
  rkey: string,
  lockMs: number,
  waitMs: number | null,
): () => Promise<void> {
  const stop = heartbeat(context, lockKey, token, lockMs)
  let released: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const release = (): Promise<void> => {
    if (released === undefined) {
      stop()
      if (timer !== undefined) clearTimeout(timer)
      released = releaseAndNotify(context, lockKey, token, rkey)
    }
    return released
  }
  const bound = waitMs === null ? Number.POSITIVE_INFINITY : Math.max(waitMs, lockMs)
  // Beyond a timer's reach (24.8 days) is as good as no bound.
  if (bound <= MAX_TIMER_MS) {
    timer = setTimeout(() => void release(), bound)
    timer.unref()
  }
  return release
}

/** The computations `sharedFallback` started (and registered as the flight of their key). */
const fallbacks = new WeakSet<Promise<unknown>>()

/**
 * The value of a `distributed` miss whose caller gave up waiting (after `waitMs`) on a holder in
 * another process, or on the call of its own process that waited on one: computed once per
 * process and key. The first caller to give up computes it (`compute`: the factory, its value
 * stored if the key is still missing) as the key's flight; the others, and later misses, wait on
 * it — at most `waitMs` more, then compute their own, as the callers of a hung computation in
 * one process do.
 */
export function sharedFallback<T>(
  context: CacheContext,
  key: string,
  at: VersionOption | undefined,
  rkey: string,
  waitMs: number | null,
  compute: () => Promise<T>,
): Promise<T> {
  const current = context.flights.current(rkey)
  if (current !== undefined && fallbacks.has(current)) {
    const joined = context.flights.join(rkey, waitMs)
    if (joined !== undefined) {
      return joined.then((outcome) => afterWaiting(context, key, at, waitMs, outcome, compute))
    }
  }
  const computation = compute()
  fallbacks.add(computation)
  // In place of the flight this caller gave up on, if it is still registered (its first caller,
  // whose own wait ended first): its waiters wait on it, which resolves this value.
  return inFlight(context, rkey, computation)
}
