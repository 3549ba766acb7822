// The pickle reader's rules: the protocols, caps and nesting limit it keeps, the globals it
// rebuilds (and those an application may not replace), and how it refuses.

import { SerializationError } from '@cachex/core'

export const HIGHEST_PROTOCOL = 5
// Python 3.11 refuses to convert decimal text of more digits than this to an int (and V8's
// BigInt parsing and printing of decimal text is superlinear beyond it).
export const MAX_INT_DIGITS = 4300
/**
 * How deeply containers (lists, tuples, dicts, sets) may nest in a value read: the pickle
 * writer's own limit, so that every value read can be written back. CPython reads any depth, but
 * its pickler stops at its recursion limit (about 500 nested lists by default).
 */
export const MAX_READ_DEPTH = 2000
// The longest line each text opcode may have (the newline excluded). CPython has no caps; every
// pickle CPython writes fits these with room to spare: INT/LONG hold at most MAX_INT_DIGITS digits
// (Python's int() refuses more), a float's repr is at most 24 characters, a memo index at most
// 10 digits, and a GLOBAL names a module and a class of the allow-list. STRING and UNICODE lines
// are bounded by the input only (protocol 0 writes whole strings on one line): their decoding is
// one linear pass.
export const MAX_INT_LINE = MAX_INT_DIGITS + 32
export const MAX_FLOAT_LINE = 64
export const MAX_INDEX_LINE = 64
export const MAX_NAME_LINE = 256

/** The globals the reader rebuilds, in Python 3 spelling. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'datetime.datetime',
  'datetime.date',
  'datetime.time',
  'datetime.timedelta',
  'datetime.timezone',
  'decimal.Decimal',
  'uuid.UUID',
  'collections.OrderedDict',
  'builtins.set',
  'builtins.frozenset',
  'builtins.bytearray',
  'builtins.bytes',
  'builtins.object',
  '_codecs.encode',
  'codecs.encode',
  'copyreg._reconstructor',
  // Time zones as Django stores them: pytz.utc (Django 3.2's timezone.now()), pytz zones, and
  // zoneinfo zones (Django 4+), each read only in the exact shape its pickler writes.
  'pytz._UTC',
  'pytz._p',
  'zoneinfo.ZoneInfo',
  // Django's text marked safe for HTML (format_html, mark_safe, {% cache %} fragments).
  'django.utils.safestring.SafeString',
  'django.utils.safestring.SafeText',
])

/**
 * The globals the reader handles itself, which an application's class table cannot replace:
 * the allow-list, and `builtins.getattr`, which it reads only as `getattr(zoneinfo.ZoneInfo,
 * '_unpickle')` (how CPython pickles a zoneinfo zone) and never gives out as a value.
 */
export const RESERVED_GLOBALS: ReadonlySet<string> = new Set([
  ...ALLOWED_GLOBALS,
  'builtins.getattr',
])

/**
 * A callable that the reader knows but never gives out as a value: `builtins.getattr` and the
 * `ZoneInfo._unpickle` it returns. Either left anywhere but in the callable position of a REDUCE
 * (in a container, as the value read) is refused.
 */
export class Internal {
  constructor(readonly what: string) {}
}

/**
 * A class that an application's nested class is found in (`module.Outer` of a handler for
 * `'module:Outer.Inner'`), as protocols 0 to 3 reach the nested class: `getattr(module.Outer,
 * 'Inner')`. Read only as getattr's first argument; never called, never given out as a value.
 */
export class NestedPath extends Internal {
  constructor(
    readonly module: string,
    readonly path: string,
  ) {
    super(`${module}.${path}`)
  }
}

export const GETATTR = new Internal('builtins.getattr')
export const ZONEINFO_UNPICKLE = new Internal('zoneinfo.ZoneInfo._unpickle')

// Python 2 module names, as Python 3's unpickler maps them (fix_imports).
export const PY2_MODULES: Readonly<Record<string, string>> = {
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
}

/**
 * Refuses PROTO's `version` (at offset `at`) past the highest protocol. Its version is named only
 * at the start and below 0x20, a byte no text holds: past the start PROTO is a byte of something
 * else (UTF-8 text: `—` is E2 80 94), and at the start it may be text too (Windows-1252's `€` is
 * 0x80: `€7391` would name protocol 55, its `7`).
 */
export function checkProtocol(version: number, at: number): void {
  if (version <= HIGHEST_PROTOCOL) return
  if (at !== 1) fail('unsupported pickle protocol (PROTO past the start)')
  if (version < 0x20) fail(`unsupported pickle protocol: ${version}`)
  fail('unsupported pickle protocol (its version byte is a character: these bytes may be text)')
}

/**
 * Errors passed on as they are where an allowed class's construction is refused
 * (`ObjectReader.wrapErrors`): what an application's handler (`pickleClasses`) threw, in its own
 * words whatever the protocol, and the work budget's (a bomb), which quote nothing of the pickle.
 */
export const PASSED_ON = new WeakSet<Error>()

/** `fail(message)`, its error one of `PASSED_ON`. */
export function failPassedOn(message: string, cause?: unknown): never {
  const error = new SerializationError(
    `pickle: ${message}`,
    cause === undefined ? undefined : { cause },
  )
  PASSED_ON.add(error)
  throw error
}

/** The error for a handler of `global` that threw `error` (its cause). */
export function handlerRefused(global: string, error: unknown): never {
  return failPassedOn(
    `the handler of ${global} refused the pickled arguments: ${(error as Error)?.message ?? error}`,
    error,
  )
}

export function fail(message: string): never {
  throw new SerializationError(`pickle: ${message}`)
}

/** At most `max` characters of `text` for an error message, with an ellipsis when cut. */
export function clip(text: string, max = 40): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`
}

/** The error for a global off the allow-list: what it is, and the two ways forward. */
export function refuseGlobal(global: string): never {
  return fail(
    `refusing to load global ${global}: the pickle reader never runs code and rebuilds only known ` +
      "classes (datetime, Decimal, UUID, Django's SafeString, pytz and zoneinfo zones…). Store " +
      'plain data (dicts, lists, str, numbers) from Python instead, or read this global with a ' +
      'handler of your own (pickleSerializer({ classes }), createCache({ pickleClasses })): see ' +
      'docs/sharing-with-django.md',
  )
}
