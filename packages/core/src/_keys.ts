// How a cache names its keys in Redis: the user's key, the prefix and a version through the key
// function (Django's `make_key`), as Redis names the key back (each lone surrogate as U+FFFD);
// and the memo of the Redis keys of hot user keys, for the local tier's hit path.
import { bounded, wellFormed } from './_bounded.ts'
import { unreadable } from './_own.ts'
import { describe } from './_timeout.ts'
import { InvalidArgumentError } from './errors.ts'
import { checkedKeyFunction, defaultKeyFunction, globEscape } from './key-function.ts'
import type { KeyFunction } from './types.ts'

/** How many user keys `KeyMaker.hotKey` remembers. */
const HOT_KEYS = 10_000

/**
 * cachex's own keyspace: locks' fencing counters (`__cachex:fence:…`), getOrSet's stampede keys
 * (`__cachex:lock:…`, `__cachex:delta:…`) and channel. No key the default key function makes
 * (`<prefix>:<version>:<key>`) is in it unless the prefix is, so a prefix of `__cachex` or
 * `__cachex:…` is refused. A custom `keyFunction` that does not begin keys with the prefix is
 * the user's to keep out of it.
 */
const RESERVED = '__cachex'

/**
 * `String.prototype.isWellFormed` and `toWellFormed` (ES2024, in Node 20): typed here, so that
 * the source also compiles where the lib is ES2022 (an app that type-checks it, as the examples).
 */
interface WellFormed {
  isWellFormed(): boolean
  toWellFormed(): string
}

/** The Redis keys and key patterns of one cache (`CacheContext.keyMaker`). */
export class KeyMaker {
  /** The key prefix (`KEY_PREFIX`), as Redis stores it. */
  readonly prefix: string
  /** Whether keys are Django's `<prefix>:<version>:<key>` (no `keyFunction` of the user's). */
  readonly defaultKeys: boolean
  /** The default key version (`VERSION`), checked already. */
  readonly #version: number
  readonly #keyFunction: KeyFunction
  /**
   * Redis keys at the default version by user key, for the local tier's hit path: a key built
   * afresh is a new string whose hash the tier's map computes on every lookup, a third of a hit's
   * cost. Only with the default key function (pure by construction); emptied when full.
   */
  readonly #hotKeys: Map<string, string> | undefined

  /** `keyFunction` as the options give it: checked here, in the order `new Cache()` checks. */
  constructor(prefix: string, version: number, keyFunction: KeyFunction | undefined) {
    // As Redis stores it (UTF-8, a lone surrogate as U+FFFD), so that keys read back strip it.
    this.prefix = checkPrefix(wellFormed(prefix))
    this.#version = version
    this.#keyFunction =
      keyFunction === undefined
        ? defaultKeyFunction
        : checkedKeyFunction<KeyFunction>(keyFunction, 'keyFunction')
    this.defaultKeys = this.#keyFunction === defaultKeyFunction
    this.#hotKeys = this.defaultKeys ? new Map() : undefined
  }

  /** The Redis key for `key` (Django's `make_key`). */
  makeKey(key: string, version: number): string {
    if (typeof key !== 'string') {
      throw new InvalidArgumentError(`a cache key must be a string, got ${describe(key)}`)
    }
    const rkey = this.#keyFunction(key, this.prefix, version)
    // A lone surrogate is sent as U+FFFD (UTF-8 has no form for it), so Redis names that key, in
    // replies and in the local tier's invalidations, with U+FFFD: so does everything kept by key
    // here, or the tier would hold a copy that no invalidation reaches.
    const text = rkey as unknown as WellFormed
    return text.isWellFormed() ? rkey : text.toWellFormed()
  }

  /** The Redis keys of `keys` at `version`. */
  makeKeys(keys: readonly string[], version: number): string[] {
    try {
      const rkeys: string[] = new Array(keys.length)
      if (version === this.#version && this.#hotKeys !== undefined) {
        for (let i = 0; i < keys.length; i++) rkeys[i] = this.hotKey(keys[i] as string)
      } else {
        for (let i = 0; i < keys.length; i++) rkeys[i] = this.makeKey(keys[i] as string, version)
      }
      return rkeys
    } catch (error) {
      // The caller's array, read here (a Proxy's trap, a getter at an index, that threw); a key
      // refused, or the key function's error, as they are.
      throw unreadable('the array of keys', error)
    }
  }

  /**
   * `makeKey(key, version)` at the default version, the same string for the same key while it is
   * remembered (up to `HOT_KEYS` keys). For the local tier's hit path.
   */
  hotKey(key: string): string {
    const memo = this.#hotKeys
    if (memo === undefined) return this.makeKey(key, this.#version)
    let rkey = memo.get(key)
    if (rkey === undefined) {
      rkey = this.makeKey(key, this.#version)
      if (memo.size >= HOT_KEYS) memo.clear()
      memo.set(key, rkey)
    }
    return rkey
  }

  /** The Redis glob pattern for a pattern over user keys; the prefix is glob-escaped. */
  makePattern(pattern: string, version: number): string {
    if (typeof pattern !== 'string') {
      throw new InvalidArgumentError(`a key pattern must be a string, got ${describe(pattern)}`)
    }
    return this.#keyFunction(pattern, globEscape(this.prefix), version)
  }
}

/**
 * `prefix`, unless it is `__cachex` or starts with `__cachex:`: then `clear()` (`<prefix>:*`),
 * `clearAllVersions()` and `deletePattern()` would delete cachex's own keys — the fencing
 * counters, after which a lock's fencing token is no longer higher than the last one handed out.
 */
function checkPrefix(prefix: string): string {
  // Anything else would be made a string by the key function (`new String('__cachex')` past
  // this check), or fail on the first pattern with an untyped error.
  if (typeof prefix !== 'string') {
    throw new InvalidArgumentError(`keyPrefix must be a string, got ${describe(prefix)}`)
  }
  if (prefix !== RESERVED && !prefix.startsWith(`${RESERVED}:`)) return prefix
  throw new InvalidArgumentError(
    `keyPrefix '${bounded(prefix)}' is refused: the ${RESERVED}: keyspace is cachex's own (the fencing counters of locks, getOrSet's stampede keys), and this cache's clear(), clearAllVersions() and deletePattern() would delete them. Choose another prefix (such as 'app')`,
  )
}
