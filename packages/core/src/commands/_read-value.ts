// Reading one value (`get`, and `getOrSet`'s reads): a local tier's hit answered with no async
// function between the caller and the tier, anything else through the value store, with the
// `hit`/`miss` events, the error policy, and (for a timed `get`) the `operation` event.
import type { CacheContext } from '../_context.ts'
import { LocalTier, MISS } from '../_local-tier.ts'
import { isWrongType } from '../_messages.ts'
import { emitOperation } from '../_timing.ts'
import type { VersionOption } from '../cache-options.ts'
import { observedGet, reportRead } from './_observed.ts'

/**
 * `get`: the value at `key`, or `defaultValue` (`null` when `undefined`) when it is missing.
 * `operation` names the method for events and errors; `observe: false` reports no `hit` or
 * `miss` (getOrSet's second look at a key it already reported). `getOrSet` reads through this.
 */
export function readValue(
  context: CacheContext,
  key: string,
  defaultValue: unknown,
  options: VersionOption | undefined,
  operation: string,
  observe = true,
): Promise<unknown> {
  try {
    const store = context.store
    // A local tier hit is answered here, with the one promise the caller awaits: no async
    // function, no await of the store. Anything else (options, an odd key, a key function that
    // throws, a miss, a `hit` listener) takes the path below, which applies the error policy.
    if (
      store instanceof LocalTier &&
      options === undefined &&
      typeof key === 'string' &&
      !(observe && context.events.reads)
    ) {
      const value = store.peek(context.hotKey(key))
      if (value !== MISS) return Promise.resolve(value)
    }
  } catch {
    // The path below runs the key function again and reports its error.
  }
  return getValue(context, key, defaultValue, options, operation, observe)
}

/**
 * `readValue` through the value store (a local tier's miss, or no tier). With a `start` time
 * (`performance.now()`), it also emits the call's `operation` event when it settles.
 */
export async function getValue(
  context: CacheContext,
  key: string,
  defaultValue: unknown,
  options: VersionOption | undefined,
  operation: string,
  observe: boolean,
  start = -1,
): Promise<unknown> {
  const fallback = defaultValue === undefined ? null : defaultValue
  let value: unknown
  try {
    if (observe && context.events.reads) {
      const store = context.store
      if (store instanceof LocalTier) {
        value = await observedGet(context, key, fallback, options, operation)
      } else {
        // Without a tier, read here: one async function between the caller and the store.
        const found = await store.get(context.key(key, options, 'get'), key, MISS)
        value = reportRead(context, operation, key, found, fallback)
      }
    } else {
      value = await context.store.get(context.key(key, options, 'get'), key, fallback)
    }
  } catch (caught) {
    const error = isWrongType(caught)
      ? await context.wrongType(caught, operation, key, context.key(key, options, 'get'))
      : caught
    if (start < 0) return context.fail(error, fallback, operation)
    try {
      value = context.fail(error, fallback, operation)
    } catch (failure) {
      emitOperation(context, operation, start, key, true, failure)
      throw failure
    }
  }
  if (start >= 0) emitOperation(context, operation, start, key, false, undefined)
  return value
}
