// The JS stand-ins for the Python values that the pickle serializer reads and writes and that
// have no JS type of their own, one room per kind: this file (tuple, UUID, global reference,
// Django's SafeString) re-exports the others (py-zones.ts: timedelta and time zones;
// py-datetime.ts: date, time, datetime; py-decimal.ts: Decimal). `pickle.ts` re-exports the
// public ones; `initUuid` and `unpickledZone` are for the reader only.

export { PyDate, PyDateTime, PyTime } from './py-datetime.ts'
export { PyDecimal } from './py-decimal.ts'
export type { PyTzInfo } from './py-zones.ts'
export { PyTimeDelta, PyTimezone, PytzTimezone, PyZoneInfo, unpickledZone } from './py-zones.ts'

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
