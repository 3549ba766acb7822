// Coalesced reads: the `get`s of one tick go to Redis as one `MGET` (a lone one as a plain `GET`),
// and each caller is answered on its own: its value decoded, its fallback, its error. The batch
// and its callers, and what counts as a large value: `_coalesce-batch.ts`.
import { type Batch, isLarge, slotBatch, type Waiter } from './_coalesce-batch.ts'
import type { CacheContext } from './_context.ts'
import { COALESCE_MAX, sendCommand } from './_gathering.ts'
import { isNoPerm, refusesCommand } from './_messages.ts'
import { mgetMismatch, toNumber } from './_replies.ts'
import { groupBySlot } from './key-slot.ts'
import type { RedisArgument } from './types.ts'

export { LARGE_VALUE } from './_coalesce-batch.ts'

/**
 * Batches sent with an `EXISTS` after one that had a nil (see `ReadCoalescer`): a workload with
 * misses keeps its one round trip, one of hits stops paying for the `EXISTS`.
 */
const PROBE_BATCHES = 16

/** Large keys remembered at most (then forgotten all at once). */
const LARGE_KEYS = 10_000

/**
 * Gathers the string reads of one tick and sends them when the microtask queue runs (no timer,
 * so a lone read waits for nothing), as one `GET` for one key and one `MGET` for several. Reads
 * of one key made one after the other ask for it once, each caller decoding the reply on its own
 * (a hot key read by 100 calls of a tick: one `GET`).
 *
 * `MGET` answers nil both for a missing key and for a key of another type, where `GET` fails
 * with `WRONGTYPE`. A nil is therefore checked with `EXISTS`: when it counts just the keys `MGET`
 * found (the usual case), the nils are missing keys; otherwise (a key of another type, or one
 * written between the two commands) the nil keys are read again with `GET`: its `WRONGTYPE`
 * rejects the callers of a key of another type, as their own `GET` would, and a string it finds
 * was written after the `MGET` (perhaps by a call made after theirs), so its callers get their
 * default, as the `MGET` answered in call order. While batches have nils, each `MGET` goes with an `EXISTS` of
 * all its keys in the same round trip (asking only after a nil cost a second round trip and
 * halved the throughput of misses); after `PROBE_BATCHES` batches without one, `MGET` goes alone
 * and a nil is checked after it, with an `EXISTS` of the nil keys (the `EXISTS` of every batch
 * cost a tenth of a hit's client CPU, measured). The two commands are not atomic: a key deleted
 * between them while another holds a non-string could hide that one's `WRONGTYPE` (answering its
 * default), a race on a misuse only.
 *
 * An ACL checks the command and each of its keys before running it: a `MGET` refused (`NOPERM`)
 * for one key the user may not read is sent again as one `GET` per key, so that only that key's
 * caller fails; refused for `MGET` itself (a user allowed `GET` only), the same, and every later
 * read is a `GET` of its own. An `EXISTS` refused the same way has the nils read again with `GET`.
 *
 * On a cluster, the keys of several hash slots go as one batch per slot (an `MGET` of its keys, a
 * `GET` for one), all sent at once: each caller is answered by its own key's node, so a node that
 * is down or frozen fails only the reads of its keys. (One `MGET`, which the connection splits by
 * slot, fails whole when one part does.)
 */
export class ReadCoalescer {
  readonly #context: CacheContext
  #batch: Batch | undefined
  /**
   * Keys whose last value read was larger than `LARGE_VALUE`: read with a `GET` of their own.
   * An `MGET` of many large values is one reply that node-redis assembles whole before anything
   * is decoded (100 gets of a 105 KB value in flight: 0.86–0.89× raw node-redis coalesced,
   * 0.99–1.06× not).
   */
  readonly #large = new Set<string>()
  /** How many more batches go with an `EXISTS` of their keys (see `PROBE_BATCHES`). */
  #probes = PROBE_BATCHES
  /** Batches of several keys whose `MGET` awaits its replies (for `closing()`). */
  readonly #inFlight = new Set<Batch>()
  /**
   * Set once the server refused `MGET` itself (an ACL user allowed `GET` but not `MGET`): each
   * read is then a `GET` of its own, as with one call at a time.
   */
  #alone = false
  /**
   * Set once the server refused `EXISTS` itself (an ACL user allowed `MGET` but not `EXISTS`):
   * the nils of a batch are then read again with `GET`, each answered as its own `GET` would be.
   */
  #noExists = false

