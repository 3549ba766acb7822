// Which errors say that a command was never sent. A `ConnectionError` in general leaves the
// outcome of a write unknown (it may have reached the server before the connection dropped);
// some are refusals made before anything was written to the socket, and a caller that must tell
// "may have run" from "did not run" (a lock's release) needs to know which. Internal: cachex's
// own packages mark their refusals, and read the mark.
import { BackpressureError, ConnectionError } from './errors.ts'

/**
 * The mark, a property of the error itself: `Symbol.for`, so that a refusal made by one copy of
 * `@cachex/core` (two versions installed side by side) is read by another.
 */
const UNSENT = Symbol.for('@cachex/core.unsent')

/**
 * Marks `error` as a refusal made before the command was sent (a connection refusing at once
 * while its server is known down): `wasUnsent(error)` is then `true`. Returns `error`.
 */
export function markUnsent<T>(error: T): T {
  if (typeof error === 'object' && error !== null && Object.isExtensible(error)) {
    Object.defineProperty(error, UNSENT, { __proto__: null, value: true } as PropertyDescriptor)
  }
  return error
}

/**
 * Whether `error` says that the command it answers was never sent, so had no effect: a
 * `BackpressureError` (refused unsent, `maxInFlightBytes`), an error `markUnsent` marked, or a
 * `FailoverError` of `@cachex/connections` (no write sent while the sentinels fail over; known
 * by its stable code, that package's class being out of reach here). `false` for everything
 * else, whose command may have run, or did (an error reply).
 */
export function wasUnsent(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  if (error instanceof BackpressureError) return true
  if (error instanceof ConnectionError && error.code === 'E_FAILOVER') return true
  return Object.hasOwn(error, UNSENT)
}
