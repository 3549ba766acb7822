// What getOrSet's stampede control does when Redis refuses its companion keys (`__cachex:*`,
// outside the cache's key prefix, so not covered by an ACL of `~prefix:*`). The compute time
// `earlyRecompute` stores is advice, as its read is (`readWithMeta`): its write failing fails
// nothing — the value is stored — and is said once. The lock `distributed` takes is not advice:
// its refusal by an ACL rejects, naming the keys the user needs.
import { bounded } from '../_bounded.ts'
import type { CacheContext } from '../_context.ts'
import { isNoPerm, refusesCommand } from '../_messages.ts'
import { safeLog } from '../_safe-log.ts'
import { thrownText } from '../_thrown.ts'
import { CachexError, ClosedError, ResponseError } from '../errors.ts'
import { companionKey, storeDelta } from './_stampede.ts'

/** What an ACL limited to the cache's keys lacks for stampede control, for messages. */
const ACL_NEEDS =
  "the ACL user needs ~__cachex:* besides the cache's keys (and the channel __cachex:stampede for distributed)"

/** Per cache: the kinds of failed compute-time writes it said something about already. */
const said = new WeakMap<CacheContext, Set<string>>()

/**
 * Stores the compute time of the value `getOrSet` just stored at `rkey` (`storeDelta`). A
 * failure — an ACL that refuses `__cachex:delta:…`, on a cluster the companion's node down — is
 * not the call's: the value is stored, and only goes without a compute time (`earlyRecompute`
 * then draws no early recomputation for it, and it is recomputed when it expires). Said once per
 * cache and kind of failure (`NOPERM`, or the error's code): through the logger's `warn` (else
 * `error`) for an ACL's refusal, a matter of configuration; through `error` otherwise.
 */
export async function storeDeltaAdvice(
  context: CacheContext,
  rkey: string,
  key: string,
  deltaMs: number,
  ms: number | null,
): Promise<void> {
  try {
    await storeDelta(context, rkey, deltaMs, ms)
  } catch (error) {
    // Closed meanwhile: nothing is wrong with the cache's setup.
    if (error instanceof ClosedError) return
    const refused = isNoPerm(error)
    const kind = refused ? 'NOPERM' : error instanceof CachexError ? error.code : 'other'
    let kinds = said.get(context)
    if (kinds === undefined) {
      kinds = new Set()
      said.set(context, kinds)
    }
    if (kinds.has(kind)) return
    kinds.add(kind)
    const reason = thrownText(error)
    const message = `cachex: getOrSet('${bounded(key)}', { earlyRecompute }) stored its value, but not its compute time at '${bounded(companionKey(rkey, 'delta'))}' (${reason})${refused ? `: ${ACL_NEEDS}` : ''}; values without one are recomputed when they expire, not early. Further such failures of this cache are not logged`
    // A logger that throws has nowhere left to report to; the call has its value.
    const { logger } = context
    if (refused && typeof logger.warn === 'function') safeLog(logger, 'warn', message)
    else safeLog(logger, 'error', message, error)
  }
}

/**
 * The error `distributed` getOrSet rejects with when its stampede lock (`lockKey`) could not be
 * taken: an ACL's refusal of the key (`NOPERM`) as a `ResponseError` that names the lock and
 * what the user needs, Redis's refusal its `cause`; any other error as it is.
 */
export function lockRefused(error: unknown, key: string, lockKey: string): unknown {
  if (!isNoPerm(error) || refusesCommand(error, 'set')) return error
  return new ResponseError(
    `getOrSet('${bounded(key)}', { distributed: true }) could not take its stampede lock '${bounded(lockKey)}' (${error.message}): stampede control keeps its locks and compute times under __cachex:*, outside the cache's key prefix; ${ACL_NEEDS}`,
    { cause: error },
  )
}
