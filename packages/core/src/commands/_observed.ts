// The standard reads and writes as they run when someone listens to `hit`/`miss` or `set`/`delete`
// (`cache.on()`): where found and not found are known, and what was stored. A cache nobody
// listens to never enters this file (each method checks one boolean of `context.events` first).
import type { CacheContext } from '../_context.ts'
import { LocalTier, MISS } from '../_local-tier.ts'
import type { SetCondition } from '../_value-store.ts'
import type { VersionOption } from '../cache-options.ts'

/**
 * The value at `key`, or `fallback` when it is missing, reporting a `hit` (with `local` when the
 * local tier served it) or a `miss` for `operation`. The store is asked with `MISS` as its
 * fallback, which it returns exactly when the key does not exist: a stored value equal to the
 * caller's default still counts as a hit.
 */
export async function observedGet(
  context: CacheContext,
  key: string,
  fallback: unknown,
  options: VersionOption | undefined,
  operation: string,
): Promise<unknown> {
  const rkey = context.key(key, options, 'get')
  const store = context.store
  const events = context.events
  if (store instanceof LocalTier) {
    // What the tier holds now, it serves now: `store.get` below would find the same.
    const held = store.peek(rkey)
    if (held !== MISS) {
      events.emit('hit', { operation, key, local: true })
      return held
    }
  }
  return reportRead(context, operation, key, await store.get(rkey, key, MISS), fallback)
}

/**
 * What a read of `key` from Redis resolves, reported: a `miss` and `fallback` when the store gave
 * `MISS` (asked with it as its fallback), else a `hit` and the value.
 */
export function reportRead(
  context: CacheContext,
  operation: string,
  key: string,
  value: unknown,
  fallback: unknown,
): unknown {
  if (value === MISS) {
    context.events.emit('miss', { operation, key })
    return fallback
  }
  context.events.emit('hit', { operation, key, local: false })
  return value
}

/**
 * `getMany` reporting a `hit` or a `miss` per key. With a local tier, the keys it holds are
 * served (and reported `local`) here, the others read from Redis in one command, as the tier's
 * own `getMany` does.
 */
export async function observedGetMany(
  context: CacheContext,
  keys: readonly string[],
  rkeys: readonly string[],
): Promise<Map<string, unknown>> {
  const store = context.store
  const events = context.events
  if (!(store instanceof LocalTier)) {
    const found = await store.getMany(keys, rkeys)
    reportFound(context, keys, found)
    return found
  }
  const held = new Map<string, unknown>()
  const missingKeys: string[] = []
  const missingRkeys: string[] = []
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const value = store.peek(rkeys[i] as string)
    if (value === MISS) {
      missingKeys.push(key)
      missingRkeys.push(rkeys[i] as string)
    } else {
      held.set(key, value)
      events.emit('hit', { operation: 'getMany', key, local: true })
    }
  }
  if (missingKeys.length === 0) return held
  const rest = await store.getMany(missingKeys, missingRkeys)
  reportFound(context, missingKeys, rest)
  if (held.size === 0) return rest
  // In the order of `keys`, as without listeners.
  const ordered = new Map<string, unknown>()
  for (const key of keys) {
    if (held.has(key)) ordered.set(key, held.get(key))
    else if (rest.has(key)) ordered.set(key, rest.get(key))
  }
  return ordered
}

function reportFound(context: CacheContext, keys: readonly string[], found: Map<string, unknown>) {
  const events = context.events
  for (const key of keys) {
    if (found.has(key)) events.emit('hit', { operation: 'getMany', key, local: false })
    else events.emit('miss', { operation: 'getMany', key })
  }
}

/**
 * Runs `write` (a store call that encodes its values synchronously, before its first `await`)
 * and resolves what it resolves, with the sizes of the values it encoded, in bytes, in order.
 */
export async function measured<T>(
  context: CacheContext,
  write: () => Promise<T>,
): Promise<[T, number[]]> {
  const sizes: number[] = []
  return [await measuredInto(context, sizes, write), sizes]
}

/**
 * `measured`, the sizes pushed onto `sizes` as `write` encodes them: the caller still has them
 * when `write` rejects after storing (`set(…, { get: true })` over an old value it cannot read, a
 * `setMany` that stored some of its keys).
 */
export async function measuredInto<T>(
  context: CacheContext,
  sizes: number[],
  write: () => Promise<T>,
): Promise<T> {
  const outer = context.encoded
  context.encoded = sizes
  let pending: Promise<T>
  try {
    pending = write()
  } finally {
    context.encoded = outer
  }
  return pending
}

/**
 * `context.storeValue` reporting a `set` (with the value's size) for `operation` when the value
 * was stored: a write that stored nothing (`nx` on an existing key, a timeout ≤ 0, which deletes)
 * reports nothing.
 */
export async function observedStore(
  context: CacheContext,
  operation: string,
  key: string,
  value: unknown,
  ms: number | null,
  rkey: string,
  condition: SetCondition | undefined,
): Promise<boolean> {
  const [stored, sizes] = await measured(context, () =>
    context.store.set(rkey, value, ms, condition),
  )
  if (stored && (ms === null || ms > 0)) {
    context.events.emit('set', { operation, key, bytes: sizes[0] })
  }
  return stored
}
