// Decoding what a command removed from Redis (the pops of lists, sets and sorted sets, and the
// moves of lists): Redis has removed the values before the reply is decoded, so a value that
// cannot be read must not take the others with it. Each is decoded on its own; when one fails,
// the call rejects with the error of the first failure, carrying every value removed
// (`SerializationError.removed`), or saying where a moved value went. The values of one pop
// decompress under one budget (`CacheContext.budget`): one past it is given back as stored bytes.
// Also what a write that rejects leaves behind: whether `set(…, { get: true })` stored its new
// value all the same, and which keys a `setMany` pipeline stored before one of its writes failed.
import { checkInteger } from '../_args.ts'
import { bounded } from '../_bounded.ts'
import type { CacheContext, CommandWithFallback } from '../_context.ts'
import { toArray, toData, toPairs, toScore } from '../_replies.ts'
import { CompressionError, SerializationError } from '../errors.ts'

/**
 * The values `method` removed from `key` (an array reply, or one value), decoded. One that
 * cannot be read rejects the call with its error, carrying them all (`removed`).
 */
export function decodeRemoved(
  context: CacheContext,
  replies: readonly unknown[],
  key: string,
  method: string,
): unknown[] {
  const values: unknown[] = new Array(replies.length)
  // Many values decompress under one budget; one, under maxValueSize alone.
  const budget = replies.length > 1 ? context.budget() : undefined
  let failure: unknown
  for (let i = 0; i < replies.length; i++) {
    const reply = replies[i]
    try {
      values[i] = context.decode(reply, key, undefined, budget)
    } catch (error) {
      failure ??= error
      values[i] = asBytes(reply)
    }
  }
  if (failure !== undefined) throw removedError(failure, values, key, method)
  return values
}

/**
 * The command of a pop of one value, or of `count` (`LPOP`, `RPOP`, `SPOP`): its reply read
 * as bytes, so that a value it cannot read is given back as stored (`decodeRemoved`), which text
 * may not hold; `none` is what a pop of `count` from a missing key resolves.
 */
export function popSpec(
  context: CacheContext,
  command: string,
  key: string,
  count: number | undefined,
  none: unknown[] | null,
): CommandWithFallback<unknown> {
  const method = command.toLowerCase()
  return {
    method,
    access: 'write',
    build: (rkey) =>
      count === undefined ? [command, rkey] : [command, rkey, String(checkInteger(count))],
    bytes: true,
    convert: (reply) =>
      count === undefined
        ? decodeRemovedOne(context, reply, key, method)
        : (decodeRemovedArray(context, reply, key, method) ?? none),
    fallback: count === undefined ? null : none,
  }
}

/** `decodeRemoved` of a `[member, score]` reply (`ZPOPMIN`): the pairs, members decoded. */
export function decodeRemovedPairs(
  context: CacheContext,
  reply: unknown,
  key: string,
  method: string,
): Array<[unknown, number]> {
  const pairs = toPairs(reply)
  const values: Array<[unknown, number]> = new Array(pairs.length)
  const budget = pairs.length > 1 ? context.budget() : undefined
  let failure: unknown
  for (let i = 0; i < pairs.length; i++) {
    const [member, score] = pairs[i] as [unknown, unknown]
    try {
      values[i] = [context.decode(member, key, undefined, budget), toScore(score)]
    } catch (error) {
      failure ??= error
      values[i] = [asBytes(member), toScore(score)]
    }
  }
  if (failure !== undefined) throw removedError(failure, values, key, method)
  return values
}

/** One value `method` removed from `key`, decoded, or `null` for a nil reply. */
export function decodeRemovedOne(
  context: CacheContext,
  reply: unknown,
  key: string,
  method: string,
): unknown {
  if (reply === null || reply === undefined) return null
  return decodeRemoved(context, [reply], key, method)[0]
}

/**
 * The value `method` moved from `source` to `destination`, decoded, or `null`. One that cannot
 * be read rejects the call with an error that says it was moved all the same: it is at
 * `destination`, as stored, so the error carries no copy of it.
 */
export function decodeMoved(
  context: CacheContext,
  reply: unknown,
  source: string,
  destination: string,
  method: string,
): unknown {
  if (reply === null || reply === undefined) return null
  try {
    return context.decode(reply, source)
  } catch (error) {
    throw withNote(
      error,
      `${method} moved the value to key '${bounded(destination)}' all the same`,
      undefined,
    )
  }
}

