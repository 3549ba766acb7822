// Listeners a connection puts on an event emitter of node-redis's — a client, pool, cluster or
// sentinel — kept so that they can be taken off together: a connection over one of the user's
// that closes must leave none on it, or each closed cache would stay alive (and count towards
// Node's MaxListenersExceededWarning) for as long as the user's object lives.

/** What `Listeners` needs of an emitter. */
export interface Emitter {
  on(event: string, listener: (...args: unknown[]) => void): unknown
  off?(event: string, listener: (...args: unknown[]) => void): unknown
  getMaxListeners?(): number
  setMaxListeners?(n: number): unknown
}

/** The listeners put on emitters through `add`, until `clear`. */
export class Listeners {
  readonly #added: Array<[Emitter, string, (...args: unknown[]) => void]> = []

  /**
   * `emitter.on(event, listener)`, remembered. The emitter's listener limit is raised by one for
   * it (while it is on), as many caches over one client of the user's are no leak.
   */
  add(emitter: Emitter, event: string, listener: (...args: unknown[]) => void): void {
    raiseLimit(emitter, 1)
    emitter.on(event, listener)
    this.#added.push([emitter, event, listener])
  }

  /** Takes every listener added off its emitter (and their share of its listener limit). */
  clear(): void {
    for (const [emitter, event, listener] of this.#added) {
      emitter.off?.(event, listener)
      raiseLimit(emitter, -1)
    }
    this.#added.length = 0
  }
}

/** Moves `emitter`'s listener limit by `by`, unless it has none (0) or says nothing of it. */
function raiseLimit(emitter: Emitter, by: number): void {
  const limit = emitter.getMaxListeners?.()
  if (limit === undefined || limit === 0 || !Number.isFinite(limit)) return
  emitter.setMaxListeners?.(Math.max(1, limit + by))
}
