// `getOrSet` of a plain value (no factory, no stampede option): read and stored in one command,
// sent in call order.
import type { CacheContext } from '../_context.ts'
import { LocalTier, MISS } from '../_local-tier.ts'
import { isNoPerm, isWriteRefused, isWrongType } from '../_messages.ts'
import { timeoutToMs } from '../_timeout.ts'
import type { VersionOption } from '../cache-options.ts'
import { measuredInto } from './_observed.ts'

/** `setGet`'s answer when the key held no value. */
const MISSING: unique symbol = Symbol('missing')

/** What `addOrRead` resolves when it sent nothing (the value, or the key, could not be made). */
export const NOT_SENT: unique symbol = Symbol('not sent')

/** What `getOrSet` stores: a value, or a function that computes it (maybe async). */
export type Factory<T> = T | (() => T | Promise<T>)

/**
 * Whether `valueOrFactory` is a value itself: not a factory, not a promise (or other thenable)
 * that `await` would wait on. Such a value is known before anything is sent.
 */
export function isPlainValue<T>(valueOrFactory: Factory<T>): valueOrFactory is T {
  if (typeof valueOrFactory === 'function') return false
  if (typeof valueOrFactory !== 'object' || valueOrFactory === null) return true
  return typeof (valueOrFactory as { then?: unknown }).then !== 'function'
}

/**
 * `getOrSet` of a plain value without stampede options, in one command sent in call order
 * (`SET key value NX GET`, with `PX`): the value the key held (a hit), or, on a miss, `value`,
 * stored. A read and then an add would send the add behind the calls made after the call (a
 * `delete` in the same tick would find nothing to delete, and the value would come back). A
 * timeout ≤ 0 stores nothing (the store sends `GET`), as `add` does. A hit held by the local tier
 * is answered from it; otherwise the write goes through it, as `set`'s. `NOT_SENT` when the value
 * (or the key) could not be made, before anything was sent, or when Redis refused the write and
 * ran none of it (`OOM`, `NOREPLICAS`…: a read still runs): the caller then takes the two-step
 * path, which answers and fails as it always has (a hit answers the value held; a value that
 * cannot be encoded rejects on a miss only, naming the key).
 */
export async function addOrRead<T>(
  context: CacheContext,
  key: string,
  value: T,
  timeout: number | null | undefined,
  at: VersionOption | undefined,
): Promise<T | typeof NOT_SENT> {
  const store = context.store
  const events = context.events
  const sizes: number[] = []
  let rkey: string
  let ms: number | null
  let sent: Promise<unknown>
  try {
    rkey = context.key(key, at)
    if (store instanceof LocalTier) {
      const held = store.peek(rkey)
      if (held !== MISS) {
        if (events.reads) events.emit('hit', { operation: 'getOrSet', key, local: true })
        return held as T
      }
    }
    ms = timeoutToMs(timeout, context.defaultTimeout)
    const target = rkey
    sent = measuredInto(context, sizes, () => store.setGet(target, key, value, ms, 'nx', MISSING))
  } catch {
    return NOT_SENT
  }
  let old: unknown
  try {
    old = await sent
  } catch (caught) {
    // Nothing sent, or a write Redis refused and ran nothing of, its read part included (a
    // server that takes no writes, or an ACL user who may read only): the two-step path reads (a
    // hit answers the value held) and adds only on a miss.
    if (sizes.length === 0 || isWriteRefused(caught) || isNoPerm(caught)) return NOT_SENT
    const error = isWrongType(caught)
      ? await context.wrongType(caught, 'getOrSet', key, rkey)
      : caught
    // Under ignoreExceptions the value is the answer, as when its add fails.
    return context.fail(error, value, 'getOrSet')
  }
  if (old !== MISSING) {
    if (events.reads) events.emit('hit', { operation: 'getOrSet', key, local: false })
    return old as T
  }
  if (events.reads) events.emit('miss', { operation: 'getOrSet', key })
  if (events.writes && (ms === null || ms > 0)) {
    events.emit('set', { operation: 'getOrSet', key, bytes: sizes[0] })
  }
  return value
}
