import { own } from './_own.ts'
/**
 * Every error cachex raises is a `CachexError` with a stable `code`; the error that caused it, if
 * any, is its `cause`. Messages never contain passwords or values.
 */
export class CachexError extends Error {
  /** A stable, machine-readable code such as `E_CONNECTION`. */
  readonly code: string = 'E_CACHEX'

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    // The class's literal name, not `new.target.name`: a minified bundle renames classes.
    this.name = CLASS_NAMES.get(new.target) ?? new.target.name
  }
}

/**
 * The name of each of cachex's error classes, as written (`KeyNotFoundError`): what its errors'
 * `name` is, whatever a minifier (esbuild `--minify`, terser) renamed the class to. A user's
 * subclass, not in it, is named after its class.
 */
const CLASS_NAMES = new WeakMap<object, string>()

/**
 * On the prototype of `CachexError`, in every copy of `@cachex/core` (`Symbol.for` is shared by
 * the whole process): what tells another copy's errors from any other object.
 */
const BRAND = Symbol.for('@cachex/core.error')
Object.defineProperty(CachexError.prototype, BRAND, {
  __proto__: null,
  value: true,
} as PropertyDescriptor)

/**
 * `instanceof` for cachex's error classes (inherited by each, `this` being the class), which also
 * recognises the errors of another copy of `@cachex/core` loaded in the same process (two versions
 * installed side by side, one package resolving each): an error of the other copy is an instance
 * of this copy's class of the same `code`, or of a class that class derives from. A user's own
 * subclass, and anything that is not a cachex error, is checked as usual.
 */
function isInstance(this: object, value: unknown): boolean {
  try {
    return isInstanceOf(this, value)
  } catch {
    // A revoked Proxy (or one whose `getPrototypeOf` trap throws), thrown or rejected with by a
    // caller's code or a custom connection: no error of cachex's, and asking must not throw.
    return false
  }
}

/** `isInstance`, which may throw as it asks a Proxy. */
function isInstanceOf(self: object, value: unknown): boolean {
  if (Function.prototype[Symbol.hasInstance].call(self, value)) return true
  if (!CORE_CLASSES.has(self) || typeof value !== 'object' || value === null) return false
  if (!(BRAND in value)) return false
  const code = codeOfClass(self)
  // Each class of the other copy's chain, by its code (their prototypes carry the brand too).
  for (let p: unknown = Object.getPrototypeOf(value); isBranded(p); p = Object.getPrototypeOf(p)) {
    const type = Object.hasOwn(p, 'constructor')
      ? (p as { constructor: unknown }).constructor
      : null
    if (typeof type === 'function' && codeOfClass(type) === code) return true
  }
  return false
}
Object.defineProperty(CachexError, Symbol.hasInstance, {
  __proto__: null,
  value: isInstance,
} as PropertyDescriptor)

function isBranded(p: unknown): p is object {
  return typeof p === 'object' && p !== null && BRAND in p
}

/** The `code` of each error class met, learnt once from an instance of it. */
const classCodes = new WeakMap<object, string | undefined>()

function codeOfClass(type: object): string | undefined {
  if (classCodes.has(type)) return classCodes.get(type)
  let code: string | undefined
  try {
    const sample = Reflect.construct(type as new (message: string) => object, ['']) as {
      code?: unknown
    }
    code = typeof sample.code === 'string' ? sample.code : undefined
  } catch {
    // A class that needs other arguments matches no other copy's class.
  }
  classCodes.set(type, code)
  return code
}

/** Redis could not be reached, the connection dropped, or the connection is closed. */
export class ConnectionError extends CachexError {
  override readonly code: string = 'E_CONNECTION'
}

/**
 * A command did not complete within the `socketTimeout` (or connecting took longer than
 * `socketConnectTimeout`). A write that timed out has an unknown outcome: the server may or may
 * not have applied it.
 */
export class TimeoutError extends ConnectionError {
  override readonly code: string = 'E_TIMEOUT'
}

/**
 * A command was refused before it was sent because too many bytes of commands already await
 * their replies on the connection (`maxInFlightBytes`): the server is not keeping up (it is
 * stalled, or the network is), and queueing more would only grow memory. Nothing was sent, so the
 * command had no effect. A `ConnectionError`, so `ignoreExceptions` covers it.
 */
export class BackpressureError extends ConnectionError {
  override readonly code: string = 'E_BACKPRESSURE'
}

