// What a command family method hands `CacheContext.run` (_context.ts): one Redis command, how it
// is built, routed and sent, how its reply becomes the method's result, and what an ignored
// error resolves.
import type { RedisArgument } from './types.ts'

/**
 * Whether a command only reads (`'read'`: a topology with replicas may send it to one) or writes
 * (`'write'`: always the primary).
 */
export type Access = 'read' | 'write'

/** One Redis command of a family method, for `CacheContext.run`. */
export interface CommandSpec<T> {
  /**
   * The method's name. When given, the call's options are checked to be `{ version }` only; a
   * method with more options checks them itself and leaves this out.
   */
  method?: string
  /** Whether the command only reads. */
  access: Access
  /** The command's arguments, for the Redis key of the user's key. */
  build(rkey: string): RedisArgument[]
  /**
   * Other Redis keys the command writes (a move's destination), read after `build`: named to
   * the value store with the first (the local tier drops them; a pattern delete under way
   * deletes them first).
   */
  readonly alsoWrites?: readonly string[] | undefined
  /** The method's result from the raw reply. */
  convert(reply: unknown): T
  /**
   * Sends `build`'s arguments through a coalescer (`hget`, `sismember`, `zscore`: see
   * `CacheContext.coalesced`) instead of at once; resolves the raw reply. A pipeline records
   * them as it does without.
   */
  send?: (args: RedisArgument[]) => Promise<unknown>
  /**
   * `true`: the reply as bytes even where the cache reads text, so that names in it (hash and
   * stream field names) can be told valid UTF-8 or not: as text, each invalid byte is U+FFFD
   * already. With `send` as well, `send` decides how the call reads its reply, and `bytes` holds
   * in a pipeline (which then reads all its replies as bytes).
   */
  bytes?: boolean
  /**
   * `true`: integer replies as their decimal digits (`CommandRoute.digits`), for a result that
   * may lie beyond ±(2^53 - 1), where node-redis would round it (`hincrby`). `convert` then gets
   * a string of digits, or a number from a connection that ignores the flag. In a pipeline, the
   * other commands' integer replies are read back as numbers (and every reply as bytes).
   */
  digits?: boolean
  /**
   * Milliseconds a blocking command waits on the server (`XREAD BLOCK`, `BLPOP`…): passed on as
   * `CommandRoute.blockMs`, which adds it to the call's bound and runs the command where it holds
   * up no other call.
   */
  blockMs?: number
  /**
   * The method's name in a `WRONGTYPE` error, where it is not the command's
   * (`xgroupCreate()` for `XGROUP CREATE`). @default the command's name, in lower case
   */
  label?: string
}

/** A `CommandSpec` and what an error `ignoreExceptions` ignores resolves. */
export interface CommandWithFallback<T> extends CommandSpec<T> {
  /** The neutral value of the method's type (`0`, `[]`, `null`…). */
  fallback: NoInfer<T>
  /**
   * Whether an error is the method's answer rather than a failure (`XINFO STREAM` of a missing
   * key): the call then resolves `fallback`, with no error event, count or log.
   */
  answers?: (error: unknown) => boolean
}
