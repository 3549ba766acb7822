// The load of a soak run: the cache's everyday calls at a steady rate, every write recorded in the
// ledger and every read checked against it.

import type { Cache } from '@cachex/core'
import { BackpressureError, CachexError } from '@cachex/core'
import type { Ledger } from './_ledger.ts'

/**
 * Keys the load reads and writes (`k:<n>`, of which `TAGGED` share a hash tag ten by ten:
 * `k:{t<n>}:<i>`, for multi-key commands within one slot), counters (`c:<n>`), locks,
 * `deletePattern` groups.
 */
export const KEYS = 5000
const TAGGED = 1000
const COUNTERS = 100
const LOCKS = 20
const GROUPS = 20
const GROUP_SIZE = 10
/** Calls in flight past which the load skips calls instead of piling them up. */
const MAX_IN_FLIGHT = 5000
/** A TTL long enough that nothing expires during a run: `set` with a timeout, without expiries. */
const TTL = 3600

/** One call the load made: what, when it started and ended (ms since the run began), and its error. */
export interface CallRecord {
  op: string
  write: boolean
  start: number
  end: number
  code?: string
}

/** What a load collects (only failed calls one by one: the rest as counts, so the heap stays flat). */
export interface LoadStats {
  /** Calls made. */
  calls: number
  /** Calls that failed, in the order they ended (at most 200,000). */
  failures: CallRecord[]
  /** Calls that succeeded but took more than a second: they stalled (at most 200,000). */
  stalled: CallRecord[]
  /** The slowest call, in milliseconds. */
  slowestMs: number
  /** The slowest read, in milliseconds. */
  slowestReadMs: number
  /** Reads that took more than a second: reads that stalled. */
  stalledReads: number
  /** Errors by `code` (`untyped:<name>` for an error that is not a `CachexError`). */
  errors: Map<string, number>
  /** Examples of errors, a few per code. */
  errorSamples: Map<string, string[]>
  /** Calls not sent because `MAX_IN_FLIGHT` were in flight. */
  skipped: number
  /** Locks held twice at once. */
  doubleLocks: number
  /** Calls still in flight at the end. */
  inFlight: number
}

type Op = () => Promise<void>

/**
 * Runs the calls against `cache` at `rate` per second until `stop()`: gets (35 %), sets with a
 * timeout (20 %), getMany of 10 keys (10 %), setMany of 10 keys (5 %), incr (12 %), a lock taken
 * and released (8 %), deleteMany of 5 keys (6 %), and, now and then, a group of keys written and
 * removed with deletePattern (4 %). The multi-key calls take keys across slots half the time, and
 * the keys of one hash tag the other half (one MGET, MSET or UNLINK in one slot, which a slot
 * being migrated answers with TRYAGAIN).
 */
export class Load {
  readonly #cache: Cache
  readonly #ledger: Ledger
  readonly #rate: number
  readonly #t0: number
  readonly stats: LoadStats = {
    calls: 0,
    failures: [],
    stalled: [],
    slowestMs: 0,
    slowestReadMs: 0,
    stalledReads: 0,
    errors: new Map(),
    errorSamples: new Map(),
    skipped: 0,
    doubleLocks: 0,
    inFlight: 0,
  }
  readonly #holders = new Map<string, number>()
  readonly #groupsBusy = new Set<number>()
  #running = false
  #timer: NodeJS.Timeout | undefined
  #launched = 0
  #startedAt = 0
  #seq = 0
  readonly #inFlight = new Set<Promise<void>>()
  /** For `firstWriteAfter`: the times asked for, and the answers once known. */
  readonly #watches = new Map<number, number | undefined>()
  readonly #ops: Array<[number, Op]>

