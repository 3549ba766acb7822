import type { ClassTable } from './_pickle-classes.ts'
import { isPlainDict } from './_pickle-read-containers.ts'
import { asInteger, describe } from './_pickle-read-numbers.ts'
import {
  clip,
  fail,
  type Internal,
  MAX_INT_DIGITS,
  NestedPath,
  ZONEINFO_UNPICKLE,
} from './_pickle-read-rules.ts'
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PytzTimezone,
  PyZoneInfo,
  unpickledZone,
} from './py-values.ts'

// ---------------------------------------------------------------------------------------------
// Rebuilding allow-listed classes.

/** Bytes of a pickled state: `bytes`, or a str of latin-1 characters (Python 2 pickles). */
export function stateBytes(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value
  if (typeof value === 'string') {
    for (let i = 0; i < value.length; i++) if (value.charCodeAt(i) > 0xff) return null
    return Buffer.from(value, 'latin1')
  }
  return null
}

export function asTzinfo(value: unknown): PyTimezone | PyZoneInfo | PytzTimezone | null {
  if (value === undefined || value === null) return null
  if (value instanceof PyTimezone || value instanceof PyZoneInfo || value instanceof PytzTimezone) {
    return value
  }
  return fail(
    `tzinfo must be None, a datetime.timezone, a zoneinfo.ZoneInfo or a pytz zone, got ${describe(value)}`,
  )
}

export function makeDatetime(args: unknown[]): PyDateTime {
  const state = args.length >= 1 && args.length <= 2 ? stateBytes(args[0]) : null
  if (state !== null && state.length === 10 && ((state[2] as number) & 0x7f) >= 1) {
    const [yh = 0, yl = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, u1 = 0, u2 = 0, u3 = 0] = state
    const tz = asTzinfo(args[1])
    const fold = mo & 0x80 ? 1 : 0
    return new PyDateTime(
      yh * 256 + yl,
      mo & 0x7f,
      d,
      h,
      mi,
      sec,
      (u1 << 16) | (u2 << 8) | u3,
      tz,
      fold,
    )
  }
  if (args.length < 3 || args.length > 8) fail('datetime.datetime() takes 3 to 8 arguments')
  const n = (i: number, name: string) => (args.length > i ? asInteger(args[i], name) : 0)
  return new PyDateTime(
    n(0, 'year'),
    n(1, 'month'),
    n(2, 'day'),
    n(3, 'hour'),
    n(4, 'minute'),
    n(5, 'second'),
    n(6, 'microsecond'),
    asTzinfo(args[7]),
  )
}

export function makeDate(args: unknown[]): PyDate {
  const state = args.length === 1 ? stateBytes(args[0]) : null
  if (state !== null && state.length === 4) {
    const [yh = 0, yl = 0, mo = 0, d = 0] = state
    return new PyDate(yh * 256 + yl, mo, d)
  }
  if (args.length !== 3) fail('datetime.date() takes 3 arguments')
  return new PyDate(
    asInteger(args[0], 'year'),
    asInteger(args[1], 'month'),
    asInteger(args[2], 'day'),
  )
}

export function makeTime(args: unknown[]): PyTime {
  const state = args.length >= 1 && args.length <= 2 ? stateBytes(args[0]) : null
  if (state !== null && state.length === 6 && ((state[0] as number) & 0x7f) < 24) {
    const [h = 0, mi = 0, sec = 0, u1 = 0, u2 = 0, u3 = 0] = state
    const fold = h & 0x80 ? 1 : 0
    return new PyTime(h & 0x7f, mi, sec, (u1 << 16) | (u2 << 8) | u3, asTzinfo(args[1]), fold)
  }
  if (args.length > 5) fail('datetime.time() takes at most 5 arguments')
  const n = (i: number, name: string) => (args.length > i ? asInteger(args[i], name) : 0)
  return new PyTime(
    n(0, 'hour'),
    n(1, 'minute'),
    n(2, 'second'),
    n(3, 'microsecond'),
    asTzinfo(args[4]),
  )
}

export function makeTimedelta(args: unknown[]): PyTimeDelta {
  if (args.length > 3) fail('datetime.timedelta() takes at most 3 positional arguments')
  const n = (i: number, name: string) => (args.length > i ? asInteger(args[i], name) : 0)
  return new PyTimeDelta(n(0, 'days'), n(1, 'seconds'), n(2, 'microseconds'))
}

export function makeTimezone(args: unknown[]): PyTimezone {
  if (args.length < 1 || args.length > 2) fail('datetime.timezone() takes 1 or 2 arguments')
  const offset = args[0]
  if (!(offset instanceof PyTimeDelta)) fail('datetime.timezone() offset must be a timedelta')
  const name = args[1]
  if (name !== undefined && typeof name !== 'string') fail('datetime.timezone() name must be a str')
  if (name === undefined && offset.totalMicroseconds() === 0n) return PyTimezone.utc
  return new PyTimezone(offset, name ?? null)
}

export const MAX_INT_DECIMAL = 10n ** BigInt(MAX_INT_DIGITS)

