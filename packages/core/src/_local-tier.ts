// The local tier: decoded values held in process memory in front of Redis, kept coherent by the
// server (`Connection.track`: CLIENT TRACKING in BCAST mode), never by a message bus of ours.
// Here the reads and the tracking; the writes, passed on, are its base in _local-writes.ts.
import type { CacheContext } from './_context.ts'
import { Flights, type FlightToken } from './_flights.ts'
import { Heartbeat } from './_local-heartbeat.ts'
import type { LocalBounds } from './_local-options.ts'
import { decodeSized, entryBytes, ownBytes, type Sized } from './_local-size.ts'
import type { HeldForStampede, StampedeEntry, StampedeRead } from './_local-stampede.ts'
import { heldTtl } from './_local-ttl.ts'
import { LocalWrites } from './_local-writes.ts'
import type { Room } from './_lru.ts'
import { TinyLfuRoom } from './_tinylfu.ts'
import type { ValueStore } from './_value-store.ts'
import { InvalidArgumentError } from './errors.ts'
import type { Tracking } from './types.ts'

/** What `cache.localStats()` reports. */
export interface LocalStats {
  /** Reads served from memory (values, and `ttl` / `pttl` of held values). */
  hits: number
  /** Reads that went to Redis (the tier empty for the key, or bypassed while tracking is down). */
  misses: number
  /** Entries dropped to stay within `maxEntries` / `maxBytes`. */
  evictions: number
  /** Entries dropped because their key was written (by anyone), expired, or flushed. */
  invalidations: number
  /** Entries held now. */
  entries: number
  /** Their estimated size in bytes. */
  bytes: number
  /** Whether the tracking connection is up (the tier is bypassed while it is not). */
  tracking: boolean
}

/** What `LocalTier.peek` returns when it holds no value for the key. */
export const MISS: unique symbol = Symbol('cachex.local.miss')

/**
 * A `ValueStore` that holds decoded string values in memory in front of another store. A read
 * hit costs no round trip and no decode. Coherence comes from the server: a tracking connection
 * reports every write to the cache's keys, by any client, and the entry is dropped. While the
 * tracking connection is down (and until it is back on), the tier is emptied and bypassed.
 *
 * The race between a read's reply and an invalidation of its key (they arrive on two sockets) is
 * closed by `Flights`: a read whose key was invalidated while it was in flight does not store its
 * value, and a tracking loss spoils every read in flight.
 */
export class LocalTier extends LocalWrites implements ValueStore {
  readonly #context: CacheContext
  readonly #room: Room
  readonly #ttlMs: number
  readonly #prefixes: readonly string[]
  readonly #flights = new Flights()
  /** Empties the tier when the event loop stalled (frozen, blocked), while tracking is up. */
  readonly #heart = new Heartbeat(() => this.flushLocal())
  #tracking: Tracking | undefined
  #up = false
  #closed = false
  #hits = 0
  #misses = 0
  #invalidations = 0

  /**
   * `prefixes`: the Redis key prefixes the cache's keys start with (empty: track every key).
   * Throws `InvalidArgumentError` when the connection cannot track (a topology the tier does
   * not support yet).
   */
  constructor(
    context: CacheContext,
    inner: ValueStore,
    options: LocalBounds,
    prefixes: readonly string[],
  ) {
    if (typeof context.connection.track !== 'function') {
      throw new InvalidArgumentError(
        'local: this connection cannot keep a local tier coherent (no CLIENT TRACKING support); the local tier works with the standalone, replica, sentinel and cluster topologies of cachex',
      )
    }
    super(inner)
    this.#context = context
    this.#room = new TinyLfuRoom(options.maxEntries, options.maxBytes)
    this.#ttlMs = options.ttlMs
    this.#prefixes = prefixes
  }

