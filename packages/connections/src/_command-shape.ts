// The shape of a command handed to a connection, checked before anything is sent: a non-empty
// array of strings and Buffers (an empty command gets no reply, and anything else is a protocol
// error that closes the connection under every call in flight), and what it weighs in
// `maxInFlightBytes`. Batches and transactions are checked at every index (a hole too).
import { InvalidArgumentError, type RedisArgument } from '@cachex/core'
import { describeArgument } from '@cachex/core/internal'

/**
 * An `InvalidArgumentError` when the commands of a batch or a transaction (`what`) are not an
 * array, before anything is sent. A batch's commands are each checked as they are weighed (each
 * malformed one its entry's error); a transaction's here, every index (a hole too), one malformed
 * refusing it whole.
 */
export function notCommands(
  commands: unknown,
  what: 'batch' | 'transaction',
  where: string,
): InvalidArgumentError | undefined {
  if (!Array.isArray(commands)) {
    return new InvalidArgumentError(
      `the ${what} not sent to ${where}: it takes an array of commands, each an array of strings or Buffers, got ${describeArgument(commands)}`,
    )
  }
  if (what === 'batch') return undefined
  for (let i = 0; i < commands.length; i++) {
    if (Number.isNaN(commandWeight(commands[i]))) {
      return new InvalidArgumentError(
        `the transaction not sent to ${where}: its command at index ${i} is ${i in commands ? 'malformed' : 'missing (a hole)'}; ${NOT_AN_ARGUMENT}`,
      )
    }
    const name = unqueued(commands[i] as RedisArgument[])
    if (name !== undefined) {
      return new InvalidArgumentError(
        `the transaction not sent to ${where}: its command at index ${i} is ${name}, which a transaction cannot hold (Redis runs it at once, or it changes the connection the cache's other calls share)`,
      )
    }
  }
  return undefined
}

/**
 * Commands a transaction's list may not hold: Redis runs `MULTI`, `EXEC`, `DISCARD`, `WATCH` and
 * `RESET` at once instead of queueing them (`EXEC` then answers the others only, which ran), and
 * `SELECT`, `RESET`, `HELLO`, `AUTH`, `QUIT`, `CLIENT REPLY` and the subscriptions change the
 * connection under the cache's own calls (its database, its user, its protocol, its replies).
 */
const NOT_IN_TRANSACTIONS = new Set([
  'MULTI',
  'EXEC',
  'DISCARD',
  'WATCH',
  'RESET',
  'SELECT',
  'HELLO',
  'AUTH',
  'QUIT',
  'MONITOR',
  'SUBSCRIBE',
  'PSUBSCRIBE',
  'SSUBSCRIBE',
  // Answered with a push (`>`) even with no subscription, which resets the connection.
  'UNSUBSCRIBE',
  'PUNSUBSCRIBE',
  'SUNSUBSCRIBE',
])

/** The longest name of `NOT_IN_TRANSACTIONS`: a longer one is not decoded (it may be huge). */
const LONGEST_UNQUEUED = 12

/** The name of `args` (upper-case) when a transaction may not hold it, else `undefined`. */
function unqueued(args: readonly RedisArgument[]): string | undefined {
  const first = args[0] as RedisArgument
  if (first.length > LONGEST_UNQUEUED) return undefined
  const name = first.toString().toUpperCase()
  if (NOT_IN_TRANSACTIONS.has(name)) return name
  const second = args[1]
  if (name !== 'CLIENT' || second === undefined || second.length !== 5) return undefined
  return second.toString().toUpperCase() === 'REPLY' ? 'CLIENT REPLY' : undefined
}

/**
 * The `commandWeight`s of `commands` added up, every index (a hole too): NaN if one is NaN. With
 * `callers` (a batch route's: how many calls the whole batch answers, such as the `GET` and `PTTL`
 * of one read), their arguments plus `overheadOf(callers)` instead: one command's overhead for the
 * batch, not one per command. Without, each command is a call of its own (a user's pipeline).
 */
export function commandsWeight(commands: readonly RedisArgument[][], callers?: number): number {
  let total = 0
  for (let i = 0; i < commands.length; i++) total += commandWeight(commands[i] as RedisArgument[])
  if (callers === undefined) return total
  return total - commands.length * COMMAND_OVERHEAD + overheadOf(callers)
}