export function makeDecimal(args: unknown[]): PyDecimal {
  if (args.length > 1) fail('decimal.Decimal() takes at most 1 argument here')
  const value = args.length === 0 ? '0' : args[0]
  if (typeof value === 'string') return new PyDecimal(value)
  if (typeof value === 'number' && Number.isInteger(value)) return new PyDecimal(String(value))
  if (typeof value === 'bigint') {
    // Printing a bigint in decimal is superlinear (a 1 MB LONG4 takes a second): Python's limit.
    if (value >= MAX_INT_DECIMAL || value <= -MAX_INT_DECIMAL) {
      fail(`decimal.Decimal() of an int of more than ${MAX_INT_DIGITS} digits`)
    }
    return new PyDecimal(String(value))
  }
  return fail(`decimal.Decimal() argument must be a str or an int, got ${describe(value)}`)
}

export function uuidFromState(state: unknown): { int: bigint; isSafe: number | null } {
  // A dict, or (dict, slots) as object.__reduce_ex__ writes for classes with __slots__.
  let merged: Record<string, unknown> = {}
  const parts = Array.isArray(state) && state.length === 2 ? state : [state]
  for (const part of parts) {
    if (part === null) continue
    if (!isPlainDict(part)) fail(`uuid.UUID state must be a dict, got ${describe(part)}`)
    merged = { ...merged, ...part }
  }
  const raw = merged.int
  let value: bigint
  if (typeof raw === 'bigint') value = raw
  else if (typeof raw === 'number' && Number.isSafeInteger(raw)) value = BigInt(raw)
  else return fail('uuid.UUID state has no int')
  if (value < 0n || value >= 1n << 128n) fail('uuid.UUID int out of range')
  const safe = Object.hasOwn(merged, 'is_safe') ? merged.is_safe : null
  if (safe !== null && safe !== 0 && safe !== -1) fail('uuid.UUID is_safe must be 0, -1 or None')
  return { int: value, isSafe: safe }
}

export function describeArgument(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(clip(value)) : describe(value)
}

/**
 * The first four of `args`, described, then how many more: a list cut by characters could end
 * inside a quoted argument.
 */
function describeArguments(args: readonly unknown[]): string {
  const shown = args.slice(0, 4).map(describeArgument)
  if (args.length > 4) shown.push(`… and ${args.length - 4} more`)
  return shown.join(', ')
}

/**
 * `getattr(target, attribute)`: `getattr(zoneinfo.ZoneInfo, '_unpickle')`, and the way to an
 * application's nested class, as protocols 0 to 3 pickle it (`getattr(module.Outer, 'Inner')`
 * for a handler of `'module:Outer.Inner'`: `target` a `NestedPath`, or a class with a handler of
 * its own).
 */
export function callGetattr(
  args: unknown[],
  classes: ClassTable | null,
  quotes: boolean,
): Internal | PyGlobal {
  const [target, attribute] = args
  if (args.length === 2 && typeof attribute === 'string' && classes !== null) {
    const outer =
      target instanceof NestedPath
        ? target
        : target instanceof PyGlobal && classes.byGlobal.has(`${target.module}\n${target.name}`)
          ? { module: target.module, path: target.name }
          : undefined
    if (outer !== undefined) {
      const path = `${outer.path}.${attribute}`
      if (classes.byGlobal.has(`${outer.module}\n${path}`)) return new PyGlobal(outer.module, path)
      if (classes.nestedPaths.has(`${outer.module}\n${path}`)) {
        return new NestedPath(outer.module, path)
      }
    }
  }
  if (
    args.length === 2 &&
    target instanceof PyGlobal &&
    target.module === 'zoneinfo' &&
    target.name === 'ZoneInfo' &&
    attribute === '_unpickle'
  ) {
    return ZONEINFO_UNPICKLE
  }
  return fail(
    `refusing builtins.getattr(${quotes ? describeArguments(args) : '…'}): getattr is read only as ` +
      "getattr(zoneinfo.ZoneInfo, '_unpickle'), the way CPython pickles a zoneinfo time zone, " +
      "and as the way to a nested class of an application's handler ('module:Outer.Inner')",
  )
}

/** `ZoneInfo._unpickle(key, from_cache)`: the zone `ZoneInfo(key)` or `ZoneInfo.no_cache(key)`. */
export function makeZoneInfo(args: unknown[]): PyZoneInfo {
  const [key, fromCache] = args
  if (args.length !== 2 || typeof key !== 'string' || (fromCache !== 0 && fromCache !== 1)) {
    fail('zoneinfo.ZoneInfo._unpickle() takes (key: str, from_cache: 0 or 1)')
  }
  return unpickledZone('zoneinfo', key, fromCache === 1)
}

/**
 * `pytz._p(zone)` (a zone with one fixed offset, or UTC) and `pytz._p(zone, utcoffset, dst,
 * tzname)` (one state of a zone with daylight saving time), the two forms pytz pickles.
 */
export function makePytz(args: unknown[]): PytzTimezone {
  const [zone, utcoffset, dst, tzname] = args
  if (args.length === 1 && typeof zone === 'string') return unpickledZone('pytz', zone)
  if (
    args.length === 4 &&
    typeof zone === 'string' &&
    Number.isSafeInteger(utcoffset) &&
    Number.isSafeInteger(dst) &&
    typeof tzname === 'string'
  ) {
    return unpickledZone('pytz', zone, {
      utcoffsetSeconds: utcoffset as number,
      dstSeconds: dst as number,
      tzname,
    })
  }
  return fail(
    `pytz._p() takes (zone: str) or (zone: str, utcoffset: int, dst: int, tzname: str), got (${describeArguments(args)})`,
  )
}
