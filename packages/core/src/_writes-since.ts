// The writes a cache made while a call whose answer is read after the calls made behind it was
// under way: an `incr` that may take the read-add-write fallback, a batch of `hasKey`s asked
// again, a pattern delete walking the keyspace.

/** Keys one pattern delete keeps at most (see `Walk`); beyond, later writes are not kept. */
const MAX_KEPT = 100_000

/**
 * A pattern delete under way (`deletePattern`, `clear`): it deletes each key a `SCAN` finds,
 * batch after batch, after the calls made behind it. A key this cache wrote after it began, in
 * call order, is kept: the delete came first. Only keys starting with the pattern's literal
 * start (what comes before its first `*`, `?`, `[` or `\`) are noted.
 */
export interface Walk {
  /** The pattern's literal start. */
  readonly from: string
  /** The keys written since the walk began that it could match. */
  readonly kept: Set<string>
}

/** A watched key: how many calls watch it, and the number of its last write of each kind. */
interface Watched {
  watchers: number
  /** A write that replaced (or deleted) its value: `set`, `delete`, a pattern delete. */
  replaced: number
  /** A write that may have: a command of another family, a pipeline's write. */
  maybe: number
  /** Any write, also one that only created or moved it (`add`, a rename's source). */
  changed: number
}

/**
 * The writes one cache made to the keys its calls watch, numbered in call order, so that a call
 * reading its answer late knows whether a write made after it, by this cache, is what it reads:
 * a fallback `incr` whose value was replaced by a later `set` answers its sum unwritten (the
 * `incr` came first), where another client's write is read again; a `hasKey` asked again answers
 * a key written since from the batch's count. Only watched keys are noted (a `Map` lookup a
 * write while any is), so nothing grows with the writes.
 */
export class WritesSince {
  /** The last write's number. */
  #seq = 0
  readonly #keys = new Map<string, Watched>()
  /** The pattern deletes under way. */
  readonly #walks = new Set<Walk>()

  /** A call on `rkey` begins: its mark, for the `…Since` questions. */
  watch(rkey: string): number {
    let watched = this.#keys.get(rkey)
    if (watched === undefined) {
      watched = { watchers: 0, replaced: 0, maybe: 0, changed: 0 }
      this.#keys.set(rkey, watched)
    }
    watched.watchers++
    return this.#seq
  }

  /** A call on `rkey` ended (answered, or failed). */
  unwatch(rkey: string): void {
    const watched = this.#keys.get(rkey)
    if (watched !== undefined && --watched.watchers === 0) this.#keys.delete(rkey)
  }

  /** A write that replaces `rkey`'s value, or deletes it, is made now. */
  replaced(rkey: string): void {
    if (this.#walks.size !== 0) this.#keep(rkey)
    const watched = this.#keys.size === 0 ? undefined : this.#keys.get(rkey)
    if (watched !== undefined) watched.replaced = watched.changed = ++this.#seq
  }

  /** A write that may replace `rkey`'s value (or fail and leave it) is made now. */
  mayReplace(rkey: string): void {
    if (this.#walks.size !== 0) this.#keep(rkey)
    const watched = this.#keys.size === 0 ? undefined : this.#keys.get(rkey)
    if (watched !== undefined) watched.maybe = watched.changed = ++this.#seq
  }

  /** A write that creates `rkey` only where it is missing, or moves it away, is made now. */
  changed(rkey: string): void {
    if (this.#walks.size !== 0) this.#keep(rkey)
    const watched = this.#keys.size === 0 ? undefined : this.#keys.get(rkey)
    if (watched !== undefined) watched.changed = ++this.#seq
  }

  /** A delete of the keys matching `pattern` begins now (see `beginWalk`). */
  replacedMatching(pattern: string): void {
    const from = literalStart(pattern)
    for (const [rkey, watched] of this.#keys) {
      if (rkey.startsWith(from)) watched.replaced = watched.changed = ++this.#seq
    }
  }

  /** Whether a write made since `mark` replaced `rkey`'s value. */
  replacedSince(rkey: string, mark: number): boolean {
    return (this.#keys.get(rkey)?.replaced ?? 0) > mark
  }

  /** Whether a write made since `mark` replaced `rkey`'s value or may have. */
  mayHaveReplaced(rkey: string, mark: number): boolean {
    const watched = this.#keys.get(rkey)
    return watched !== undefined && (watched.replaced > mark || watched.maybe > mark)
  }

  /** Whether any write of `rkey` was made since `mark`. */
  changedSince(rkey: string, mark: number): boolean {
    return (this.#keys.get(rkey)?.changed ?? 0) > mark
  }

  /** A pattern delete of `pattern` begins: `kept` will hold the keys to leave. */
  beginWalk(pattern: string): Walk {
    const walk: Walk = { from: literalStart(pattern), kept: new Set() }
    this.#walks.add(walk)
    return walk
  }

  /** A pattern delete ended. */
  endWalk(walk: Walk): void {
    this.#walks.delete(walk)
  }

  #keep(rkey: string): void {
    for (const walk of this.#walks) {
      if (rkey.startsWith(walk.from) && walk.kept.size < MAX_KEPT) walk.kept.add(rkey)
    }
  }
}

/** What a glob pattern starts with before its first `*`, `?`, `[` or `\`: every match does too. */
function literalStart(pattern: string): string {
  const special = pattern.search(/[*?[\\]/)
  return special < 0 ? pattern : pattern.slice(0, special)
}
