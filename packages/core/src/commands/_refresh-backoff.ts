// getOrSet's refresh backoff: a refresh (`grace`'s stale value, an `earlyRecompute` draw) whose
// factory failed is not tried again on the key's next hit, but after a backoff, while the current
// value keeps being served. Without it, every hit of a stale key retried the factory against a
// source that is already down (measured: 473 factory calls and 473 log lines in 3 s of hits), and
// logged each failure.
import type { CacheContext } from '../_context.ts'

/** The first wait after a failed refresh, doubled after each failure that follows it. */
export const FIRST_BACKOFF_MS = 1000
/** The longest wait: a source back up is used again at most this long after it recovered. */
export const MAX_BACKOFF_MS = 30_000
/** Keys remembered per cache; beyond this, the oldest entry is dropped (it retries sooner). */
export const MAX_BACKOFF_KEYS = 10_000

interface Backoff {
  /** The wait this failure set (before the cap by the value's life); the next one doubles it. */
  waitMs: number
  /** `performance.now()` until which the key is not refreshed. */
  until: number
}

/** Per cache: its Redis keys whose last refresh failed, oldest first. */
const backoffs = new WeakMap<CacheContext, Map<string, Backoff>>()

/**
 * Whether a hit of `rkey` may start a refresh: none of it is in flight in this process, and its
 * last one did not fail less than its backoff ago. A backoff that ended longer ago than it lasted
 * is forgotten (the failures are over: the next one waits `FIRST_BACKOFF_MS` again).
 */
export function mayRefresh(context: CacheContext, rkey: string): boolean {
  if (context.flights.has(rkey)) return false
  const keys = backoffs.get(context)
  const entry = keys?.get(rkey)
  if (entry === undefined) return true
  const now = performance.now()
  if (now < entry.until) return false
  if (now - entry.until > entry.waitMs) keys?.delete(rkey)
  return true
}

/**
 * Notes a failed refresh of `rkey`, whose value has `lifeMs` left in Redis (`null`: no expiry);
 * resolves the milliseconds until it may be refreshed again. The wait doubles from
 * `FIRST_BACKOFF_MS` to `MAX_BACKOFF_MS` while failures follow each other, and never outlasts
 * the value: past it, the key is a miss, which computes (and is not held back) anyway.
 */
export function refreshFailed(context: CacheContext, rkey: string, lifeMs: number | null): number {
  let keys = backoffs.get(context)
  if (keys === undefined) {
    keys = new Map()
    backoffs.set(context, keys)
  }
  const now = performance.now()
  const previous = keys.get(rkey)
  const waitMs =
    previous !== undefined && now - previous.until <= previous.waitMs
      ? Math.min(previous.waitMs * 2, MAX_BACKOFF_MS)
      : FIRST_BACKOFF_MS
  const ms = lifeMs === null ? waitMs : Math.max(0, Math.min(waitMs, lifeMs))
  // Re-inserted: the map stays ordered by last failure, its first entry the oldest.
  keys.delete(rkey)
  keys.set(rkey, { waitMs, until: now + ms })
  // The oldest entries go once forgotten (see `backingOff`), or beyond the cap.
  for (const [oldKey, old] of keys) {
    if (keys.size <= MAX_BACKOFF_KEYS && now - old.until <= old.waitMs) break
    keys.delete(oldKey)
  }
  return ms
}

/** Forgets `rkey`'s failures, its refresh having succeeded; resolves `value`, its outcome. */
export function refreshSucceeded<T>(context: CacheContext, rkey: string, value: T): T {
  backoffs.get(context)?.delete(rkey)
  return value
}

/** `ms` for a log line: `1 s`, `1.5 s`, `250 ms`. */
export function formatWait(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms)} ms`
}
