// `getOrSet` under stampede control (`get-or-set.ts` hands a call with a `stampede` option here):
// early recomputation (XFetch, `beta`), stale values served within a grace while one caller
// refreshes them, and one computation per fleet (`distributed`), under a lock whose holder's
// waiters are woken by its message.
import { bounded } from '../_bounded.ts'
import type { CacheContext } from '../_context.ts'
import { storeError } from '../_key-errors.ts'
import { isWrongType } from '../_messages.ts'
import { safeLog } from '../_safe-log.ts'
import { timeoutToMs } from '../_timeout.ts'
import type { VersionOption } from '../cache-options.ts'
import { afterWaiting, inFlight, KEPT } from './_get-or-set-flight.ts'
import { closedWhileComputing, MISSING, readAfterLostRace } from './_get-or-set-race.ts'
import type { Factory } from './_get-or-set-value.ts'
import { observedStore } from './_observed.ts'
import { readValue } from './_read-value.ts'
import { formatWait, mayRefresh, refreshFailed, refreshSucceeded } from './_refresh-backoff.ts'
import { companionKey, readWithMeta, type Stampede, tryLock, xfetch } from './_stampede.ts'
import { lockRefused, storeDeltaAdvice } from './_stampede-advice.ts'
import { notifierOf } from './_stampede-notifier.ts'
import { type Found, readForStampede } from './_stampede-read.ts'
import { storeIfUnchanged, type Unchanged } from './_stampede-refresh.ts'
import { holdLock, sharedFallback } from './_stampede-wait.ts'

/** One getOrSet call under stampede control. */
interface Call<T> {
  context: CacheContext
  key: string
  rkey: string
  valueOrFactory: Factory<T>
  at: VersionOption | undefined
  /** The timeout of `set`, in milliseconds (`null`: never). */
  timeoutMs: number | null
  /** What the value is stored with: `timeoutMs`, plus the grace. */
  storeMs: number | null
  waitMs: number | null
  stampede: Stampede
}

/**
 * `getOrSet` with a `stampede` option (`checkStampede`'s): reads the value with its remaining
 * life (and compute time, for XFetch), serves it, refreshes it early or stale, or computes it on a
 * miss, once per process (and per fleet with `distributed`).
 */
export async function getOrSetControlled<T>(
  context: CacheContext,
  key: string,
  valueOrFactory: Factory<T>,
  timeout: number | null | undefined,
  at: VersionOption | undefined,
  waitMs: number | null,
  stampede: Stampede,
): Promise<T> {
  const rkey = context.key(key, at)
  const timeoutMs = timeoutToMs(timeout, context.defaultTimeout)
  const graced = stampede.graceMs > 0 && timeoutMs !== null && timeoutMs > 0
  const call: Call<T> = {
    context,
    key,
    rkey,
    valueOrFactory,
    at,
    timeoutMs,
    storeMs: graced ? (timeoutMs as number) + stampede.graceMs : timeoutMs,
    waitMs,
    stampede,
  }
  if (stampede.beta > 0 || graced) {
    let read: Found | undefined
    try {
      read = await readForStampede(context, rkey, key, stampede.beta > 0)
      if (context.events.reads) {
        if (read === undefined) context.events.emit('miss', { operation: 'getOrSet', key })
        else context.events.emit('hit', { operation: 'getOrSet', key, local: read.local === true })
      }
    } catch (caught) {
      // Worded and handled as plain getOrSet's read (`readValue`): ignored, it is a miss.
      const error = isWrongType(caught)
        ? await context.wrongType(caught, 'getOrSet', key, rkey)
        : caught
      context.fail(error, undefined, 'getOrSet')
    }
    if (read !== undefined) {
      const value = read.value as T
      const { pttl } = read
      if (graced && pttl !== null && pttl <= stampede.graceMs) {
        // Past its timeout, within its grace: served stale while one caller refreshes it.
        if (mayRefresh(context, rkey)) void refresh(call, value, true, pttl).catch(() => {})
        return value
      }
      const deltaMs = read.delta
      if (stampede.beta > 0 && pttl !== null && deltaMs !== undefined) {
        const ttl = graced ? pttl - stampede.graceMs : pttl
        if (xfetch(deltaMs, stampede.beta, ttl) && mayRefresh(context, rkey)) {
          return refresh(call, value, false, pttl)
        }
      }
      return value
    }
  } else {
    const found = await readValue(context, key, MISSING, at, 'getOrSet')
    if (found !== MISSING) return found as T
  }
  // A miss: one computation per process (and across processes with `distributed`). A caller that
  // gave up waiting on another's computes its own value (without the lock).
  const joined = context.flights.join(rkey, waitMs)
  if (joined === undefined) return inFlight(context, rkey, missed(call))
  return joined.then((outcome) =>
    // Of `call`, which the waiter holds anyway: nothing more is held per waiter.
    afterWaiting(call.context, call.key, call.at, call.waitMs, outcome, (gaveUp) =>
      gaveUp ? gaveUpWaiting(call) : missed(call),
    ),
  )
}

