// Coalesced existence checks: the `hasKey`s of one tick go to Redis as one `EXISTS` of all their
// keys (a lone one as a plain `EXISTS`), each caller answered with its own key's answer.
import type { CacheContext } from './_context.ts'
import { COALESCE_MAX, sendCommand } from './_gathering.ts'
import { isNoPerm, refusesCommand } from './_messages.ts'
import { integerReply, isOne, wrongReply } from './_replies.ts'
import type { WritesSince } from './_writes-since.ts'
import { groupBySlot } from './key-slot.ts'
import type { RedisArgument } from './types.ts'

/**
 * After a batch whose keys were partly there, the next calls (`APART_FIRST` times its size,
 * doubled after each such batch up to `APART_MOST` times) are not gathered: one `EXISTS` each,
 * as without coalescing. Back to `APART_FIRST` after a batch whose keys were all there or all
 * missing.
 */
const APART_FIRST = 16
const APART_MOST = 1024

/** One caller: its Redis key, and how to answer it. */
interface Waiter {
  rkey: string
  resolve: (found: boolean) => void
  reject: (error: unknown) => void
}

/** The calls gathered in one tick, and the mark of `WritesSince` taken when the first came. */
interface Batch {
  waiters: Waiter[]
  mark: number
}

/** A batch whose `EXISTS` of several keys awaits its count. */
interface Sent {
  waiters: Waiter[]
  mark: number
  /**
   * Each key's own `EXISTS`, sent behind the batch's (`#askEach`): before this cache writes one
   * of its keys, or by `closing()`; `undefined` until then.
   */
  again: Promise<unknown>[] | undefined
  /** Whether `again` was sent before any write of its keys this cache made after the calls. */
  beforeWrites: boolean
  /** Ends the watch of its keys' writes (`WritesSince.watch`). */
  unwatch: (() => void) | undefined
}

/**
 * Gathers the existence checks of one tick and sends them when the microtask queue runs (no
 * timer). `EXISTS` of many keys answers how many of them exist (a key named twice counted
 * twice), not which: a count of all of them or of none answers every caller at once — the usual
 * case, a tick of hits or of misses. A count in between asks each key again with an `EXISTS` of
 * its own (a second round trip for that batch, sent before any write of those keys this cache
 * makes after the calls: `WritesSince.watch`), and the next calls (16 times that batch's size,
 * doubled each time this happens again, up to 1,024 times) each send their own `EXISTS`, as
 * without coalescing, before calls are gathered again. When `close()` comes while a batch awaits
 * its count, each of its keys is asked at once, behind it (`closing()`): the connection answers
 * what is in flight as it closes but refuses what is sent after, so the callers, who called
 * before `close()`, are answered from those if the count is in between. On a cluster, the keys
 * of several hash slots go as one `EXISTS` per slot, all sent at once, each answering its own
 * callers: a node that is down or frozen fails only the calls on its keys (one `EXISTS`, which
 * the connection splits by slot, fails whole when one part does). With replicas it goes to one,
 * as a lone `EXISTS` does. A connection error or timeout of an `EXISTS` rejects each of its
 * callers, as does a reply that is no count of its keys (a proxy or server out of step:
 * `ResponseError`); an ACL's refusal of one of its keys (`NOPERM`, nothing ran) asks each key
 * again on its own, so that only the forbidden key's caller fails.
 */
export class ExistsCoalescer {
  readonly #context: CacheContext
  /** The keys this cache wrote, for a batch asked again (see `#askAgain`). */
  readonly #written: WritesSince
  #batch: Batch | undefined
  /** How many more calls are not gathered. */
  #apart = 0
  /** `#apart`, in batches of the size of the one that was partly there, after such a batch. */
  #window = APART_FIRST
  /** The batches of several keys whose `EXISTS` awaits its count (for `closing()`). */
  readonly #inFlight = new Set<Sent>()

  constructor(context: CacheContext, written: WritesSince) {
    this.#context = context
    this.#written = written
  }

