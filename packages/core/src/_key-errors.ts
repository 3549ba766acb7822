// Codec errors that name the user's key: `cannot read key 'k': …` for a value read,
// `cannot store key 'k': …` for one written, the same class, `code` and `cause`.
import { bounded } from './_bounded.ts'
import type { Codec } from './codec.ts'
import {
  CompressionError,
  isCallBudgetError,
  markCallBudget,
  SerializationError,
} from './errors.ts'
import type { RedisArgument } from './types.ts'

/**
 * A decoding error with the user's key (not the Redis key) at the front of its message: the same
 * class, the same `cause`. Other errors pass through.
 */
export function withKeyContext(error: unknown, key: string, field: string | undefined): unknown {
  const where = keyAndField(key, field)
  if (error instanceof SerializationError) {
    return new SerializationError(`cannot read ${where}: ${error.message}`, { cause: error.cause })
  }
  if (error instanceof CompressionError) {
    const keyed = new CompressionError(`cannot read ${where}: ${error.message}`, {
      cause: error.cause,
    })
    // The limit of the call it was read in stays one.
    return isCallBudgetError(error) ? markCallBudget(keyed) : keyed
  }
  return error
}

/** `key 'k'`, or `key 'k' field 'f'`, each bounded (`bounded`), for a message. */
function keyAndField(key: string, field: string | undefined): string {
  return field === undefined
    ? `key '${bounded(key)}'`
    : `key '${bounded(key)}' field '${bounded(field)}'`
}

/** The encoding errors `storeError` made: they name their key already. */
const keyedErrors = new WeakSet<object>()
/** Encoding errors of many-value writes, by the index of the entry that failed (`failedEntry`). */
const failedEntries = new WeakMap<object, number>()

/**
 * An encoding error with the user's key (not the Redis key), and the hash or stream `field`, at
 * the front of its message, as `withKeyContext` does for decoding: `cannot store key 'k': …`, or
 * for a value only compared with stored ones (`match`: `encodeMatch`) `cannot look up a value in
 * key 'k': …`. The same class, `code` and `cause`. Other errors, and one that names its key
 * already, pass through. Only the error path builds a message.
 */
export function storeError(error: unknown, key: string, field?: string, match = false): unknown {
  const serialization = error instanceof SerializationError
  if (!(serialization || error instanceof CompressionError) || keyedErrors.has(error)) return error
  const where = keyAndField(key, field)
  const message = `${match ? 'cannot look up a value in' : 'cannot store'} ${where}: ${error.message}`
  const keyed = serialization
    ? new SerializationError(message, { cause: error.cause })
    : new CompressionError(message, { cause: error.cause })
  keyedErrors.add(keyed)
  return keyed
}

/** `codec.encode(value)`, of a value to store at the user's `key` (and `field`): see `storeError`. */
export function encodeAt(codec: Codec, value: unknown, key: string, field?: string): RedisArgument {
  try {
    return codec.encode(value)
  } catch (error) {
    throw storeError(error, key, field)
  }
}

/** `codec.encodeMatch(value)`, a value looked up in the user's `key`: see `storeError`. */
export function encodeMatchAt(codec: Codec, value: unknown, key: string): RedisArgument {
  try {
    return codec.encodeMatch(value)
  } catch (error) {
    throw storeError(error, key, undefined, true)
  }
}

/**
 * `error`, noted as that of entry `index` of a many-value write (a store's `setMany`, which has
 * Redis keys only), for the caller, which has the user's keys, to name the key (`failedEntry`).
 */
export function noteFailedEntry(error: unknown, index: number): unknown {
  if (typeof error === 'object' && error !== null) failedEntries.set(error, index)
  return error
}

/** The entry `noteFailedEntry` noted for `error`, or `undefined`. */
export function failedEntry(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null ? failedEntries.get(error) : undefined
}
