// Argument checks, the sleep and the close signal's callbacks shared by the lock and the semaphore.
import { InvalidArgumentError } from '@cachex/core'
import {
  checkTimeoutMs,
  closestName,
  describeArgument,
  describeObject,
  isGiven,
  isPlainObject,
  MAX_TIMER_MS,
  reading,
} from '@cachex/core/internal'

/** Seconds or `null` (no bound): a non-negative number. */
export function optionalSeconds(value: number | null, what: string): number | null {
  return value === null ? null : positiveSeconds(value, what, true)
}

/**
 * Seconds: a positive (or, with `allowZero`, non-negative) finite number, at most about 285,000
 * years.
 */
export function positiveSeconds(value: unknown, what: string, allowZero = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    (!allowZero && value === 0)
  ) {
    throw new InvalidArgumentError(
      `${what} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds`,
    )
  }
  // Bounded as the cache's timeouts are (an expiry Redis and JavaScript both hold exactly).
  checkTimeoutMs(value * 1000, what, `${value} seconds`)
  return value
}

/** A callback waiting for a signal's abort (see `onAbort`): an object, so that each is its own. */
interface Waiter {
  callback: () => void
}

/**
 * What each signal calls when it is aborted, in the order given: one `abort` listener per signal
 * calls them all. The signal is the cache's, shared by every acquisition in flight and every
 * sleep between tries; a listener of each on it made each new one cost as much as all those
 * pending, as Node's `addEventListener` looks through every listener for a duplicate.
 */
const waiters = new WeakMap<AbortSignal, Set<Waiter>>()

/** Calls each of `waiting`, once; one that throws leaves the others called. */
function wake(waiting: Set<Waiter>): void {
  // Forgotten ones are skipped (a Set's iteration skips entries deleted before their turn).
  for (const waiter of waiting) {
    waiting.delete(waiter)
    try {
      waiter.callback()
    } catch (error) {
      // As a throwing `abort` listener: uncaught, after the rest of the listeners.
      queueMicrotask(() => {
        throw error
      })
    }
  }
}

/** The callbacks waiting on `signal`, with the one `abort` listener that calls them. */
function waitingOn(signal: AbortSignal): Set<Waiter> {
  let waiting = waiters.get(signal)
  if (waiting === undefined) {
    const all = new Set<Waiter>()
    waiters.set(signal, all)
    signal.addEventListener(
      'abort',
      () => {
        waiters.delete(signal)
        wake(all)
      },
      { once: true },
    )
    waiting = all
  }
  return waiting
}

/**
 * Calls `callback` once when `signal` is aborted, as an `abort` listener with `once` would,
 * unless the function returned is called first: it forgets `callback`. Nothing is called for a
 * signal aborted already. Either takes the same time however many callbacks wait on `signal`.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  if (signal.aborted) return () => undefined
  const waiting = waitingOn(signal)
  const waiter: Waiter = { callback }
  waiting.add(waiter)
  return () => {
    waiting.delete(waiter)
  }
}

/**
 * Resolves after `ms` milliseconds, or after `MAX_TIMER_MS` when `ms` is longer (a longer timer
 * would fire after 1 ms, and the waits it spaces out would spin): its callers look again and wait
 * again. Once `signal` is aborted — the cache that made the lock closed — it rejects with the
 * signal's reason at once and its timer goes, so that a closed cache neither keeps a caller
 * waiting for its next try nor keeps the process alive.
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) {
    return new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_TIMER_MS)))
  }
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => {
        // Forgotten with its wait: the signal outlives many waits.
        forget()
        resolve()
      },
      Math.min(ms, MAX_TIMER_MS),
    )
    const forget = onAbort(signal, () => {
      clearTimeout(timer)
      reject(signal.reason)
    })
  })
}

/** The option the cache passes to the locks and semaphores it makes (see `LockOptions`). */
export interface ClosedSignalOption {
  /**
   * Aborted when the cache that made the lock (or semaphore) closes, with a `ClosedError` as its
   * reason: an `acquire()` waiting between tries then rejects with it at once, instead of at its
   * next try (up to `sleep` seconds later). `cache.lock()` and `cache.semaphore()` pass it; a
   * lock made directly over a `Connection` may pass an `AbortSignal` of its own (an `acquire()`
   * then rejects with the signal's `reason`).
   */
  signal?: AbortSignal | undefined
}

