// The writes a cache made while a call whose answer is read after the calls made behind it was
// under way: an `incr` that may take the read-add-write fallback, a batch of `hasKey`s asked
// again, a pattern delete walking the keyspace.
import { compileGlob, type Glob } from './_glob.ts'
import { integerReply } from './_replies.ts'
import { rescanning } from './_scan-walk.ts'
import type { Connection } from './types.ts'

/** Keys one pattern delete handles apart at most (see `Walk`); beyond, it does not. */
const MAX_KEPT = 1_000_000

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
  /** Deletes `rkeys` now, before the write about to be sent. */
  readonly first: (rkeys: string[]) => void
}

/** A watch of keys (`WritesSince.watch`). */
interface KeyWatch {
  /** Holds the keys whose write fires it, as `rkey`s. */
  readonly keys: ReadonlyArray<{ readonly rkey: string }>
  readonly before: () => void
  /** Whether its keys are in `WritesSince.#byKey` (once a write came while it watched). */
  indexed: boolean
}

/** The number of a key's last write of each kind, while a call is under way (0: none). */
interface Written {
  /** A write that replaced (or deleted) its value: `set`, `delete`. */
  replaced: number
  /** A write that may have: a command of another family, a pipeline's write. */
  maybe: number
  /** Any write, also one that only created or moved it (`add`, a rename's source). */
  changed: number
}

/** Keys noted one by one at most while calls are under way; beyond, new keys are not noted. */
const MAX_NOTED = 100_000
/** Pattern deletes noted at most while calls are under way; beyond, they are not. */
const MAX_PATTERNS = 100

/**
 * The writes one cache made while calls that read their answer late are under way, numbered in
 * call order, so that such a call knows whether a write made after it, by this cache, is what it
 * reads: a fallback `incr` whose value a later `set` replaced answers its sum unwritten (the
 * `incr` came first), where another client's write is read again; a `hasKey` asked again
 * answers a key written since from the batch's count. Nothing is noted while no such call is
 * under way, and all is forgotten when the last ends; meanwhile at most `MAX_NOTED` keys, beyond
 * which a write counts as another client's (the call reads again, as without this).
 */
export class WritesSince {
  /** Calls under way. */
  #under = 0
  /** The last write's number. */
  #seq = 0
  readonly #keys = new Map<string, Written>()
  /** The pattern deletes made while calls are under way, with their numbers. */
  readonly #patterns: Array<{ glob: Glob; seq: number }> = []
  /** The pattern deletes under way. */
  readonly #walks = new Set<Walk>()
  /**
   * The watches of keys (`watch`), each fired once, before a write of one of its keys: those no
   * write came for yet, by themselves (a watch costs nothing more until one does), and the others
   * by key in `#byKey`, so that a write looks at its own key's watches only, however many there are.
   */
  readonly #unindexed = new Set<KeyWatch>()
  readonly #byKey = new Map<string, Set<KeyWatch>>()
  /** `#walks` and the watches together: 0 while no write needs `#before`. */
  #watching = 0
  /** What waits for no call to be under way (`whenIdle`). */
  #idle: Array<() => void> = []
  /** While `batch` runs: the keys each walk is to delete first, in one command. */
  #pending: Map<Walk, string[]> | undefined

  /** A call begins: its mark, for the `…Since` questions. */
  begin(): number {
    this.#under++
    return this.#seq
  }

  /** A call ended (answered, or failed). */
  end(): void {
    if (--this.#under === 0) {
      this.#keys.clear()
      this.#patterns.length = 0
      const idle = this.#idle
      if (idle.length > 0) {
        this.#idle = []
        for (const then of idle) then()
      }
    }
  }

