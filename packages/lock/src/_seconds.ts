// Argument checks and the sleep shared by the lock and the semaphore.
import { InvalidArgumentError } from '@cachex/core'
import { checkTimeoutMs, MAX_TIMER_MS } from '@cachex/core/internal'

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
  // Bounded as the cache's timeouts are (an expiry Redis and JavaScript both hold exactly).
  checkTimeoutMs(value * 1000, what, `${value} seconds`)
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
