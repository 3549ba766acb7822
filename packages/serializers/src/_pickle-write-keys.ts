// The pickle writer's dict keys and set items. Python needs them hashable, so an array there is
// written as a tuple and a Set as a frozenset (the reader turns tuples into arrays and frozensets
// into Sets: a value read from Django is written back as it was), and keys JavaScript tells
// apart but Python finds equal are refused, since the dict or set read back would keep one.

import { fail, MAX_DEPTH, typeName } from './_pickle-write-support.ts'
import { offsetForWall } from './_pickle-zones.ts'
import {
  PyDate,
  PyDateTime,
  PyDecimal,
  PyGlobal,
  PySafeString,
  PyTime,
  PyTimeDelta,
  PyTimezone,
  PyTuple,
  PytzTimezone,
  PyUUID,
  PyZoneInfo,
} from './py-values.ts'
import { type PyTzInfo, staticOffset, wallOf } from './py-zones.ts'

/** A JS `Set` in a key position, written as a Python `frozenset`: its items, as written. */
export class FrozenSetKey {
  constructor(readonly items: readonly unknown[]) {}
}

/** Zones whose fixed offset depends on the time zone database (tzdata once made them links). */
const TZDATA_DEPENDENT = new Set(['EST', 'MST', 'HST'])

/**
 * The keys of one `dumps` call: what each is written as, and the name of the class of keys
 * Python finds equal to it (its `==` with an equal `hash`), such that two keys collide in a
 * Python dict exactly when their names are equal.
 */
export class KeyTable {
  /** Array, Set or PyTuple in a key position → what is written (the same object each time). */
  private readonly written = new Map<object, unknown>()
  private readonly active = new Set<object>()
  private readonly names = new Map<object, string>()
  /** Python identity of objects compared by identity (and of distinct NaN floats). */
  private readonly ids = new Map<object, number>()
  private nextId = 0

  /**
   * The keys of a Map (`where`: `'Map key'`) or the items of a Set (`'Set item'`) as written:
   * arrays as tuples and Sets as frozensets, at any depth. Throws on an unhashable key or on two
   * keys that Python finds equal.
   */
  keys(keys: Iterable<unknown>, where: string): unknown[] {
    const out: unknown[] = []
    // The keys as given, for messages, once one is written as another object.
    let originals: unknown[] | null = null
    for (const key of keys) {
      const written = typeof key !== 'object' || key === null ? key : this.hashable(key, where, 0)
      if (written !== key && originals === null) originals = out.slice()
      out.push(written)
      originals?.push(key)
    }
    if (out.length > 1) this.assertDistinct(out, originals ?? out, where)
    return out
  }

  private hashable(value: unknown, where: string, depth: number): unknown {
    if (typeof value !== 'object' || value === null) return value
    const isArray = Array.isArray(value)
    if (isArray || value instanceof PyTuple || value instanceof Set) {
      const done = this.written.get(value)
      if (done !== undefined) return done
      if (this.active.has(value)) {
        fail(`a ${where} must be hashable in Python; got ${typeName(value)} that contains itself`)
      }
      if (depth >= MAX_DEPTH) fail(`value is nested more than ${MAX_DEPTH} levels deep`)
      this.active.add(value)
      const items: readonly unknown[] = isArray
        ? (value as unknown[])
        : value instanceof PyTuple
          ? value.items
          : Array.from(value as Set<unknown>)
      const converted = items.map((item) => this.hashable(item, where, depth + 1))
      let result: unknown
      if (value instanceof Set) {
        if (converted.length > 1) this.assertDistinct(converted, items, 'Set item')
        result = new FrozenSetKey(converted)
      } else if (value instanceof PyTuple && converted.every((item, i) => item === items[i])) {
        result = value
      } else {
        result = new PyTuple(converted)
      }
      this.active.delete(value)
      this.written.set(value, result)
      return result
    }
    if (value instanceof PyDecimal) {
      if (value.value.includes('sNaN')) {
        fail(`a ${where} must be hashable in Python; got a signaling NaN PyDecimal`)
      }
      return value
    }
    if (
      value instanceof Uint8Array ||
      value instanceof Date ||
      value instanceof PyDateTime ||
      value instanceof PyDate ||
      value instanceof PyTime ||
      value instanceof PyTimeDelta ||
      value instanceof PyTimezone ||
      value instanceof PyUUID ||
      value instanceof PyGlobal ||
      value instanceof PySafeString ||
      value instanceof PyZoneInfo ||
      value instanceof PytzTimezone
    ) {
      return value
    }
    return fail(`a ${where} must be hashable in Python; got ${typeName(value)}`)
  }

  private assertDistinct(keys: readonly unknown[], shown: readonly unknown[], where: string): void {
    const seen = new Map<string, number>()
    for (let i = 0; i < keys.length; i++) {
      const name = this.name(keys[i])
      const first = seen.get(name)
      if (first !== undefined) {
        fail(
          `the ${where}s ${show(shown[first])} and ${show(shown[i])} are equal in Python: the value read back would keep one of them`,
        )
      }
      seen.set(name, i)
    }
  }