  /** Runs `then` once no call is under way: now, or when the last one ends. */
  whenIdle(then: () => void): void {
    if (this.#under === 0) then()
    else this.#idle.push(then)
  }

  /** A write that replaces `rkey`'s value, or deletes it, is made now. */
  replaced(rkey: string): void {
    if (this.#watching !== 0) this.#before(rkey)
    const written = this.#under === 0 ? undefined : this.#written(rkey)
    if (written !== undefined) written.replaced = written.changed = ++this.#seq
  }

  /** A write that may replace `rkey`'s value (or fail and leave it) is made now. */
  mayReplace(rkey: string): void {
    if (this.#watching !== 0) this.#before(rkey)
    const written = this.#under === 0 ? undefined : this.#written(rkey)
    if (written !== undefined) written.maybe = written.changed = ++this.#seq
  }

  /** A write that creates `rkey` only where it is missing, or moves it away, is made now. */
  changed(rkey: string): void {
    if (this.#watching !== 0) this.#before(rkey)
    const written = this.#under === 0 ? undefined : this.#written(rkey)
    if (written !== undefined) written.changed = ++this.#seq
  }

  /**
   * Runs `note`, the notes of one write of several keys: the keys a walk is to delete first go
   * in one command, not one each.
   */
  batch(note: () => void): void {
    if (this.#walks.size === 0) {
      // Nothing under way: every note would be a no-op (a closure call and two checks a key).
      if (this.#under !== 0) note()
      return
    }
    const pending = new Map<Walk, string[]>()
    this.#pending = pending
    try {
      note()
    } finally {
      this.#pending = undefined
    }
    for (const [walk, rkeys] of pending) walk.first(rkeys)
  }

  /** A write that keeps `rkey`'s value, or changes it in place (`incr`), is made now. */
  touched(rkey: string): void {
    if (this.#watching !== 0) this.#before(rkey)
  }

  /** A delete of the keys matching `pattern` begins now (see `beginWalk`). */
  replacedMatching(pattern: string): void {
    if (this.#under === 0 || this.#patterns.length >= MAX_PATTERNS) return
    this.#patterns.push({ glob: compileGlob(binary(pattern)), seq: ++this.#seq })
  }

  /** Whether any write was noted since `mark`. */
  wroteSince(mark: number): boolean {
    return this.#seq > mark
  }

  /** Whether a write made since `mark` replaced `rkey`'s value. */
  replacedSince(rkey: string, mark: number): boolean {
    return (this.#keys.get(rkey)?.replaced ?? 0) > mark || this.#deletedSince(rkey, mark)
  }

  /**
   * The number of the last write noted that replaced `rkey`'s value or deleted it, a pattern
   * delete included (0: none). Read at a call, `> mark` tells whether one came after an earlier
   * call's `mark` and before this call, which a later write does not hide.
   */
  lastReplaced(rkey: string): number {
    let seq = this.#keys.get(rkey)?.replaced ?? 0
    for (const pattern of this.#patterns)
      if (pattern.seq > seq && pattern.glob.test(binary(rkey))) seq = pattern.seq
    return seq
  }

  /** Whether a write made since `mark` replaced `rkey`'s value or may have. */
  mayHaveReplaced(rkey: string, mark: number): boolean {
    return (this.#keys.get(rkey)?.maybe ?? 0) > mark || this.replacedSince(rkey, mark)
  }

  /** Whether any write of `rkey` was made since `mark`. */
  changedSince(rkey: string, mark: number): boolean {
    return (this.#keys.get(rkey)?.changed ?? 0) > mark || this.#deletedSince(rkey, mark)
  }

  #deletedSince(rkey: string, mark: number): boolean {
    for (const { glob, seq } of this.#patterns)
      if (seq > mark && glob.test(binary(rkey))) return true
    return false
  }

  #written(rkey: string): Written | undefined {
    let written = this.#keys.get(rkey)
    if (written === undefined && this.#keys.size < MAX_NOTED) {
      written = { replaced: 0, maybe: 0, changed: 0 }
      this.#keys.set(rkey, written)
    }
    return written
  }

  /**
   * A pattern delete of `pattern` begins: `first` deletes a key it matches before this cache
   * writes it, and `kept` holds those keys, for the walk to leave.
   */
  beginWalk(pattern: string, first: (rkeys: string[]) => void): Walk {
    const walk: Walk = { glob: compileGlob(binary(pattern)), kept: new Set(), first }
    this.#walks.add(walk)
    this.#watching++
    return walk
  }

  /** A pattern delete ended. */
  endWalk(walk: Walk): void {
    if (this.#walks.delete(walk)) this.#watching--
  }

  /**
   * Runs `before` once, just before this cache sends a write of a key `watches` (from the note
   * of the write, which comes before anything is sent), unless the returned function ends the
   * watch first. For reads answered late, whose own commands must run before such a write.
   */
  watch(keys: ReadonlyArray<{ readonly rkey: string }>, before: () => void): () => void {
    const watch: KeyWatch = { keys, before, indexed: false }
    this.#unindexed.add(watch)
    this.#watching++
    return () => this.#unwatch(watch)
  }

  /** Ends `watch`, if it is still on. */
  #unwatch(watch: KeyWatch): void {
    if (!watch.indexed) {
      if (this.#unindexed.delete(watch)) this.#watching--
      return
    }
    let on = false
    for (const { rkey } of watch.keys) {
      const watches = this.#byKey.get(rkey)
      if (watches?.delete(watch) !== true) continue
      on = true
      if (watches.size === 0) this.#byKey.delete(rkey)
    }
    if (on) this.#watching--
  }

  /**
   * A write of `rkey` is about to be sent: each watch of it fires (once), and each walk that
   * matches it deletes it first, once.
   */
  #before(rkey: string): void {
    if (this.#unindexed.size !== 0) {
      for (const watch of this.#unindexed) {
        watch.indexed = true
        for (const { rkey } of watch.keys) {
          const watches = this.#byKey.get(rkey)
          if (watches === undefined) this.#byKey.set(rkey, new Set([watch]))
          else watches.add(watch)
        }
      }
      this.#unindexed.clear()
    }
    const fired = this.#byKey.get(rkey)
    if (fired !== undefined) {
      for (const watch of [...fired]) {
        this.#unwatch(watch)
        watch.before()
      }
    }
    for (const walk of this.#walks) {
      const kept = walk.kept
      if (kept.has(rkey) || kept.size >= MAX_KEPT || !walk.glob.test(binary(rkey))) continue
      kept.add(rkey)
      const pending = this.#pending
      if (pending === undefined) walk.first([rkey])
      else {
        const rkeys = pending.get(walk)
        if (rkeys === undefined) pending.set(walk, [rkey])
        else rkeys.push(rkey)
      }
    }
  }
}

/**
 * Deletes the keys matching `pattern`: one `UNLINK` per `SCAN` batch, sent as the walk goes on,
 * after the calls made behind this one. A key this cache writes meanwhile is deleted first, on
 * its own, then left out (`WritesSince.beginWalk`): the calls act as if made one after another.
 * A walk whose server changed (a failover, a reconnection) starts over (`rescanning`): deleting
 * again is harmless, and the keys written since are still left. Resolves how many keys were
 * deleted.
 */
export async function deleteWalking(
  connection: Connection,
  written: WritesSince,
  pattern: string,
  count: number,
): Promise<number> {
  const pending: Array<Promise<unknown>> = []
  const unlink = (keys: Array<string | Buffer>): void => {
    const sent = connection.command(['UNLINK', ...keys], { key: keys[0] })
    // If a later SCAN fails, nobody awaits these: mark them handled (Promise.all still sees errors).
    sent.catch(() => {})
    pending.push(sent)
  }
  written.replacedMatching(pattern)
  const walk = written.beginWalk(pattern, unlink)
  try {
    for await (const found of rescanning(() => connection.scan(pattern, count))) {
      const kept = walk.kept
      const batch =
        kept.size === 0 ? found : found.filter((k) => typeof k !== 'string' || !kept.has(k))
      if (batch.length > 0) unlink(batch)
    }
    let deleted = 0
    // A count of another type rejects the pattern delete (`integerReply`): its caller awaits it.
    for (const n of await Promise.all(pending)) deleted += integerReply(n)
    return deleted
  } finally {
    written.endWalk(walk)
  }
}

/** `text` as the glob matches it: one char per byte of its UTF-8. */
function binary(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is every char below 0x80
  return /^[\u0000-\u007f]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1')
}
