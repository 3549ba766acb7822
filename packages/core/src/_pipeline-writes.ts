// What a pipeline's commands write, as a pipelined `incr` needs to know it: what each does to the
// value of each key it writes (`writeOn`), and, once the pipeline is sent, what the commands queued after
// each `incr` do to its key (`sendingIncrs`), so that its read-add-write fallback, which runs after
// the batch, answers as if it had run at its turn (`PipelinedIncr`).
import { bounded } from './_bounded.ts'
import { isRefusal } from './_coalesce-incr.ts'
import type { CacheContext } from './_context.ts'
import { notTheScripts, type PipelineIncr } from './_incr.ts'
import { type LaterWrite, type Refused, sameBytes } from './_incr-fallback.ts'
import { redisStoreOf } from './_redis-value-store.ts'
import { ResponseError } from './errors.ts'
import type { RedisArgument } from './types.ts'

/** What `sendingIncrs` reads of a queued command (`QueuedCommand`). */
export interface SentCommand {
  readonly readonly: boolean
  readonly rkey: string
  readonly args: readonly RedisArgument[]
  readonly alsoWrites?: readonly string[] | undefined
  readonly incr?: IncrLink | undefined
}

/** An `incr` queued in a pipeline that is not a transaction, as the pipeline sees it. */
export interface IncrLink {
  /** The pipeline is sent, its writes noted: this `incr`, of `rkey`, is entry `index` of it. */
  sent(pipeline: SentPipeline, index: number, rkey: string): void
  /**
   * The value its script saw, when INCRBY refused it and it took the read-add-write fallback
   * (known once its reply is read); else `undefined`.
   */
  readonly refused: unknown
  /** Answered, or its pipeline failed as a whole: no longer under way (once; more do nothing). */
  end(): void
}

/** What `SentPipeline` works out of the commands around each of its `incr`s (`#around`). */
interface Around {
  later: LaterWrite[]
  previous: Array<IncrLink | undefined>
  /** Whether a command queued before it replaced its key. */
  earlier: boolean[]
}

/**
 * A pipeline sent with `incr`s in it, under way (`RedisValueStore.pipelineIncr`, once for all
 * of them) until each is answered. What a fallback needs of the commands around it — what those
 * queued after it do to its key, the `incr` before it on the key — is worked out only when one
 * runs: an integer's `incr` (the usual one) pays for none of it.
 */
export class SentPipeline {
  readonly #queued: readonly SentCommand[]
  readonly #under: PipelineIncr | undefined
  /** Its `incr`s not answered yet. */
  #open: number
  /** `#around()`, once a fallback asked. */
  #known: Around | undefined

  /** For each `incr`, what replaced its key before the pipeline (`replacedBeforeSend`). */
  readonly #replacedAt: readonly number[]

  constructor(
    queued: readonly SentCommand[],
    under: PipelineIncr | undefined,
    incrs: number,
    replacedAt: readonly number[],
  ) {
    this.#queued = queued
    this.#under = under
    this.#open = incrs
    this.#replacedAt = replacedAt
  }

  /** What replaced the key of the `incr` at `index` before the pipeline was sent. */
  replacedAt(index: number): number {
    return this.#replacedAt[index] ?? 0
  }

  /** Whether a command queued before the `incr` at `index` replaced its key. */
  replacedEarlier(index: number): boolean {
    return this.#around().earlier[index] === true
  }

  /** What its `incr`s' fallbacks run through, or `undefined` where none can run (no store). */
  get under(): PipelineIncr | undefined {
    return this.#under
  }

