// UTC offsets of IANA time zones (`Europe/Paris`), from the time zone database that ships with
// Node's ICU, through `Intl.DateTimeFormat`. Python's zoneinfo reads its own copy of the same
// database (the system's, or the tzdata package), so both sides agree wherever their copies do.

const MS_PER_DAY = 86_400_000
// Instants before this one are clamped to it: every zone's first transition (from local mean
// time) is after 1800, so the offset before it is the same, and Intl formats years before 1 AD
// with an era that this parser does not read.
const EARLIEST_MS = Date.UTC(1000, 0, 1)
// One formatter per zone: a finite set (the database has about 600 names and links), and the
// key is lower-cased, as Intl matches names case-insensitively. The bound is for safety only.
const MAX_FORMATTERS = 1000

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(zone: string): Intl.DateTimeFormat {
  const key = zone.toLowerCase()
  let formatter = formatters.get(key)
  if (formatter === undefined) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      })
    } catch (error) {
      throw new RangeError(
        `unknown time zone ${JSON.stringify(zone.slice(0, 64))}: this Node's time zone database (ICU) does not have it`,
        { cause: error },
      )
    }
    if (formatters.size >= MAX_FORMATTERS) formatters.clear()
    formatters.set(key, formatter)
  }
  return formatter
}

/** Throws a `RangeError` unless Node's time zone database knows `zone`. */
export function checkZone(zone: string): void {
  formatterFor(zone)
}

/** The UTC offset of `zone`, in milliseconds (whole seconds), at the instant `epochMs`. */
export function offsetAt(zone: string, epochMs: number): number {
  const t = Math.floor(Math.max(epochMs, EARLIEST_MS) / 1000) * 1000
  let year = 0
  let month = 0
  let day = 0
  let hour = 0
  let minute = 0
  let second = 0
  for (const part of formatterFor(zone).formatToParts(t)) {
    switch (part.type) {
      case 'year':
        year = Number(part.value)
        break
      case 'month':
        month = Number(part.value)
        break
      case 'day':
        day = Number(part.value)
        break
      case 'hour':
        hour = Number(part.value)
        break
      case 'minute':
        minute = Number(part.value)
        break
      case 'second':
        second = Number(part.value)
        break
    }
  }
  return wallMs(year, month, day, hour, minute, second, 0) - t
}

/** A wall-clock time read as if it were UTC, in milliseconds since the epoch (any year 1..9999). */
export function wallMs(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number {
  // Date.UTC maps years 0..99 to 1900..1999: set the year afterwards.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms))
  date.setUTCFullYear(year)
  return date.getTime()
}

/**
 * The UTC offset (ms) of the wall-clock time `wall` (as `wallMs` gives it) in `zone`, as Python's
 * zoneinfo computes it (PEP 495): a time that occurs twice (clocks set back) takes the offset of
 * its first occurrence with `fold` 0 and of its second with `fold` 1; a time that never occurs
 * (clocks set forward) takes the offset from before the transition with `fold` 0 and from after it
 * with `fold` 1. Assumes at most one transition within a day of `wall`.
 */
export function offsetForWall(zone: string, wall: number, fold: number): number {
  const before = offsetAt(zone, wall - MS_PER_DAY)
  const after = offsetAt(zone, wall + MS_PER_DAY)
  // No transition nearby (or two that cancel out): the offset holds.
  if (before === after) return before
  const beforeFits = offsetAt(zone, wall - before) === before
  const afterFits = offsetAt(zone, wall - after) === after
  if (beforeFits && afterFits) {
    // Occurs twice: the first occurrence is the earlier instant, that of the larger offset.
    return fold === 0 ? Math.max(before, after) : Math.min(before, after)
  }
  if (beforeFits) return before
  if (afterFits) return after
  // A gap: the offset from before the transition, or from after it with fold=1.
  return fold === 0 ? before : after
}
