// The local tier's writes: each passed on to the store behind it, the keys it writes dropped
// from the tier before it is sent (so that no read in flight stores the old value) and after it
// settles, and noted as written lately (read-your-writes over replicas). The base of `LocalTier`
// (_local-tier.ts), which says how one key and the whole tier are dropped.
import { RecentWrites } from './_recent-writes.ts'
import type { SetCondition, ValueStore } from './_value-store.ts'

/** The writes of `LocalTier`, over the store `inner`. */
export abstract class LocalWrites {
  /** The store behind the tier. */
  protected readonly inner: ValueStore
  /** Keys this process wrote lately: read on the primary (read-your-writes over replicas). */
  protected readonly recent = new RecentWrites()

  constructor(inner: ValueStore) {
    this.inner = inner
  }

  /** Drops `rkey`, and keeps its reads in flight from storing. */
  protected abstract invalidate(rkey: string): void

  /** Drops every entry, and keeps every read in flight from storing. */
  protected abstract flushLocal(): void

  /**
   * Not held: the value read back would be the caller's own object (a `Date` where Redis gives
   * the string, and any later change the caller makes to it), not what was stored; and the
   * server's report of this write, which cannot be told from another client's write right after
   * it, drops it within the round trip anyway. The next read fills the tier.
   */
  set(rkey: string, value: unknown, ms: number | null, condition?: SetCondition): Promise<boolean> {
    return this.#writing([rkey], () => this.inner.set(rkey, value, ms, condition))
  }

  async setMany(
    rkeys: readonly string[],
    values: readonly unknown[],
    ms: number | null,
  ): Promise<boolean[]> {
    return this.#writing(rkeys, () => this.inner.setMany(rkeys, values, ms))
  }

  delete(rkey: string): Promise<boolean> {
    return this.#writing([rkey], () => this.inner.delete(rkey))
  }

  setGet(
    rkey: string,
    key: string,
    value: unknown,
    ms: number | null,
    condition?: SetCondition,
    missing: unknown = null,
  ): Promise<unknown> {
    return this.#writing([rkey], () => this.inner.setGet(rkey, key, value, ms, condition, missing))
  }

  writing<T>(
    rkeys: readonly string[],
    write: () => Promise<T>,
    unreplaced?: readonly string[],
    replaced?: readonly string[],
  ): Promise<T> {
    const dropped =
      unreplaced === undefined && replaced === undefined
        ? rkeys
        : [...rkeys, ...(unreplaced ?? []), ...(replaced ?? [])]
    return this.#writing(dropped, () => this.inner.writing(rkeys, write, unreplaced, replaced))
  }

  deleteMany(rkeys: readonly string[]): Promise<number> {
    return this.#writing(rkeys, () => this.inner.deleteMany(rkeys))
  }

  /** Whether this process wrote `rkey` lately: its reads then go to the primary. */
  wroteLately(rkey: string): boolean {
    return this.recent.has(rkey)
  }

  touch(rkey: string, ms: number | null): Promise<boolean> {
    return this.#writing([rkey], () => this.inner.touch(rkey, ms))
  }

  incr(
    rkey: string,
    key: string,
    delta: number | bigint,
    asNumber: boolean,
    method: 'incr' | 'decr',
  ): Promise<number | bigint> {
    return this.#writing([rkey], () => this.inner.incr(rkey, key, delta, asNumber, method))
  }

  rename(from: string, to: string, key: string): Promise<void> {
    return this.#writing([from, to], () => this.inner.rename(from, to, key))
  }

  expire(rkey: string, ms: number): Promise<boolean> {
    return this.#writing([rkey], () => this.inner.expire(rkey, ms))
  }

  expireAt(rkey: string, unixMs: number): Promise<boolean> {
    return this.#writing([rkey], () => this.inner.expireAt(rkey, unixMs))
  }

  persist(rkey: string): Promise<boolean> {
    return this.#writing([rkey], () => this.inner.persist(rkey))
  }

  async deleteMatching(pattern: string, count: number): Promise<number> {
    this.flushLocal()
    this.recent.noteAll()
    try {
      return await this.inner.deleteMatching(pattern, count)
    } finally {
      this.flushLocal()
      // Which keys it deleted is not known here: every read goes to the primary a while.
      this.recent.noteAll()
    }
  }

  async flush(): Promise<void> {
    this.flushLocal()
    this.recent.noteAll()
    try {
      await this.inner.flush()
    } finally {
      this.flushLocal()
      this.recent.noteAll()
    }
  }

  /**
   * A write that is not held locally: its keys are dropped before it is sent (so that no read in
   * flight stores the old value) and after it settles (so that this process reads its own write
   * even before the server's invalidation arrives). They count as written lately from the call
   * on — a read called while the write is in flight goes to the primary, behind it, not to a
   * replica that has not applied it — and again from when it settles.
   */
  async #writing<T>(rkeys: readonly string[], write: () => Promise<T>): Promise<T> {
    for (const rkey of rkeys) {
      this.invalidate(rkey)
      this.recent.note(rkey)
    }
    try {
      return await write()
    } finally {
      for (const rkey of rkeys) {
        this.invalidate(rkey)
        this.recent.note(rkey)
      }
    }
  }
}