  /** One of its `incr`s was answered, or failed. */
  ended(): void {
    if (--this.#open === 0) this.#under?.end()
  }

  /**
   * What the commands queued after entry `index` (an `incr`) do to its key: a write that
   * replaces it outweighs one that may; the `incr`s after it change it in place, and their
   * fallbacks run after its own.
   */
  laterWrite(index: number): LaterWrite {
    return this.#around().later[index]
  }

  /** The `incr` queued before entry `index` on its key, with no write between that replaced it. */
  previous(index: number): IncrLink | undefined {
    return this.#around().previous[index]
  }

  /** `laterWrite` and `previous` of every `incr`, worked out once for all, in linear time. */
  #around(): Around {
    if (this.#known !== undefined) return this.#known
    const queued = this.#queued
    const later: LaterWrite[] = new Array(queued.length)
    const after = new Map<string, LaterWrite>()
    for (let i = queued.length - 1; i >= 0; i--) {
      const command = queued[i] as SentCommand
      if (command.readonly) continue
      if (command.incr !== undefined) {
        later[i] = after.get(command.rkey)
        continue
      }
      for (const rkey of keysOf(command)) {
        const write = writeOn(command.args, rkey)
        if (write !== undefined && after.get(rkey) !== 'replaced') after.set(rkey, write)
      }
    }
    const previous: Array<IncrLink | undefined> = new Array(queued.length)
    const earlier: boolean[] = new Array(queued.length)
    const before = new Map<string, IncrLink>()
    const replaced = new Set<string>()
    for (let i = 0; i < queued.length; i++) {
      const command = queued[i] as SentCommand
      if (command.readonly) continue
      const incr = command.incr
      if (incr !== undefined) {
        previous[i] = before.get(command.rkey)
        earlier[i] = replaced.has(command.rkey)
        before.set(command.rkey, incr)
        continue
      }
      for (const rkey of keysOf(command)) {
        if (writeOn(command.args, rkey) !== 'replaced') continue
        before.delete(rkey)
        replaced.add(rkey)
      }
    }
    this.#known = { later, previous, earlier }
    return this.#known
  }
}

/**
 * A pipelined `incr`, from the pipeline's send to its answer: under way as the method's is, so
 * that its fallback, which runs after the batch, acts as if it ran at its turn: a write queued
 * after it, or made by this cache after `exec()`, stands.
 */
export class PipelinedIncr implements IncrLink {
  readonly #context: CacheContext
  readonly #key: string
  readonly #delta: number | bigint
  readonly #asNumber: boolean
  readonly #method: 'incr' | 'decr'
  #pipeline: SentPipeline | undefined
  #index = 0
  #rkey = ''
  #ended = false
  refused: unknown

  /** `method`: the one queued (`incr` or `decr`), which the fallback's errors name. */
  constructor(
    context: CacheContext,
    key: string,
    delta: number | bigint,
    asNumber: boolean,
    method: 'incr' | 'decr',
  ) {
    this.#context = context
    this.#key = key
    this.#delta = delta
    this.#asNumber = asNumber
    this.#method = method
  }

  sent(pipeline: SentPipeline, index: number, rkey: string): void {
    this.#pipeline = pipeline
    this.#index = index
    this.#rkey = rkey
  }

