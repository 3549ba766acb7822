import { InvalidArgumentError } from './errors.ts'

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
  return Math.trunc(checkSeconds(seconds, what) * 1000)
}

/** Checks that `seconds` is a finite number of seconds, or throws `InvalidArgumentError`. */
export function checkSeconds(seconds: unknown, what: string): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    throw new InvalidArgumentError(
      `${what} must be a finite number of seconds or null, got ${describe(seconds)}`,
    )
  }
  return seconds
}

/** A short description of a bad argument for an error message (its type, never a secret). */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'number') return String(value)
  return `a ${typeof value}`
}
