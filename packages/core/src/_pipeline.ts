// `cache.pipeline()` and `cache.transaction()`: the cache's methods, queued, then sent in one
// round trip. A queued call runs the method itself with the context's `recorder` set, so that
// `context.run` hands over its command (key built, options checked, values encoded, exactly as
// the method would) instead of sending it; the method's own promise is the call's result, and
// `exec()` settles it with the command's reply, converted under the method's error policy. What
// it queues: `_pipeline-queued.ts`; its queueing methods, put on its prototype:
// `_pipeline-queueing.ts`.
import type { CacheContext, CommandWithFallback } from './_context.ts'
import { LocalTier } from './_local-tier.ts'
import { isWrongType } from './_messages.ts'
import { type CallNote, noting } from './_pipeline-families.ts'
import type { QueuedCall, QueuedCommand } from './_pipeline-queued.ts'
import { attachQueueing } from './_pipeline-queueing.ts'
import type { PipelineCommand } from './_pipeline-standard.ts'
import { keysOf, replacedBeforeSend, sendingIncrs, writeOn } from './_pipeline-writes.ts'
import type { CacheLike } from './cache-like.ts'
import type { VersionOption } from './cache-options.ts'
import { InvalidArgumentError } from './errors.ts'
import type { CommandRoute, RedisArgument } from './types.ts'

export { FAMILY_METHODS } from './_pipeline-families.ts'
export type { QueuedCommand } from './_pipeline-queued.ts'

/** The implementation behind `cache.pipeline()` and `cache.transaction()`. */
export class CachePipeline {
  readonly #cache: CacheLike
  readonly #context: CacheContext
  readonly #transaction: boolean
  readonly #calls: QueuedCall[] = []
  #executed = false
  /** The first command that could not be built (bad arguments, a value that does not encode). */
  #refused: unknown
  /** While `queue()` makes a call: what it learns of it (`refuse`, `answered`). */
  #refusing: CallNote | undefined

  constructor(cache: CacheLike, context: CacheContext, transaction: boolean) {
    this.#cache = cache
    this.#context = context
    this.#transaction = transaction
  }

  /** Whether this is a transaction (`MULTI … EXEC`). */
  get transaction(): boolean {
    return this.#transaction
  }

  /** How many calls are queued. */
  get length(): number {
    return this.#calls.length
  }

  /** The cache the calls are made on. */
  get cache(): CacheLike {
    return this.#cache
  }

  /**
   * Notes that the call being queued failed before it queued a command (`checked()`): a
   * transaction then waits for its error, and sends nothing.
   */
  refuse(): void {
    if (this.#refusing !== undefined) this.#refusing.refused = true
  }

  /**
   * Queues the call `invoke` makes: the commands it hands `context.run` while it runs (it must
   * call it synchronously), and the promise it returns as the call's result. `reports`: whether
   * `invoke` notes a failure before queueing to `refuse` as it fails (the standard API's entries,
   * through `checked()`), so that a call that queued nothing and noted nothing is known to have
   * resolved its value; else such a call is waited for by a transaction, unless it noted that it
   * resolved (a family method's `answered`).
   */
  queue(invoke: () => Promise<unknown>, reports = false): this {
    if (typeof invoke !== 'function') {
      throw new InvalidArgumentError('queue() takes the function that makes the call')
    }
    if (this.#executed) {
      throw new InvalidArgumentError(
        'this pipeline was executed already: start another with cache.pipeline()',
      )
    }
    const context = this.#context
    const commands: QueuedCommand[] = []
    const previous = context.recorder
    context.recorder = <T>(
      key: string,
      options: VersionOption | undefined,
      command: CommandWithFallback<T>,
    ) => this.#record(commands, key, options, command)
    const note: CallNote = { cache: this.#cache, refused: false, answered: false }
    const outer = this.#refusing
    this.#refusing = note
    let result: Promise<unknown>
    try {
      result = noting(note, invoke)
    } catch (error) {
      note.refused = true
      result = Promise.reject(error)
    } finally {
      context.recorder = previous
      this.#refusing = outer
    }
    this.#calls.push({
      commands,
      result: result.then(undefined, (error: unknown) => error),
      unsure: commands.length === 0 && (note.refused || !(reports || note.answered)),
    })
    return this
  }

