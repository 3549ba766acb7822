// The store calls on each cache still in flight, for `disconnect()`: a call may send some of its
// commands later than when it was made (a read waiting for its place among the reads in flight,
// a getMany's later batches, setMany's later groups), and sent after close() they were refused
// (misses, false) where the cache answers every call made before it.
import type { CacheLike } from '@cachex/core'

/**
 * The calls in flight of every store on each cache: a store's `disconnect()` waits for those of
 * the others too (two Keyvs of two namespaces on one cache, each with `closeOnDisconnect`).
 */
const calls = new WeakMap<CacheLike, Set<Promise<unknown>>>()

/** `call()`, counted among the calls on `cache` in flight until it settles. */
export function trackCall<T>(cache: CacheLike, call: () => Promise<T>): Promise<T> {
  let inFlight = calls.get(cache)
  if (inFlight === undefined) {
    inFlight = new Set()
    calls.set(cache, inFlight)
  }
  const promise = call()
  const set = inFlight
  set.add(promise)
  promise.then(
    () => set.delete(promise),
    () => set.delete(promise),
  )
  return promise
}

/**
 * Settles once the calls on `cache` made before it are answered. Keyv calls its store a few
 * microtasks after it was called (its setMany serializes first): the calls are taken once those
 * have run — once: calls made after are not waited for, or a reader that keeps calling would
 * hold it for ever.
 */
export async function callsMadeBefore(cache: CacheLike): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve))
  await Promise.allSettled([...(calls.get(cache) ?? [])])
}
