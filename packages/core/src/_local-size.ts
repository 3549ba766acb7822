// What a value the local tier holds is counted as against `maxBytes`: its estimated size in V8, and
// no less than the bytes it was decoded from — a value read from Redis is not trusted to be
// shaped as the estimate's sample suggests, nor to be as small as its compressed form.
import type { CacheContext } from './_context.ts'
import { ENTRY_OVERHEAD, estimateSize } from './_lru.ts'
import type { DecodeBudget } from './codec.ts'

/** A value decoded from a reply, with the least it takes in memory. */
export interface Sized {
  value: unknown
  /** The larger of the reply's length and what it decompressed to, in bytes. */
  stored: number
}

/**
 * Decodes `reply`, read at the user's `key`, as `context.decode` does, and measures it: a
 * decoded value takes at least as much memory as the reply, and as the payload the reply
 * decompressed to (a few KB of zlib may hold megabytes).
 */
export function decodeSized(context: CacheContext, reply: unknown, key: string): Sized {
  // Bounds no more than `maxValueSize` does (one value needs no call budget): it only measures.
  const measure: DecodeBudget = { left: Number.POSITIVE_INFINITY, decompressed: 0 }
  const value = context.decode(reply, key, undefined, measure)
  const length = typeof reply === 'string' || Buffer.isBuffer(reply) ? reply.length : 0
  return { value, stored: Math.max(length, measure.decompressed ?? 0) }
}

/**
 * The bytes an entry of `value` at `rkey` is counted as: bookkeeping, the key, and the value's
 * estimated size, or `stored` (`Sized.stored`) when larger: `estimateSize` only extrapolates
 * what it does not walk.
 */
export function entryBytes(rkey: string, value: unknown, stored: number): number {
  return ENTRY_OVERHEAD + 2 * rkey.length + Math.max(estimateSize(value), stored)
}

/** `%TypedArray%.prototype.slice`: a copy in a buffer of its own, of the view's class. */
const typedArraySlice = Object.getPrototypeOf(Uint8Array.prototype).slice as (
  this: ArrayBufferView,
) => ArrayBufferView

/** The prototypes of the views `ownBytes` copies: Node's and the language's own, no subclass. */
const INTRINSIC_VIEWS: ReadonlySet<object> = new Set(
  [
    Buffer,
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
    DataView,
  ].map((kind) => kind.prototype),
)

/**
 * What the local tier holds for `value`: `value` itself, or — when it is a Buffer, a typed array
 * or a DataView over part of a larger `ArrayBuffer` — a copy that owns its bytes. node-redis hands
 * a reply over as a view into the chunk the socket read (with the other replies read with it), so
 * a part of it a custom serializer returns would keep that whole chunk alive, which `maxBytes`
 * does not count. Only views of the built-in classes are copied (a Buffer stays a Buffer), to
 * the same class; an instance of a subclass is held as it is, counted as its whole buffer
 * (`estimateSize`), as are views nested in a value (the value is not rewritten). Properties a
 * serializer set on a view it returns are not copied (finding them would cost a walk of every
 * index): such a serializer should return an object that holds the bytes instead.
 */
export function ownBytes(value: unknown): unknown {
  if (!ArrayBuffer.isView(value) || value.byteLength === value.buffer.byteLength) return value
  if (!INTRINSIC_VIEWS.has(Object.getPrototypeOf(value))) return value
  try {
    if (value instanceof DataView) {
      const start = value.byteOffset
      return new DataView(value.buffer.slice(start, start + value.byteLength))
    }
    return typedArraySlice.call(value)
  } catch {
    return value
  }
}