  /** The counters of `cache.localStats()`. */
  stats(): LocalStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#room.evictions,
      invalidations: this.#invalidations,
      entries: this.#room.size,
      bytes: this.#room.bytes,
      tracking: this.#up,
    }
  }

  /** Closes the tracking connection and empties the tier (and the keys written lately). */
  async close(): Promise<void> {
    this.#closed = true
    this.#setDown()
    this.recent.close()
    const tracking = this.#tracking
    this.#tracking = undefined
    await tracking?.close()
  }

  /** Whether the tier may serve and store: tracking is on. Opens it on first use. */
  #usable(): boolean {
    if (this.#up) return true
    if (this.#tracking === undefined && !this.#closed) this.#start()
    return false
  }

  #start(): void {
    const track = this.#context.connection.track
    if (track === undefined) return
    this.#tracking = track.call(this.#context.connection, this.#prefixes, {
      up: () => {
        if (this.#closed) return
        this.#flights.newEpoch()
        this.#up = true
        this.#heart.start()
      },
      down: () => this.#setDown(),
      invalidate: (keys) => {
        if (keys === null) this.flushLocal()
        else for (const key of keys) this.invalidate(key)
      },
    })
  }

  #setDown(): void {
    this.#up = false
    this.#heart.stop()
    this.flushLocal()
  }

  /** Drops every entry, and keeps every read in flight from storing. */
  protected override flushLocal(): void {
    this.#flights.newEpoch()
    const count = this.#room.clear()
    this.#invalidations += count
    const events = this.#context.events
    if (count > 0 && events.invalidations) events.emit('invalidate', { count })
  }

  /** Drops `rkey`, and keeps its reads in flight from storing. */
  protected override invalidate(rkey: string): void {
    this.#flights.invalidated(rkey)
    if (this.#room.delete(rkey)) {
      this.#invalidations++
      const events = this.#context.events
      if (events.invalidations) events.emit('invalidate', { key: rkey, count: 1 })
    }
  }

  /** Registers an operation on `rkey` in flight; the token `#settle` takes. */
  #begin(rkey: string): FlightToken {
    return this.#flights.begin(rkey)
  }

  /**
   * Ends an operation on `rkey`: whether it may store (nothing invalidated its key or the tier
   * since it began, and tracking is up).
   */
  #settle(rkey: string, token: FlightToken): boolean {
    return this.#flights.settle(rkey, token) && this.#up
  }

  /**
   * Holds `value` for `ms` milliseconds at most (`null`: the tier's own bound only), counted from
   * `from` (`performance.now()` before the request that read `ms`: never later than Redis's
   * expiry, and a step of the system clock moves neither bound), with the compute time `delta`
   * when known. `stored`: the least its size is counted as (`decodeSized`). A value that is a
   * view into a larger buffer is held as a copy (`ownBytes`): what it returns, the value held, is
   * what the read returns.
   */
  #hold(
    rkey: string,
    value: unknown,
    ms: number | null,
    from: number,
    delta: number | null | undefined,
    stored: number,
  ): unknown {
    const held = ownBytes(value)
    const ttl = ms === null ? this.#ttlMs : Math.min(ms, this.#ttlMs)
    const bytes = entryBytes(rkey, held, stored)
    const until = ms === null ? Number.POSITIVE_INFINITY : from + ms
    const entry: StampedeEntry = { value: held, expiresAt: from + ttl, bytes, until, delta }
    this.#room.set(rkey, entry)
    return held
  }

  /**
   * The value held for `rkey`, synchronously, counted as a hit; `MISS` when none is usable (not
   * held, expired, or tracking down), counting nothing: the `get` that follows counts the miss.
   * Lets `Cache.get` answer a hit without entering the async store path. It reads no clock (a
   * hit costs a map lookup): after a stall the heartbeat (`_local-heartbeat.ts`) empties the
   * tier before the loop reads a request's socket.
   */
  peek(rkey: string): unknown {
    if (!this.#up) return MISS
    const entry = this.#room.get(rkey)
    if (entry === undefined) return MISS
    this.#hits++
    return entry.value
  }

  async get(rkey: string, key: string, fallback: unknown): Promise<unknown> {
    const primary = this.recent.has(rkey)
    if (!this.#usable()) {
      this.#misses++
      return this.inner.get(rkey, key, fallback, primary)
    }
    // The expiry counts from before the request (a late reply would push it past Redis's), on
    // the monotonic clock: what Redis answered is a duration (PTTL).
    const from = performance.now()
    this.#heart.check(from)
    const entry = this.#room.get(rkey, from)
    if (entry !== undefined) {
      this.#hits++
      return entry.value
    }
    this.#misses++
    const context = this.#context
    const token = this.#begin(rkey)
    let read: Sized
    let pttl: unknown
    try {
      // One round trip: the value and how long it lives; one call (`callers`) in maxInFlightBytes.
      const [reply, ttl] = await context.connection.batch(
        [
          ['GET', rkey],
          ['PTTL', rkey],
        ],
        { key: rkey, readonly: !primary, primaryRead: primary, text: context.text, callers: 1 },
      )
      if (reply instanceof Error) throw reply
      if (reply === null || reply === undefined) {
        this.#settle(rkey, token)
        return fallback
      }
      read = decodeSized(context, reply, key)
      pttl = ttl
    } catch (error) {
      this.#settle(rkey, token)
      throw error
    }
    if (this.#settle(rkey, token)) {
      const ms = Number(pttl)
      // -2: gone since the GET; an error or an odd reply: not held.
      const life = ms === -1 ? null : Number.isFinite(ms) && ms > 0 ? ms : undefined
      if (life !== undefined) {
        return this.#hold(rkey, read.value, life, from, undefined, read.stored)
      }
    }
    return read.value
  }

  /**
   * For getOrSet's stampede options: the value held for `rkey` with its Redis expiry (and its
   * compute time when `withDelta`), counted as a hit; `undefined` (counted as a miss) when none
   * is usable or its compute time is not known here, and the caller reads Redis.
   */
  peekStampede(rkey: string, withDelta: boolean): HeldForStampede | undefined {
    const now = performance.now()
    if (this.#up) this.#heart.check(now)
    const entry = this.#up ? (this.#room.get(rkey, now) as StampedeEntry | undefined) : undefined
    if (entry === undefined || (withDelta && entry.delta === undefined)) {
      this.#misses++
      return undefined
    }
    this.#hits++
    return {
      value: entry.value,
      // Whole milliseconds, as Redis's PTTL, rounded down: never later than Redis's expiry.
      pttl: entry.until === Number.POSITIVE_INFINITY ? null : Math.floor(entry.until - now),
      delta: entry.delta ?? undefined,
    }
  }

  /**
   * Runs getOrSet's read of `rkey` from Redis (value, expiry, compute time) and holds what it
   * found, with that metadata, unless the key was invalidated meanwhile.
   */
  async readStampede(rkey: string, read: () => Promise<StampedeRead>): Promise<StampedeRead> {
    if (!this.#usable()) return read()
    const token = this.#begin(rkey)
    // The expiry counts from before the request: never later than Redis's.
    const from = performance.now()
    let found: StampedeRead
    try {
      found = await read()
    } catch (error) {
      this.#settle(rkey, token)
      throw error
    }
    const { value, pttl, persistent, delta, stored } = found
    if (
      this.#settle(rkey, token) &&
      value !== MISS &&
      (persistent || (pttl !== null && pttl > 0))
    ) {
      const held = this.#hold(
        rkey,
        value,
        persistent ? null : pttl,
        from,
        delta ?? null,
        stored ?? 0,
      )
      if (held !== value) return { ...found, value: held }
    }
    return found
  }

  async getMany(keys: readonly string[], rkeys: readonly string[]): Promise<Map<string, unknown>> {
    if (!this.#usable()) {
      this.#misses += keys.length
      return this.inner.getMany(keys, rkeys, this.recent.hasAny(rkeys))
    }
    const found = new Map<string, unknown>()
    const missingKeys: string[] = []
    const missingRkeys: string[] = []
    const now = performance.now()
    this.#heart.check(now)
    for (let i = 0; i < keys.length; i++) {
      const rkey = rkeys[i] as string
      const entry = this.#room.get(rkey, now)
      if (entry === undefined) {
        missingKeys.push(keys[i] as string)
        missingRkeys.push(rkey)
      } else {
        this.#hits++
        found.set(keys[i] as string, entry.value)
      }
    }
    this.#misses += missingKeys.length
    if (missingKeys.length === 0) return found
    // The misses are read but not held (a `get` fills the tier).
    const rest = await this.inner.getMany(
      missingKeys,
      missingRkeys,
      this.recent.hasAny(missingRkeys),
    )
    // In the order of `keys`, as the store without a tier.
    const ordered = new Map<string, unknown>()
    for (const key of keys) {
      if (found.has(key)) ordered.set(key, found.get(key))
      else if (rest.has(key)) ordered.set(key, rest.get(key))
    }
    return ordered
  }

  has(rkey: string): Promise<boolean> {
    return this.inner.has(rkey, this.recent.has(rkey))
  }

  /** A held value's expiry answers (a hit, not counted for eviction); else Redis (a miss). */
  ttl(rkey: string, unit: 's' | 'ms'): Promise<number | null> {
    let held: number | null | undefined
    if (this.#up) {
      const now = performance.now()
      this.#heart.check(now)
      held = heldTtl(this.#room.peek(rkey), now, unit)
    }
    if (held !== undefined) {
      this.#hits++
      return Promise.resolve(held)
    }
    this.#misses++
    return this.inner.ttl(rkey, unit, this.recent.has(rkey))
  }

  scan(pattern: string, count: number): AsyncIterable<Array<string | Buffer>> {
    return this.inner.scan(pattern, count)
  }
}
