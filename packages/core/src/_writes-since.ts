// The keys a cache wrote while a call was under way, for calls whose answer is read after the
// calls made behind them.

/** Keys `WritesSince` notes one by one at most; beyond, every key counts as written. */
const MAX_NOTED = 10_000

/**
 * The keys one cache wrote while a call that needs to know was under way (an `incr` that may take
 * the read-add-write fallback, a batch of `hasKey`s): whether a value read after the call was
 * answered is one this cache wrote after the call, in call order. A fallback `incr` whose swap
 * failed then knows whether its own later write replaced the sum (the `incr` came first) or
 * another client did (read again); a `hasKey` asked again knows which answers may be a later
 * write's. Costs an increment per such call, and a `Map` entry per write only while one is under
 * way.
 */
export class WritesSince {
  /** Calls under way. */
  #under = 0
  /** The last write's number. */
  #seq = 0
  /** Writes numbered above this count for every key (a pattern delete, a flush, too many keys). */
  #all = -1
  /** The number of each key's last write, while a call is under way. */
  readonly #written = new Map<string, number>()

  /** A call starts: its mark, for `since`. */
  begin(): number {
    this.#under++
    return this.#seq
  }

  /** A call ended (answered, or failed). */
  end(): void {
    if (--this.#under === 0) {
      this.#written.clear()
      this.#all = -1
    }
  }

  /** A write of `rkey` is made now. */
  note(rkey: string): void {
    if (this.#under === 0) return
    if (this.#written.size >= MAX_NOTED) {
      this.noteAll()
      return
    }
    this.#written.set(rkey, ++this.#seq)
  }

  /** A write of keys not known one by one is made now. */
  noteAll(): void {
    if (this.#under === 0) return
    this.#written.clear()
    this.#all = ++this.#seq
  }

  /** Whether `rkey` was written after the call that got `mark` from `begin` started. */
  since(rkey: string, mark: number): boolean {
    return this.#all > mark || (this.#written.get(rkey) ?? -1) > mark
  }
}