/** `fn` of each command, every index (`map` skips a hole: its entry was `undefined`). */
export function mapCommands<T>(
  commands: readonly RedisArgument[][],
  fn: (args: RedisArgument[]) => T,
): T[] {
  const out = new Array<T>(commands.length)
  for (let i = 0; i < commands.length; i++) out[i] = fn(commands[i] as RedisArgument[])
  return out
}

/** A command's name, for a message: `undefined` for one that is not an array. */
export function nameOf(args: readonly RedisArgument[]): RedisArgument | undefined {
  return Array.isArray(args) ? args[0] : undefined
}

/**
 * Bytes a command counts for on top of its arguments in `maxInFlightBytes`: what one call awaiting
 * its reply holds besides the arguments (node-redis's queue entry, the promises and callbacks of
 * the connection and the cache, the caller's own), so that a flood of small calls is capped by
 * the memory it takes. Measured against a paused server (`CLIENT PAUSE`), heap after a gc, 20,000
 * and 50,000 calls in flight: a `get` with `coalesceReads: false` 2.4 KB, a `set` of 100 bytes
 * 1.6 KB, a `get` in a pipeline of 100 2.7 KB (the 64 bytes counted before let 1.5 million gets
 * pile up, 1.9 GB, without a `BackpressureError`).
 */
export const COMMAND_OVERHEAD = 2048

/**
 * Bytes each further call answered by one command counts for (`CommandRoute.callers`): a `get`
 * gathered into an `MGET` by `coalesceReads` holds 1.16 KB (measured as `COMMAND_OVERHEAD` is),
 * its key's bytes included, where its key alone counted 19 bytes.
 */
export const CALLER_OVERHEAD = 1024

/**
 * `COMMAND_OVERHEAD`, plus `CALLER_OVERHEAD` for each call past the first that a command answers
 * (`CommandRoute.callers`: a whole number above 1; anything else counts as 1).
 */
export function overheadOf(callers: number | undefined): number {
  return callers !== undefined && callers > 1 && Number.isSafeInteger(callers)
    ? COMMAND_OVERHEAD + (callers - 1) * CALLER_OVERHEAD
    : COMMAND_OVERHEAD
}

/**
 * Why a command is refused that is not a non-empty array (sent, an empty command gets no reply,
 * and the caller would be handed the next command's; an entry that is not an array is a protocol
 * error that closes the connection), or has an argument that is neither a string nor a Buffer.
 */
export const NOT_AN_ARGUMENT =
  'a command must be a non-empty array (its name, then its arguments), and every argument of it must be a string or a Buffer; this one is not (an empty command, an entry of a batch that is not an array, or a key, field or member of another type?)'

/**
 * What a command counts for in `maxInFlightBytes`: the length of each argument (bytes for a
 * Buffer, UTF-16 code units for a string — the same for ASCII), plus what the calls it answers
 * hold (`overheadOf(callers)`: `callers` is its route's, a gathered `MGET`'s). NaN, which
 * `refuse` turns into an `InvalidArgumentError`, for a command that is not a non-empty array or
 * has an argument of another type.
 */
export function commandWeight(args: readonly RedisArgument[], callers?: number): number {
  // Not sendable: an empty command (`*0`) gets no reply from Redis, so its caller would be handed
  // the reply of the next command on the connection, and anything but an array is a malformed
  // multibulk, which Redis answers by closing the connection under every call in flight.
  if (!Array.isArray(args) || args.length === 0) return Number.NaN
  let bytes = callers === undefined ? COMMAND_OVERHEAD : overheadOf(callers)
  for (let i = 0; i < args.length; i++) {
    const arg: unknown = args[i]
    // Anything else (a number, `undefined`) weighs NaN, which `refuse` turns into an error:
    // counted, it would leave the bytes in flight NaN, and every later command refused.
    // A plain Uint8Array too: node-redis refuses it as it queues the command, after the
    // command's place in a transaction was taken (`EXEC` then answers the others only).
    bytes +=
      typeof arg === 'string' || Buffer.isBuffer(arg) ? (arg as RedisArgument).length : Number.NaN
  }
  return bytes
}
