// `operation` events: the duration of every public method call. Nothing of this runs until the
// first `operation` listener is added: then each public method of the cache gets an instance
// property (shadowing the prototype's method) that times the call, and the last listener removed
// takes them off again, so a cache nobody times runs the prototype's methods untouched.
import type { CacheContext } from './_context.ts'
import { InvalidArgumentError } from './errors.ts'
import type { CacheOperationEvent } from './events.ts'

/**
 * Methods that are no operation of their own: synchronous helpers, `close`, and the factories of
 * objects whose methods are not timed (`lock()`, `semaphore()`; `pipeline()` and `transaction()`
 * are timed by their `exec()`).
 */
export const UNTIMED: ReadonlySet<string> = new Set([
  'constructor',
  'makeKey',
  'makePattern',
  'localStats',
  'lock',
  'semaphore',
  'close',
  'on',
  'off',
])

/** The methods that build a pipeline: the `exec()` of what they return is timed. */
const PIPELINES: ReadonlySet<string> = new Set(['pipeline', 'transaction'])
/** Methods on no key. */
const NO_KEY: ReadonlySet<string> = new Set([
  'clear',
  'keys',
  'iterKeys',
  'deletePattern',
  'info',
  'slowlogGet',
  'slowlogLen',
  'slowlogReset',
  'clearAllVersions',
])
/** Methods on two keys (a source and a destination). */
const TWO_KEYS: ReadonlySet<string> = new Set(['rename', 'renamenx', 'lmove', 'blmove', 'smove'])
/** Methods whose arguments are keys (then options). */
const VARIADIC: ReadonlySet<string> = new Set([
  'sdiff',
  'sinter',
  'sunion',
  'sdiffstore',
  'sinterstore',
  'sunionstore',
])
/**
 * Methods taking an iterable of keys first, which may be consumed once: counted as the method
 * iterates it (see `countingKeys`).
 */
const KEY_LISTS: ReadonlySet<string> = new Set(['getMany', 'deleteMany'])

type Method = (...args: unknown[]) => unknown

/**
 * Puts a timed version of each of `names` on `cache` (an own property); returns the function that
 * takes them off, restoring any own property that was there before. A property that is no longer
 * the timed version (the user set the method, spied on it or restored a spy meanwhile) is left as
 * it is. A method in `selfTimed` emits its own `operation` event (`get`, with `emitOperation`)
 * and is left as it is. A cache that takes no own properties (`Object.freeze`, `Object.seal`,
 * `Object.preventExtensions`) throws `InvalidArgumentError`, and one that refuses one of them
 * midway has the ones put already taken off: all of them or none.
 */
export function timeMethods(
  cache: object,
  context: CacheContext,
  names: readonly string[],
  selfTimed: ReadonlySet<unknown>,
): () => void {
  const target = cache as Record<string, unknown>
  // By name: the own property there before (if any) and the timed version put in its place.
  const saved = new Map<string, { before: PropertyDescriptor | undefined; wrapped: Method }>()
  const untime = () => {
    for (const [name, { before, wrapped }] of saved) {
      // What the user put there while timed (`cache.set = …`, `vi.spyOn`, a spy's
      // `mockRestore()`) is theirs: taking it off would drop their method or bring back an old one.
      if (Object.getOwnPropertyDescriptor(cache, name)?.value !== wrapped) continue
      if (before === undefined) delete target[name]
      // Copied without a prototype: an inherited `get` would make it an accessor descriptor.
      else Object.defineProperty(cache, name, { __proto__: null, ...before } as PropertyDescriptor)
    }
  }
  const refused = (why: string) =>
    new InvalidArgumentError(
      `cache.on('operation'): ${why}, and an operation listener times its methods by putting a wrapper on the cache instance (see docs/telemetry.md): add the listener before freezing the cache`,
    )
  if (!Object.isExtensible(cache)) throw refused('the cache is frozen, sealed or not extensible')
  try {
    wrapAll()
  } catch {
    untime()
    throw refused('a method of the cache instance cannot be redefined')
  }
  return untime

  function wrapAll(): void {
    for (const name of names) {
      if (UNTIMED.has(name)) continue
      const original = target[name]
      if (typeof original !== 'function' || selfTimed.has(original)) continue
      const wrapped = PIPELINES.has(name)
        ? timedPipeline(context, name, original as Method)
        : timed(context, name, original as Method)
      saved.set(name, { before: Object.getOwnPropertyDescriptor(cache, name), wrapped })
      Object.defineProperty(cache, name, {
        __proto__: null,
        value: wrapped,
        writable: true,
        configurable: true,
        enumerable: false,
      } as PropertyDescriptor)
    }
  }
}

