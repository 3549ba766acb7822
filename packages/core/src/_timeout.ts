import { InvalidArgumentError } from './errors.ts'

/**
 * The most milliseconds from now that a timeout may reach: the expiry it gives (now + ms) must be
 * a safe integer, at most `Number.MAX_SAFE_INTEGER` (2^53 − 1) ms after 1970, about 285,000 years
 * from now. Redis itself refuses an expiry past 2^63 − 1 ms (`invalid expire time`; a blocking
 * timeout there overflows to `timeout is negative`), and a number of milliseconds past 2^53 is no
 * longer exact in JavaScript, so this bound is the lower of the two and is checked before anything
 * is sent: past it, `InvalidArgumentError`.
 */
export function maxTimeoutMs(now = Date.now()): number {
  return Number.MAX_SAFE_INTEGER - now
}

/**
 * The most negative milliseconds a timeout is sent as. A timeout of 0 or less expires at once
 * (Django's rule), however negative: one below this (`set(k, v, -1e16)`) deletes as `-1` does,
 * sent as this, which JavaScript holds exactly and Redis adds to its clock without overflow.
 */
export const MOST_NEGATIVE_MS = -(2 ** 52)

/**
 * Django's timeout rules, in milliseconds: `undefined` → the cache's default, `null` → never
 * expire (returns `null`), `0` or negative → expire at once (returns a number ≤ 0). Fractions of a
 * second are kept to the millisecond and truncated, as django-redis's `int(timeout * 1000)`.
 */
export function timeoutToMs(
  timeout: number | null | undefined,
  defaultTimeout: number | null,
  what = 'timeout',
): number | null {
  const seconds = timeout === undefined ? defaultTimeout : timeout
  if (seconds === null) return null
  return Math.trunc(checkSeconds(seconds, what, true) * 1000)
}

/**
 * Checks that `seconds` is a finite number of seconds whose milliseconds are a safe integer and
 * end no later than `maxTimeoutMs()` from now, or throws `InvalidArgumentError`. `nullable` says
 * whether the argument also takes `null` (a timeout: never expire), for the message only; by
 * default, an argument named as a timeout does (`expire`'s seconds and `expireAt`'s when do not).
 *
 * A duration of 0 or less expires at once, however negative: it is not range-checked, and one
 * whose milliseconds are below `MOST_NEGATIVE_MS` is returned as that many seconds. A point in
 * time (`pointInTime`: `expireAt`'s `when`) keeps the range check both ways.
 */
export function checkSeconds(
  seconds: unknown,
  what: string,
  nullable: boolean = what.endsWith('timeout'),
  pointInTime = false,
): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    throw new InvalidArgumentError(
      `${what} must be a finite number of seconds${nullable ? ' or null' : ''}, got ${describe(seconds)}`,
    )
  }
  if (seconds <= 0 && !pointInTime) {
    return seconds * 1000 < MOST_NEGATIVE_MS ? MOST_NEGATIVE_MS / 1000 : seconds
  }
  checkTimeoutMs(seconds * 1000, what, `${seconds} seconds`)
  return seconds
}

/**
 * Checks that `ms`, the milliseconds of a timeout (`shown` as the caller gave it), is within what
 * Redis and JavaScript both hold exactly: a safe integer once truncated, ending no later than
 * `maxTimeoutMs()` from now. Throws `InvalidArgumentError` otherwise.
 */
export function checkTimeoutMs(ms: number, what: string, shown: string): void {
  const whole = Math.trunc(ms)
  // Every timeout below 2^52 ms (142,000 years) is within the bound for millennia: no clock read.
  if (whole >= 0 ? whole < 2 ** 52 : whole > -(2 ** 52)) return
  if (Number.isSafeInteger(whole) && whole <= maxTimeoutMs()) return
  throw new InvalidArgumentError(
    `${what} of ${shown} is out of range: at most ${Math.floor(maxTimeoutMs() / 1000)} seconds (about 285,000 years) from now, the farthest expiry Redis and JavaScript both hold to the millisecond`,
  )
}

/** A short description of a bad argument for an error message (its type, never a secret). */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'number') return String(value)
  if (value === '') return 'an empty string'
  const type = typeof value
  if (type === 'object' && isArray(value)) return 'an array'
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`
}

/** `Array.isArray`, `false` where it throws (a revoked Proxy): for describing, never failing. */
function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value)
  } catch {
    return false
  }
}
