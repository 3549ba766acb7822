// The JS stand-ins for the Python values that the pickle serializer reads and writes and that
// have no JS type of their own. `pickle.ts` re-exports them; this file is internal only so that
// the reader and the writer can import them without a cycle.

import { checkZone, offsetAt, offsetForWall, wallMs } from './_pickle-zones.ts'

const US_PER_SECOND = 1_000_000n
const US_PER_DAY = 86_400_000_000n
const MAX_DAYS = 999_999_999

function assertInteger(value: number, what: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${what} must be an integer in ${min}..${max}, got ${String(value)}`)
  }
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0')
}

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31
}

function checkDate(year: number, month: number, day: number): void {
  assertInteger(year, 'year', 1, 9999)
  assertInteger(month, 'month', 1, 12)
  assertInteger(day, 'day', 1, daysInMonth(year, month))
}

function checkTime(
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
function formatClock(hour: number, minute: number, second: number, microsecond: number): string {
  const clock = `${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`
  return microsecond === 0 ? clock : `${clock}.${pad(microsecond, 6)}`
}

/**
 * A Python `tuple`, for writing: the pickle serializer writes a JS array as a `list` and a
 * `PyTuple` as a `tuple`. (Tuples read back as plain arrays.) Build one with `tuple(...items)`.
 */
export class PyTuple {
  /** The items, frozen. */
  readonly items: readonly unknown[]

  /** Wraps a copy of `items`. */
  constructor(items: Iterable<unknown>) {
    this.items = Object.freeze(Array.from(items))
  }

  /** The number of items. */
  get length(): number {
    return this.items.length
  }
}

/** Builds a `PyTuple`, written as a Python `tuple`: `tuple(1, 'a')` is Python's `(1, 'a')`. */
export function tuple(...items: unknown[]): PyTuple {
  return new PyTuple(items)
}

/**
 * Python's `datetime.timedelta`, normalised as Python does: `days` may be negative, `0 <= seconds
 * < 86400` and `0 <= microseconds < 1000000`.
 */
export class PyTimeDelta {
  /** Whole days, -999999999..999999999. */
  readonly days: number
  /** Seconds within the day, 0..86399. */
  readonly seconds: number
  /** Microseconds within the second, 0..999999. */
  readonly microseconds: number

  /** Like Python's `timedelta(days, seconds, microseconds)`, with integers only. */
  constructor(days = 0, seconds = 0, microseconds = 0) {
    for (const [name, value] of [
      ['days', days],
      ['seconds', seconds],
      ['microseconds', microseconds],
    ] as const) {
      if (!Number.isSafeInteger(value)) {
        throw new RangeError(`timedelta ${name} must be a safe integer, got ${String(value)}`)
      }
    }
    const total = BigInt(days) * US_PER_DAY + BigInt(seconds) * US_PER_SECOND + BigInt(microseconds)
    // Floor division, so that the remainders are never negative.
    let d = total / US_PER_DAY
    if (total % US_PER_DAY < 0n) d -= 1n
    const rest = total - d * US_PER_DAY
    if (d < BigInt(-MAX_DAYS) || d > BigInt(MAX_DAYS)) {
      throw new RangeError(`timedelta days must be in -${MAX_DAYS}..${MAX_DAYS}, got ${d}`)
    }
    this.days = Number(d)
    this.seconds = Number(rest / US_PER_SECOND)
    this.microseconds = Number(rest % US_PER_SECOND)
  }

  /** The whole duration in microseconds. */
  totalMicroseconds(): bigint {
    return (
      BigInt(this.days) * US_PER_DAY +
      BigInt(this.seconds) * US_PER_SECOND +
      BigInt(this.microseconds)
    )
  }

  /** The whole duration in seconds, as Python's `total_seconds()`. */
  totalSeconds(): number {
    return Number(this.totalMicroseconds()) / 1e6
  }

  /** Python's `str(timedelta)`: `'-1 day, 23:59:59.000007'`. */
  toString(): string {
    const ss = this.seconds % 60
    const mm = Math.floor(this.seconds / 60) % 60
    const hh = Math.floor(this.seconds / 3600)
    let text = `${hh}:${pad(mm, 2)}:${pad(ss, 2)}`
    if (this.days !== 0) {
      text = `${this.days} day${Math.abs(this.days) === 1 ? '' : 's'}, ${text}`
    }
    return this.microseconds === 0 ? text : `${text}.${pad(this.microseconds, 6)}`
  }
}

/** `+HH:MM`, with `:SS` and `.ffffff` only when needed, as Python formats a UTC offset. */
function formatOffset(offset: PyTimeDelta, separator: string): string {
  let us = offset.totalMicroseconds()
  const sign = us < 0n ? '-' : '+'
  if (us < 0n) us = -us
  const totalSeconds = Number(us / US_PER_SECOND)
  const micro = Number(us % US_PER_SECOND)
  const hh = Math.floor(totalSeconds / 3600)
  const mm = Math.floor(totalSeconds / 60) % 60
  const ss = totalSeconds % 60
  let text = `${sign}${pad(hh, 2)}${separator}${pad(mm, 2)}`
  if (ss !== 0 || micro !== 0) text += `${separator}${pad(ss, 2)}`
  if (micro !== 0) text += `.${pad(micro, 6)}`
  return text
}

/**
 * Python's `datetime.timezone`: a fixed offset from UTC and an optional name. `PyTimezone.utc`
 * is Python's `timezone.utc`; reading `timezone(timedelta(0))` gives that same object.
 */
export class PyTimezone {
  /** The offset from UTC, strictly between -24 h and +24 h. */
  readonly offset: PyTimeDelta
  /** The name given to Python's `timezone(offset, name)`, or `null`. */
  readonly name: string | null

  /** Python's `timezone.utc`. */
  static readonly utc: PyTimezone = new PyTimezone(new PyTimeDelta(0))

  /** Like Python's `timezone(offset, name=None)`. */
  constructor(offset: PyTimeDelta, name: string | null = null) {
    if (!(offset instanceof PyTimeDelta))
      throw new TypeError('timezone offset must be a PyTimeDelta')
    const us = offset.totalMicroseconds()
    if (us <= -US_PER_DAY || us >= US_PER_DAY) {
      throw new RangeError('timezone offset must be strictly between -24 and 24 hours')
    }
    if (name !== null && typeof name !== 'string')
      throw new TypeError('timezone name must be a string')
    this.offset = offset
    this.name = name
  }

  /** The offset from UTC in seconds (fractional when the offset has microseconds). */
  get offsetSeconds(): number {
    return this.offset.totalSeconds()
  }

  /** Python's `str(timezone)`: the name, else `'UTC'` or `'UTC+05:30'`. */
  toString(): string {
    if (this.name !== null) return this.name
    if (this.offset.totalMicroseconds() === 0n) return 'UTC'
    return `UTC${formatOffset(this.offset, ':')}`
  }
}

const MAX_ZONE_NAME = 255

function checkZoneName(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_ZONE_NAME) {
    throw new TypeError(`${what} must be a non-empty str of at most ${MAX_ZONE_NAME} characters`)
  }
}

/**
 * Python's `zoneinfo.ZoneInfo(key)`: an IANA time zone (`Europe/Paris`) whose UTC offset depends
 * on the date, as Django 4+ uses for `TIME_ZONE` and `timezone.localtime()`. A datetime in this
 * zone gives its instant from the zone's rules at its wall-clock time and `fold`, as Python does,
 * computed from the time zone database of Node's ICU (`Intl.DateTimeFormat`). Pickled as Python
 * does: `ZoneInfo._unpickle(key, fromCache)`.
 */
export class PyZoneInfo {
  /** The IANA key, `'Europe/Paris'`. */
  readonly key: string
  /**
   * Whether Python made it with `ZoneInfo(key)` (`true`, the usual case: Python then reads back
   * the one shared instance of the zone) or with `ZoneInfo.no_cache(key)` (`false`).
   */
  readonly fromCache: boolean

  /**
   * Like Python's `ZoneInfo(key)` (or `ZoneInfo.no_cache(key)` with `fromCache: false`). Throws a
   * `RangeError` when Node's time zone database does not know `key`: Python would not read it.
   */
  constructor(key: string, fromCache = true) {
    checkZoneName(key, 'ZoneInfo key')
    checkZone(key)
    this.key = key
    this.fromCache = fromCache === true
  }

  /** The key, as Python's `str(ZoneInfo)`. */
  toString(): string {
    return this.key
  }
}

/**
 * A pytz time zone, as Django 3.2 and older use (`timezone.now()` carries `pytz.utc`; with
 * `TIME_ZONE` set, `localtime()` gives pytz zones). Three forms, each pickled as pytz does:
 * `PytzTimezone.utc` (`pytz.utc`, pickled as `pytz._UTC()`); a zone with one fixed offset
 * (`pytz.timezone('EST')`, pickled as `pytz._p('EST')`), whose offset comes from Node's time zone
 * database; and one state of a zone with daylight saving time, as pytz's `localize()` and
 * `normalize()` attach to a datetime (`pytz._p('Europe/Paris', 3600, 0, 'CET')`), which carries
 * its own offset: a datetime in it has that offset, whatever its date (that is pytz's model).
 */
export class PytzTimezone {
  /** The zone name, `'Europe/Paris'`; `'UTC'` for `pytz.utc`. */
  readonly zone: string
  /** The UTC offset of this state in seconds; `null` for `pytz.utc` and fixed-offset zones. */
  readonly utcoffsetSeconds: number | null
  /** The daylight saving part of that offset in seconds (0 in winter); `null` as above. */
  readonly dstSeconds: number | null
  /** The abbreviation of this state, `'CET'` or `'CEST'`; `null` as above. */
  readonly tzname: string | null

  /** Python's `pytz.utc`. */
  static readonly utc: PytzTimezone = new PytzTimezone('UTC')

  /**
   * `new PytzTimezone(zone)` is `pytz.timezone(zone)` for a zone with one fixed offset (`'EST'`,
   * `'Etc/GMT-3'`; `'UTC'` is `pytz.utc`); with a `state`, one state of a zone with daylight saving
   * time, as pytz pickles it. Throws a `RangeError` when Node's time zone database does not know
   * `zone`, or when an offset is not a whole number of seconds within a day.
   */
  constructor(
    zone: string,
    state?: { utcoffsetSeconds: number; dstSeconds: number; tzname: string },
  ) {
    checkZoneName(zone, 'pytz zone')
    checkZone(zone)
    if (state === undefined && zone.toUpperCase() !== 'UTC' && staticOffset(zone) === null) {
      throw new RangeError(
        `pytz zone ${zone} is not one of pytz's fixed-offset zones (EST, MST, HST, Etc/GMT+5, GMT…): give the state pytz's localize() picks ({ utcoffsetSeconds, dstSeconds, tzname }), or use new PyZoneInfo('${zone}')`,
      )
    }
    if (state !== undefined) {
      assertInteger(state.utcoffsetSeconds, 'pytz utcoffset', -86_399, 86_399)
      assertInteger(state.dstSeconds, 'pytz dst', -86_399, 86_399)
      checkZoneName(state.tzname, 'pytz tzname')
    }
    this.zone = zone
    this.utcoffsetSeconds = state?.utcoffsetSeconds ?? null
    this.dstSeconds = state?.dstSeconds ?? null
    this.tzname = state?.tzname ?? null
  }

  /** Whether this is `pytz.utc` (`pytz.timezone('UTC')` is that same object in Python). */
  get isUtc(): boolean {
    return this.utcoffsetSeconds === null && this.zone.toUpperCase() === 'UTC'
  }

  /** The zone name, as Python's `str()` of a pytz zone. */
  toString(): string {
    return this.zone
  }
}

const UTC_NAMES = /^(Etc\/)?(GMT|UTC|UCT|Universal|Zulu|Greenwich)([+-]?0)?$/
const ETC_GMT = /^Etc\/GMT([+-])(\d{1,2})$/
const US_STATIC: Readonly<Record<string, number>> = { EST: -18_000, MST: -25_200, HST: -36_000 }

/**
 * The offset in seconds of pytz's fixed-offset zones (its `StaticTzInfo`: `EST`, `MST`, `HST`,
 * `Etc/GMT+5`, `GMT`, `Zulu`…), or `null` for another name. Exact, from the names themselves:
 * Node's database now makes `EST` a link to `America/Panama`, which had another offset before 1908.
 */
function staticOffset(zone: string): number | null {
  if (Object.hasOwn(US_STATIC, zone)) return US_STATIC[zone] as number
  if (UTC_NAMES.test(zone)) return 0
  const etc = ETC_GMT.exec(zone)
  if (etc === null) return null
  const hours = Number(etc[2])
  if (hours > 14) return null
  // POSIX style: Etc/GMT+5 is five hours behind UTC.
  return (etc[1] === '+' ? -hours : hours) * 3600
}

/** The `tzinfo` of a `PyDateTime` or `PyTime`. */
export type PyTzInfo = PyTimezone | PyZoneInfo | PytzTimezone

function isTzInfo(value: unknown): value is PyTzInfo {
  return value instanceof PyTimezone || value instanceof PyZoneInfo || value instanceof PytzTimezone
}

/**
 * Builds a `PyZoneInfo` or `PytzTimezone` read from a pickle without asking Node's time zone
 * database: Python may know a zone that this Node does not (reading it works; converting a
 * datetime in it to an instant then throws).
 */
export function unpickledZone(kind: 'zoneinfo', key: string, fromCache: boolean): PyZoneInfo
export function unpickledZone(
  kind: 'pytz',
  zone: string,
  state?: { utcoffsetSeconds: number; dstSeconds: number; tzname: string },
): PytzTimezone
export function unpickledZone(
  kind: 'zoneinfo' | 'pytz',
  name: string,
  extra?: boolean | { utcoffsetSeconds: number; dstSeconds: number; tzname: string },
): PyZoneInfo | PytzTimezone {
  checkZoneName(name, kind === 'zoneinfo' ? 'ZoneInfo key' : 'pytz zone')
  if (kind === 'zoneinfo') {
    const zone = Object.create(PyZoneInfo.prototype) as { key: string; fromCache: boolean }
    zone.key = name
    zone.fromCache = extra === true
    return zone as PyZoneInfo
  }
  const state = typeof extra === 'object' ? extra : undefined
  if (state === undefined && name.toUpperCase() === 'UTC') return PytzTimezone.utc
  if (state !== undefined) {
    assertInteger(state.utcoffsetSeconds, 'pytz utcoffset', -86_399, 86_399)
    assertInteger(state.dstSeconds, 'pytz dst', -86_399, 86_399)
    checkZoneName(state.tzname, 'pytz tzname')
  }
  const zone = Object.create(PytzTimezone.prototype) as {
    zone: string
    utcoffsetSeconds: number | null
    dstSeconds: number | null
    tzname: string | null
  }
  zone.zone = name
  zone.utcoffsetSeconds = state?.utcoffsetSeconds ?? null
  zone.dstSeconds = state?.dstSeconds ?? null
  zone.tzname = state?.tzname ?? null
  return zone as PytzTimezone
}

const ZERO = new PyTimeDelta(0)

/**
 * Python's `tz.utcoffset(dt)`: what the zone gives for the wall time of `dt` (or, for a `time`,
 * with no date: `dt === null`). `null` where Python gives None.
 */
function utcoffsetOf(tz: PyTzInfo, dt: PyDateTime | null): PyTimeDelta | null {
  if (tz instanceof PyTimezone) return tz.offset
  if (tz instanceof PytzTimezone) {
    if (tz.isUtc) return ZERO
    if (tz.utcoffsetSeconds !== null)
      return dt === null ? null : new PyTimeDelta(0, tz.utcoffsetSeconds)
    // A fixed-offset zone: the same offset at any instant (any other name Python wrote: Node's
    // database at this date).
    const fixed = staticOffset(tz.zone)
    if (fixed !== null) return new PyTimeDelta(0, fixed)
    return new PyTimeDelta(0, offsetAt(tz.zone, dt === null ? 0 : wallOf(dt)) / 1000)
  }
  if (dt === null) return null
  return new PyTimeDelta(0, offsetForWall(tz.key, wallOf(dt), dt.fold) / 1000)
}

/** The wall-clock time of `dt` as if it were UTC, in ms (microseconds cut). */
function wallOf(dt: PyDateTime): number {
  return wallMs(
    dt.year,
    dt.month,
    dt.day,
    dt.hour,
    dt.minute,
    dt.second,
    Math.floor(dt.microsecond / 1000),
  )
}

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
    return new Date(offset === null ? wall : wall - Number(offset.totalMicroseconds() / 1000n))
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

/** At most 40 characters of `text` for an error message. */
function clip(text: string): string {
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`
}

/**
 * The end of a run of ASCII digits with PEP 515 single underscores between them (`1_000`)
 * starting at `i`, or -1 when no digit is there. A hand-written scan: one pass, no backtracking.
 */
function digitRun(text: string, i: number): number {
  if (!isAsciiDigit(text.charCodeAt(i))) return -1
  let j = i + 1
  for (;;) {
    while (isAsciiDigit(text.charCodeAt(j))) j++
    if (text.charCodeAt(j) === 0x5f && isAsciiDigit(text.charCodeAt(j + 1))) j += 2
    else return j
  }
}

function isAsciiDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

/** `text` without its leading zeros. */
function stripZeros(text: string): string {
  let i = 0
  while (text.charCodeAt(i) === 0x30) i++
  return text.slice(i)
}

/**
 * The parts of what Python's `Decimal()` accepts: `[+-]`, digits with an optional point (or a
 * point and digits), an optional exponent; or Infinity / Inf / NaN / sNaN (with a payload) in
 * any case. Digits may have PEP 515 underscores. `null` when `text` is none of these.
 */
function scanDecimal(
  text: string,
):
  | { sign: string; special: 'Infinity' | 'NaN' | 'sNaN'; payload: string }
  | { sign: string; special: null; whole: string; fraction: string; exponent: string }
  | null {
  let i = 0
  const c = text.charCodeAt(0)
  const sign = c === 0x2d ? '-' : ''
  if (c === 0x2b || c === 0x2d) i = 1
  const lower = text.length - i <= 9 ? text.slice(i).toLowerCase() : ''
  if (lower === 'inf' || lower === 'infinity') return { sign, special: 'Infinity', payload: '' }
  const head = text.slice(i, i + 4).toLowerCase()
  const nan = head.startsWith('nan') ? 3 : head === 'snan' ? 4 : 0
  if (nan > 0) {
    const end = i + nan === text.length ? i + nan : digitRun(text, i + nan)
    if (end !== text.length) return null
    return { sign, special: nan === 4 ? 'sNaN' : 'NaN', payload: text.slice(i + nan) }
  }
  let whole = ''
  let fraction = ''
  const wholeEnd = digitRun(text, i)
  if (wholeEnd >= 0) {
    whole = text.slice(i, wholeEnd)
    i = wholeEnd
    if (text.charCodeAt(i) === 0x2e) {
      const fractionEnd = digitRun(text, i + 1)
      i++
      if (fractionEnd >= 0) {
        fraction = text.slice(i, fractionEnd)
        i = fractionEnd
      }
    }
  } else if (text.charCodeAt(i) === 0x2e) {
    const fractionEnd = digitRun(text, i + 1)
    if (fractionEnd < 0) return null
    fraction = text.slice(i + 1, fractionEnd)
    i = fractionEnd
  } else {
    return null
  }
  let exponent = '0'
  if ((text.charCodeAt(i) | 0x20) === 0x65) {
    const s = text.charCodeAt(i + 1)
    const digitsAt = s === 0x2b || s === 0x2d ? i + 2 : i + 1
    const exponentEnd = digitRun(text, digitsAt)
    if (exponentEnd < 0) return null
    exponent = text.slice(i + 1, exponentEnd)
    i = exponentEnd
  }
  if (i !== text.length) return null
  return { sign, special: null, whole, fraction, exponent }
}

/** Python's `str(Decimal(text))`: the canonical form (`'1.5e3'` → `'1.5E+3'`, `'.5'` → `'0.5'`). */
function normalizeDecimal(input: string): string {
  const parts = scanDecimal(input.trim())
  if (parts === null) throw new RangeError(`invalid decimal literal: ${clip(input)}`)
  const sign = parts.sign
  if (parts.special !== null) {
    if (parts.special === 'Infinity') return `${sign}Infinity`
    return `${sign}${parts.special}${stripZeros(parts.payload.replaceAll('_', ''))}`
  }
  const fraction = parts.fraction.replaceAll('_', '')
  const coefficient = stripZeros(`${parts.whole.replaceAll('_', '')}${fraction}`) || '0'
  const exponent = Number(parts.exponent.replaceAll('_', '')) - fraction.length
  if (!Number.isSafeInteger(exponent)) {
    throw new RangeError(`decimal exponent out of range: ${clip(input)}`)
  }
  // _pydecimal's Decimal.__str__ (scientific notation, capital E).
  const leftDigits = exponent + coefficient.length
  const dotPlace = exponent <= 0 && leftDigits > -6 ? leftDigits : 1
  let intPart: string
  let fracPart: string
  if (dotPlace <= 0) {
    intPart = '0'
    fracPart = `.${'0'.repeat(-dotPlace)}${coefficient}`
  } else if (dotPlace >= coefficient.length) {
    intPart = coefficient + '0'.repeat(dotPlace - coefficient.length)
    fracPart = ''
  } else {
    intPart = coefficient.slice(0, dotPlace)
    fracPart = `.${coefficient.slice(dotPlace)}`
  }
  const shift = leftDigits - dotPlace
  const exp = shift === 0 ? '' : `E${shift > 0 ? '+' : '-'}${Math.abs(shift)}`
  return `${sign}${intPart}${fracPart}${exp}`
}

/**
 * Python's `decimal.Decimal`, kept as its decimal text in Python's canonical `str()` form
 * (`'1.50'`, `'-1E+3'`, `'NaN'`), which is what Python pickles. No arithmetic: use a decimal
 * library on `value` if you need it.
 */
export class PyDecimal {
  /** The decimal text, as Python's `str(Decimal)` writes it. */
  readonly value: string

  /** Wraps decimal text, normalised as Python's `str(Decimal(text))`; throws when Python would. */
  constructor(value: string) {
    this.value = normalizeDecimal(String(value))
  }

  /** The nearest JS number (`NaN` for NaN and sNaN). */
  toNumber(): number {
    if (this.value.includes('NaN')) return Number.NaN
    return Number(this.value)
  }

  /** The decimal text. */
  toString(): string {
    return this.value
  }

  /** The decimal text, so that `JSON.stringify` keeps every digit. */
  toJSON(): string {
    return this.value
  }
}

const UUID_MAX = (1n << 128n) - 1n

/**
 * Python's `uuid.UUID`. `String(uuid)` is the canonical `8-4-4-4-12` form; `isSafe` is Python's
 * `is_safe` (`0` safe, `-1` unsafe, `null` unknown).
 */
export class PyUUID {
  /** The 128-bit value, Python's `UUID.int`. */
  readonly int: bigint
  /** Python's `SafeUUID` value: `0` (safe), `-1` (unsafe) or `null` (unknown). */
  readonly isSafe: number | null

  /** From the canonical form (hyphens, braces and `urn:uuid:` optional), 32 hex digits, or the integer. */
  constructor(value: string | bigint, isSafe: number | null = null) {
    if (typeof value === 'bigint') {
      if (value < 0n || value > UUID_MAX) throw new RangeError('UUID int must be in 0..2^128-1')
      this.int = value
    } else {
      const hex = String(value)
        .replace(/^urn:uuid:/i, '')
        .replace(/^\{|\}$/g, '')
        .replaceAll('-', '')
      if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError('badly formed hexadecimal UUID string')
      this.int = BigInt(`0x${hex}`)
    }
    if (isSafe !== null && isSafe !== 0 && isSafe !== -1) {
      throw new RangeError('UUID isSafe must be 0, -1 or null')
    }
    this.isSafe = isSafe
  }

  /** 32 lowercase hex digits, Python's `UUID.hex`. */
  get hex(): string {
    return this.int.toString(16).padStart(32, '0')
  }

  /** The canonical form, `12345678-1234-5678-1234-567812345678`. */
  toString(): string {
    const h = this.hex
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }

  /** The canonical form. */
  toJSON(): string {
    return this.toString()
  }
}

/**
 * A reference to one of the allow-listed Python classes or functions (`datetime.date`, …) that a
 * pickle names without calling it, such as `pickle.dumps(datetime.date)`. Written back as the
 * same global.
 */
export class PyGlobal {
  /** The module, as Python 3 names it (`'builtins'`, not `'__builtin__'`). */
  readonly module: string
  /** The qualified name within the module. */
  readonly name: string

  /** A reference to `module.name`. */
  constructor(module: string, name: string) {
    this.module = module
    this.name = name
  }

  /** `module.name`. */
  toString(): string {
    return `${this.module}.${this.name}`
  }
}

/** Sets the value of a `PyUUID` made by `object.__new__(UUID)` once its state arrives (BUILD). */
export function initUuid(uuid: PyUUID, value: bigint, isSafe: number | null): void {
  const target = uuid as { int: bigint; isSafe: number | null }
  target.int = value
  target.isSafe = isSafe
}

/**
 * Django's `SafeString` (`django.utils.safestring`, `SafeText` in Django 2.x): text marked safe
 * for HTML, what `mark_safe()`, `format_html()`, `render_to_string()` and `{% cache %}` fragments
 * give. A `String` object, so that it works where text does (templates, `${}`, `.length`,
 * string methods, `JSON.stringify`), and writing it back keeps it marked: Django reads a
 * `SafeString` and does not escape it again. Being an object, `typeof` is `'object'` and `===`
 * compares identity: compare `String(value)`, or test `value instanceof PySafeString`.
 */
export class PySafeString extends String {
  /** Like Django's `mark_safe(text)`. */
  constructor(text: string) {
    if (typeof text !== 'string') throw new TypeError('PySafeString text must be a string')
    super(text)
  }
}