  /** What `context.run` does with the recorder set: builds the command and queues it. */
  #record<T>(
    commands: QueuedCommand[],
    key: string,
    options: VersionOption | undefined,
    command: CommandWithFallback<T>,
  ): Promise<T> {
    const context = this.#context
    let rkey: string
    let args: RedisArgument[]
    try {
      rkey = context.key(key, options, command.method)
      args = command.build(rkey)
      if (command.blockMs !== undefined) {
        // Named by its command when the method gives no name (`xread`, `xreadgroup`).
        const method = command.method ?? command.label ?? String(args[0] ?? '').toLowerCase()
        throw new InvalidArgumentError(
          `${method}() with block cannot be pipelined: a blocking read waits on the server and would hold up the whole pipeline; call it on the cache`,
        )
      }
    } catch (error) {
      this.#refused ??= error
      return Promise.resolve().then(() =>
        context.fail(error, command.fallback, operationOf(command)),
      )
    }
    return new Promise<T>((resolve) => {
      commands.push({
        args,
        rkey,
        readonly: command.access === 'read',
        alsoWrites: command.alsoWrites,
        bytes: command.bytes === true,
        digits: command.digits === true,
        incr: (command as PipelineCommand<T>).incr,
        settle: (reply, ignored) =>
          resolve(
            ignored === true ? command.fallback : this.#convert(key, rkey, args, command, reply),
          ),
      })
    })
  }

  /** `run`'s conversion and error policy, for one reply. */
  async #convert<T>(
    key: string,
    rkey: string,
    args: RedisArgument[],
    command: CommandWithFallback<T>,
    reply: unknown,
  ): Promise<T> {
    const context = this.#context
    try {
      if (reply instanceof Error) throw reply
      return command.convert(reply)
    } catch (error) {
      if (command.answers?.(error) === true) return command.fallback
      const recovered = (command as PipelineCommand<T>).onError?.(error)
      if (recovered !== undefined) {
        try {
          return await recovered
        } catch (failure) {
          return context.fail(failure, command.fallback, operationOf(command, args))
        }
      }
      if (isWrongType(error)) {
        const name = command.label ?? String(args[0] ?? '').toLowerCase()
        return context.fail(
          await context.wrongType(error, name, key, rkey),
          command.fallback,
          operationOf(command, args),
        )
      }
      return context.fail(error, command.fallback, operationOf(command, args))
    }
  }

  /**
   * Sends every queued command in one round trip (one per node on a cluster, the nodes in
   * parallel) and resolves one result per call, in order: what the method would resolve, or the
   * error it would reject with.
   */
  async exec(): Promise<unknown[]> {
    if (this.#executed) {
      throw new InvalidArgumentError(
        'this pipeline was executed already: start another with cache.pipeline()',
      )
    }
    this.#executed = true
    const calls = this.#calls
    const queued: QueuedCommand[] = []
    for (const call of calls) for (const command of call.commands) queued.push(command)
    // All or nothing: a call of a transaction that failed here (bad arguments) sends nothing.
    // Checked without a wait unless a call that queued no command failed or may have (`unsure`),
    // which then sends nothing; a family method that resolves without a command says so as it is
    // queued (`answered`), so that a call made after exec() does not overtake the transaction.
    if (this.#transaction) {
      if (this.#refused !== undefined) throw this.#refused
      if (calls.some((call) => call.unsure)) await this.#checkBuilt(calls)
    }
    if (queued.length > 0) await this.#send(queued)
    return Promise.all(calls.map((call) => call.result))
  }

  /** Rejects with the error of a call that failed before anything was sent, if any. */
  async #checkBuilt(calls: QueuedCall[]): Promise<void> {
    if (this.#refused !== undefined) throw this.#refused
    // A call that queued no command has settled already (its method checked its arguments).
    for (const call of calls) {
      if (!call.unsure) continue
      const result = await call.result
      if (result instanceof Error) throw result
    }
  }

  async #send(queued: QueuedCommand[]): Promise<void> {
    const context = this.#context
    const connection = context.connection
    const written: string[] = []
    // The keys whose value a command surely replaces, and those whose value it keeps (an expiry
    // ahead, `PERSIST`: see `writeOn`), apart from the others.
    const replaced: string[] = []
    const kept: string[] = []
    let bytes = false
    let digits = false
    let incrs = false
    for (const command of queued) {
      if (command.bytes) bytes = true
      if (command.digits) digits = true
      if (command.incr !== undefined) incrs = true
      if (command.readonly) continue
      for (const rkey of keysOf(command)) {
        const write = writeOn(command.args, rkey)
        ;(write === 'replaced' ? replaced : write === undefined ? kept : written).push(rkey)
      }
    }
    // Reads go to a replica only in a pipeline of reads: after a write they must see it, and
    // so must reads of a key this process wrote lately (a local tier knows which). A read may
    // name more keys than it routes by (`MGET`, `SINTER`): every argument is asked, which costs
    // at most a needless trip to the primary for an argument spelled as a key written lately.
    const store = context.store
    const writes = written.length + replaced.length + kept.length
    const recent =
      writes === 0 &&
      store instanceof LocalTier &&
      queued.some((command) =>
        command.args.some((arg) => typeof arg === 'string' && store.wroteLately(arg)),
      )
    const route: CommandRoute = {
      key: (queued[0] as QueuedCommand).rkey,
      readonly: writes === 0 && !recent,
      primaryRead: recent,
      // One reply as bytes means all: a connection decodes a whole pipeline one way.
      text: context.text && !bytes,
      // One reply as digits means all (and bulk strings as bytes): the others are read back.
      digits,
    }
    const commands = queued.map((command) => command.args)
    let send: () => Promise<unknown[]>
    if (this.#transaction) {
      const transaction = connection.transaction
      if (transaction === undefined) {
        throw new InvalidArgumentError(
          'cache.transaction() needs a connection with transactions (MULTI/EXEC): this connection has none',
        )
      }
      send = () => transaction.call(connection, commands, route)
    } else if (incrs) {
      // Read before the pipeline's own writes are noted (by `writing`, below).
      const replacedAt = replacedBeforeSend(context, queued)
      // Once the pipeline's writes are noted (by `writing`, before it calls this), and before
      // anything this cache writes after it.
      send = () => {
        sendingIncrs(context, queued, replacedAt)
        return connection.batch(commands, route)
      }
    } else {
      send = () => connection.batch(commands, route)
    }
    let replies: unknown[]
    try {
      // A write drops the values a local tier holds for its keys, as the method would.
      replies =
        writes === 0 ? await send() : await context.store.writing(written, send, kept, replaced)
    } catch (error) {
      // Nothing ran: no `incr` is under way any more (its answer may never settle: below).
      for (const command of queued) command.incr?.end()
      // Without `ignoreExceptions` (or for an error it does not ignore) exec() rejects; else
      // every call resolves its method's fallback. One failure, counted once: the pipeline's
      // `error` event (and log line) is the only one, in either case.
      context.fail(error, undefined, this.#transaction ? 'transaction' : 'pipeline')
      for (const command of queued) command.settle(error, true)
      return
    }
    // One decompression budget for the values of every call (4 × maxValueSize, as for one
    // `getMany`): the results are held together until exec() resolves, so a pipeline of many
    // reads is bounded as one call reading many values is. Each call converts its reply
    // synchronously here, so the budget is the context's only meanwhile; a call past it gets its
    // CompressionError in its slot.
    const previous = context.sharedBudget
    context.sharedBudget = context.codec.budget()
    try {
      for (let i = 0; i < queued.length; i++) {
        const command = queued[i] as QueuedCommand
        command.settle(digits && !command.digits ? numbersOf(replies[i]) : replies[i])
      }
    } finally {
      context.sharedBudget = previous
    }
  }
}

const INTEGER = /^-?\d+$/

/**
 * A reply of a `digits` route as it would have come without: integer replies (strings of digits,
 * in arrays too) as numbers. Bulk strings are Buffers then, and no status reply cachex sends is
 * all digits, so a string of digits is an integer reply.
 */
function numbersOf(reply: unknown): unknown {
  if (typeof reply === 'string') return INTEGER.test(reply) ? Number(reply) : reply
  return Array.isArray(reply) ? reply.map(numbersOf) : reply
}

/** The method a queued command comes from, for the `error` event. */
function operationOf(command: CommandWithFallback<unknown>, args?: RedisArgument[]): string {
  return command.method ?? command.label ?? String(args?.[0] ?? 'pipeline').toLowerCase()
}

attachQueueing(CachePipeline.prototype)