  /**
   * The fallback from the value the script saw (`refused`), ended when it settles; `method`
   * where it cannot run. Only the script's own shape goes there, `[bytes]` (a pipeline's script
   * is never coalesced: no `[]`): any other array (`[]`, `[1, 2]`, a proxy or server out of
   * step) rejects with `ResponseError`, its INCRBY perhaps run, nothing read or added again.
   */
  fallBack(
    refused: Refused,
    method: () => Promise<number | bigint | null>,
  ): Promise<number | bigint | null> {
    if (!isRefusal(refused)) {
      this.end()
      return Promise.reject(notTheScripts(this.#key, this.#method, refused))
    }
    const pipeline = this.#pipeline
    const under = pipeline?.under
    if (pipeline === undefined || under === undefined) {
      this.end()
      return method()
    }
    this.refused = refused[0]
    const rkey = this.#rkey
    const index = this.#index
    // The `incr` before it on its key fell back from the same value: its sum is what this one's
    // script would have seen, had it been written at its turn (`[]`: start from what that
    // fallback left). A write between that may have replaced the value left other bytes.
    const before = pipeline.previous(index)?.refused
    const from = before !== undefined && sameBytes(before, refused[0]) ? [] : refused
    const place = {
      later: pipeline.laterWrite(index),
      replacedAt: pipeline.replacedAt(index),
      replacedEarlier: pipeline.replacedEarlier(index),
      method: this.#method,
    }
    const run = () => under.fallback(this.#key, rkey, this.#delta, this.#asNumber, from, place)
    // As for the method: a local tier drops its copy before the write-back and after.
    return this.#context.store.writing([], run, [rkey]).finally(() => this.end())
  }

  /** Answered, or failed (once). */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#pipeline?.ended()
  }
}

/** INCRBY refused the value at `key` (a float, an integer beyond int64), in a pipeline. */
export class IncrRefused extends ResponseError {
  /** The script's reply: the value it saw (`Refused`). */
  readonly refused: Refused

  constructor(key: string, refused: Refused, method: 'incr' | 'decr' = 'incr') {
    super(
      `ERR value is not an integer or out of range: ${method}() of key '${bounded(key)}' in a transaction (INCRBY refuses a float or an integer beyond int64; outside a transaction, ${method}() reads, adds and writes back)`,
    )
    this.refused = refused
    // What the docs name it (a `ResponseError`), also in a minified bundle, not this class's name.
    this.name = 'ResponseError'
  }
}

/**
 * Tells each `incr` of a pipeline it is sent (`IncrLink.sent`), under way from now (once the
 * pipeline's writes are noted, before anything this cache writes after it) until each is
 * answered.
 */
export function sendingIncrs(
  context: CacheContext,
  queued: readonly SentCommand[],
  replacedAt: readonly number[],
): void {
  let incrs = 0
  for (const command of queued) if (command.incr !== undefined) incrs++
  const under = redisStoreOf(context)?.pipelineIncr()
  const pipeline = new SentPipeline(queued, under, incrs, replacedAt)
  for (let i = 0; i < queued.length; i++) {
    const command = queued[i] as SentCommand
    command.incr?.sent(pipeline, i, command.rkey)
  }
}

/**
 * For each `incr` of a pipeline about to be sent, the last write of this cache that replaced its
 * key (`RedisValueStore.lastReplaced`), read before the pipeline's own writes are noted: a write
 * queued after the `incr` is its `laterWrite`, one queued before it is counted at the send.
 */
export function replacedBeforeSend(
  context: CacheContext,
  queued: readonly SentCommand[],
): number[] {
  const store = redisStoreOf(context)
  const at: number[] = new Array(queued.length).fill(0)
  if (store === undefined) return at
  for (let i = 0; i < queued.length; i++) {
    const command = queued[i] as SentCommand
    if (command.incr !== undefined) at[i] = store.lastReplaced(command.rkey)
  }
  return at
}

/** The keys a command writes: the one it routes by, and the others it names. */
export function keysOf(command: SentCommand): readonly string[] {
  const also = command.alsoWrites
  return also === undefined || also.length === 0 ? [command.rkey] : [command.rkey, ...also]
}

/**
 * What a pipeline's write does to the value at `rkey`, one of the keys it writes, as an `incr`
 * taking its read-add-write fallback before it needs to know:
 * - `'replaced'`: replaces or deletes it (`SET` without `NX`, `MSET`, `UNLINK`, `DEL`,
 *   `GETDEL`, an expiry at or before now, a `RENAME` onto it, a `*STORE` into it): the `incr`'s
 *   sum is answered unwritten, as if written and then replaced;
 * - `undefined`: keeps it (an expiry in the future, `PERSIST`, `SET … NX` and `RENAMENX` onto a
 *   key that exists, as the `incr`'s does): the sum is written, and a value changed meanwhile
 *   is another client's, read again;
 * - `'maybe'`: may change it (a command of another family, which fails on a string, a `RENAME`
 *   of it away): the sum is not written over a value that changed.
 */
export function writeOn(args: readonly RedisArgument[], rkey: string): LaterWrite {
  const name = typeof args[0] === 'string' ? args[0].toUpperCase() : ''
  switch (name) {
    case 'SET':
      return args.some((arg) => typeof arg === 'string' && arg.toUpperCase() === 'NX')
        ? undefined
        : 'replaced'
    case 'MSET':
    case 'UNLINK':
    case 'DEL':
    case 'GETDEL':
      return 'replaced'
    case 'PEXPIRE':
    case 'PEXPIREAT': {
      // An expiry with a condition (NX, XX, GT, LT) may not apply: it may delete.
      if (args.length > 3) return 'maybe'
      const ms = Number(args[2])
      return (name === 'PEXPIRE' ? ms <= 0 : ms <= Date.now()) ? 'replaced' : undefined
    }
    case 'PERSIST':
      return undefined
    case 'RENAME':
      return args[1] === rkey ? 'maybe' : 'replaced'
    case 'RENAMENX':
      return args[1] === rkey ? 'maybe' : undefined
    default:
      return name.endsWith('STORE') && args[1] === rkey ? 'replaced' : 'maybe'
  }
}
