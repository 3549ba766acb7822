// The number checks of the cache methods' arguments (`_args.ts` re-exports them): integers,
// Redis's 64-bit amounts, scores, `SCAN` page sizes and milliseconds, each refused with
// `InvalidArgumentError` before anything is sent.
import { checkTimeoutMs, describe, MOST_NEGATIVE_MS } from './_timeout.ts'
import { InvalidArgumentError } from './errors.ts'

/**
 * Keys per `SCAN`: a positive integer. `name` is the option it came from, for the error: the
 * scan methods' `itersize`, or the cache's `scanItersize`.
 */
export function checkItersize(itersize: unknown, name = 'itersize'): number {
  if (!Number.isSafeInteger(itersize) || (itersize as number) < 1) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${describe(itersize)}`)
  }
  return itersize as number
}

/** An index, count or integer amount: a safe integer. */
export function checkInteger(value: unknown): number {
  if (!Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`expected an integer, got ${describe(value)}`)
  }
  return value as number
}

/** Redis's integers (`INCRBY`, `HINCRBY`): signed 64-bit. */
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * An integer amount Redis adds (`HINCRBY`): a safe integer, or a bigint within Redis's signed
 * 64-bit range, refused before anything is sent. Its digits, for the command.
 */
export function integerAmount(value: unknown, method: string): string {
  if (Number.isSafeInteger(value)) return String(value)
  if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return String(value)
  // An integer past 2^53 as a number has lost its last digits already: only a bigint is exact.
  const unsafe =
    typeof value === 'number' && Number.isInteger(value)
      ? ' beyond ±(2^53 - 1), where a number is no longer exact: pass it as a bigint (e.g. 2n ** 60n)'
      : ''
  throw new InvalidArgumentError(
    `${method}() takes an integer amount within Redis's 64-bit range (a safe integer or a bigint from -(2^63) to 2^63 - 1), got ${describe(value)}${unsafe}`,
  )
}

/** A score or float amount: a number, not NaN (infinities are scores). */
export function checkNumber(value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new InvalidArgumentError(`expected a number, got ${describe(value)}`)
  }
  return value
}

/**
 * Milliseconds: a duration within `maxTimeoutMs()` of now, or, with `at`, a Unix time in
 * milliseconds that is a safe integer; else `InvalidArgumentError`. A duration of 0 or less
 * expires at once however negative it is (returned as no less than `MOST_NEGATIVE_MS`); a time
 * keeps its range check.
 */
export function checkMs(value: unknown, at = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(
      `expected milliseconds as a finite number, got ${describe(value)}`,
    )
  }
  if (!at) {
    // 0 or less expires at once, however negative (sent as no less than MOST_NEGATIVE_MS).
    if (value <= 0) return Math.max(value, MOST_NEGATIVE_MS)
    checkTimeoutMs(value, 'milliseconds', `${value} ms`)
  } else if (!Number.isSafeInteger(Math.trunc(value))) {
    // Redis would refuse it (`invalid expire time`, or not an integer): refused before sending.
    throw new InvalidArgumentError(
      `a time of ${value} ms since 1970 is out of range: at most ${Number.MAX_SAFE_INTEGER}`,
    )
  }
  return value
}
