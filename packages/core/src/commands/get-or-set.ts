// `getOrSet`: read, or compute once per process and `add`. Documented on `CacheLike`.
import { checkVersionOption, GET_OR_SET_KEYS, timeoutArguments } from '../_args.ts'
import { type CacheContext, contextOf, type Implementation } from '../_context.ts'
import { TIMED_OUT } from '../_single-flight.ts'
import { checkSeconds } from '../_timeout.ts'
import type { CacheLike } from '../cache-like.ts'
import type { GetOrSetOptions, VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'

const MISSING: unique symbol = Symbol('missing')
// Longer than a typical computation (a few queries of at most socketTimeout, 5 s, each), shorter
// than the 30–60 s after which proxies and load balancers give up on a request.
const DEFAULT_WAIT_TIMEOUT = 10

type Factory<T> = T | (() => T | Promise<T>)

/** `getOrSet`, attached to `Cache`. */
export const getOrSetCommand = {
  async getOrSet<T>(
    this: CacheLike,
    key: string,
    valueOrFactory: Factory<T>,
    timeoutOrOptions?: number | null | GetOrSetOptions,
    moreOptions?: Omit<GetOrSetOptions, 'timeout'>,
  ): Promise<T> {
    const context = contextOf(this)
    const [timeout, options] = timeoutArguments(
      'getOrSet',
      timeoutOrOptions,
      moreOptions,
      GET_OR_SET_KEYS,
    )
    const waitMs = waitTimeoutToMs(options?.waitTimeout)
    const version = checkVersionOption(options?.version)
    const at: VersionOption | undefined = version === undefined ? undefined : { version }
    const found = await this.get<T | typeof MISSING>(key, MISSING, at)
    if (found !== MISSING) return found as T
    // Calls for the same key in this process share one computation (no stampede from one process).
    const rkey = context.key(key, at)
    const joined = context.flights.join(rkey, waitMs)
    if (joined !== undefined) {
      // Returned, not awaited: a waiter then holds a reaction and a closure instead of a suspended
      // call (about 380 bytes instead of 570 each, measured with 200,000 waiters).
      return joined.then((outcome) =>
        outcome === TIMED_OUT
          ? // The shared computation outlived our bound (a hung factory?): compute our own value.
            computeAndAdd(this, context, key, valueOrFactory, timeout, at)
          : (outcome as T),
      )
    }
    const computation = computeAndAdd(this, context, key, valueOrFactory, timeout, at)
    context.flights.start(rkey, computation)
    return computation
  },
} satisfies Implementation<Pick<CacheLike, 'getOrSet'>>

async function computeAndAdd<T>(
  cache: CacheLike,
  context: CacheContext,
  key: string,
  valueOrFactory: Factory<T>,
  timeout: number | null | undefined,
  at: VersionOption | undefined,
): Promise<T> {
  const value =
    typeof valueOrFactory === 'function'
      ? await (valueOrFactory as () => T | Promise<T>)()
      : await valueOrFactory
  let added: boolean
  try {
    added = await context.storeValue(key, value, timeout, at, 'nx')
  } catch (error) {
    // Under ignoreExceptions the computed value is the answer; no second round trip to fail.
    return context.fail(error, value)
  }
  if (added) return value
  // Someone else stored a value between our get and add: theirs wins, as in Django.
  return (await cache.get<T>(key, value, at)) as T
}

function waitTimeoutToMs(waitTimeout: number | null | undefined): number | null {
  if (waitTimeout === null) return null
  const seconds = checkSeconds(waitTimeout ?? DEFAULT_WAIT_TIMEOUT, 'waitTimeout')
  if (seconds < 0) throw new InvalidArgumentError('waitTimeout must not be negative')
  return seconds * 1000
}