/** Redis answered a command with an error reply (`WRONGTYPE`, `CROSSSLOT`, `NOSCRIPT`, …). */
export class ResponseError extends CachexError {
  override readonly code: string = 'E_RESPONSE'
}

/**
 * The error a multi-key command gets when its keys are in different hash slots of a Redis
 * Cluster: the cluster runs a command on one node, and atomically only within one slot. A
 * `ResponseError`, as the server's own `CROSSSLOT` reply would be, with a message that says how
 * to fix it (hash tags).
 */
export class CrossSlotError extends ResponseError {
  override readonly code: string = 'E_CROSSSLOT'
}

/** The options of a `SerializationError` or `CompressionError`. */
interface DecodingErrorOptions {
  cause?: unknown
  /** See `SerializationError.removed`. */
  removed?: readonly unknown[]
}

/** A value could not be serialized, or stored bytes could not be deserialized. */
export class SerializationError extends CachexError {
  override readonly code: string = 'E_SERIALIZATION'
  /**
   * Set when a command that removes the values it reads (`lpop`, `rpop`, `spop`, `zpopmin`,
   * `zpopmax`, `blpop`, `brpop`) removed one it could not read: every value it removed, in the
   * order Redis gave them, decoded where readable and as the stored bytes (a `Buffer`) where not;
   * `[member, score]` pairs for `zpopmin` / `zpopmax`. Redis holds them no more: this is the one
   * copy left. `undefined` for every other error.
   */
  declare readonly removed?: readonly unknown[]
  /**
   * Set when a stream read (`xrange`, `xrevrange`, `xread`, `xreadgroup`, `xclaim`,
   * `xautoclaim`, `xinfoStream`) met an entry it could not read: that entry's ID, so that a
   * consumer can step past it (`xack` or `xdel` it, or read on from it). `undefined` for every
   * other error.
   */
  declare readonly entryId?: string

  constructor(message: string, options?: DecodingErrorOptions) {
    super(message, options)
    const removed = own(options, 'removed')
    if (removed !== undefined) setRemoved(this, removed)
  }
}

/** Bytes could not be compressed or decompressed. */
export class CompressionError extends CachexError {
  override readonly code: string = 'E_COMPRESSION'
  /** As `SerializationError.removed`: the values a pop removed, one of which it could not read. */
  declare readonly removed?: readonly unknown[]
  /** As `SerializationError.entryId`: the ID of the stream entry a read could not read. */
  declare readonly entryId?: string

  constructor(message: string, options?: DecodingErrorOptions) {
    super(message, options)
    const removed = own(options, 'removed')
    if (removed !== undefined) setRemoved(this, removed)
  }
}

/** Sets `removed`, read-only, only on the errors that carry values (others have none at all). */
function setRemoved(error: Error, removed: readonly unknown[]): void {
  Object.defineProperty(error, 'removed', {
    __proto__: null,
    value: removed,
    enumerable: true,
  } as PropertyDescriptor)
}

/**
 * The `CompressionError` a `Compressor` throws when a value would decompress to more than the
 * `maxOutputLength` it was given (the cache's `maxValueSize`). Its message names the option, so
 * that whoever meets it knows which setting to change:
 * `lz4: decompressed value exceeds maxValueSize (67108864 bytes)`.
 *
 * With `perCall: true` (the codec's, not a compressor's), what ran out is the budget of one call
 * that reads many values (`lrange`, `getMany`, a pipeline), `maxOutputLength` bytes in all
 * (4 × `maxValueSize`): `zlib: the values of one call would decompress to more than 268435456
 * bytes (4 × maxValueSize); read them in smaller calls`.
 */
export function decompressionLimitError(
  compressor: string,
  maxOutputLength: number,
  options?: { cause?: unknown; perCall?: boolean },
): CompressionError {
  if (own(options, 'perCall') === true) {
    const error = new CompressionError(
      `${compressor}: the values of one call would decompress to more than ${maxOutputLength} bytes (4 × maxValueSize); read them in smaller calls`,
      { cause: own(options, 'cause') },
    )
    return markCallBudget(error)
  }
  return new CompressionError(
    `${compressor}: decompressed value exceeds maxValueSize (${maxOutputLength} bytes)`,
    options,
  )
}

/** The mark of a call's budget run out (`isCallBudgetError`): across copies of this package. */
const CALL_BUDGET = Symbol.for('@cachex/core.callBudget')

/** Marks `error` as a call's budget run out (`isCallBudgetError`); returns it. */
export function markCallBudget<T extends Error>(error: T): T {
  Object.defineProperty(error, CALL_BUDGET, { __proto__: null, value: true } as PropertyDescriptor)
  return error
}

