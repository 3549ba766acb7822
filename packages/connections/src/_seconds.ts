import { InvalidArgumentError } from '@cachex/core'
import { MAX_TIMER_MS } from '@cachex/core/internal'

/** Seconds a call waits for a connection, unless `socketConnectTimeout` says otherwise. */
export const DEFAULT_CONNECT_TIMEOUT = 5
/** Seconds a call waits for its reply, unless `socketTimeout` says otherwise. */
export const DEFAULT_SOCKET_TIMEOUT = 5

/**
 * The one check of a connection option given in seconds (`socketConnectTimeout`,
 * `socketTimeout`): a positive, finite number — `fallback` when `undefined` (only then: `null`
 * is refused; `socketTimeout`'s "no bound" is read before) — converted to whole milliseconds, at
 * least 1. `what` names the option in the `InvalidArgumentError`.
 */
export function secondsToMs(
  value: number | null | undefined,
  fallback: number,
  what: string,
): number {
  const s = value === undefined ? fallback : value
  if (s === null) {
    throw new InvalidArgumentError(
      `${what} must be a positive number of seconds, got null (leave it unset for the default, ${fallback} s)`,
    )
  }
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
    throw new InvalidArgumentError(`${what} must be a positive number of seconds`)
  }
  const ms = Math.max(1, Math.round(s * 1000))
  // A longer delay makes Node.js's timers fire after 1 ms instead (TimeoutOverflowWarning).
  if (ms > MAX_TIMER_MS) {
    throw new InvalidArgumentError(
      `${what} must be at most ${MAX_TIMER_MS / 1000} seconds (about 24.8 days, the longest timer of Node.js), got ${s}`,
    )
  }
  return ms
}
