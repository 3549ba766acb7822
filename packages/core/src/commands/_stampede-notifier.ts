// The wake-up of getOrSet's waiters (`distributed`): one subscriber per cache on
// STAMPEDE_CHANNEL, opened for a stampede and let go after it, which never keeps the process alive.
import type { CacheContext } from '../_context.ts'
import { MAX_TIMER_MS } from '../_limits.ts'
import { STAMPEDE_CHANNEL } from './_stampede.ts'

/** What the notifier uses of a node-redis client: the one `connection.client()` gives, and its duplicate. */
interface PubSubClient {
  duplicate?: () => unknown
  options?: {
    socket?: { connectTimeout?: unknown }
    defaults?: { socket?: { connectTimeout?: unknown } }
  }
  on?: (event: string, fn: (e: unknown) => void) => unknown
  once?: (event: string, fn: () => void) => unknown
  off?: (event: string, fn: () => void) => unknown
  connect?: () => Promise<unknown>
  subscribe?: (channel: string, fn: (message: string) => void) => Promise<unknown>
  unref?: () => void
  destroy?: () => void
  readonly isOpen?: boolean
  readonly isReady?: boolean
}

/**
 * Milliseconds opening the subscriber may take when its client states no `connectTimeout`:
 * `socketConnectTimeout`'s default.
 */
const DEFAULT_CONNECT_MS = 5000

/**
 * How long connecting and subscribing may take: the client's `connectTimeout`, which cachex sets
 * from the cache's `socketConnectTimeout` on every client it creates (a handed-in client keeps its
 * own). The core never sees `socketConnectTimeout` itself: it went to the connection factory.
 */
function connectTimeoutOf(client: PubSubClient): number {
  const ms =
    client.options?.socket?.connectTimeout ?? client.options?.defaults?.socket?.connectTimeout
  return typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_CONNECT_MS
}

/**
 * Destroys a node-redis client now, also one still connecting: node-redis 6 keeps the socket of
 * a connection attempt under way when `destroy()` runs, so that socket is destroyed when it
 * connects (as `destroyClient` of @cachex/connections does, which the core cannot import).
 */
function destroyNow(client: PubSubClient): void {
  const connecting = client.isOpen === true && client.isReady === false
  try {
    client.destroy?.()
  } catch {
    // Already destroyed.
  }
  if (connecting) client.once?.('connect', () => client.destroy?.())
}

/**
 * Wakes the processes waiting on a computation: one subscriber connection per cache on
 * `STAMPEDE_CHANNEL`, opened when a first waiter waits and closed when the last one left (a
 * stampede is an episode, not a steady state). Where the connection's client cannot be duplicated
 * into a subscriber, waiters only poll; they also poll when the subscriber fails, and then until
 * the episode ends.
 *
 * The subscriber never keeps the process alive and never outlives the cache: it is unref'd
 * before it connects, opening it is bounded by the client's connect timeout, a failure destroys
 * it (node-redis would otherwise reconnect on timers that hold the process, for announcements
 * already lost), it goes when the client it duplicates ends (the connection closed or replaced
 * it), and `close()` destroys it at once.
 */
class Notifier {
  readonly #context: CacheContext
  readonly #waiters = new Map<string, Set<() => void>>()
  /** Whether this episode has a subscriber (opening, subscribed, or failed: then not reopened). */
  #opened = false
  /**
   * Destroys the current subscriber (and lets go of its listeners); resolves whether it was still
   * there. `undefined` when there is none.
   */
  #drop: (() => boolean) | undefined
  #count = 0
  /** Counts the calls to `wait`: the episode ends only after a second with none. */
  #waits = 0
  #live = false
  #closed = false
  /** Bumped when the subscriber is let go: a late event of an old one changes nothing. */
  #generation = 0

  constructor(context: CacheContext) {
    this.#context = context
  }

  /**
   * Whether every announcement reaches the waiters: the subscriber is subscribed and has not
   * failed since (messages sent while it reconnects are lost, so a failure ends it until the
   * subscriber is opened again, in the next episode). Waiters then need to poll only as a safety
   * net.
   */
  get live(): boolean {
    return this.#live
  }