/** A miss's computation: once per fleet with `distributed`, else stored only if still missing. */
function missed<T>(call: Call<T>): Promise<T> {
  return call.stampede.distributed ? computeOnce(call) : computeAndStore(call, 'nx')
}

/**
 * A miss whose caller waited `waitMs` on another's computation: its own value, shared by the
 * callers of the process that gave up on a `distributed` holder (`sharedFallback`).
 */
function gaveUpWaiting<T>(call: Call<T>): Promise<T> {
  const compute = () => computeAndStore(call, 'nx')
  if (!call.stampede.distributed) return compute()
  return sharedFallback(call.context, call.key, call.at, call.rkey, call.waitMs, compute)
}

/**
 * Recomputes a value that is still there (early, or `stale` within its grace) and replaces it —
 * only if it is still the value this refresh read on the primary when it started: a `set()` or a
 * `delete()` made meanwhile wins (the caller then gets what Redis holds, or its computed value).
 * One caller per process, one per fleet with `distributed` (a caller that finds the lock taken
 * keeps the current value). A failure is logged and the current value returned, and the key is
 * not refreshed again for a backoff (`refreshFailed`; `lifeMs`: what the value has left in Redis,
 * which the backoff never outlasts).
 */
function refresh<T>(call: Call<T>, current: T, stale: boolean, lifeMs: number): Promise<T> {
  const { context, rkey } = call
  const work = (async (): Promise<T | typeof KEPT> => {
    let token: string | undefined
    const lockKey = companionKey(rkey, 'lock')
    if (call.stampede.distributed) {
      try {
        token = await tryLock(context, lockKey, call.stampede.lockMs)
      } catch {
        return KEPT
      }
      if (token === undefined) return KEPT
    }
    // Held for at most the waiters' bound, as a miss's holder: a hung factory then lets go.
    const release =
      token === undefined
        ? undefined
        : holdLock(context, lockKey, token, rkey, call.stampede.lockMs, call.waitMs)
    try {
      // On the primary: the read that decided on the refresh may have come from a replica or the
      // local tier, and a replica may lack a write the primary has.
      // As bytes: the swap compares Redis's bytes, which text may not hold (invalid UTF-8).
      const { raw, pttl, persistent } = await readWithMeta(context, rkey, false, false, false)
      // Gone meanwhile (deleted, or expired): a miss, whose value is stored only if still missing.
      if (typeof raw !== 'string' && !Buffer.isBuffer(raw)) return await computeAndStore(call, 'nx')
      // Refreshed already, by a process whose write the stale read did not see yet.
      if (stale && pttl !== null && pttl > call.stampede.graceMs) {
        return context.decode(raw, call.key) as T
      }
      return await computeAndStore(call, { raw, pttl: persistent ? null : pttl })
    } catch (error) {
      // Logged once per backoff: the key's hits do not refresh it (nor log) until it ends.
      const waitMs = refreshFailed(context, rkey, lifeMs)
      // A logger that throws must not cost the caller the value kept.
      safeLog(
        context.logger,
        'error',
        `cachex: getOrSet('${bounded(call.key)}') kept the current value: its recomputation failed (not retried for ${formatWait(waitMs)})`,
        error,
      )
      return KEPT
    } finally {
      await release?.()
    }
  })()
  context.flights.start(rkey, work)
  return work.then((outcome) =>
    outcome === KEPT ? current : refreshSucceeded(context, rkey, outcome),
  )
}