  constructor(cache: Cache, ledger: Ledger, rate: number, t0: number) {
    this.#cache = cache
    this.#ledger = ledger
    this.#rate = rate
    this.#t0 = t0
    this.#ops = [
      [35, () => this.#get()],
      [20, () => this.#set()],
      [10, () => this.#getMany()],
      [5, () => this.#setMany()],
      [12, () => this.#incr()],
      [8, () => this.#lock()],
      [6, () => this.#deleteMany()],
      [4, () => this.#deletePattern()],
    ]
  }

  /**
   * When the first write sent at or after `at` (ms since the run began) that succeeded ended;
   * `at` must be asked for (`watchWritesAfter`) before that write is sent.
   */
  firstWriteAfter(at: number): number | undefined {
    return this.#watches.get(at)
  }

  /** Starts watching for `firstWriteAfter(at)`. */
  watchWritesAfter(at: number): void {
    if (!this.#watches.has(at)) this.#watches.set(at, undefined)
  }

  /** Milliseconds since the run began. */
  now(): number {
    return performance.now() - this.#t0
  }

  /** Writes every key, counter and group once, so that reads find values from the start. */
  async seed(): Promise<void> {
    const cache = this.#cache
    for (let i = 0; i < KEYS; i += 100) {
      const entries = new Map<string, string>()
      for (let n = i; n < Math.min(KEYS, i + 100); n++) {
        const key = this.#name(n)
        entries.set(key, this.#value(key))
      }
      const now = this.now()
      for (const [key, value] of entries) this.#ledger.send(key, value, now)
      const failed = await cache.setMany(entries)
      if (failed.length > 0) throw new Error(`seeding failed for ${failed.length} keys`)
      const acked = this.now()
      for (const key of entries.keys()) this.#ledger.ack(key, acked)
    }
    for (let n = 0; n < COUNTERS; n++) {
      await cache.set(`c:${n}`, 0)
      this.#ledger.counter(`c:${n}`, 0)
    }
  }

  start(): void {
    this.#running = true
    this.#startedAt = performance.now()
    this.#timer = setInterval(() => this.#tick(), 5)
  }

  /** Stops sending, and waits (at most `ms`) for the calls in flight. */
  async stop(ms = 30_000): Promise<void> {
    this.#running = false
    clearInterval(this.#timer)
    const drained = Promise.all([...this.#inFlight]).then(() => true)
    const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())
    await Promise.race([drained, timeout])
    this.stats.inFlight = this.#inFlight.size
  }

  #tick(): void {
    if (!this.#running) return
    const due = Math.floor(((performance.now() - this.#startedAt) / 1000) * this.#rate)
    while (this.#launched < due) {
      this.#launched++
      if (this.#inFlight.size >= MAX_IN_FLIGHT) {
        this.stats.skipped++
        continue
      }
      const call = this.#pick()().catch((error: unknown) => {
        // A bug of the load itself, not of the cache: make it loud.
        console.error('soak load error', error)
      })
      this.#inFlight.add(call)
      call.finally(() => this.#inFlight.delete(call))
    }
  }

  #pick(): Op {
    let roll = Math.random() * 100
    for (const [weight, op] of this.#ops) {
      roll -= weight
      if (roll < 0) return op
    }
    return (this.#ops[0] as [number, Op])[1]
  }

  /** The name of key number `n`: the last `TAGGED` share a hash tag ten by ten. */
  #name(n: number): string {
    if (n < KEYS - TAGGED) return `k:${n}`
    const t = n - (KEYS - TAGGED)
    return `k:{t${Math.floor(t / 10)}}:${t % 10}`
  }

  /** The ten keys of one hash tag, chosen at random. */
  #tag(): string[] {
    const base = KEYS - TAGGED + Math.floor(Math.random() * (TAGGED / 10)) * 10
    return Array.from({ length: 10 }, (_, i) => this.#name(base + i))
  }

  #randomKey(): string {
    return this.#name(Math.floor(Math.random() * KEYS))
  }

  #value(key: string): string {
    return `${key}#${++this.#seq}`
  }

  /** A key with no write in flight (`undefined` if none was found quickly). */
  #freeKey(taken?: Set<string>): string | undefined {
    for (let attempt = 0; attempt < 20; attempt++) {
      const key = this.#randomKey()
      if (!this.#ledger.busy(key) && !taken?.has(key)) return key
    }
    return undefined
  }

  /**
   * `count` keys with no write in flight: half the time across slots, half the time the keys of
   * one hash tag (one multi-key command in one slot), or none when one of them is busy.
   */
  #freeKeys(count: number): string[] {
    if (Math.random() < 0.5) {
      const tagged = this.#tag().slice(0, count)
      return tagged.some((key) => this.#ledger.busy(key)) ? [] : tagged
    }
    const keys = new Set<string>()
    while (keys.size < count) {
      const key = this.#freeKey(keys)
      if (key === undefined) break
      keys.add(key)
    }
    return [...keys]
  }

  /** Runs `fn`, recording the call and its error. */
  async #call<T>(op: string, write: boolean, fn: () => Promise<T>): Promise<T | Error> {
    const start = this.now()
    const stats = this.stats
    stats.calls++
    const took = (failed: boolean) => {
      const end = this.now()
      const ms = end - start
      stats.slowestMs = Math.max(stats.slowestMs, ms)
      if (!failed && ms > 1000 && stats.stalled.length < 200_000) {
        stats.stalled.push({ op, write, start, end })
      }
      if (!write) {
        stats.slowestReadMs = Math.max(stats.slowestReadMs, ms)
        if (ms > 1000) stats.stalledReads++
      }
    }
    try {
      const value = await fn()
      took(false)
      if (write && this.#watches.size > 0) {
        const end = this.now()
        for (const [at, found] of this.#watches) {
          if (found === undefined && start >= at) this.#watches.set(at, end)
        }
      }
      return value
    } catch (error) {
      const end = this.now()
      took(true)
      const code =
        error instanceof CachexError
          ? error.code
          : `untyped:${error instanceof Error ? error.constructor.name : typeof error}`
      if (stats.failures.length < 200_000) stats.failures.push({ op, write, start, end, code })
      this.stats.errors.set(code, (this.stats.errors.get(code) ?? 0) + 1)
      const samples = this.stats.errorSamples.get(code) ?? []
      const message = error instanceof Error ? error.message : String(error)
      if (samples.length < 3 && !samples.includes(message)) samples.push(message)
      this.stats.errorSamples.set(code, samples)
      return error instanceof Error ? error : new Error(String(error))
    }
  }

  async #get(): Promise<void> {
    const key = this.#randomKey()
    const start = this.now()
    const value = await this.#call('get', false, () => this.#cache.get<string>(key))
    if (!(value instanceof Error)) this.#ledger.read(key, value, start, this.now())
  }

  async #getMany(): Promise<void> {
    // Half across slots, half one hash tag (one MGET in one slot).
    const keys =
      Math.random() < 0.5 ? Array.from({ length: 10 }, () => this.#randomKey()) : this.#tag()
    const start = this.now()
    const found = await this.#call('getMany', false, () => this.#cache.getMany<string>(keys))
    if (found instanceof Error) return
    const end = this.now()
    for (const key of keys) this.#ledger.read(key, found.get(key) ?? null, start, end)
  }

  async #set(): Promise<void> {
    const key = this.#freeKey()
    if (key === undefined) return
    const value = this.#value(key)
    this.#ledger.send(key, value, this.now())
    const result = await this.#call('set', true, () =>
      this.#cache.set(key, value, { timeout: TTL }),
    )
    this.#settle([key], result)
  }

  async #setMany(): Promise<void> {
    const keys = this.#freeKeys(10)
    if (keys.length === 0) return
    const entries = new Map(keys.map((key) => [key, this.#value(key)]))
    const now = this.now()
    for (const [key, value] of entries) this.#ledger.send(key, value, now)
    // Keys of one hash tag without a timeout: one MSET; the others with one: SET … PX each.
    const tagged = keys[0]?.includes('{') === true
    const result = await this.#call('setMany', true, () =>
      this.#cache.setMany(entries, { timeout: tagged ? null : TTL }),
    )
    if (result instanceof Error) {
      this.#settle(keys, result)
      return
    }
    const failed = new Set(result)
    const at = this.now()
    for (const key of keys) {
      if (failed.has(key)) this.#ledger.fail(key, true, at)
      else this.#ledger.ack(key, at)
    }
  }

  async #deleteMany(): Promise<void> {
    const keys = this.#freeKeys(5)
    if (keys.length === 0) return
    const now = this.now()
    for (const key of keys) this.#ledger.send(key, null, now)
    const result = await this.#call('deleteMany', true, () => this.#cache.deleteMany(keys))
    this.#settle(keys, result)
  }

  async #incr(): Promise<void> {
    const key = `c:${Math.floor(Math.random() * COUNTERS)}`
    if (this.#ledger.counterBusy(key)) return
    this.#ledger.incrSent(key)
    const result = await this.#call('incr', true, () => this.#cache.incr(key))
    if (result instanceof Error) this.#ledger.incrFail(key, maybeApplied(result))
    else this.#ledger.incrAck(key, Number(result))
  }

  async #lock(): Promise<void> {
    const name = `lock:${Math.floor(Math.random() * LOCKS)}`
    const lock = this.#cache.lock(name, { timeout: 10, blocking: false })
    const acquired = await this.#call('lock', true, () => lock.acquire())
    if (acquired !== true) return
    const id = ++this.#seq
    if (this.#holders.has(name)) this.stats.doubleLocks++
    this.#holders.set(name, id)
    await new Promise((resolve) => setTimeout(resolve, 20))
    if (this.#holders.get(name) === id) this.#holders.delete(name)
    await this.#call('unlock', true, () => lock.release())
  }

  async #deletePattern(): Promise<void> {
    const group = Math.floor(Math.random() * GROUPS)
    if (this.#groupsBusy.has(group)) return
    this.#groupsBusy.add(group)
    try {
      const keys = Array.from({ length: GROUP_SIZE }, (_, i) => `dp:${group}:${i}`)
      const entries = new Map(keys.map((key) => [key, this.#value(key)]))
      let now = this.now()
      for (const [key, value] of entries) this.#ledger.send(key, value, now)
      const written = await this.#call('setMany', true, () => this.#cache.setMany(entries))
      if (written instanceof Error) {
        this.#settle(keys, written)
        return
      }
      const failed = new Set(written)
      now = this.now()
      for (const key of keys) {
        if (failed.has(key)) this.#ledger.fail(key, true, now)
        else this.#ledger.ack(key, now)
      }
      now = this.now()
      for (const key of keys) this.#ledger.send(key, null, now)
      const result = await this.#call('deletePattern', true, () =>
        this.#cache.deletePattern(`dp:${group}:*`),
      )
      this.#settle(keys, result)
    } finally {
      this.#groupsBusy.delete(group)
    }
  }

  /** Records the outcome of a write of `keys` in the ledger. */
  #settle(keys: readonly string[], result: unknown): void {
    const now = this.now()
    for (const key of keys) {
      if (result instanceof Error) this.#ledger.fail(key, maybeApplied(result), now)
      else this.#ledger.ack(key, now)
    }
  }
}

/**
 * Whether a write that failed this way may have been applied: all but the errors of a call that
 * was not sent (`E_FAILOVER`, by its code, so that the soak also runs against older versions).
 */
function maybeApplied(error: Error): boolean {
  return !(error instanceof BackpressureError || (error as CachexError).code === 'E_FAILOVER')
}
