// What the standard API's pipeline entries (_pipeline-standard.ts, _pipeline-many.ts,
// _pipeline-keys.ts) are written with: the pipeline an entry is queued on, the command it gives
// `context.run`, and the helpers that queue one (`run`, `checked`) and read its options and replies.
import { checkVersionOption } from './_args.ts'
import type { CacheContext, CommandWithFallback } from './_context.ts'
import { own } from './_own.ts'
import type { IncrLink } from './_pipeline-writes.ts'
import { integerReply } from './_replies.ts'
import type { CacheLike } from './cache-like.ts'
import type { VersionOption } from './cache-options.ts'
import type { RedisArgument } from './types.ts'

/**
 * A `context.run` command as the standard API's pipeline entries give it: with what to do with an
 * error before the policy sees it (a method that handles some errors itself).
 */
export interface PipelineCommand<T> extends CommandWithFallback<T> {
  /**
   * The call's result for `error` (a reply error, or one `convert` threw) when the method handles
   * it itself; `undefined` leaves it to the policy.
   */
  onError?(error: unknown): Promise<T> | undefined
  /** An `incr` outside a transaction: told when the pipeline is sent. */
  incr?: IncrLink | undefined
}

/** What an entry needs of the pipeline it is queued on (`CachePipeline`). */
export interface EntryPipe {
  /** The cache the calls are made on. */
  readonly cache: CacheLike
  /** Whether the pipeline is a transaction. */
  readonly transaction: boolean
  /**
   * Notes that the call being queued failed before it queued a command (bad arguments, by
   * `checked()`): a transaction then waits for its error and sends nothing, while a call that
   * queued nothing without this note resolved its value, and is not waited for.
   */
  refuse(): void
}

export type Entry = (pipe: EntryPipe, ...args: never[]) => Promise<unknown>

/** `{ version }` of checked options, for `context.run` (which checks nothing more). */
export function versionOf(options: VersionOption | undefined): VersionOption | undefined {
  const version = checkVersionOption(own(options, 'version'))
  return version === undefined ? undefined : { version }
}

/** One command on `key`, read or written, with a converter and `fallback`. */
export function run<T>(
  context: CacheContext,
  key: string,
  options: VersionOption | undefined,
  label: string,
  access: 'read' | 'write',
  build: (rkey: string) => RedisArgument[],
  convert: (reply: unknown) => T,
  fallback: T,
): Promise<T> {
  const command: CommandWithFallback<T> = { label, access, build, convert, fallback }
  return context.run(key, options, command)
}

/**
 * A call checked before it is queued: its error is the call's result (under the policy), and is
 * noted on `pipe` as it is thrown (`refuse`), so that a transaction knows at once that it must
 * not send.
 */
export function checked<T>(
  pipe: EntryPipe,
  context: CacheContext,
  method: string,
  fallback: T,
  queue: () => Promise<T>,
): Promise<T> {
  try {
    return queue()
  } catch (error) {
    pipe.refuse()
    return Promise.resolve().then(() => context.fail(error, fallback, method))
  }
}

/**
 * What a TTL/PTTL reply means: `null` never expires, `0` no such key. A reply of another type
 * rejects (`integerReply`), as the method's does.
 */
export function ttlOf(reply: unknown): number | null {
  const t = integerReply(reply)
  return t === -1 ? null : t === -2 ? 0 : t
}