/**
 * The old value `set(key, value, { get: true })` read as it wrote, decoded, or `null` for a nil
 * reply. `written` is what the command did to that value: `'stored'` (`SET … GET`, or with xx:
 * the new value replaced it), `'deleted'` (`GETDEL`, a timeout ≤ 0), or `undefined` (with nx,
 * which stores nothing over a value). One that cannot be read, replaced or deleted, rejects the
 * call with its error, saying the write was made all the same and carrying the old value as the
 * stored bytes (`removed`): the reply must be read as bytes. One read without a write rejects
 * with the decoding error alone.
 */
export function decodeReplaced(
  context: CacheContext,
  reply: unknown,
  key: string,
  written: 'stored' | 'deleted' | undefined,
): unknown {
  if (reply === null || reply === undefined) return null
  try {
    return context.decode(reply, key)
  } catch (error) {
    if (written === undefined) throw error
    const note =
      written === 'deleted'
        ? `set deleted key '${bounded(key)}' all the same (a timeout ≤ 0)`
        : `set stored the new value at key '${bounded(key)}' all the same`
    const noted = withNote(
      error,
      `${note}: the old value is in this error's removed (as stored bytes)`,
      [asBytes(reply)],
    )
    // Only an error made here for this call: one passed on as thrown could be thrown again by a
    // call that stored nothing.
    if (written === 'stored' && noted !== error) storedAllTheSame.add(noted as object)
    throw noted
  }
}

/** The errors of `decodeReplaced` whose call stored its new value (`storedNewValue`). */
const storedAllTheSame = new WeakSet<object>()

/**
 * Whether `error`, a rejection of `set(…, { get: true })`, says the new value was stored all the
 * same (an old value it could not read): the value is in Redis, so a `set` event is still due.
 */
export function storedNewValue(error: unknown): boolean {
  return typeof error === 'object' && error !== null && storedAllTheSame.has(error)
}

/**
 * What `set(…, { get: true })` does to the old value it reads (`decodeReplaced`'s `written`),
 * for its expiry `ms` (≤ 0: `GETDEL`, or with nx a plain `GET`) and `condition`.
 */
export function setGetWrites(
  ms: number | null,
  condition: 'nx' | 'xx' | undefined,
): 'stored' | 'deleted' | undefined {
  if (condition === 'nx') return undefined
  return ms !== null && ms <= 0 ? 'deleted' : 'stored'
}

/** Every value of an array reply `method` removed from `key`, or `null` for a nil reply. */
export function decodeRemovedArray(
  context: CacheContext,
  reply: unknown,
  key: string,
  method: string,
): unknown[] | null {
  return reply === null || reply === undefined
    ? null
    : decodeRemoved(context, toArray(reply), key, method)
}

/** The decoding error `failure`, saying what `method` removed and carrying it. */
function removedError(failure: unknown, removed: unknown[], key: string, method: string): unknown {
  const n = removed.length
  return withNote(
    failure,
    `${method} removed ${n} ${n === 1 ? 'value' : 'values'} from key '${bounded(key)}' all the same: every one is in this error's removed (as stored bytes where unreadable)`,
    removed,
  )
}

/** `error` (of the codec) with `note` after its message and `removed` on it; others pass. */
function withNote(error: unknown, note: string, removed: unknown[] | undefined): unknown {
  if (error instanceof SerializationError) {
    return new SerializationError(`${error.message}; ${note}`, { cause: error.cause, removed })
  }
  if (error instanceof CompressionError) {
    return new CompressionError(`${error.message}; ${note}`, { cause: error.cause, removed })
  }
  return error
}

/** A reply as the bytes Redis stored (pops read their replies as bytes: `CommandSpec.bytes`). */
function asBytes(reply: unknown): Buffer {
  const data = toData(reply)
  return typeof data === 'string' ? Buffer.from(data) : data
}

/**
 * The errors `RedisValueStore.setMany` rejected with after a pipeline's replies said which of its
 * writes were stored, with those (in the order of the call's keys); `null` for an error two calls
 * rejected with at once, which cannot tell whose writes it speaks of.
 */
const partlyStored = new WeakMap<Error, boolean[] | null>()

/** `error`, the first failed reply of a `setMany` pipeline, noted with the writes `stored`. */
export function noteStored(error: Error, stored: boolean[]): Error {
  partlyStored.set(error, partlyStored.has(error) ? null : stored)
  return error
}

/**
 * Which entries of a `setMany` that rejected with `error` its replies say were stored, in the
 * order of its keys, or `undefined` when none is known to be (one command refused or lost whole,
 * a script stopped part way): a `set` event is due for each one stored, and under
 * `ignoreExceptions` the call resolves the others. Read once, by the call that rejected.
 */
export function storedBeforeFailure(error: unknown): boolean[] | undefined {
  if (!(error instanceof Error)) return undefined
  const stored = partlyStored.get(error)
  partlyStored.delete(error)
  return stored ?? undefined
}