/**
 * Whether `error` is the `CompressionError` of a call whose values together would decompress past
 * its budget (`decompressionLimitError` with `perCall`): a limit of the call, not a fault of any
 * one value, which reading the values one call each would step around. For cachex's own packages
 * (`@cachex/core/internal`).
 */
export function isCallBudgetError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && Object.hasOwn(error, CALL_BUDGET)
}

/** An argument is not of the accepted type or range (a non-numeric timeout, an empty key list where one is needed). */
export class InvalidArgumentError extends CachexError {
  override readonly code: string = 'E_INVALID_ARGUMENT'
}

/** `incr`, `decr` or `incrVersion` on a key that does not exist. */
export class KeyNotFoundError extends CachexError {
  override readonly code: string = 'E_KEY_NOT_FOUND'
}

/**
 * `incr` or `decr` on a value that is not a number, or, with `{ as: 'number' }`, whose result
 * would not be a safe integer (the value is then left unchanged).
 */
export class NotANumberError extends CachexError {
  override readonly code: string = 'E_NOT_A_NUMBER'
}

/** A lock operation failed: releasing or extending a lock that is not held, extending one with no timeout. */
export class LockError extends CachexError {
  override readonly code: string = 'E_LOCK'
}

/** The lock is held, but no longer by this `Lock` (it expired and someone else took it, or it was deleted). */
export class LockNotOwnedError extends LockError {
  override readonly code: string = 'E_LOCK_NOT_OWNED'
}

/**
 * An optional package that a codec needs is not installed (`msgpackr` for `serializer:
 * 'msgpack'`, `lz4-napi`, `@toondepauw/node-zstd`, `lzma-native`); the message names the package
 * and the command that installs it.
 */
export class MissingDependencyError extends CachexError {
  override readonly code: string = 'E_MISSING_DEPENDENCY'
}

/** The cache or connection was closed with `close()` and cannot run commands any more. */
export class ClosedError extends ConnectionError {
  override readonly code: string = 'E_CLOSED'
}

/**
 * Errors that `ignoreExceptions` turns into defaults: Redis being unreachable, slow or answering
 * with an error. Programming errors (bad arguments, values that do not serialize, keys of one
 * call in several cluster slots) always surface.
 */
export function isIgnorable(error: unknown): boolean {
  if (error instanceof CrossSlotError) return false
  return error instanceof ConnectionError || error instanceof ResponseError
}

/**
 * The classes above, and those of cachex's other packages (`recognizeAcrossCopies`): the ones
 * another copy's errors are matched against, by code (never by class name, which a minifier
 * changes).
 */
const CORE_CLASSES = new Set<object>()

/**
 * Has `instanceof` of `type` (a subclass of a cachex error class, in another cachex package)
 * also recognise the errors of the same class from another copy of that package, by code, as it
 * does for the classes of this module; and names its errors `name` (the class's name as written,
 * which a minified bundle would otherwise rename). For cachex's own packages
 * (`@cachex/core/internal`).
 */
export function recognizeAcrossCopies(
  type: abstract new (...args: never[]) => CachexError,
  name: string,
): void {
  CORE_CLASSES.add(type)
  CLASS_NAMES.set(type, name)
}

// Literal names: a minifier renames the classes, never these strings.
recognizeAcrossCopies(CachexError, 'CachexError')
recognizeAcrossCopies(ConnectionError, 'ConnectionError')
recognizeAcrossCopies(TimeoutError, 'TimeoutError')
recognizeAcrossCopies(BackpressureError, 'BackpressureError')
recognizeAcrossCopies(ResponseError, 'ResponseError')
recognizeAcrossCopies(CrossSlotError, 'CrossSlotError')
recognizeAcrossCopies(SerializationError, 'SerializationError')
recognizeAcrossCopies(CompressionError, 'CompressionError')
recognizeAcrossCopies(InvalidArgumentError, 'InvalidArgumentError')
recognizeAcrossCopies(KeyNotFoundError, 'KeyNotFoundError')
recognizeAcrossCopies(NotANumberError, 'NotANumberError')
recognizeAcrossCopies(LockError, 'LockError')
recognizeAcrossCopies(LockNotOwnedError, 'LockNotOwnedError')
recognizeAcrossCopies(MissingDependencyError, 'MissingDependencyError')
recognizeAcrossCopies(ClosedError, 'ClosedError')
