// The JS stand-ins for the Python values that the pickle serializer reads and writes and that
// have no JS type of their own. `pickle.ts` re-exports them; this file is internal only so that
// the reader and the writer can import them without a cycle.

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

/** Python's `datetime.time`, with microseconds, an optional fixed-offset `tzinfo` and `fold`. */
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
  readonly tzinfo: PyTimezone | null
  /** Python's `fold` (0 or 1): which of two repeated wall-clock times is meant. */
  readonly fold: number

  /** Like Python's `time(hour, minute, second, microsecond, tzinfo, fold=fold)`. */
  constructor(
    hour = 0,
    minute = 0,
    second = 0,
    microsecond = 0,
    tzinfo: PyTimezone | null = null,
    fold = 0,
  ) {
    checkTime(hour, minute, second, microsecond, fold)
    if (tzinfo !== null && !(tzinfo instanceof PyTimezone)) {
      throw new TypeError('tzinfo must be a PyTimezone or null')
    }
    this.hour = hour
    this.minute = minute
    this.second = second
    this.microsecond = microsecond
    this.tzinfo = tzinfo
    this.fold = fold
  }

  /** Python's `isoformat()`: `HH:MM:SS[.ffffff][+HH:MM]`. */
  toString(): string {
    const clock = formatClock(this.hour, this.minute, this.second, this.microsecond)
    return this.tzinfo === null ? clock : clock + formatOffset(this.tzinfo.offset, ':')
  }

  /** The same as `toString()`. */
  toJSON(): string {
    return this.toString()
  }
}

/**
 * Python's `datetime.datetime`: microsecond precision, naive (`tzinfo === null`) or aware (a
 * fixed-offset `PyTimezone`), and `fold`. A JS `Date` keeps neither microseconds nor the
 * naive/aware distinction, hence this class; `toDate()` and `fromDate()` convert.
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
  readonly tzinfo: PyTimezone | null
  /** Python's `fold` (0 or 1). */
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
    tzinfo: PyTimezone | null = null,
    fold = 0,
  ) {
    checkDate(year, month, day)
    checkTime(hour, minute, second, microsecond, fold)
    if (tzinfo !== null && !(tzinfo instanceof PyTimezone)) {
      throw new TypeError('tzinfo must be a PyTimezone or null')
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

  /** An aware UTC datetime (`tzinfo === PyTimezone.utc`) at the instant of a JS `Date`. */
  static fromDate(date: Date): PyDateTime {
    const ms = date.getTime()
    if (Number.isNaN(ms)) throw new RangeError('cannot convert an invalid Date')
    return new PyDateTime(
      date.getUTCFullYear(),
      date.getUTCMonth() + 1,
      date.getUTCDate(),
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
      date.getUTCMilliseconds() * 1000,
      PyTimezone.utc,
    )
  }

  /**
   * The instant as a JS `Date` (microseconds are cut to milliseconds). An aware datetime is exact;
   * a naive one is read as UTC by default, or as the local time of this process with `'local'`.
   */
  toDate(naiveAs: 'utc' | 'local' = 'utc'): Date {
    const ms = Math.floor(this.microsecond / 1000)
    let date: Date
    if (this.tzinfo === null && naiveAs === 'local') {
      date = new Date(2000, this.month - 1, this.day, this.hour, this.minute, this.second, ms)
      date.setFullYear(this.year)
      return date
    }
    date = new Date(
      Date.UTC(2000, this.month - 1, this.day, this.hour, this.minute, this.second, ms),
    )
    date.setUTCFullYear(this.year)
    if (this.tzinfo !== null) {
      const offsetMs = Number(this.tzinfo.offset.totalMicroseconds() / 1000n)
      date = new Date(date.getTime() - offsetMs)
    }
    return date
  }

  /** Python's `isoformat()`: `YYYY-MM-DDTHH:MM:SS[.ffffff][+HH:MM]`. */
  toString(): string {
    const day = `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`
    const clock = formatClock(this.hour, this.minute, this.second, this.microsecond)
    const zone = this.tzinfo === null ? '' : formatOffset(this.tzinfo.offset, ':')
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