/** The `signal` option: an `AbortSignal`, or `undefined`. */
export function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal
  throw new InvalidArgumentError(`signal must be an AbortSignal, got ${describeArgument(signal)}`)
}

/**
 * Checks the options object of a lock's or a semaphore's method, as the cache checks its own
 * methods': `undefined` (the defaults), or an object whose names are all in `allowed`. A name it
 * does not take would otherwise be ignored — redis-py's `blocking_timeout` waiting for ever, a
 * lock's `timeout` given per call never expiring — so it throws `InvalidArgumentError` naming
 * `method` and the option: the name meant when one is close, or `own` (how to give an option of
 * the lock's or semaphore's own, such as `timeout`) when `name` is one of `ownNames`.
 */
export function checkCallOptions(
  options: unknown,
  method: string,
  allowed: readonly string[],
  ownNames: readonly string[] = [],
  own = '',
): void {
  if (options === undefined) return
  reading(`the options of ${method}()`, () =>
    checkCallKeys(options, method, allowed, ownNames, own),
  )
}

/** `checkCallOptions`, but for what reading `options` may throw. */
function checkCallKeys(
  options: unknown,
  method: string,
  allowed: readonly string[],
  ownNames: readonly string[],
  own: string,
): void {
  // A plain object only: a Date, a Map or a class instance has no keys to check, and would be
  // taken for `{}` (the defaults) without a word.
  if (typeof options !== 'object' || options === null || !isPlainObject(options)) {
    const got =
      typeof options === 'object' && options !== null
        ? describeObject(options)
        : describeArgument(options)
    throw new InvalidArgumentError(
      `${method}() takes an options object { ${allowed.join(', ')} }, got ${got}`,
    )
  }
  const name = notAllowed(options, allowed)
  if (name === undefined) return
  const meant = closestName(name, allowed)
  throw new InvalidArgumentError(
    ownNames.includes(name)
      ? `${method}() does not take the option '${name}': ${own}`
      : meant === undefined
        ? `${method}() does not take the option '${name}' (it takes ${allowed.join(', ')})`
        : `${method}() does not take the option '${name}': did you mean '${meant}'?`,
  )
}

/**
 * The first name `options` gives that is not in `allowed`: own or inherited from an object of the
 * caller's (a defaults object made with `Object.create`), as the option reads see them (`own`), so
 * that an inherited misspelling is refused as an own one is, and as `cache.lock()` refuses it.
 */
function notAllowed(options: object, allowed: readonly string[]): string | undefined {
  for (const name in options) if (isGiven(options, name) && !allowed.includes(name)) return name
  return undefined
}

/** A UTF-16 surrogate not part of a pair (`u` mode reads a pair as one code point). */
const LONE_SURROGATE = /\p{Cs}/u

/**
 * A token given to `acquire()`: a non-empty string of well-formed UTF-16. Stored and compared as text (`token`,
 * `owned()`), so bytes are refused; an empty token would be a lock anyone's empty token owns.
 */
export function checkToken(token: unknown): string {
  if (typeof token !== 'string' || token === '') {
    throw new InvalidArgumentError(
      `a lock's token must be a non-empty string, got ${token === '' ? 'an empty string' : Buffer.isBuffer(token) ? 'a Buffer' : describeArgument(token)}`,
    )
  }
  // A lone surrogate is sent as U+FFFD: the stored token would no longer be this string, and
  // owned() would answer false while this lock holds it.
  if (LONE_SURROGATE.test(token)) {
    throw new InvalidArgumentError(
      "a lock's token must be well-formed UTF-16 text, got one with a lone surrogate (it would be stored as U+FFFD)",
    )
  }
  return token
}
