// The reply of an `incr` or `decr` a pipeline queued (`_pipeline-standard.ts`): its sum, or why
// there is none. A value INCRBY refused goes to the method's fallback in a pipeline; a transaction
// has run already, and its call gets the error the method would reject with.
import { bounded } from './_bounded.ts'
import type { CacheContext } from './_context.ts'
import { notTheScripts } from './_incr.ts'
import { notANumber, type Refused } from './_incr-fallback.ts'
import { unsafeResult } from './_messages.ts'
import { IncrRefused } from './_pipeline-writes.ts'
import { KeyNotFoundError } from './errors.ts'

/**
 * The converter of a queued `incr`'s reply (`INCR_SCRIPT`, or `INCR_NUMBER_SCRIPT` with
 * `asNumber`): the sum, else it throws. A value INCRBY refused throws `IncrRefused`, which a
 * pipeline's `onError` turns into the method's fallback; in a `transaction`, the error of
 * `refusedInTransaction`.
 */
export function incrReply(
  context: CacheContext,
  key: string,
  asNumber: boolean,
  method: 'incr' | 'decr',
  transaction: boolean,
): (reply: unknown) => number | bigint {
  return (reply) => {
    if (reply === null || reply === undefined) {
      throw new KeyNotFoundError(
        `key '${bounded(key)}' not found: incr() and decr() need a stored number (as in Django); store one first, e.g. add('${bounded(key)}', 0)`,
      )
    }
    // A value INCRBY refused (`Refused`).
    if (Array.isArray(reply)) {
      throw transaction
        ? refusedInTransaction(context, key, reply, method)
        : new IncrRefused(key, reply, method)
    }
    if (asNumber) {
      if (reply === 0) throw unsafeResult(key, method)
    } else if (typeof reply === 'number' && Number.isSafeInteger(reply)) {
      return reply
    }
    // The stored digits: nothing else is the script's reply.
    const sum = context.decode(reply, key)
    if (typeof sum !== 'number' && typeof sum !== 'bigint') throw notTheScripts(key, method, reply)
    return sum
  }
}

/**
 * The error of a transaction's `incr` whose value INCRBY refused (`refused`, the value its script
 * saw): for a value that is no number, the `NotANumberError` the method rejects with (which
 * `ignoreExceptions` never ignores); for a number INCRBY cannot add (a float, an integer beyond
 * int64), which the method adds by reading and writing back, `IncrRefused`. A value the codec
 * cannot read throws the codec's error, as the method's fallback does.
 */
function refusedInTransaction(
  context: CacheContext,
  key: string,
  refused: Refused,
  method: 'incr' | 'decr',
): Error {
  if (refused.length > 0) {
    const seen = context.decode(refused[0], key)
    if (typeof seen !== 'number' && typeof seen !== 'bigint') return notANumber(key)
  }
  return new IncrRefused(key, refused, method)
}
