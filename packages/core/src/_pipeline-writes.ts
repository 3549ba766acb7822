// What a pipeline's commands write, as a pipelined `incr` needs to know it: what each does to the
// value of each key it writes (`writeOn`), and, once the pipeline is sent, what the commands queued after
// each `incr` do to its key (`sendingIncrs`), so that its read-add-write fallback, which runs after
// the batch, answers as if it had run at its turn (`PipelinedIncr`).
import type { CacheContext } from './_context.ts'
import type { LaterWrite, PipelineIncr, Refused } from './_incr.ts'
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
  /**
   * The pipeline is sent, its writes noted: `later`, what the commands queued after this `incr`
   * do to its key `rkey`; `previous`, the `incr` queued before it on that key with no write
   * between that replaces the value.
   */
  sent(rkey: string, later: LaterWrite, previous: IncrLink | undefined): void
  /**
   * The value its script saw, when INCRBY refused it and it took the read-add-write fallback
   * (known once its reply is read); else `undefined`.
   */
  readonly refused: unknown
  /** Answered, or its pipeline failed as a whole: no longer under way (once; more do nothing). */
  end(): void
}

/**
 * A pipelined `incr`, from the pipeline's send to its answer: under way as the method's is
 * (`RedisValueStore.pipelineIncr`), so that its fallback, which runs after the batch, acts as if
 * it ran at its turn: a write queued after it, or made by this cache after `exec()`, stands.
 */
export class PipelinedIncr implements IncrLink {
  readonly #context: CacheContext
  readonly #key: string
  readonly #delta: number | bigint
  readonly #asNumber: boolean
  #under: PipelineIncr | undefined
  #rkey = ''
  #later: LaterWrite
  #previous: IncrLink | undefined
  refused: unknown

  constructor(context: CacheContext, key: string, delta: number | bigint, asNumber: boolean) {
    this.#context = context
    this.#key = key
    this.#delta = delta
    this.#asNumber = asNumber
  }

  sent(rkey: string, later: LaterWrite, previous: IncrLink | undefined): void {
    this.#under ??= redisStoreOf(this.#context)?.pipelineIncr()
    this.#rkey = rkey
    this.#later = later
    this.#previous = previous
  }

  /** The fallback from the value the script saw (`refused`); `method` where it cannot run. */
  fallBack(
    refused: Refused,
    method: () => Promise<number | bigint | null>,
  ): Promise<number | bigint | null> {
    const under = this.#under
    if (under === undefined) return method()
    this.refused = refused[0]
    // The `incr` before it on its key fell back from the same value: its sum is what this one's
    // script would have seen, had it been written at its turn (`[]`: start from what that
    // fallback left). A write between that may have replaced the value left other bytes.
    const before = this.#previous?.refused
    const from = before !== undefined && sameBytes(before, refused[0]) ? [] : refused
    const rkey = this.#rkey
    const run = () =>
      under.fallback(this.#key, rkey, this.#delta, this.#asNumber, from, this.#later)
    // As for the method: a local tier drops its copy before the write-back and after.
    return this.#context.store.writing([], run, [rkey])
  }

  /** Answered, or failed. */
  end(): void {
    this.#under?.end()
  }
}

/** Whether two replies are the same bytes (Buffers, or strings read as text). */
function sameBytes(a: unknown, b: unknown): boolean {
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : a === b
}

/** INCRBY refused the value at `key` (a float, an integer beyond int64), in a pipeline. */
export class IncrRefused extends ResponseError {
  /** The script's reply: the value it saw (`Refused`). */
  readonly refused: Refused

  constructor(key: string, refused: Refused) {
    super(
      `ERR value is not an integer or out of range: incr() of key '${key}' in a transaction (INCRBY refuses a float or an integer beyond int64; outside a transaction, incr() reads, adds and writes back)`,
    )
    this.refused = refused
  }
}

/**
 * Tells each `incr` of a pipeline it is sent (`IncrLink.sent`), in queue order: what the commands
 * queued after it do to its key (a write that replaces it outweighs one that may; the `incr`s
 * after it change it in place, and their fallbacks run after its own), and the `incr` before it
 * on its key when no write queued between them replaces the value.
 */
export function sendingIncrs(queued: readonly SentCommand[]): void {
  const after = new Map<string, LaterWrite>()
  const later: LaterWrite[] = new Array(queued.length)
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
  const before = new Map<string, IncrLink>()
  for (let i = 0; i < queued.length; i++) {
    const command = queued[i] as SentCommand
    if (command.readonly) continue
    const incr = command.incr
    if (incr !== undefined) {
      incr.sent(command.rkey, later[i], before.get(command.rkey))
      before.set(command.rkey, incr)
    } else if (before.size > 0) {
      for (const rkey of keysOf(command)) {
        if (writeOn(command.args, rkey) === 'replaced') before.delete(rkey)
      }
    }
  }
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
