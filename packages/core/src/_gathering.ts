// The coalescers of one cache, and the order between them: calls gathered in one tick by
// different coalescers (gets, existence checks, hash reads, sets, incrs) reach Redis in the order
// they were made, and a command sent at once does not overtake any of them.

/**
 * Calls per coalesced read at most (keys per `MGET` or `EXISTS`, fields per `HMGET`); a tick
 * with more sends several. With 1,000 gets of distinct keys in flight, 64, 128 and 512 measured
 * within the (large) noise of a shared 2-core machine, 128 ahead in median in two runs; a bounded
 * batch also keeps one reply, and the event-loop turn that parses it, short.
 */
export const COALESCE_MAX = 128

/** What each coalescer offers: to send what it gathered so far. */
export interface Coalescer {
  flush(): void
}

/** Every coalescer of a cache, and the one gathering the calls of this tick now. */
export class Gathering {
  readonly #all: Coalescer[] = []
  #current: Coalescer | undefined

  /** Registers `coalescer`, so that `flush` sends what it gathers. */
  add<C extends Coalescer>(coalescer: C): C {
    this.#all.push(coalescer)
    return coalescer
  }

  /** `coalescer`, once the calls another coalescer gathered before it are sent. */
  use<C extends Coalescer>(coalescer: C): C {
    const current = this.#current
    if (current !== coalescer) {
      current?.flush()
      this.#current = coalescer
    }
    return coalescer
  }

  /** Sends what every coalescer gathered: for a command about to be sent at once. */
  readonly flush = (): void => {
    for (const coalescer of this.#all) coalescer.flush()
  }
}
