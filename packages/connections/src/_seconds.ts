import { InvalidArgumentError } from '@cachex/core'

/** Seconds a call waits for a connection, unless `socketConnectTimeout` says otherwise. */
export const DEFAULT_CONNECT_TIMEOUT = 5
/** Seconds a call waits for its reply, unless `socketTimeout` says otherwise. */
export const DEFAULT_SOCKET_TIMEOUT = 5

/**
 * The one check of a connection option given in seconds (`socketConnectTimeout`,
 * `socketTimeout`): a positive, finite number — `fallback` when `undefined` — converted to whole
 * milliseconds, at least 1. `what` names the option in the `InvalidArgumentError`.
 */
export function secondsToMs(value: number | undefined, fallback: number, what: string): number {
  const s = value ?? fallback
  if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
    throw new InvalidArgumentError(`${what} must be a positive number of seconds`)
  }
  return Math.max(1, Math.round(s * 1000))
}
