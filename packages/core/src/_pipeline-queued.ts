// What a pipeline (`_pipeline.ts`) queues: each call, with the commands it handed `context.run`
// and the method's result, and each command, with what its sending needs to know (route, local
// tier writes, reply form) and how its reply settles the call.
import type { IncrLink } from './_pipeline-writes.ts'
import type { RedisArgument } from './types.ts'

/** One command of a queued call. */
export interface QueuedCommand {
  args: RedisArgument[]
  /** The Redis key it routes by. */
  rkey: string
  /** Whether it only reads: a write goes through the value store's `writing` (local tier). */
  readonly: boolean
  /** Other keys it writes. */
  alsoWrites?: readonly string[] | undefined
  /**
   * Whether its reply must come as bytes (`CommandSpec.bytes`: field names that may not be
   * UTF-8). A pipeline that holds one reads every reply as bytes, as a cache with a compressor
   * always does.
   */
  bytes: boolean
  /**
   * Whether its integer replies must come as digits (`CommandSpec.digits`: `hincrby`). A
   * pipeline that holds one is sent as a `digits` route, and the other commands' integer replies
   * are turned back into numbers.
   */
  digits: boolean
  /** An `incr` outside a transaction, told when the pipeline is sent (`sendingIncrs`). */
  incr?: IncrLink | undefined
  /**
   * Receives the raw reply, or the error the command failed with; with `ignored`, the error of a
   * pipeline that could not be sent, which the error policy ignored (and reported) already: the
   * call resolves its method's fallback, with no `error` event or log line of its own.
   */
  settle(reply: unknown, ignored?: boolean): void
}

/** One queued call: its commands and the method's result. */
export interface QueuedCall {
  commands: QueuedCommand[]
  /** The method's promise, its rejection turned into the error itself. */
  result: Promise<unknown>
  /**
   * Whether a transaction must wait for `result` before it sends: the call queued no command and
   * failed (noted as it failed: `checked()`'s `refuse`, a throw), or may have failed without a
   * word (a family method checks its arguments in an `async` body, whose error only its promise
   * gives, a tick later). A call that queued no command and is known not to have failed (the
   * standard API's `deleteMany([])`, a family method's `answered`) is not waited for.
   */
  unsure: boolean
}
