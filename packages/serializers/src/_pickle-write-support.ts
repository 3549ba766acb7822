// What the pickle writer's rooms share: its constants, the globals it names (with how CPython
// shares their names through the memo), and str encoding with surrogates.

import { PyGlobal } from './py-values.ts'

export const BATCHSIZE = 1000
export const FRAME_SIZE_TARGET = 64 * 1024
export const FRAME_SIZE_MIN = 4
export const FRAME_HEADER_SIZE = 9
/** How deeply containers may nest (CPython's own limit is lower: its recursion limit). */
export const MAX_DEPTH = 2000

/**
 * A global the writer names. `internedName`: whether CPython's qualname string is an interned
 * object (a Python-defined class), which protocol 4's memo then shares with equal strings; the
 * qualname of a C type is a fresh string each time, never shared.
 */
export interface GlobalSpec {
  readonly module: string
  readonly name: string
  readonly internedName: boolean
  /**
   * Whether the module name is a str of its own (a C function's `__module__`, such as getattr's
   * `'builtins'`), never shared with an equal str; a class's `__module__` is interned.
   */
  readonly freshModule?: boolean
}

export const g = (module: string, name: string, internedName = false): GlobalSpec => ({
  module,
  name,
  internedName,
})
export const DATETIME = g('datetime', 'datetime')
export const DATE = g('datetime', 'date')
export const TIME = g('datetime', 'time')
export const TIMEDELTA = g('datetime', 'timedelta')
export const TIMEZONE = g('datetime', 'timezone')
export const DECIMAL = g('decimal', 'Decimal')
export const UUID = g('uuid', 'UUID', true)
export const SET = g('builtins', 'set')
export const FROZENSET = g('builtins', 'frozenset')
export const BYTES = g('builtins', 'bytes')
export const CODECS_ENCODE = g('_codecs', 'encode')
// pytz's functions and Django's class are Python-defined (interned names); getattr and ZoneInfo
// are C-defined (a fresh name each time).
export const PYTZ_UTC = g('pytz', '_UTC', true)
export const PYTZ_P = g('pytz', '_p', true)
export const GETATTR: GlobalSpec = { ...g('builtins', 'getattr'), freshModule: true }
export const ZONEINFO = new PyGlobal('zoneinfo', 'ZoneInfo')
export const SAFE_STRING = g('django.utils.safestring', 'SafeString', true)
export const INTERNED_NAMES = new Set([
  'uuid.UUID',
  'copyreg._reconstructor',
  'pytz._UTC',
  'pytz._p',
  'django.utils.safestring.SafeString',
  'django.utils.safestring.SafeText',
])

// Python 3 module names as protocols 0–2 write them (fix_imports).
export const PY2_MODULES: Readonly<Record<string, string>> = {
  builtins: '__builtin__',
  copyreg: 'copy_reg',
}

/** A str that CPython creates afresh (never shared through the memo with an equal str). */
export class FreshStr {
  constructor(readonly text: string) {}
}

/**
 * A str that CPython shares with equal strs of one kind only, not with the others: pytz's zone
 * names (one object per zone, used by all its states, built at run time, so never one of the
 * application's strs).
 */
export class ScopedStr {
  constructor(
    readonly text: string,
    readonly scope: Map<string, number>,
  ) {}
}

export const LONE_SURROGATE =
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
export const nativeWellFormed =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'

export function isWellFormed(text: string): boolean {
  return nativeWellFormed
    ? (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : !LONE_SURROGATE.test(text)
}

/** UTF-8 length with `surrogatepass`: a lone surrogate takes 3 bytes. */
export function surrogatepassLength(text: string): number {
  let n = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

/** Python's `str.encode('utf-8', 'surrogatepass')`, into `buf` at `at`. */
export function encodeSurrogatepass(text: string, buf: Buffer, at: number): void {
  let p = at
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00)
        i++
      }
    }
    if (c < 0x80) buf[p++] = c
    else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6)
      buf[p++] = 0x80 | (c & 0x3f)
    } else if (c < 0x10000) {
      buf[p++] = 0xe0 | (c >> 12)
      buf[p++] = 0x80 | ((c >> 6) & 0x3f)
      buf[p++] = 0x80 | (c & 0x3f)
    } else {
      buf[p++] = 0xf0 | (c >> 18)
      buf[p++] = 0x80 | ((c >> 12) & 0x3f)
      buf[p++] = 0x80 | ((c >> 6) & 0x3f)
      buf[p++] = 0x80 | (c & 0x3f)
    }
  }
}

export function fail(message: string): never {
  throw new Error(`pickle: ${message}`)
}

export function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  if (Array.isArray(value)) return 'Array'
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? name : 'object'
}
