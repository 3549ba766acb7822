// What the codec (`codec.ts`) makes of a plug-in's result that is not what its contract says: a
// serializer or compressor is user code, synchronous, returning bytes (docs/extending.md). A
// Uint8Array is taken as a Buffer over the same memory; anything else (null, a number, an object,
// a Promise from an async function) is refused with a typed error, on both backends alike, rather
// than failing later as a TypeError (reported as an outage) or in the connection. Off the hot
// path: only a result that is not a string or a Buffer gets here.
import { types } from 'node:util'
import { CompressionError, SerializationError } from './errors.ts'

/** The plug-in methods whose result is checked. */
type Method = 'serialize' | 'compress' | 'decompress'

/**
 * Whether `value` is a thenable (a Promise, or anything with a `then` method): what an async
 * `deserialize` returns. Reading `then` may throw (a getter, a Proxy): the caller's `try` catches.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  )
}

/**
 * The error for a thenable that `serializer`'s `deserialize` (or `deserializeText`, `inspect`)
 * returned, which the codec reports as unreadable bytes. The thenable is marked handled first:
 * nobody awaits it, and its rejection must not go unhandled.
 */
export function asyncResultError(serializer: string, value: PromiseLike<unknown>): Error {
  settle(value)
  return new Error(
    `${serializer}'s deserialize returned a Promise; a serializer must be synchronous`,
  )
}

/**
 * A plug-in `method`'s result that is not a Buffer (nor, but from `decompress`, a string): a
 * Uint8Array as a Buffer view of its memory, a string from `decompress` as its UTF-8 bytes.
 * Anything else is refused: `SerializationError` for `serialize`, `CompressionError` otherwise,
 * naming the plug-in (the caller adds the key); a thenable is marked handled first.
 */
export function pluginBytes(out: unknown, plugin: string, method: Method): Buffer | string {
  if (Buffer.isBuffer(out)) return out
  // Of any realm (a vm context, Jest's sandbox), where `instanceof Uint8Array` is false.
  if (types.isUint8Array(out)) return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
  if (typeof out === 'string') return method === 'decompress' ? Buffer.from(out) : out
  let thenable = false
  try {
    thenable = isThenable(out)
    if (thenable) settle(out as PromiseLike<unknown>)
  } catch {
    // A `then` getter that throws: described as what it is otherwise.
  }
  const what = method === 'serialize' ? 'serializer' : 'compressor'
  const message = `${plugin}'s ${method} returned ${thenable ? 'a Promise' : describe(out)}, not a Buffer, Uint8Array or string: a ${what} must be synchronous and return bytes`
  if (method === 'serialize') throw new SerializationError(message)
  throw new CompressionError(message)
}

/** Marks a thenable handled, calling its own `then` (which may throw: it is user code). */
function settle(value: PromiseLike<unknown>): void {
  try {
    value.then(undefined, ignore)
  } catch {
    // Not a Promise that could reject unhandled, then.
  }
}

function ignore(): void {}

/** What a result is, without quoting it (it may hold the value). */
function describe(out: unknown): string {
  if (out === null) return 'null'
  if (out === undefined) return 'undefined'
  if (Array.isArray(out)) return 'an array'
  const type = typeof out
  return type === 'object' ? 'an object' : `a ${type}`
}