  constructor(context: CacheContext) {
    this.#context = context
  }

  /** The value at `rkey` decoded (errors name the user's `key`), or `fallback` when missing. */
  get(rkey: string, key: string, fallback: unknown): Promise<unknown> {
    if (this.#large.has(rkey)) return this.#getAlone(rkey, key, fallback)
    let batch = this.#batch
    if (batch === undefined) {
      const fresh: Batch = { args: ['MGET'], waiters: [], sent: false }
      this.#batch = batch = fresh
      queueMicrotask(() => this.#send(fresh))
    }
    const { args, waiters } = batch
    // The same key as the read before it: asked once. (Only the last key is compared: a lookup
    // of every key gathered would cost each read of distinct keys more than it saves.)
    let at = args.length - 1
    const shares = at > 0 && args[at] === rkey
    if (shares) {
      at--
      // The caller before it decodes a copy too: a serializer may work on its input in place.
      ;(waiters[waiters.length - 1] as Waiter).shares = true
    } else {
      args.push(rkey)
    }
    const promise = new Promise<unknown>((resolve, reject) => {
      waiters.push({ key, at, shares, fallback, resolve, reject })
    })
    if (waiters.length >= COALESCE_MAX) this.#send(batch)
    return promise
  }

  /** Sends what is gathered now: a command sent after it must not overtake it. */
  flush(): void {
    const batch = this.#batch
    if (batch !== undefined) this.#send(batch)
  }

  /**
   * `close()` is about to close the connection, which then refuses new commands: each batch whose
   * `MGET` awaits its replies sends now, behind it, what its nils may need — the `EXISTS` of its
   * keys (if it went without one) and each key's own `GET` — so that they are checked with
   * commands the connection answers as it closes (calls made before `close()` are answered).
   */
  closing(): void {
    const context = this.#context
    for (const batch of this.#inFlight) {
      const keys = batch.args.slice(1)
      if (!this.#noExists) batch.exists ??= this.#exists(keys)
      batch.again ??= keys.map((rkey) => {
        const reply = sendCommand(context.unordered, ['GET', rkey], {
          key: rkey,
          readonly: true,
          text: context.text,
        })
        reply.catch(() => {}) // read only for a nil that is not missing
        return reply
      })
    }
    this.#inFlight.clear()
  }

  /** An `EXISTS` of `keys`, whose rejection is handled where it is awaited. */
  #exists(keys: RedisArgument[]): Promise<unknown> {
    const exists = sendCommand(this.#context.unordered, ['EXISTS', ...keys], {
      key: keys[0],
      readonly: true,
    })
    exists.catch(() => {}) // awaited only when the MGET has nils
    return exists
  }

  #send(batch: Batch): void {
    if (this.#batch === batch) this.#batch = undefined
    if (batch.sent) return
    batch.sent = true
    const { args } = batch
    if (args.length === 2 || this.#alone) {
      this.#getEach(batch)
      return
    }
    // On a cluster, one batch per slot (see the class comment).
    if (this.#context.unordered.routesBySlot === true) {
      const groups = groupBySlot(batch.waiters, (waiter) => args[waiter.at + 1] as RedisArgument)
      if (groups !== undefined) {
        for (const waiters of groups) this.#sendBatch(slotBatch(args, waiters))
        return
      }
    }
    this.#sendBatch(batch)
  }

  /** Sends `batch`, of several keys of one slot (or not on a cluster). */
  #sendBatch(batch: Batch): void {
    const context = this.#context
    const { args, waiters } = batch
    if (args.length === 2) {
      this.#getEach(batch)
      return
    }
    // While misses come: sent with the MGET, in the same round trip, how many of the keys
    // exist, of any type.
    if (this.#probes > 0 && !this.#noExists) batch.exists = this.#exists(args.slice(1))
    this.#inFlight.add(batch)
    // Each caller counts in the connection's maxInFlightBytes, not just its key (`callers`).
    const route = { key: args[1], readonly: true, text: context.text, callers: waiters.length }
    sendCommand(context.unordered, args, route).then(
      (replies) => {
        this.#inFlight.delete(batch)
        this.#answerAll(batch, replies, batch.exists)
      },
      (error) => {
        this.#inFlight.delete(batch)
        if (isNoPerm(error)) {
          // Refused by the ACL before it ran, for one of its keys or for `MGET` itself: each
          // key read with a `GET` of its own, each caller answered as alone (a forbidden key
          // fails only its caller). A read sent late overtakes nothing it could undo.
          if (refusesCommand(error, 'MGET')) this.#alone = true
          this.#getEach(batch)
          return
        }
        for (const waiter of waiters) waiter.reject(error)
      },
    )
  }

  /**
   * Each waiter of `batch` answered from a `GET` of its key: the one `closing()` sent, or one
   * sent now.
   */
  #getEach(batch: Batch): void {
    const { args, waiters, again } = batch
    const keys = args.length - 1
    // How many waiters each `GET` answers (`callers`, for maxInFlightBytes): all of them for one
    // key (a hot key's gets of a tick), else counted by key.
    let callers: number[] | undefined
    if (keys > 1) {
      callers = new Array<number>(keys).fill(0)
      for (const waiter of waiters) (callers[waiter.at] as number)++
    }
    const replies: Promise<unknown>[] = []
    for (let at = 0; at < keys; at++) {
      const count = callers === undefined ? waiters.length : (callers[at] as number)
      replies.push(this.#getKey(args[at + 1] as RedisArgument, again?.[at], count))
    }
    for (const waiter of waiters) {
      this.#answerFrom(waiter, replies[waiter.at] as Promise<unknown>, args[waiter.at + 1])
    }
  }

  /**
   * A `GET` of `rkey`: `sent` (the one `closing()` sent), or one sent now, answering `callers`
   * calls.
   */
  #getKey(
    rkey: RedisArgument,
    sent: Promise<unknown> | undefined,
    callers: number,
  ): Promise<unknown> {
    const context = this.#context
    return (
      sent ??
      sendCommand(context.unordered, ['GET', rkey], {
        key: rkey,
        readonly: true,
        text: context.text,
        callers,
      })
    )
  }

