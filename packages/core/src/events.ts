// The events a `Cache` emits (`cache.on(…)`): their names and what each listener receives. The
// emitter is `_events.ts`; the timing of `operation` events is `_timing.ts`.
import type { CachexError } from './errors.ts'

/** A read found its key: `get`, `getMany` (one event per key found) or `getOrSet`. */
export interface CacheHitEvent {
  /** The method called: `'get'`, `'getMany'` or `'getOrSet'`. */
  operation: string
  /** The user's key (before the key function). */
  key: string
  /** Whether the local tier (`local` option) served it, without a round trip to Redis. */
  local: boolean
}

/** A read did not find its key: `get`, `getMany` (one event per key missing) or `getOrSet`. */
export interface CacheMissEvent {
  /** The method called: `'get'`, `'getMany'` or `'getOrSet'`. */
  operation: string
  /** The user's key (before the key function). */
  key: string
}

/** A value was stored: `set`, `add`, `setMany` (one event per key stored) or `getOrSet`. */
export interface CacheSetEvent {
  /** The method called: `'set'`, `'add'`, `'setMany'` or `'getOrSet'`. */
  operation: string
  /** The user's key. */
  key: string
  /** The size of the value as stored (serialized, then compressed), in bytes, when known. */
  bytes?: number
}

/** A key was deleted: `delete`, or `deleteMany` (one event per key asked for). */
export interface CacheDeleteEvent {
  /** The method called: `'delete'` or `'deleteMany'`. */
  operation: string
  /** The user's key. */
  key: string
}

/**
 * An error went through the cache's error policy: one a method rejects with, or one
 * `ignoreExceptions` turned into the method's fallback (`ignored: true`).
 */
export interface CacheErrorEvent {
  /** The method called (`'get'`, `'hset'`, `'pipeline'`…). */
  operation: string
  /** The error, typed: its `code` (`E_CONNECTION`, `E_TIMEOUT`…) says what happened. */
  error: CachexError
  /** Whether `ignoreExceptions` ignored it: the method resolved its fallback instead of rejecting. */
  ignored: boolean
}

/**
 * The local tier dropped entries because their keys were written (by this process or any other
 * client), expired or were evicted on the server, or because it was emptied (a flush, tracking
 * lost, `clear()`).
 */
export interface CacheInvalidateEvent {
  /** The Redis key of the entry dropped; absent when the tier was emptied. */
  key?: string
  /** How many entries were dropped (1 for a key). */
  count: number
}

/** One call of a public method of the cache finished (resolved, rejected, or its iteration ended). */
export interface CacheOperationEvent {
  /**
   * The method called (`'get'`, `'hset'`, `'iterKeys'`…); `'pipeline'` or `'transaction'` for
   * the `exec()` of `cache.pipeline()` / `cache.transaction()`.
   */
  operation: string
  /** How long it took, in milliseconds (from the call until its promise settled). */
  durationMs: number
  /** When it started, in milliseconds since the Unix epoch (with fractions). */
  startTime: number
  /**
   * How many keys it was about: the number of keys of `getMany` / `deleteMany` / `setMany`, the
   * number of calls of a pipeline, 2 for `rename` / `renamenx` / `lmove` / `blmove` / `smove`, 0
   * for methods on no key (`clear`, `keys`, `iterKeys`, `deletePattern`, `info`, `slowlog*`,
   * `clearAllVersions`), else 1.
   */
  keyCount: number
  /**
   * The user's key, for a method on one key (the first key for the methods on two and for
   * `sdiff`…); absent for methods on a list of keys (`getMany`, `blpop([…])`) or on none.
   */
  key?: string
  /** What it rejected with (or what its iteration threw); absent when it succeeded. */
  error?: unknown
}

/** Every event of a `Cache` by name, with what its listeners receive. */
export interface CacheEventMap {
  /** A read found its key (see `CacheHitEvent`). */
  hit: CacheHitEvent
  /** A read did not find its key. */
  miss: CacheMissEvent
  /** A value was stored. */
  set: CacheSetEvent
  /** A key was deleted. */
  delete: CacheDeleteEvent
  /** An error went through the error policy, thrown or ignored. */
  error: CacheErrorEvent
  /** The local tier dropped entries. */
  invalidate: CacheInvalidateEvent
  /** A public method call finished, with its duration. */
  operation: CacheOperationEvent
}

/** The name of a cache event: `'hit'`, `'miss'`, `'set'`, `'delete'`, `'error'`, `'invalidate'`, `'operation'`. */
export type CacheEventName = keyof CacheEventMap

/** A listener of the event `E`. It runs synchronously; what it throws is logged, never thrown to the caller. */
export type CacheEventListener<E extends CacheEventName> = (event: CacheEventMap[E]) => void