  /** Whether `rkey` exists (of any type). */
  has(rkey: string): Promise<boolean> {
    let batch = this.#batch
    if (batch === undefined) {
      // A write made after these calls ends the batch (it sends what is gathered first). Until
      // the batch is answered (`#release`), the writes made after it are noted.
      const fresh: Batch = { waiters: [], mark: this.#written.begin() }
      this.#batch = batch = fresh
      queueMicrotask(() => this.#send(fresh))
    }
    const { waiters } = batch
    const promise = new Promise<boolean>((resolve, reject) => {
      waiters.push({ rkey, resolve, reject })
    })
    if (waiters.length >= COALESCE_MAX) this.#send(batch)
    return promise
  }

  /**
   * Whether this call should send its own `EXISTS` rather than be gathered: for a while after a
   * batch whose keys were partly there. Counts the call.
   */
  apart(): boolean {
    if (this.#apart === 0) return false
    this.#apart--
    return true
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    const batch = this.#batch
    if (batch !== undefined) this.#send(batch)
  }

  /**
   * `close()` is about to close the connection, which then refuses new commands: each batch
   * still awaiting its count sends its keys' own `EXISTS` now, behind it, so that a count in
   * between is answered from them rather than from commands sent once the connection is closed.
   */
  closing(): void {
    for (const sent of this.#inFlight) this.#askEach(sent, false)
  }

  /**
   * Sends each key of `sent` its own `EXISTS` now, behind the batch's, unless done already;
   * `beforeWrites`: no write of its keys made after the calls was sent yet, so each answers its
   * caller in call order.
   */
  #askEach(sent: Sent, beforeWrites: boolean): void {
    sent.unwatch?.()
    if (sent.again !== undefined) return
    sent.beforeWrites = beforeWrites
    sent.again = sent.waiters.map((waiter) => {
      const reply = this.#exists(waiter.rkey)
      reply.catch(() => {}) // read only when the count is in between
      return reply
    })
  }

  #send(batch: Batch): void {
    if (this.#batch === batch) this.#batch = undefined
    // Emptied as it is sent: the microtask queued for it may come after an earlier `flush()`.
    const waiters = batch.waiters.splice(0)
    // On a cluster, one `EXISTS` per slot (see the class comment), each a batch of its own that
    // ends (`#written.end()`) as a batch does: begun once more for each after the first.
    if (waiters.length > 1 && this.#context.unordered.routesBySlot === true) {
      const groups = groupBySlot(waiters, (waiter) => waiter.rkey)
      if (groups !== undefined) {
        for (let i = 1; i < groups.length; i++) this.#written.begin()
        for (const group of groups) this.#sendWaiters(group, batch.mark)
        return
      }
    }
    this.#sendWaiters(waiters, batch.mark)
  }

  /** Sends one `EXISTS` of the keys of `waiters` (one slot's, on a cluster), marked `mark`. */
  #sendWaiters(waiters: Waiter[], mark: number): void {
    if (waiters.length === 0) return
    if (waiters.length === 1) {
      this.#written.end()
      const waiter = waiters[0] as Waiter
      this.#answer(waiter, this.#exists(waiter.rkey))
      return
    }
    const args: RedisArgument[] = new Array(waiters.length + 1)
    args[0] = 'EXISTS'
    for (let i = 0; i < waiters.length; i++) args[i + 1] = (waiters[i] as Waiter).rkey
    const sent: Sent = { waiters, mark, again: undefined, beforeWrites: false, unwatch: undefined }
    const inFlight = this.#inFlight
    inFlight.add(sent)
    const route = { key: args[1], readonly: true, callers: waiters.length }
    sendCommand(this.#context.unordered, args, route).then(
      (reply) => {
        inFlight.delete(sent)
        sent.unwatch?.()
        // A count of another type, or beyond the keys asked (a proxy or server out of step),
        // rejects every caller here: this callback answers them, and must not throw.
        let count: number
        try {
          count = existsCount(reply, waiters.length)
        } catch (error) {
          this.#written.end()
          for (const waiter of waiters) waiter.reject(error)
          return
        }
        if (count === waiters.length || count === 0) {
          this.#written.end()
          this.#window = APART_FIRST
          const found = count > 0
          for (const waiter of waiters) waiter.resolve(found)
          return
        }
        this.#apart = this.#window * waiters.length
        this.#window = Math.min(this.#window * 2, APART_MOST)
        this.#askAgain(sent, count).finally(() => this.#written.end())
      },
      (error: unknown) => {
        inFlight.delete(sent)
        sent.unwatch?.()
        this.#written.end()
        if (isNoPerm(error) && !refusesCommand(error, 'EXISTS')) {
          // Refused by the ACL before it ran, for a key the user may not read: each key asked
          // on its own, so that only that key's caller fails (a read sent late overtakes
          // nothing it could undo).
          for (let i = 0; i < waiters.length; i++) {
            const waiter = waiters[i] as Waiter
            this.#answer(waiter, sent.again?.[i] ?? this.#exists(waiter.rkey))
          }
          return
        }
        for (const waiter of waiters) waiter.reject(error)
      },
    )
    // Should the count be in between, each key is asked again: those `EXISTS` must run before
    // this cache's writes of the keys made after the calls, or they would answer from them. A
    // write noted already (it flushed this batch, and is sent next) sends them now; a later one,
    // when it is noted (`WritesSince.watch`).
    const written = this.#written
    if (written.wroteSince(mark) && waiters.some((w) => written.changedSince(w.rkey, mark))) {
      this.#askEach(sent, true)
    } else if (inFlight.has(sent)) {
      sent.unwatch = written.watch(waiters, () => this.#askEach(sent, true))
    }
  }

  /**
   * Answers a batch whose count was in between from each key's own `EXISTS`. Sent before this
   * cache's writes of its keys (`beforeWrites`), they answer in call order. Otherwise (sent by
   * `closing()`, or now, after the calls made behind the batch) a key this cache wrote since is
   * answered from the count instead, what the other keys leave of it, when it is the only such
   * key of the batch (named once or more); with several, from its own `EXISTS`.
   */
  async #askAgain(sent: Sent, count: number): Promise<void> {
    const { waiters, mark } = sent
    const replies = waiters.map((waiter, i) => sent.again?.[i] ?? this.#exists(waiter.rkey))
    if (sent.beforeWrites) {
      // Sent before this cache's writes of the keys: each answers in call order.
      for (let i = 0; i < waiters.length; i++)
        this.#answer(waiters[i] as Waiter, replies[i] as Promise<unknown>)
      return
    }
    const written = this.#written
    let suspect: string | undefined
    for (const waiter of waiters) {
      if (!written.changedSince(waiter.rkey, mark)) continue
      if (suspect !== undefined && suspect !== waiter.rkey) {
        suspect = undefined
        break
      }
      suspect = waiter.rkey
    }
    if (suspect === undefined) {
      for (let i = 0; i < waiters.length; i++)
        this.#answer(waiters[i] as Waiter, replies[i] as Promise<unknown>)
      return
    }
    // The other keys answered as their replies come; the written one once they all have.
    let rest = count
    let named = 0
    let failed = false
    const others: Promise<void>[] = []
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i] as Waiter
      if (waiter.rkey === suspect) {
        named++
        continue
      }
      others.push(
        (replies[i] as Promise<unknown>).then(
          (reply) => {
            let found: boolean
            try {
              found = isOne(reply)
            } catch (error) {
              // A count of another type: its caller rejects, and the written key is asked alone.
              failed = true
              waiter.reject(error)
              return
            }
            if (found) rest--
            waiter.resolve(found)
          },
          (error: unknown) => {
            failed = true
            waiter.reject(error)
          },
        ),
      )
    }
    await Promise.all(others)
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i] as Waiter
      if (waiter.rkey !== suspect) continue
      // Unless another key's answer is missing, or the rest is neither none nor every time the
      // key is named (another client wrote in between): the key's own answer.
      const own = replies[i] as Promise<unknown>
      if (!failed && (rest === 0 || rest === named)) {
        own.catch(() => {}) // not read
        waiter.resolve(rest > 0)
      } else {
        this.#answer(waiter, own)
      }
    }
  }

  /** One `EXISTS` of one key. */
  #exists(rkey: RedisArgument): Promise<unknown> {
    return sendCommand(this.#context.unordered, ['EXISTS', rkey], { key: rkey, readonly: true })
  }

  /**
   * Answers `waiter` from the reply of an `EXISTS` of its key alone; a reply of another type
   * rejects it (`isOne`), caught here so that the caller is answered.
   */
  #answer(waiter: Waiter, reply: Promise<unknown>): void {
    reply.then((count) => {
      let found: boolean
      try {
        found = isOne(count)
      } catch (error) {
        waiter.reject(error)
        return
      }
      waiter.resolve(found)
    }, waiter.reject)
  }
}

/**
 * The count of an `EXISTS` of `keys` keys: an integer reply from 0 to `keys` (a key named twice
 * is counted twice); another type, or a count beyond, rejects (`ResponseError`).
 */
function existsCount(reply: unknown, keys: number): number {
  const count = integerReply(reply)
  if (count < 0 || count > keys) throw wrongReply(`a count from 0 to ${keys}`, reply)
  return count
}
