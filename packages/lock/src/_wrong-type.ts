// A lock's or semaphore's key that something else overwrote with another type of value (a hash,
// a list written at that key by another process or a user): the server's bare `WRONGTYPE` names
// neither the lock nor its key, so it is worded as the cache words its own (core's
// `wrongTypeError`): a `ResponseError` naming the key, bounded, and what it holds.
import { type Connection, ResponseError } from '@cachex/core'
import { bounded, isWrongType, REDIS_TYPES } from '@cachex/core/internal'
import { unhold } from './_undo.ts'

/** What a lock's or a semaphore's key holds when it is one: the type its scripts work on. */
const OWN_TYPE = { lock: 'string', semaphore: 'zset' } as const

/** A lock or a semaphore, as its messages call it. */
export type Holder = keyof typeof OWN_TYPE

/**
 * The `TYPE` of `name` over `connection`; `''` when it cannot be had (the message then only loses
 * the type). Asked on error paths, and by a refused lock acquisition (see `Lock.acquire`).
 */
export async function typeOf(connection: Connection, name: string): Promise<string> {
  try {
    // Asked of the primary, where the lock's scripts ran: a replica behind it may still hold
    // what the key held before.
    const reply = await connection.command(['TYPE', name], { key: name })
    if (typeof reply === 'string') return reply
    return Buffer.isBuffer(reply) ? reply.toString('latin1') : ''
  } catch {
    return ''
  }
}

/**
 * Whether `type` (`TYPE`'s reply) is another type than a `holder`'s key holds: a key gone
 * (`none`), or whose type is unknown (`''`), is not.
 */
export function isForeignType(holder: Holder, type: string): boolean {
  return type !== '' && type !== 'none' && type !== OWN_TYPE[holder]
}

/**
 * The rejection of `method` (`'release'`) of the `holder` `name` whose key holds `type` (`TYPE`'s
 * reply, `''` when unknown) rather than a lock's string or a semaphore's sorted set: a
 * `ResponseError`, as the cache's `WRONGTYPE` errors are (so `instanceof` checks keep working),
 * naming the key bounded, what it holds and that something else wrote it; `cause` is the reply's
 * error when there was one.
 */
export function wrongTypeError(
  holder: Holder,
  method: string,
  name: string,
  type: string,
  cause?: ResponseError,
): ResponseError {
  const holds = isForeignType(holder, type)
    ? `a ${REDIS_TYPES[type] ?? type}`
    : 'another kind of value'
  const server =
    cause?.message ?? 'WRONGTYPE Operation against a key holding the wrong kind of value'
  const taking = method === 'acquire'
  const lost =
    holder === 'lock'
      ? `the lock ${taking ? 'cannot be taken' : 'is lost'}`
      : taking
        ? 'no permits can be taken'
        : 'its permits are lost'
  return new ResponseError(
    `${holder}.${method}() on the ${holder} '${bounded(name)}': its key holds ${holds}, ` +
      `not a ${holder}: something else wrote it (another process or a user writing at that key), ` +
      `and ${lost}; delete the key, or give the ${holder} a name nothing else uses (${server})`,
    cause === undefined ? undefined : { cause },
  )
}

/**
 * `error` (what `method` of the `holder` `name` rejected with) as `wrongTypeError` words it when
 * it is a `WRONGTYPE` reply, asking `TYPE` of the key; any other error is returned as it is.
 */
export async function namedWrongType(
  error: unknown,
  connection: Connection,
  holder: Holder,
  method: string,
  name: string,
): Promise<unknown> {
  if (!isWrongType(error)) return error
  return wrongTypeError(holder, method, name, await typeOf(connection, name), error)
}

/**
 * When a release of the `holder` `name` met a `WRONGTYPE` key: the connection stops holding
 * `token` (no release can succeed on a key something else owns now; the caller drops it too) and
 * the rejection, named as `namedWrongType` words it, is returned. `undefined` for any other
 * error, at once (the caller's handling of it stays synchronous).
 */
export function releaseRefused(
  error: unknown,
  connection: Connection,
  holder: Holder,
  name: string,
  token: string,
): Promise<unknown> | undefined {
  if (!isWrongType(error)) return undefined
  unhold(connection, name, token)
  return namedWrongType(error, connection, holder, 'release', name)
}

/** Throws `error` (what `method` of the `holder` `name` rejected with) as `namedWrongType` words it. */
export async function rethrowNamed(
  error: unknown,
  connection: Connection,
  holder: Holder,
  method: string,
  name: string,
): Promise<never> {
  throw await namedWrongType(error, connection, holder, method, name)
}

/**
 * Rejects with `wrongTypeError` when the key of the `holder` `name` holds another type than its
 * own (asking `TYPE`): a refused acquisition of a lock, whose `SET NX` refuses any key that
 * exists, whatever it holds. A key gone, or whose type could not be had, resolves.
 */
export async function notForeign(
  connection: Connection,
  holder: Holder,
  name: string,
): Promise<void> {
  const type = await typeOf(connection, name)
  if (isForeignType(holder, type)) throw wrongTypeError(holder, 'acquire', name, type)
}