/** `original`, emitting one `operation` event when its promise settles (or its iteration ends). */
function timed(context: CacheContext, name: string, original: Method): Method {
  // What the method's arguments are is known from its name: looked up once, not per call.
  const shape = shapeOf(name)
  const listFirst = KEY_LISTS.has(name)
  return function (this: unknown, ...args: unknown[]): unknown {
    const events = context.events
    // A public method called by another (getOrSet's reads) or queued by a pipeline is not an operation.
    if (events.depth > 0 || context.recorder !== undefined) return original.apply(this, args)
    const first = args[0]
    // A method on a list of keys names none, also when handed a string (which it refuses).
    const key = shape !== 'none' && !listFirst && typeof first === 'string' ? first : undefined
    // Telemetry never changes what a call does: a list of keys is counted as the method itself
    // iterates it (once: a generator can be read only once), and whatever is no list the method
    // gets untouched, for its own checks to refuse (a string, read as keys, would name one key
    // per character).
    const counted = listFirst ? countingKeys(first) : undefined
    if (counted !== undefined) args[0] = counted.keys
    const keyCount = listFirst ? () => counted?.count ?? listLength(first) : countKeys(shape, args)
    const start = performance.now()
    let result: unknown
    events.depth++
    try {
      result = original.apply(this, args)
    } catch (error) {
      emitTimed(context, name, start, keyCount, key, true, error)
      throw error
    } finally {
      events.depth--
    }
    if (isPromiseLike(result)) {
      return result.then(
        (value) => {
          emitTimed(context, name, start, keyCount, key, false, undefined)
          return value
        },
        (error: unknown) => {
          emitTimed(context, name, start, keyCount, key, true, error)
          throw error
        },
      )
    }
    if (isAsyncIterable(result)) {
      return timedIterable(result, (from, failed, error) =>
        emitTimed(context, name, from, keyCount, key, failed, error),
      )
    }
    emitTimed(context, name, start, keyCount, key, false, undefined)
    return result
  }
}

/**
 * `keys` as an iterable that counts what it yields, for a method on a list of keys that is no
 * array (a `Set`, a generator…): the method iterates it as it would `keys` — once, each step
 * and each error of the caller's iterator passed on as they come — and `count` is then the
 * number of keys. `undefined` for anything else (an array, counted by its length; a string or
 * anything not iterable, left for the method to refuse), and for an object whose iterator
 * cannot even be read: the method meets that as it would without telemetry.
 */
function countingKeys(keys: unknown): { keys: Iterable<unknown>; count: number } | undefined {
  // As the methods' `keyList`: only an object is taken for a list of keys.
  if (typeof keys !== 'object' || keys === null) return undefined
  let iterate: unknown
  try {
    // A revoked Proxy throws from `Array.isArray` too.
    if (Array.isArray(keys)) return undefined
    iterate = (keys as Partial<Iterable<unknown>>)[Symbol.iterator]
  } catch {
    return undefined
  }
  if (typeof iterate !== 'function') return undefined
  const counted = {
    count: 0,
    keys: {
      [Symbol.iterator](): Iterator<unknown> {
        const inner = (iterate as () => Iterator<unknown>).call(keys)
        return {
          next(...args: [] | [unknown]) {
            const step = inner.next(...args)
            if (step !== null && typeof step === 'object' && step.done !== true) counted.count++
            return step
          },
          return(value?: unknown) {
            return inner.return === undefined ? { done: true, value } : inner.return(value)
          },
          throw(error?: unknown) {
            if (inner.throw === undefined) throw error
            return inner.throw(error)
          },
        }
      },
    },
  }
  return counted
}

/** The keys of an array (no list of keys else: the call is refused, about none). */
function listLength(keys: unknown): number {
  try {
    return Array.isArray(keys) ? keys.length : 0
  } catch {
    // A Proxy that cannot be read: the method refuses it, about no key.
    return 0
  }
}