/**
 * The distributed miss path: take the lock and compute, or wait for the holder's value (woken by
 * its message; polling from 50 ms to 1 s until subscribed, then every `lockMs` at least), taking
 * over when its lock expired; after `waitMs`, compute our own value as the in-process path does.
 */
async function computeOnce<T>(call: Call<T>): Promise<T> {
  const { context, key, rkey, at, stampede } = call
  const lockKey = companionKey(rkey, 'lock')
  const deadline = call.waitMs === null ? Number.POSITIVE_INFINITY : performance.now() + call.waitMs
  const notifier = notifierOf(context)
  let pollMs = 50
  for (;;) {
    let token: string | undefined
    try {
      token = await tryLock(context, lockKey, stampede.lockMs)
    } catch (error) {
      // Under ignoreExceptions, Redis is out of the picture: compute here.
      context.fail(lockRefused(error, key, lockKey), undefined, 'getOrSet')
      return computeAndStore(call, 'nx')
    }
    if (token !== undefined) return holdAndCompute(call, lockKey, token)
    const left = deadline - performance.now()
    if (left <= 0) return gaveUpWaiting(call)
    await notifier.wait(rkey, Math.min(pollMs, left))
    pollMs = Math.min(pollMs * 2, 1000)
    // Subscribed, the holder's message wakes us: poll only for a holder that died (its lock
    // expires within lockMs) or a message lost since (the subscriber failing wakes us too).
    if (notifier.live) pollMs = Math.max(pollMs, stampede.lockMs)
    const found = await readValue(context, key, MISSING, at, 'getOrSet', false)
    if (found !== MISSING) return found as T
  }
}

async function holdAndCompute<T>(call: Call<T>, lockKey: string, token: string): Promise<T> {
  const { context, key, rkey, stampede } = call
  // Held while the factory runs, for at most the waiters' bound: a hung factory then lets go.
  const release = holdLock(context, lockKey, token, rkey, stampede.lockMs, call.waitMs)
  try {
    // The previous holder may have stored the value between our read and our lock. Asked of the
    // primary (a replica may not have it yet); errors worded and handled as plain getOrSet's.
    const found = await readAfterLostRace(context, key, rkey, MISSING)
    if (found !== MISSING) return found as T
    return await computeAndStore(call, 'nx')
  } finally {
    await release()
  }
}

/**
 * Calls the factory, timing it, and stores the value (and, for XFetch, its compute time): only if
 * the key is missing (`'nx'`), or only if it still holds what a refresh read (`Unchanged`).
 */
async function computeAndStore<T>(call: Call<T>, condition: 'nx' | Unchanged): Promise<T> {
  const { context, key, rkey, valueOrFactory, storeMs, stampede } = call
  const started = performance.now()
  const value =
    typeof valueOrFactory === 'function'
      ? await (valueOrFactory as () => T | Promise<T>)()
      : await valueOrFactory
  const deltaMs = performance.now() - started
  let stored: boolean
  try {
    stored = (await (condition !== 'nx' && (storeMs === null || storeMs > 0)
      ? storeIfUnchanged(context, rkey, key, value, storeMs, condition)
      : context.events.writes
        ? observedStore(context, 'getOrSet', key, value, storeMs, rkey, 'nx')
        : context.store.set(rkey, value, storeMs, 'nx'))) as boolean
  } catch (error) {
    if (closedWhileComputing(error)) return value
    // A value the store could not encode (it has the Redis key only) is named here.
    return context.fail(storeError(error, key), value, 'getOrSet')
  }
  // The recompute time goes with the value this call stored, once it is (none for a value that
  // lost the race); advice, whose write failing fails nothing: the value is stored.
  if (stored && stampede.beta > 0 && (storeMs === null || storeMs > 0)) {
    await storeDeltaAdvice(context, rkey, key, deltaMs, storeMs)
  }
  if (stored) return value
  // Someone else stored (or deleted) a value between our read and our write: theirs wins, as in
  // Django.
  return readAfterLostRace(context, key, rkey, value)
}
