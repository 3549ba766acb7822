// The writes a cache made while a call whose answer is read after the calls made behind it was
// under way: an `incr` that may take the read-add-write fallback, a batch of `hasKey`s asked
// again, a pattern delete walking the keyspace.
import { compileGlob, type Glob } from './_glob.ts'

/** Keys one pattern delete handles apart at most (see `Walk`); beyond, it does not. */
const MAX_KEPT = 100_000

/**
 * A pattern delete under way (`deletePattern`, `clear`): it deletes each key a `SCAN` finds,
 * batch after batch, after the calls made behind it. When this cache writes a key it matches,
 * the walk deletes that key first (`first`, sent before the write) and leaves it out after
 * (`kept`): the delete came first, then the write, as called.
 */
export interface Walk {
  readonly glob: Glob
  /** The keys deleted apart, before a write of them: the walk leaves them. */
  readonly kept: Set<string>
  /** Deletes `rkey` now, before the write about to be sent. */
  readonly first: (rkey: string) => void
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
    if (this.#walks.size !== 0) this.#before(rkey)
    const watched = this.#keys.size === 0 ? undefined : this.#keys.get(rkey)
    if (watched !== undefined) watched.replaced = watched.changed = ++this.#seq
  }

  /** A write that may replace `rkey`'s value (or fail and leave it) is made now. */
  mayReplace(rkey: string): void {
    if (this.#walks.size !== 0) this.#before(rkey)
    const watched = this.#keys.size === 0 ? undefined : this.#keys.get(rkey)
    if (watched !== undefined) watched.maybe = watched.changed = ++this.#seq
  }

  /** A write that creates `rkey` only where it is missing, or moves it away, is made now. */
  changed(rkey: string): void {
    if (this.#walks.size !== 0) this.#before(rkey)
    const watched = this.#keys.size === 0 ? undefined : this.#keys.get(rkey)
    if (watched !== undefined) watched.changed = ++this.#seq
  }

  /** A write that keeps `rkey`'s value, or changes it in place (`incr`), is made now. */
  touched(rkey: string): void {
    if (this.#walks.size !== 0) this.#before(rkey)
  }

  /** A delete of the keys matching `pattern` begins now (see `beginWalk`). */
  replacedMatching(pattern: string): void {
    if (this.#keys.size === 0) return
    const glob = compileGlob(binary(pattern))
    for (const [rkey, watched] of this.#keys) {
      if (glob.test(binary(rkey))) watched.replaced = watched.changed = ++this.#seq
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

  /**
   * A pattern delete of `pattern` begins: `first` deletes a key it matches before this cache
   * writes it, and `kept` holds those keys, for the walk to leave.
   */
  beginWalk(pattern: string, first: (rkey: string) => void): Walk {
    const walk: Walk = { glob: compileGlob(binary(pattern)), kept: new Set(), first }
    this.#walks.add(walk)
    return walk
  }

  /** A pattern delete ended. */
  endWalk(walk: Walk): void {
    this.#walks.delete(walk)
  }

  /** A write of `rkey` is about to be sent: each walk that matches it deletes it first, once. */
  #before(rkey: string): void {
    for (const walk of this.#walks) {
      const kept = walk.kept
      if (kept.has(rkey) || kept.size >= MAX_KEPT || !walk.glob.test(binary(rkey))) continue
      kept.add(rkey)
      walk.first(rkey)
    }
  }
}

/** `text` as the glob matches it: one char per byte of its UTF-8. */
function binary(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is every char below 0x80
  return /^[\u0000-\u007f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1')
}