  /** Resolves when `rkey` is announced or after `ms`, whichever comes first. */
  wait(rkey: string, ms: number): Promise<void> {
    this.#ensureSubscribed()
    this.#waits++
    return new Promise<void>((resolve) => {
      let set = this.#waiters.get(rkey)
      if (set === undefined) {
        set = new Set()
        this.#waiters.set(rkey, set)
      }
      const waiters = set
      this.#count++
      const done = () => {
        clearTimeout(timer)
        if (waiters.delete(done)) {
          this.#count--
          if (waiters.size === 0 && this.#waiters.get(rkey) === waiters) this.#waiters.delete(rkey)
          if (this.#count === 0) this.#closeSoon()
        }
        resolve()
      }
      // Capped: waking early only makes the waiter look again.
      const timer = setTimeout(done, Math.min(MAX_TIMER_MS, Math.max(0, ms)))
      waiters.add(done)
    })
  }

  /**
   * Destroys the subscriber at once, opens none again, and wakes every waiter (they poll, and
   * find the connection closed). For `Cache.close()`.
   */
  close(): void {
    this.#closed = true
    this.#letGo()
    this.#lost()
  }

  #wake(rkey: string): void {
    const set = this.#waiters.get(rkey)
    if (set === undefined) return
    for (const done of [...set]) done()
  }

  /** The subscriber failed: no announcement can be trusted to arrive, every waiter polls again. */
  #lost(): void {
    this.#live = false
    for (const set of [...this.#waiters.values()]) for (const done of [...set]) done()
  }

  /** Ends the episode's subscriber now: the next waiter opens a new one (unless closed). */
  #letGo(): void {
    this.#generation++
    this.#opened = false
    this.#live = false
    const drop = this.#drop
    this.#drop = undefined
    drop?.()
  }

  /**
   * The subscriber of `generation` failed (an error, or opening it took too long): it is
   * destroyed, and the waiters poll until the episode ends (not reopened meanwhile: during an
   * outage every poll would open a connection).
   */
  #failed(generation: number, drop: () => boolean): void {
    // Once only: a destroyed client may still report errors.
    if (!drop()) return
    if (generation !== this.#generation) return
    if (this.#drop === drop) this.#drop = undefined
    this.#lost()
  }

  #ensureSubscribed(): void {
    if (this.#opened || this.#closed) return
    this.#opened = true
    this.#subscribe(this.#generation).catch(() => undefined)
  }

  async #subscribe(generation: number): Promise<void> {
    const client = (await this.#context.connection.client({ write: true })) as PubSubClient
    if (generation !== this.#generation || typeof client?.duplicate !== 'function') return
    const sub = client.duplicate() as PubSubClient
    if (typeof sub?.subscribe !== 'function' || typeof sub.connect !== 'function') return
    // Before connect(): node-redis unrefs each socket it opens from then on, so that neither a
    // connection attempt nor the subscribed connection holds the process.
    sub.unref?.()
    let timer: NodeJS.Timeout | undefined
    let dropped = false
    const onEnd = () => {
      if (generation !== this.#generation) return
      // The client this one duplicates was closed or replaced (a reset): so is the subscriber.
      this.#letGo()
      this.#lost()
    }
    const drop = () => {
      if (dropped) return false
      dropped = true
      clearTimeout(timer)
      client.off?.('end', onEnd)
      destroyNow(sub)
      return true
    }
    this.#drop = drop
    client.once?.('end', onEnd)
    // Any error: messages sent from now on may be lost, and node-redis would reconnect on timers
    // that keep the process alive (every 2 s for as long as the server refuses).
    sub.on?.('error', () => this.#failed(generation, drop))
    // Unref'd: it only ends an attempt, which holds nothing by itself.
    timer = setTimeout(() => this.#failed(generation, drop), connectTimeoutOf(client))
    timer.unref()
    try {
      await sub.connect()
      await sub.subscribe(STAMPEDE_CHANNEL, (message) => this.#wake(String(message)))
    } catch {
      this.#failed(generation, drop)
      return
    }
    clearTimeout(timer)
    if (generation === this.#generation && !dropped) this.#live = true
  }

  /**
   * Ends the episode a second after the last waiter left, unless one waited since: a waiter
   * between two polls (reading Redis) is not waiting, and must not cost the episode its
   * subscriber.
   */
  #closeSoon(): void {
    if (!this.#opened) return
    const generation = this.#generation
    const waits = this.#waits
    const timer = setTimeout(() => {
      if (this.#count > 0 || this.#waits !== waits || this.#generation !== generation) return
      this.#letGo()
    }, 1000)
    timer.unref()
  }
}

const notifiers = new WeakMap<CacheContext, Notifier>()

/** The notifier of a cache. */
export function notifierOf(context: CacheContext): Notifier {
  let notifier = notifiers.get(context)
  if (notifier === undefined) {
    notifier = new Notifier(context)
    notifiers.set(context, notifier)
  }
  return notifier
}

/**
 * Closes the notifier of a cache, if it has one: its subscriber is destroyed at once and none is
 * opened again. `Cache.close()` calls it, so that a subscriber still connecting to a server that
 * stopped answering is not left behind.
 */
export function closeNotifier(context: CacheContext): void {
  notifiers.get(context)?.close()
}
