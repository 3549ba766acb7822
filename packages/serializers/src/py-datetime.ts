// Python's `datetime.date`, `datetime.time` and `datetime.datetime`.

import { offsetAt, offsetForWall } from './_pickle-zones.ts'
import { checkDate, checkTime, formatClock, pad } from './_py-checks.ts'
import {
  formatOffset,
  isTzInfo,
  type PyTimeDelta,
  PyTimezone,
  type PyTzInfo,
  PytzTimezone,
  staticOffset,
  utcoffsetOf,
  wallOf,
} from './py-zones.ts'

/** Python's `datetime.date`. */
export class PyDate {
  /** 1..9999. */
  readonly year: number
  /** 1..12. */
  readonly month: number
  /** 1..31. */
  readonly day: number

  /** Like Python's `date(year, month, day)`; throws on a day that does not exist. */
  constructor(year: number, month: number, day: number) {
    checkDate(year, month, day)
    this.year = year
    this.month = month
    this.day = day
  }

  /** Midnight UTC of this day, as a JS `Date`. */
  toDate(): Date {
    const date = new Date(Date.UTC(2000, this.month - 1, this.day))
    date.setUTCFullYear(this.year)
    return date
  }

  /** `YYYY-MM-DD`, Python's `isoformat()`. */
  toString(): string {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`
  }

  /** The same as `toString()`, so that `JSON.stringify` writes the ISO form. */
  toJSON(): string {
    return this.toString()
  }
}

/** Python's `datetime.time`, with microseconds, an optional `tzinfo` and `fold`. */
export class PyTime {
  /** 0..23. */
  readonly hour: number
  /** 0..59. */
  readonly minute: number
  /** 0..59. */
  readonly second: number
  /** 0..999999. */
  readonly microsecond: number
  /** The time zone, or `null` for a naive time. */
  readonly tzinfo: PyTzInfo | null
  /** Python's `fold` (0 or 1): which of two repeated wall-clock times is meant. */
  readonly fold: number

  /** Like Python's `time(hour, minute, second, microsecond, tzinfo, fold=fold)`. */
  constructor(
    hour = 0,
    minute = 0,
    second = 0,
    microsecond = 0,
    tzinfo: PyTzInfo | null = null,
    fold = 0,
  ) {
    checkTime(hour, minute, second, microsecond, fold)
    if (tzinfo !== null && !isTzInfo(tzinfo)) {
      throw new TypeError('tzinfo must be a PyTimezone, PyZoneInfo, PytzTimezone or null')
    }
    this.hour = hour
    this.minute = minute
    this.second = second
    this.microsecond = microsecond
    this.tzinfo = tzinfo
    this.fold = fold
  }

  /**
   * Python's `utcoffset()` of a time: the offset of a `PyTimezone`, pytz UTC or a fixed-offset
   * pytz zone; `null` for a naive time and for zones whose offset needs a date (a time has none).
   */
  utcoffset(): PyTimeDelta | null {
    return this.tzinfo === null ? null : utcoffsetOf(this.tzinfo, null)
  }

  /** Python's `isoformat()`: `HH:MM:SS[.ffffff][+HH:MM]`. */
  toString(): string {
    const clock = formatClock(this.hour, this.minute, this.second, this.microsecond)
    const offset = this.utcoffset()
    return offset === null ? clock : clock + formatOffset(offset, ':')
  }

  /** The same as `toString()`. */
  toJSON(): string {
    return this.toString()
  }
}

/**
 * Python's `datetime.datetime`: microsecond precision, naive (`tzinfo === null`) or aware (a
 * `PyTimezone`, `PyZoneInfo` or `PytzTimezone`), and `fold`. A JS `Date` keeps neither
 * microseconds, the naive/aware distinction nor the zone, hence this class; `toDate()` and
 * `fromDate()` convert.
 */
export class PyDateTime {
  /** 1..9999. */
  readonly year: number
  /** 1..12. */
  readonly month: number
  /** 1..31. */
  readonly day: number
  /** 0..23. */
  readonly hour: number
  /** 0..59. */
  readonly minute: number
  /** 0..59. */
  readonly second: number
  /** 0..999999. */
  readonly microsecond: number
  /** The time zone, or `null` for a naive datetime. */
  readonly tzinfo: PyTzInfo | null
  /** Python's `fold` (0 or 1): which of two repeated wall-clock times is meant. */
  readonly fold: number

  /** Like Python's `datetime(year, month, day, hour, minute, second, microsecond, tzinfo, fold=fold)`. */
  constructor(
    year: number,
    month: number,
    day: number,
    hour = 0,
    minute = 0,
    second = 0,
    microsecond = 0,
    tzinfo: PyTzInfo | null = null,
    fold = 0,
  ) {
    checkDate(year, month, day)
    checkTime(hour, minute, second, microsecond, fold)
    if (tzinfo !== null && !isTzInfo(tzinfo)) {
      throw new TypeError('tzinfo must be a PyTimezone, PyZoneInfo, PytzTimezone or null')
    }
    this.year = year
    this.month = month
    this.day = day
    this.hour = hour
    this.minute = minute
    this.second = second
    this.microsecond = microsecond
    this.tzinfo = tzinfo
    this.fold = fold
  }

  /**
   * The aware datetime at the instant of a JS `Date`, with its wall-clock time in `tzinfo` (UTC,
   * `PyTimezone.utc`, by default), as Python's `datetime.fromtimestamp(t, tz)`: in a `PyZoneInfo`,
   * the second of two repeated wall-clock times gets `fold` 1. A pytz zone must be `PytzTimezone.utc`
   * or a fixed-offset one: a pytz state (`CET`) holds one offset, while the instant may need the
   * zone's other state (`CEST`), which only pytz's own database can give — use a `PyZoneInfo`.
   */
  static fromDate(date: Date, tzinfo: PyTzInfo = PyTimezone.utc): PyDateTime {
    const ms = date.getTime()
    if (Number.isNaN(ms)) throw new RangeError('cannot convert an invalid Date')
    if (!isTzInfo(tzinfo)) {
      throw new TypeError('tzinfo must be a PyTimezone, PyZoneInfo or PytzTimezone')
    }
    let offsetMs: number
    let fold = 0
    if (tzinfo instanceof PyTimezone) {
      offsetMs = Number(tzinfo.offset.totalMicroseconds() / 1000n)
    } else if (tzinfo instanceof PytzTimezone) {
      if (tzinfo.utcoffsetSeconds !== null) {
        throw new TypeError(
          `PyDateTime.fromDate() cannot place an instant in the pytz state ${tzinfo.zone} ${tzinfo.tzname}: use new PyZoneInfo('${tzinfo.zone}'), PytzTimezone.utc or a PyTimezone`,
        )
      }
      const fixed = tzinfo.isUtc ? 0 : staticOffset(tzinfo.zone)
      offsetMs = fixed !== null ? fixed * 1000 : offsetAt(tzinfo.zone, ms)
    } else {
      offsetMs = offsetAt(tzinfo.key, ms)
      // The wall time occurs twice and this instant is the second occurrence: fold=1.
      if (offsetForWall(tzinfo.key, ms + offsetMs, 0) !== offsetMs) fold = 1
    }
    const wall = new Date(ms + offsetMs)
    return new PyDateTime(
      wall.getUTCFullYear(),
      wall.getUTCMonth() + 1,
      wall.getUTCDate(),
      wall.getUTCHours(),
      wall.getUTCMinutes(),
      wall.getUTCSeconds(),
      wall.getUTCMilliseconds() * 1000,
      tzinfo,
      fold,
    )
  }

  /**
   * Python's `utcoffset()`: `null` for a naive datetime, else the zone's offset at this wall-clock
   * time (and `fold`). Throws a `RangeError` for a zone Node's time zone database does not know.
   */
  utcoffset(): PyTimeDelta | null {
    return this.tzinfo === null ? null : utcoffsetOf(this.tzinfo, this)
  }

  /**
   * The instant as a JS `Date` (microseconds are cut to milliseconds). An aware datetime is exact
   * (in a named zone, from the zone's rules, as `utcoffset()`); a naive one is read as UTC by
   * default, or as the local time of this process with `'local'`.
   */
  toDate(naiveAs: 'utc' | 'local' = 'utc'): Date {
    const ms = Math.floor(this.microsecond / 1000)
    if (this.tzinfo === null && naiveAs === 'local') {
      const date = new Date(2000, this.month - 1, this.day, this.hour, this.minute, this.second, ms)
      date.setFullYear(this.year)
      return date
    }
    const wall = wallOf(this)
    const offset = this.utcoffset()
    if (offset === null) return new Date(wall)
    // In microseconds, cut once: an offset with microseconds (Python allows them) cut apart from
    // the wall time's rounded the instant up.
    const micros =
      BigInt(wall) * 1000n + BigInt(this.microsecond % 1000) - offset.totalMicroseconds()
    const cut = micros / 1000n
    return new Date(Number(micros % 1000n < 0n ? cut - 1n : cut))
  }

  /** Python's `isoformat()`: `YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]`. */
  toString(): string {
    const day = `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`
    const clock = formatClock(this.hour, this.minute, this.second, this.microsecond)
    const offset = this.utcoffset()
    const zone = offset === null ? '' : formatOffset(offset, ':')
    return `${day}T${clock}${zone}`
  }

  /** The same as `toString()`. */
  toJSON(): string {
    return this.toString()
  }
}
