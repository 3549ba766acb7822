// The counters of a `Cache`: `incr`/`decr` add to the integer at a key, `incrVersion`/
// `decrVersion` move a key between versions. Each pair shares one body, which takes the method's
// name, so that a failure names the method called, with the delta its caller gave.
import {
  checkOptions,
  checkVersion,
  checkVersionOption,
  incrArguments,
  VERSION_ONLY,
} from '../_args.ts'
import { bounded } from '../_bounded.ts'
import { contextOf } from '../_context.ts'
import { own } from '../_own.ts'
import { describe } from '../_timeout.ts'
import type { IncrOptions, VersionOption } from '../cache-options.ts'
import { CrossSlotError, InvalidArgumentError } from '../errors.ts'

/**
 * `incr` and `decr` (`method`): adds `delta` to the integer at `key`, or subtracts it. The delta
 * is checked as the caller gave it, and `method` names the call in its errors and `error` events.
 */
export async function addTo(
  cache: object,
  key: string,
  delta: number | bigint,
  options: IncrOptions | undefined,
  method: 'incr' | 'decr',
): Promise<number | bigint | null> {
  const context = contextOf(cache)
  try {
    const asNumber = incrArguments(delta, options, method)
    const by = method === 'incr' ? delta : -delta
    return await context.store.incr(context.key(key, options), key, by, asNumber, method)
  } catch (error) {
    return context.failOrNull<number | bigint>(error, method)
  }
}

/**
 * `incrVersion` and `decrVersion` (`method`): moves `key` from its version `delta` versions up,
 * or down. The delta is checked as the caller gave it, and `method` names the call in its errors
 * and `error` events.
 */
export async function moveVersion(
  cache: object,
  key: string,
  delta: number,
  options: VersionOption | undefined,
  method: 'incrVersion' | 'decrVersion',
): Promise<number | null> {
  const context = contextOf(cache)
  try {
    if (!Number.isSafeInteger(delta)) {
      throw new InvalidArgumentError(`${method}() takes an integer delta, got ${describe(delta)}`)
    }
    checkOptions(options, method, VERSION_ONLY)
    const version = checkVersionOption(own(options, 'version')) ?? context.version
    const next = checkVersion(version + (method === 'incrVersion' ? delta : -delta))
    const from = context.makeKey(key, version)
    await context.store.rename(from, context.makeKey(key, next), key).catch((error: unknown) => {
      throw error instanceof CrossSlotError ? versionsApart(key, version, next, error) : error
    })
    return next
  } catch (error) {
    return context.failOrNull<number>(error, method)
  }
}

/**
 * The cluster's `CrossSlotError` for the `RENAME` of `incrVersion`, told in its terms: the two
 * versions of the key hash to different slots, and what keeps them in one.
 */
function versionsApart(
  key: string,
  from: number,
  to: number,
  error: CrossSlotError,
): CrossSlotError {
  return new CrossSlotError(
    `incrVersion/decrVersion across hash slots: versions ${from} and ${to} of '${bounded(key)}' are in different hash slots of the cluster, and a key moves between versions with one RENAME; put a hash tag in the key, such as 'user:{42}', so that every version of it (':1:user:{42}', ':2:user:{42}') shares a slot`,
    { cause: error },
  )
}