/** `pipeline()` / `transaction()`, whose `exec()` is timed: one operation of `length` calls. */
function timedPipeline(context: CacheContext, name: string, original: Method): Method {
  return function (this: unknown, ...args: unknown[]): unknown {
    const pipe = original.apply(this, args) as { exec(): Promise<unknown>; length: number }
    const exec = pipe.exec
    Object.defineProperty(pipe, 'exec', {
      __proto__: null,
      value: () => {
        const keyCount = pipe.length
        const start = performance.now()
        return exec.call(pipe).then(
          (value) => {
            emitTimed(context, name, start, keyCount, undefined, false, undefined)
            return value
          },
          (error: unknown) => {
            emitTimed(context, name, start, keyCount, undefined, true, error)
            throw error
          },
        )
      },
      writable: true,
      configurable: true,
    } as PropertyDescriptor)
    return pipe
  }
}

/**
 * Emits the `operation` event of a call on one `key` that started at `start`
 * (`performance.now()`): for the methods that time themselves (`get`), without a wrapper.
 */
export function emitOperation(
  context: CacheContext,
  operation: string,
  start: number,
  key: unknown,
  failed: boolean,
  error: unknown,
): void {
  const isKey = typeof key === 'string'
  emitTimed(context, operation, start, isKey ? 1 : 0, isKey ? key : undefined, failed, error)
}

function emitTimed(
  context: CacheContext,
  operation: string,
  start: number,
  keyCount: number | (() => number),
  key: string | undefined,
  failed: boolean,
  error: unknown,
): void {
  const durationMs = performance.now() - start
  const event: CacheOperationEvent = {
    operation,
    durationMs,
    // The wall clock now, less the duration: `performance.timeOrigin + start` drifts from
    // `Date.now()` (CI saw it 4 ms early in a process a few minutes old).
    startTime: Date.now() - durationMs,
    // A list of keys is counted once the method has read it.
    keyCount: typeof keyCount === 'function' ? keyCount() : keyCount,
  }
  if (key !== undefined) event.key = key
  if (failed) event.error = error
  context.events.emit('operation', event)
}

/**
 * How a method's arguments name its keys: none (`clear`, `keys`…), one first (most methods; or a
 * list, map or object of keys, as `getMany`, `setMany`), a source and a destination (`rename`,
 * `lmove`…), or keys then options (`sinter`…).
 */
type Shape = 'none' | 'one' | 'two' | 'variadic'

function shapeOf(name: string): Shape {
  if (NO_KEY.has(name)) return 'none'
  if (TWO_KEYS.has(name)) return 'two'
  if (VARIADIC.has(name)) return 'variadic'
  return 'one'
}

/** How many keys a call is about. */
function countKeys(shape: Shape, args: unknown[]): number {
  if (shape === 'none') return 0
  const first = args[0]
  if (typeof first === 'string') {
    if (shape === 'two') return 2
    if (shape === 'variadic') {
      let n = 0
      for (const arg of args) if (typeof arg === 'string') n++
      return n
    }
    return 1
  }
  if (first === null || typeof first !== 'object') return 0
  try {
    if (Array.isArray(first)) return first.length
    if (first instanceof Map) return first.size
    return Object.keys(first).length
  } catch {
    // A Proxy that cannot be read, or refuses to list its keys: the method meets that itself.
    return 0
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  )
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  )
}

/**
 * `iterable`, timed: each iteration is one operation, from its start (`for await` asking for the
 * iterator) until it ends — done, left early (`break`: `return()`), or failed.
 */
function timedIterable<T>(
  iterable: AsyncIterable<T>,
  finish: (start: number, failed: boolean, error: unknown) => void,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const start = performance.now()
      const iterator = iterable[Symbol.asyncIterator]()
      let ended = false
      const end = (failed: boolean, error?: unknown) => {
        if (ended) return
        ended = true
        finish(start, failed, error)
      }
      return {
        async next(...args: [] | [unknown]) {
          try {
            const step = await iterator.next(...args)
            if (step.done === true) end(false)
            return step
          } catch (error) {
            end(true, error)
            throw error
          }
        },
        async return(value?: unknown) {
          try {
            return iterator.return === undefined
              ? { done: true, value: value as T }
              : await iterator.return(value)
          } finally {
            end(false)
          }
        },
        async throw(error?: unknown) {
          try {
            if (iterator.throw === undefined) throw error
            return await iterator.throw(error)
          } finally {
            end(true, error)
          }
        },
      }
    },
  }
}
