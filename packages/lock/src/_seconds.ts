// Argument checks and the sleep shared by the lock and the semaphore.
import { InvalidArgumentError } from '@cachex/core'
import { MAX_TIMER_MS } from '@cachex/core/internal'

/** Seconds or `null` (no bound): a non-negative number. */
export function optionalSeconds(value: number | null, what: string): number | null {
  return value === null ? null : positiveSeconds(value, what, true)
}

/**
 * Seconds: a positive (or, with `allowZero`, non-negative) finite number, at most about 285,000
 * years.
 */
export function positiveSeconds(value: unknown, what: string, allowZero = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new InvalidArgumentError(
      `${what} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds`,
    )
  }
  // As the cache's timeouts (`@cachex/core`'s `maxTimeoutMs`): the milliseconds must end no later
  // than 2^53 − 1 ms after 1970, about 285,000 years from now. Redis refuses an expiry past
  // 2^63 − 1 ms (`invalid expire time`), and past 2^53 milliseconds are no longer exact.
  const limit = Number.MAX_SAFE_INTEGER - Date.now()
  if (Math.trunc(value * 1000) > limit) {
    throw new InvalidArgumentError(
      `${what} of ${value} seconds is out of range: at most ${Math.floor(limit / 1000)} seconds (about 285,000 years) from now, the farthest expiry Redis and JavaScript both hold to the millisecond`,
    )
  }
  return value
}

/**
 * Resolves after `ms` milliseconds, or after `MAX_TIMER_MS` when `ms` is longer (a longer timer
 * would fire after 1 ms, and the waits it spaces out would spin): its callers look again and wait
 * again.
 */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_TIMER_MS)))
}