  private identity(obj: object): string {
    let id = this.ids.get(obj)
    if (id === undefined) {
      id = this.nextId++
      this.ids.set(obj, id)
    }
    return `id:${id}`
  }

  /** The equality name of a key as written. */
  private name(key: unknown): string {
    switch (typeof key) {
      case 'boolean':
        return key ? 'num:1e0' : 'num:0'
      case 'number':
        return floatName(key) ?? `id:${this.nextId++}` // each NaN is a float object of its own
      case 'bigint':
        return integerName(key < 0n ? '-' : '', (key < 0n ? -key : key).toString())
      case 'string':
        return `str:${key}`
    }
    if (key === null) return 'none:'
    if (typeof key !== 'object') return `id:${this.nextId++}`
    let name = this.names.get(key)
    if (name === undefined) {
      name = this.objectName(key)
      this.names.set(key, name)
    }
    return name
  }

  private objectName(key: object): string {
    if (key instanceof PySafeString) return `str:${key.valueOf()}`
    if (key instanceof Uint8Array) {
      return `bytes:${Buffer.from(key.buffer, key.byteOffset, key.length).toString('latin1')}`
    }
    // A Date is written as an aware datetime in UTC.
    if (key instanceof Date) {
      const ms = key.getTime()
      return Number.isNaN(ms) ? this.identity(key) : `dt:${BigInt(ms) * 1000n}`
    }
    if (key instanceof PyDecimal) return decimalName(key.value) ?? this.identity(key)
    if (key instanceof PyDateTime) return this.datetimeName(key)
    if (key instanceof PyDate) return `date:${key.year}-${key.month}-${key.day}`
    if (key instanceof PyTime) return this.timeName(key)
    if (key instanceof PyTimeDelta) return `td:${key.totalMicroseconds()}`
    // timezone.__eq__ compares the offsets only, not the names.
    if (key instanceof PyTimezone) return `tz:${key.offset.totalMicroseconds()}`
    if (key instanceof PyUUID) return `uuid:${key.int}`
    if (key instanceof PyGlobal) return `global:${key.module}.${key.name}`
    if (key instanceof PyZoneInfo || key instanceof PytzTimezone) return this.zoneIdentity(key)
    if (key instanceof PyTuple)
      return `tuple:${key.items.map((item) => framed(this.name(item))).join('')}`
    if (key instanceof FrozenSetKey) {
      const items = key.items.map((item) => framed(this.name(item)))
      return `frozenset:${items.sort().join('')}`
    }
    return this.identity(key)
  }

  /**
   * The Python object a zone is read back as: `ZoneInfo(key)` and pytz's states are cached (one
   * object each, and the writer shares equal ones), `timezone(timedelta(0))` is `timezone.utc`;
   * other zones are the objects written.
   */
  private zoneIdentity(tz: PyTzInfo): string {
    if (tz instanceof PyZoneInfo) return tz.fromCache ? `zoneinfo:${tz.key}` : this.identity(tz)
    if (tz instanceof PytzTimezone) {
      if (tz.isUtc) return 'pytz:utc'
      return `pytz:${tz.zone}\n${tz.utcoffsetSeconds}\n${tz.dstSeconds}\n${tz.tzname}`
    }
    if (tz.name === null && tz.offset.totalMicroseconds() === 0n) return 'timezone:utc'
    return this.identity(tz)
  }

  /**
   * datetime.__eq__ and __hash__: naive ones by their fields (not `fold`); naive never equals
   * aware; aware ones by their instant, except that a wall time whose offset depends on `fold`
   * (a repeated or skipped time) equals only a datetime with the same tzinfo object and fields.
   */
  private datetimeName(dt: PyDateTime): string {
    const wall = `${dt.year}-${dt.month}-${dt.day}T${dt.hour}:${dt.minute}:${dt.second}.${dt.microsecond}`
    const tz = dt.tzinfo
    if (tz === null) return `naive-dt:${wall}`
    let offset: bigint
    try {
      offset = (dt.utcoffset() as PyTimeDelta).totalMicroseconds()
      if (tz instanceof PyZoneInfo) {
        const wallAt = wallOf(dt)
        if (offsetForWall(tz.key, wallAt, 0) !== offsetForWall(tz.key, wallAt, 1)) {
          return `zoned-dt:${this.zoneIdentity(tz)}\n${wall}`
        }
      }
    } catch {
      // A zone this Node does not know: equal at least to the same fields in the same zone.
      return `zoned-dt:${this.zoneIdentity(tz)}\n${wall}`
    }
    const fields = { ...dt, microsecond: 0 }
    return `dt:${BigInt(wallOf(fields)) * 1000n + BigInt(dt.microsecond) - offset}`
  }