  /**
   * Answers `waiter` from `reply`, a `GET` of its key `rkey` (remembered when its value is large,
   * as from an `MGET`: a lone `get` is the usual first read of a key).
   */
  #answerFrom(waiter: Waiter, reply: Promise<unknown>, rkey: RedisArgument | undefined): void {
    reply.then(
      (reply) => this.#answer(waiter, reply, rkey),
      (error) => waiter.reject(error),
    )
  }

  /** Resolves each waiter from `MGET`'s replies, after checking its nils with `EXISTS`. */
  #answerAll(batch: Batch, replies: unknown, exists: Promise<unknown> | undefined): void {
    const { args, waiters } = batch
    const keys = args.length - 1
    if (!Array.isArray(replies) || replies.length !== keys) {
      const error = mgetMismatch(replies, keys)
      for (const waiter of waiters) waiter.reject(error)
      return
    }
    const nils: number[] = []
    for (let at = 0; at < keys; at++) {
      const reply = replies[at]
      if (reply === null || reply === undefined) nils.push(at)
    }
    for (const waiter of waiters) {
      const reply = replies[waiter.at]
      if (reply !== null && reply !== undefined) this.#answer(waiter, reply, args[waiter.at + 1])
    }
    if (nils.length > 0) {
      this.#probes = PROBE_BATCHES
      this.#checkMissing(batch, nils, keys - nils.length, exists)
    } else if (this.#probes > 0) {
      this.#probes--
    }
  }

  /**
   * The nils of a batch (`nils`: the indexes of its keys `MGET` answered nil): missing when
   * `exists` (the `EXISTS` of every key of the batch) counted only the keys `MGET` found
   * (`found`), or, without it, when an `EXISTS` of the nil keys sent now counts none; else each
   * read again with `GET`.
   */
  #checkMissing(
    batch: Batch,
    nils: number[],
    found: number,
    exists: Promise<unknown> | undefined,
  ): void {
    const context = this.#context
    const { args, again } = batch
    const keys = nils.map((at) => args[at + 1] as RedisArgument)
    const isNil = new Set(nils)
    const waiters = batch.waiters.filter((waiter) => isNil.has(waiter.at))
    // Of another type, or written since: read again with GET, whose WRONGTYPE rejects the
    // callers of a key of another type, as a plain GET would. A string found now was written
    // after the MGET (which answered nil for it in call order, maybe by a call this cache made
    // after these gets, sent before this check): its callers get their default, not a value
    // written after their call.
    const readAgain = () => {
      const replies = new Map<number, Promise<unknown>>()
      for (let j = 0; j < nils.length; j++) {
        const at = nils[j] as number
        replies.set(at, this.#getKey(keys[j] as RedisArgument, again?.[at], 1))
      }
      for (const waiter of waiters) {
        ;(replies.get(waiter.at) as Promise<unknown>).then(
          () => waiter.resolve(waiter.fallback),
          (error) => waiter.reject(error),
        )
      }
    }
    if (this.#noExists) {
      readAgain()
      return
    }
    const expected = exists === undefined ? 0 : found
    exists ??= sendCommand(context.unordered, ['EXISTS', ...keys], {
      key: keys[0],
      readonly: true,
    })
    exists.then(
      (count) => {
        // A count of another type reads as `NaN` (`toNumber` throws nothing: the callers are
        // answered here) and has the nils read again, each answered by its own `GET`.
        if (toNumber(count) !== expected) {
          readAgain()
          return
        }
        for (const waiter of waiters) waiter.resolve(waiter.fallback)
      },
      (error: unknown) => {
        if (!isNoPerm(error)) {
          for (const waiter of waiters) waiter.reject(error)
          return
        }
        // `EXISTS` refused by the ACL: the nils are read again, and from now on straight away.
        if (refusesCommand(error, 'EXISTS')) this.#noExists = true
        readAgain()
      },
    )
  }

  /**
   * A key known to hold a large value: one `GET`, not gathered, and its reply as bytes even where
   * the codec reads text. node-redis then hands over the bytes it assembled, and the codec makes
   * the text right before parsing it; asked for text, node-redis makes it as the reply arrives.
   * 100 gets of a 105 KB JSON value in flight, one process each (scratch, medians of 5–7 blocks
   * of 2,000 gets, 4 pairs): 954–1,004 gets/s as bytes against 889–928 as text; on raw
   * node-redis, bytes then `toString` 1,038–1,070 against text 973–1,039.
   */
  #getAlone(rkey: string, key: string, fallback: unknown): Promise<unknown> {
    const route = { key: rkey, readonly: true, text: false }
    return new Promise<unknown>((resolve, reject) => {
      const waiter: Waiter = { key, at: 0, shares: false, fallback, resolve, reject }
      sendCommand(this.#context.unordered, ['GET', rkey], route).then(
        (reply) => {
          // Smaller now (or gone): gathered again from the next call.
          if (!isLarge(reply)) this.#large.delete(rkey)
          this.#answer(waiter, reply)
        },
        (error) => waiter.reject(error),
      )
    })
  }

  #answer(waiter: Waiter, reply: unknown, rkey?: RedisArgument): void {
    if (reply === null || reply === undefined) {
      waiter.resolve(waiter.fallback)
      return
    }
    if (rkey !== undefined && isLarge(reply)) {
      if (this.#large.size >= LARGE_KEYS) this.#large.clear()
      this.#large.add(String(rkey))
    }
    try {
      const own = waiter.shares && Buffer.isBuffer(reply) ? Buffer.from(reply) : reply
      waiter.resolve(this.#context.decode(own, waiter.key))
    } catch (error) {
      waiter.reject(error)
    }
  }
}
