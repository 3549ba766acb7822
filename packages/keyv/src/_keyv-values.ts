// What the Keyv store checks and tells apart in what Keyv hands it and what the cache answers:
// Keyv's TTLs as cachex timeouts, Keyv's entries and namespaces, what a 'keyv' store can hand
// Keyv back, and the errors a walk may skip.
import {
  CompressionError,
  InvalidArgumentError,
  ResponseError,
  SerializationError,
} from '@cachex/core'
import { bounded, checkTimeoutMs, describeArgument, isCallBudgetError } from '@cachex/core/internal'

/** An entry as Keyv hands it to a store when it does not serialize (`serialize: undefined`). */
export interface KeyvEntry {
  value: unknown
  expires?: number | undefined
}

export function isEntry(value: unknown): value is KeyvEntry {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, 'value')
}

/**
 * Whether Keyv's `value` is an entry of `undefined`, which the store deletes: no serializer
 * stores `undefined` (json and pickle refuse it, msgpack would read it back as `null`).
 */
export function isUndefinedEntry(value: unknown): boolean {
  return isEntry(value) && value.value === undefined
}

/**
 * What a `'keyv'` store stores of Keyv's `value`: the value itself, but an entry from a Keyv that
 * does not serialize without an `expires` of `undefined` (Keyv's "never"), which pickle refuses
 * and msgpack would read back as `null`. Keyv reads a missing `expires` the same way.
 */
export function storedEntry(value: unknown): unknown {
  if (!isEntry(value) || !Object.hasOwn(value, 'expires') || value.expires !== undefined) {
    return value
  }
  const { expires: _, ...rest } = value
  return rest
}

/**
 * Whether `value`, read by a `'keyv'` store, is something Keyv can take back: its serialized
 * entry (a string holding a JSON object, `{"value":…,"expires":…}`, what Keyv's serializer
 * writes) or, from a Keyv that does not serialize, the entry itself (a plain object of `value`
 * and `expires`). Anything else (an integer `incr()` counted, a string or an object `cache.set()`
 * or Django stored) Keyv cannot read: its deserializer (`JSON.parse`) throws a `SyntaxError` on
 * most strings, a `RangeError` on one nested too deep for it, and its `iterator()` a `TypeError`
 * on any value that is not a string.
 */
export function isKeyvRecord(value: unknown): boolean {
  if (typeof value === 'string') {
    // Parsing is the one sure test that Keyv's JSON.parse will not throw: plainly for the
    // syntax, then as Keyv parses (with a reviver) for a deep value. A string that is not an
    // object (Keyv writes none) is turned down before it is parsed.
    if (!value.startsWith('{')) return false
    let parsed: unknown
    try {
      parsed = JSON.parse(value)
    } catch {
      return false
    }
    return !mayBeTooDeep(value, parsed) || parsesWithReviver(value)
  }
  if (!isEntry(value)) return false
  const prototype: unknown = Object.getPrototypeOf(value)
  return (
    (prototype === Object.prototype || prototype === null) &&
    Object.keys(value).every((key) => key === 'value' || key === 'expires')
  )
}

/**
 * Nesting up to which any stack parses a JSON text with a reviver (Node's default stack holds
 * about 2,600 levels): only what is nested deeper is tried.
 */
const SHALLOW = 500
/** Levels a deep text is wrapped in when tried: stack Keyv's own parse has to spare. */
const STACK_MARGIN = 64
const keep = (_key: string, value: unknown): unknown => value

/**
 * Whether the JSON text `json`, which a plain `JSON.parse` read as `parsed`, is nested more than
 * `SHALLOW` levels deep. A text shorter than `2 × SHALLOW` cannot be; a longer one's value is
 * walked, without recursion (a plain `JSON.parse` takes any nesting, and so does this): linear
 * in its arrays and objects, of which a text in Keyv's usual shapes has few.
 */
