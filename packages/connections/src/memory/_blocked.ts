// The blocked calls of a store (BLPOP, BLMOVE, XREAD BLOCK, XREADGROUP BLOCK…) and how they are
// served, as redis-server does: a write to a key some call waits on makes the key "ready"; after
// each command the ready keys are served in the order they were first written, each key's calls
// first come first. A call that takes from the value (a list pop) is served only while the key
// holds a value of the kind it takes from, so serving stops at the first one the value can no
// longer serve (the list emptied and gone): N pushes after N waiters cost O(N), not O(N²). Calls
// that read without taking (stream reads) are each called, since one entry serves them all and a
// group reader must learn that its stream is gone (UNBLOCKED).
import type { Kind } from './_expiries.ts'

/**
 * A blocked call waiting on keys: called with one of them when it was written, to serve itself
 * from it (or find nothing there and wait on).
 */
export type Waiter = (key: string) => void

/** The calls blocked on one key, each kind first come first. */
interface KeyWaiters {
  /**
   * The calls that take from a value of a kind (list pops by `'list'`), by that kind: a key holds
   * one value, so only the calls of its kind are served, while it holds one.
   */
  readonly takers: Map<Kind, Set<Waiter>>
  /** The calls that read without taking (stream reads): each is called when the key is written. */
  readonly readers: Set<Waiter>
}

/** The blocked calls of one store, by the keys they wait on, and the keys written since served. */
export class BlockedCalls {
  /** Blocked calls by the keys they wait on. */
  readonly #waiters = new Map<string, KeyWaiters>()
  /**
   * Keys written since blocked calls were last served, that blocked calls wait on: Redis's
   * `ready_keys`, a key in it once, in the order of their first write.
   */
  readonly #ready = new Set<string>()
  /** Whether `serveReady` is running (a call it serves may write a key: it is served after). */
  #serving = false
  /** The kind of the live value at a key, `undefined` for none (without touching the key). */
  readonly #kindAt: (key: string) => Kind | undefined

  /** Blocked calls served from the values `kindAt` tells the kind of. */
  constructor(kindAt: (key: string) => Kind | undefined) {
    this.#kindAt = kindAt
  }

  /** The keys some call waits on. */
  keys(): string[] {
    return [...this.#waiters.keys()]
  }

  /** Marks `key` written: the calls waiting on it are served at the next `serveReady()`. */
  wake(key: string): void {
    if (this.#waiters.has(key)) this.#ready.add(key)
  }

  /**
   * Serves the blocked calls from the keys written since the last time, as Redis's
   * `handleClientsBlockedOnKeys`: key by key in the order they were first written, until none is
   * left (a call served that writes a key, as BLMOVE does, has its waiters served in turn).
   */
  serveReady(): void {
    if (this.#serving) return
    this.#serving = true
    try {
      while (this.#ready.size > 0) {
        // A key written again while this round runs comes again in the next round, unless it is
        // still to be served in this one.
        for (const key of [...this.#ready]) {
          this.#ready.delete(key)
          const waiters = this.#waiters.get(key)
          if (waiters !== undefined) this.#serveKey(key, waiters)
        }
      }
    } finally {
      this.#serving = false
    }
  }

  /**
   * Serves the calls blocked on `key`, as Redis's `serveClientsBlockedOn*Key`: those that take
   * from its value first come first while it holds a value of their kind (a list served to its
   * last element is gone: the calls after the one that emptied it are not even looked at, and
   * keep their places), then every reader (a reader with nothing new keeps its place).
   */
  #serveKey(key: string, waiters: KeyWaiters): void {
    const kind = this.#kindAt(key)
    const takers = kind === undefined ? undefined : waiters.takers.get(kind)
    if (takers !== undefined) {
      // A Set iterates in insertion order and skips the calls removed meanwhile (served, timed
      // out, closed), without a copy of the line on each write.
      for (const waiter of takers) {
        if (this.#kindAt(key) !== kind) break
        waiter(key)
      }
    }
    for (const waiter of waiters.readers) waiter(key)
  }

  /**
   * Adds `waiter` at the end of the calls waiting on each of `keys` (once per key), to be called
   * with a key when that key was written; it stays there until the returned function removes it.
   * `takes` is the kind of value the call takes from (`'list'` for BLPOP…): it is called only
   * while the key holds one; without it the call reads (stream reads) and is called on each write.
   */
  waitFor(keys: readonly string[], waiter: Waiter, takes?: Kind): () => void {
    for (const key of keys) this.#line(key, takes, true)?.add(waiter)
    return () => {
      for (const key of keys) {
        const waiters = this.#waiters.get(key)
        if (waiters === undefined) continue
        const line = this.#line(key, takes, false)
        line?.delete(waiter)
        if (takes !== undefined && line?.size === 0) waiters.takers.delete(takes)
        if (waiters.readers.size === 0 && waiters.takers.size === 0) this.#waiters.delete(key)
      }
    }
  }

  /** The line of calls on `key` that take `takes` (readers without it), made when `make`. */
  #line(key: string, takes: Kind | undefined, make: boolean): Set<Waiter> | undefined {
    let waiters = this.#waiters.get(key)
    if (waiters === undefined) {
      if (!make) return undefined
      waiters = { takers: new Map(), readers: new Set() }
      this.#waiters.set(key, waiters)
    }
    if (takes === undefined) return waiters.readers
    let line = waiters.takers.get(takes)
    if (line === undefined && make) {
      line = new Set()
      waiters.takers.set(takes, line)
    }
    return line
  }
}
