// Range checks and formatting shared by the `Py*` value classes.

export const US_PER_SECOND = 1_000_000n
export const US_PER_DAY = 86_400_000_000n
export const MAX_DAYS = 999_999_999

export function assertInteger(value: number, what: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${String(value)}`)
  }
}

export function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

export function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

export function checkDate(year: number, month: number, day: number): void {
  assertInteger(year, 'year', 1, 9999)
  assertInteger(month, 'month', 1, 12)
  assertInteger(day, 'day', 1, daysInMonth(year, month))
}

export function checkTime(
  hour: number,
  minute: number,
  second: number,
  microsecond: number,
  fold: number,
) {
  assertInteger(hour, 'hour', 0, 23)
  assertInteger(minute, 'minute', 0, 59)
  assertInteger(second, 'second', 0, 59)
  assertInteger(microsecond, 'microsecond', 0, 999_999)
  assertInteger(fold, 'fold', 0, 1)
}

/** `HH:MM:SS` plus `.ffffff` when there are microseconds, as Python's `isoformat()` writes. */
export function formatClock(
  hour: number,
  minute: number,
  second: number,
  microsecond: number,
): string {
  const clock = `${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`
  return microsecond === 0 ? clock : `${clock}.${pad(microsecond, 6)}`
}