  /**
   * time.__eq__ and __hash__: by fields when `utcoffset()` is None (a naive time, or one in a
   * zone whose offset needs a date), else by the time minus its offset (no wrap at midnight).
   */
  private timeName(t: PyTime): string {
    const tz = t.tzinfo
    let offset: bigint | null = null
    if (tz instanceof PyTimezone) offset = tz.offset.totalMicroseconds()
    else if (tz instanceof PytzTimezone) {
      // pytz: utc and the fixed-offset zones give an offset; a DST state gives None.
      if (tz.isUtc) offset = 0n
      else if (tz.utcoffsetSeconds === null) {
        const fixed = staticOffset(tz.zone)
        if (fixed !== null) offset = BigInt(fixed) * 1_000_000n
      }
    } else if (tz instanceof PyZoneInfo) {
      // zoneinfo gives an offset to a time only in a zone with one fixed offset.
      // Whether it gives one depends on the tzdata Python reads: equal at least to the same
      // fields in the same zone object (Python compares those by their fields).
      if (TZDATA_DEPENDENT.has(tz.key)) {
        return `zoned-time:${this.zoneIdentity(tz)}\n${t.hour}:${t.minute}:${t.second}.${t.microsecond}`
      }
      const fixed = staticOffset(tz.key)
      if (fixed !== null) offset = BigInt(fixed) * 1_000_000n
    }
    if (offset === null) return `naive-time:${t.hour}:${t.minute}:${t.second}.${t.microsecond}`
    const us =
      BigInt((t.hour * 3600 + t.minute * 60 + t.second) * 1_000_000 + t.microsecond) - offset
    return `time:${us}`
  }
}

function framed(name: string): string {
  return `${name.length}:${name}`
}

/** The name of a number equal in Python to `sign digits × 10^exponent`. */
function numberName(sign: string, digits: string, exponent: number): string {
  let start = 0
  while (start < digits.length && digits.charCodeAt(start) === 0x30) start++
  let end = digits.length
  while (end > start && digits.charCodeAt(end - 1) === 0x30) end--
  if (end === start) return 'num:0'
  return `num:${sign}${digits.slice(start, end)}e${exponent + digits.length - end}`
}

function integerName(sign: string, digits: string): string {
  return numberName(sign, digits, 0)
}

const F64 = new DataView(new ArrayBuffer(8))

/**
 * A float's name: an integer's by its digits, another float by its shortest text (one per
 * value), which a Decimal of exactly that value takes too; `undefined` for NaN.
 */
function floatName(x: number): string | undefined {
  if (Number.isSafeInteger(x) && x % 10 !== 0) return `num:${x}e0`
  if (Number.isNaN(x)) return undefined
  if (x === Number.POSITIVE_INFINITY) return 'num:inf'
  if (x === Number.NEGATIVE_INFINITY) return 'num:-inf'
  const sign = x < 0 ? '-' : ''
  const abs = Math.abs(x)
  if (Number.isSafeInteger(abs)) return integerName(sign, String(abs))
  if (Number.isInteger(abs)) return integerName(sign, BigInt(abs).toString())
  return `num:f${x}`
}

/** The exact value of a finite non-integer float, as `numberName` names it. */
function exactFloatName(x: number): string {
  // |x| = mantissa × 2^e with e < 0 = mantissa × 5^-e × 10^e.
  F64.setFloat64(0, Math.abs(x))
  const bits = F64.getBigUint64(0)
  const biased = Number(bits >> 52n)
  let mantissa = bits & ((1n << 52n) - 1n)
  let e = -1074
  if (biased !== 0) {
    mantissa |= 1n << 52n
    e = biased - 1075
  }
  return numberName(x < 0 ? '-' : '', (mantissa * 5n ** BigInt(-e)).toString(), e)
}

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:E([+-]\d+))?$/

/** A Decimal's value (its `str()` form); `undefined` for NaN, which Python hashes by identity. */
function decimalName(text: string): string | undefined {
  if (text === 'Infinity') return 'num:inf'
  if (text === '-Infinity') return 'num:-inf'
  const parts = DECIMAL.exec(text)
  if (parts === null) return undefined
  const fraction = parts[3] ?? ''
  const exponent = Number(parts[4] ?? '0') - fraction.length
  const name = numberName(parts[1] as string, `${parts[2]}${fraction}`, exponent)
  // Not an integer: equal to a float when it is exactly that float's value.
  if (!/e-\d+$/.test(name)) return name
  const x = Number(text)
  if (!Number.isFinite(x) || Number.isInteger(x)) return name
  return exactFloatName(x) === name ? `num:f${x}` : name
}

function show(key: unknown): string {
  if (typeof key === 'string') return JSON.stringify(key)
  if (typeof key === 'bigint') return `${key}n`
  if (typeof key === 'object' && key !== null) return `a ${typeName(key)}`
  return String(key)
}