function mayBeTooDeep(json: string, parsed: unknown): boolean {
  if (json.length < 2 * SHALLOW) return false
  const pending: unknown[] = [parsed]
  const depths: number[] = [1]
  while (pending.length > 0) {
    const node = pending.pop()
    const depth = depths.pop() as number
    if (depth > SHALLOW) return true
    const children = Array.isArray(node) ? node : Object.values(node as object)
    for (const child of children) {
      if (typeof child === 'object' && child !== null) {
        pending.push(child)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

/**
 * Whether the JSON text `json` parses with a reviver, as Keyv's deserializer (@keyv/serialize)
 * parses it: a reviver's walk recurses, and a 6 KB text of 3,000 nested arrays throws
 * `RangeError` (stack exhausted) there. It is tried wrapped in `STACK_MARGIN` more levels, so
 * that a text that passes here leaves Keyv's parse, called from a deeper stack, room to spare.
 */
function parsesWithReviver(json: string): boolean {
  try {
    JSON.parse(`${'['.repeat(STACK_MARGIN)}${json}${']'.repeat(STACK_MARGIN)}`, keep)
    return true
  } catch {
    return false
  }
}

/** Whether `text` is JSON. */
function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** The `SerializationError` of a value at `key` that a `'keyv'` store cannot hand Keyv. */
export function notKeyvRecord(key: string, value: unknown): SerializationError {
  const what =
    typeof value !== 'string'
      ? kindOf(value)
      : value.startsWith('{') && isJson(value)
        ? "a JSON text nested deeper than Keyv's deserializer can parse"
        : "a string that is not Keyv's JSON entry"
  return new SerializationError(
    `cannot read key '${bounded(key)}': @cachex/keyv (serialization: 'keyv') holds Keyv's serialized ` +
      `entries, and this is ${what}, which Keyv cannot read. Values written by cache.set() or ` +
      "Django are read through createKeyv() (serialization: 'cachex')",
  )
}

/** What `value` is, in a few words, without its content. */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object that is not a Keyv entry'
  if (value === undefined) return 'undefined'
  return `a ${typeof value}`
}

/**
 * Throws `InvalidArgumentError` unless `namespace` is none (`undefined`) or a string without
 * `:`. Keyv stores key `k` of namespace `ns` as `ns:k`, so namespace `'a:b'` key `'k'` and
 * namespace `'a'` key `'b:k'` would be one Redis key: namespace `'a'` would read and iterate
 * `'a:b'`'s entries, and its `clear()` (`a:*`) delete them. `where` names who was given it.
 */
export function checkNamespace(namespace: unknown, where: string): void {
  if (namespace === undefined) return
  if (typeof namespace !== 'string') {
    throw new InvalidArgumentError(
      `${where} takes a namespace string, or none, got ${describeArgument(namespace)}`,
    )
  }
  if (namespace.includes(':')) {
    throw new InvalidArgumentError(
      `${where}: a Keyv namespace cannot contain ':', got '${namespace}'. Keyv stores key k ` +
        "of namespace ns as 'ns:k', so namespace 'a:b' key 'k' would be namespace 'a' key " +
        "'b:k', and clear() of 'a' would delete it. Use another separator ('app-v2', 'app/v2')",
    )
  }
}

/**
 * Keyv's milliseconds → cachex seconds. `undefined`, `null`, `0`, NaN and Infinity never expire
 * (Keyv treats a TTL of 0 as none); a negative TTL expires at once (cachex deletes the key). Any
 * other non-number (a string read from an environment variable, say) and a TTL past the farthest
 * expiry Redis and JavaScript both hold are `InvalidArgumentError`, thrown before anything is sent.
 */
export function toTimeout(ttl: unknown): number | null {
  if (ttl === undefined || ttl === null) return null
  if (typeof ttl !== 'number') {
    throw new InvalidArgumentError(
      `a Keyv TTL must be a number of milliseconds, or undefined for none, got ${describeArgument(ttl)}`,
    )
  }
  if (Number.isNaN(ttl) || ttl === 0 || ttl === Infinity) return null
  if (ttl < 0) return 0
  checkTimeoutMs(ttl, 'a Keyv TTL', `${ttl} ms`)
  // cachex sends `PX Math.trunc(seconds * 1000)`, and `ms / 1000 * 1000` is not always `ms` in
  // floating point (1001 / 1000 * 1000 = 1000.9999999999999): half a millisecond more makes the
  // truncation land on the intended millisecond.
  return (Math.max(1, Math.trunc(ttl)) + 0.5) / 1000
}

/** Throws `InvalidArgumentError` unless `keys` is an array (what Keyv hands its store). */
export function checkKeys(keys: unknown, method: string): void {
  if (!Array.isArray(keys)) throw new InvalidArgumentError(`${method}() takes an array of keys`)
}

/**
 * Whether `error` is the cache's failure to decode a stored value (its serializer's or
 * compressor's, or a value past `maxValueSize` — not a call's budget, `isCallBudgetError`): the
 * one failure of a key that the iterator can leave out and go on. Anything else (a connection lost, an ACL's `NOPERM`, `BUSY`, `LOADING`…)
 * would fail every key alike, and a walk that skipped them would pass for a complete one.
 */
export function isDecodingError(error: unknown): boolean {
  return (
    (error instanceof SerializationError || error instanceof CompressionError) &&
    // The values of one call past what they may decompress to together is the call's limit:
    // reading them one call each would step around it.
    !isCallBudgetError(error)
  )
}

/**
 * Whether `error` is Redis's `WRONGTYPE` (which the cache's message quotes): a `GET` of a key that
 * holds no string.
 */
export function isWrongType(error: unknown): boolean {
  return error instanceof ResponseError && /\bWRONGTYPE\b/.test(error.message)
}

/**
 * Keys one call of the store reads at a time, where it reads them with a command each (`PTTL`s,
 * the `GET`s of a read key by key, `hasMany`'s `EXISTS`s): each call awaiting its reply is
 * weighed against the cache's `maxInFlightBytes` (about 1–2 KB), and 20,000 or 40,000 of them at
 * once were refused past it (misses, `false`).
 */
export const KEYS_AT_ONCE = 1000

/**
 * What `read` (a store's `get` without its error handling) finds of each of `keys`, their reads
 * sent together (one round trip) `KEYS_AT_ONCE` at a time: for a batch whose `MGET` could not
 * decode one of them. Resolves the entries, and the errors of the keys whose value cannot be
 * decoded (missing from the entries), for the caller to report; a key of another type is missing
 * too, as `MGET` reads it. Rejects with any other error (a connection lost), which would fail
 * every key alike, once the reads sent with it are answered (none sent after it).
 */
export async function readEach<T>(
  keys: string[],
  read: (key: string) => Promise<T>,
): Promise<[Array<T | undefined>, unknown[]]> {
  const entries: Array<T | undefined> = []
  const unreadable: unknown[] = []
  for (let at = 0; at < keys.length; at += KEYS_AT_ONCE) {
    const part = keys.slice(at, at + KEYS_AT_ONCE)
    for (const outcome of await Promise.allSettled(part.map((key) => read(key)))) {
      if (outcome.status === 'fulfilled') {
        entries.push(outcome.value)
        continue
      }
      const error: unknown = outcome.reason
      if (isDecodingError(error)) unreadable.push(error)
      else if (!isWrongType(error)) throw error
      entries.push(undefined)
    }
  }
  return [entries, unreadable]
}

/** A `setMany` entry: an object with a string `key`. */
export function isKeyedEntry(entry: unknown): boolean {
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof (entry as { key?: unknown }).key === 'string'
  )
}
