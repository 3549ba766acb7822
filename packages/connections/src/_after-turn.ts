// Refusals that settle on the event loop's next turn (see `rejectAfterTurn`).
/**
 * A promise rejected with `error` on the event loop's next turn, not in this one's microtasks:
 * a caller that retries in a loop until a call succeeds (`while (…) try { await cache.get(k) }
 * catch {}`) gives the loop a turn each time, and the reconnection in the background — its
 * timers, its socket — runs. Rejected at once, such a loop spun on the refusals forever with the
 * server back; refused for the bytes in flight, it never let the replies that free them be read.
 * For such refusals only (a connection, node or primary known down, a client offline, the cap on
 * bytes in flight): a call then waits a turn, not a server.
 */
export function rejectAfterTurn(error: Error): Promise<never> {
  return new Promise((_, reject) => setImmediate(reject, error))
}

/**
 * A promise resolved with `value` on the event loop's next turn, as `rejectAfterTurn`: for a
 * batch refused whole, whose entries are its errors as values.
 */
export function resolveAfterTurn<T>(value: T): Promise<T> {
  return new Promise((resolve) => setImmediate(resolve, value))
}
