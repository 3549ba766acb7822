// Python's `timedelta` and the time zones a pickled `datetime` carries: `datetime.timezone`,
// `zoneinfo.ZoneInfo` and pytz's zones, and what a zone gives as the UTC offset of a datetime.

import { checkZone, offsetAt, offsetForWall, wallMs } from './_pickle-zones.ts'
import { assertInteger, MAX_DAYS, pad, US_PER_DAY, US_PER_SECOND } from './_py-checks.ts'

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
export function formatOffset(offset: PyTimeDelta, separator: string): string {
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
export function staticOffset(zone: string): number | null {
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

export function isTzInfo(value: unknown): value is PyTzInfo {
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

/** The fields of a `PyDateTime` a zone reads: its wall-clock time and its `fold`. */
export interface WallTime {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
  readonly microsecond: number
  readonly fold: number
}

/**
 * Python's `tz.utcoffset(dt)`: what the zone gives for the wall time of `dt` (or, for a `time`,
 * with no date: `dt === null`). `null` where Python gives None.
 */
export function utcoffsetOf(tz: PyTzInfo, dt: WallTime | null): PyTimeDelta | null {
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
export function wallOf(dt: WallTime): number {
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
