// The emitter behind `cache.on()` / `cache.off()`. Nothing is paid while nobody listens: the
// places that emit check one boolean of this object (`reads`, `writes`, `errors`…) first, and
// build no event object unless it is set.

import { safeLog } from './_safe-log.ts'
import { thrownText } from './_thrown.ts'
import { CachexError, ConnectionError, InvalidArgumentError } from './errors.ts'
import type { CacheEventListener, CacheEventMap, CacheEventName } from './events.ts'
import type { Logger } from './types.ts'

type AnyListener = (event: never) => void

const EVENT_NAMES: ReadonlySet<string> = new Set<CacheEventName>([
  'hit',
  'miss',
  'set',
  'delete',
  'error',
  'invalidate',
  'operation',
])

/** One cache's listeners, by event. */
export class CacheEvents {
  /** Whether anyone listens to `hit` or `miss`. */
  reads = false
  /** Whether anyone listens to `set` or `delete`. */
  writes = false
  /** Whether anyone listens to `error`. */
  errors = false
  /** Whether anyone listens to `invalidate`. */
  invalidations = false
  /** Whether anyone listens to `operation`. */
  timing = false
  /**
   * Calls to `timed` methods running now, synchronously: a method that calls another public
   * method (`getOrSet`'s reads) is one operation (see `_timing.ts`). 0 while listeners run
   * (`emit`): what they call is an operation of its own.
   */
  depth = 0
  /** Called when `timing` changes, to put the timed methods on the cache or take them off. */
  onTiming: ((on: boolean) => void) | undefined

  /** The listeners by event; an array is replaced, never changed, so an emit in progress is safe. */
  readonly #listeners = new Map<CacheEventName, readonly AnyListener[]>()
  readonly #logger: Logger
  /** Listeners whose throw was logged already, by event: once each. */
  readonly #reported = new Map<CacheEventName, WeakSet<AnyListener>>()

  constructor(logger: Logger) {
    this.#logger = logger
  }

  /** Adds `listener` to `event`; the function returned removes it (once; later calls do nothing). */
  on<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): () => void {
    if (!EVENT_NAMES.has(event)) {
      throw new InvalidArgumentError(
        `cache.on(): unknown event ${JSON.stringify(String(event))}; events: ${[...EVENT_NAMES].join(', ')}`,
      )
    }
    if (typeof listener !== 'function') {
      throw new InvalidArgumentError(`cache.on('${event}'): the listener must be a function`)
    }
    const list = this.#listeners.get(event) ?? []
    this.#set(event, [...list, listener as AnyListener])
    let subscribed = true
    return () => {
      if (!subscribed) return
      subscribed = false
      this.off(event, listener)
    }
  }

  /** Removes one registration of `listener` from `event`; does nothing when it has none. */
  off<E extends CacheEventName>(event: E, listener: CacheEventListener<E>): void {
    const list = this.#listeners.get(event)
    if (list === undefined) return
    const at = list.lastIndexOf(listener as AnyListener)
    if (at < 0) return
    this.#set(event, [...list.slice(0, at), ...list.slice(at + 1)])
  }

  /** How many listeners `event` has. */
  count(event: CacheEventName): number {
    return this.#listeners.get(event)?.length ?? 0
  }

  /**
   * Calls every listener of `event` with `payload`, synchronously, in the order they were added.
   * A listener that throws (or returns a promise that rejects) is logged once through the
   * cache's logger; the others still run, and the cache call goes on. The listeners run at
   * `depth` 0: a call one makes is the user's own, one operation, though the event came from
   * within another call's synchronous part (a local-tier hit, an error for bad arguments).
   */
  emit<E extends CacheEventName>(event: E, payload: CacheEventMap[E]): void {
    const list = this.#listeners.get(event)
    if (list === undefined) return
    const depth = this.depth
    this.depth = 0
    try {
      for (const listener of list) {
        try {
          const result: unknown = (listener as (event: CacheEventMap[E]) => unknown)(payload)
          if (result !== undefined && typeof (result as PromiseLike<unknown>).then === 'function') {
            ;(result as PromiseLike<unknown>).then(undefined, (error: unknown) =>
              this.#report(event, listener, error),
            )
          }
        } catch (error) {
          this.#report(event, listener, error)
        }
      }
    } finally {
      this.depth = depth
    }
  }

  /**
   * Emits `error` for a failure that no error policy applies to, thrown as it is whatever
   * `ignoreExceptions` says: what `acquireLock` and `acquirePermit` reject with, and the bad
   * arguments a scan (`iterKeys`, `hscan`…) throws before it starts. The payload is the one
   * `CacheContext.fail` emits for every other method: `ignored: false`, and the error as a
   * `CachexError` (a foreign one, from a custom connection, as a `ConnectionError`).
   */
  thrown(operation: string, error: unknown): void {
    if (!this.errors) return
    const typed =
      error instanceof CachexError
        ? error
        : new ConnectionError(thrownText(error), {
            cause: error,
          })
    this.emit('error', { operation, error: typed, ignored: false })
  }

  #report(event: CacheEventName, listener: AnyListener, error: unknown): void {
    let reported = this.#reported.get(event)
    if (reported === undefined) {
      reported = new WeakSet()
      this.#reported.set(event, reported)
    }
    if (reported.has(listener)) return
    reported.add(listener)
    safeLog(
      this.#logger,
      'error',
      `cachex: a '${event}' listener threw (the cache call went on; further errors of this listener are not logged)`,
      error,
    )
  }

  #set(event: CacheEventName, list: readonly AnyListener[]): void {
    const before = this.#listeners.get(event)
    this.#put(event, list)
    const timing = this.#listeners.has('operation')
    if (timing === this.timing) return
    this.timing = timing
    try {
      this.onTiming?.(timing)
    } catch (error) {
      // Taking the timers off failed (the cache was frozen while timed): they stay, and emit to
      // no one; removing a listener does not fail.
      if (!timing) return
      // The timers could not be put on (a frozen cache: `InvalidArgumentError`): the change is
      // undone, so that no listener stays registered that the call said was refused.
      this.#put(event, before ?? [])
      this.timing = false
      throw error
    }
  }

  /** Sets `event`'s listeners to `list` and the flags that say who listens. */
  #put(event: CacheEventName, list: readonly AnyListener[]): void {
    if (list.length === 0) this.#listeners.delete(event)
    else this.#listeners.set(event, list)
    const has = (name: CacheEventName) => this.#listeners.has(name)
    this.reads = has('hit') || has('miss')
    this.writes = has('set') || has('delete')
    this.errors = has('error')
    this.invalidations = has('invalidate')
  }
}
