// The standard API of a `Cache` (get, set, add, delete, the `many` forms, clear, hasKey, incr,
// touch, incrVersion) over the value store (the counters' bodies: `_counters.ts`; reading one
// value, `get`'s and `getOrSet`'s: `_read-value.ts`). Documented on `CacheLike`.
import {
  checkOptions,
  checkVersionOption,
  setArguments,
  TIMEOUT_KEYS,
  timeoutArguments,
  VERSION_ONLY,
} from '../_args.ts'
import { refuseGet, tooManyArguments } from '../_arity.ts'
import { type CacheContext, contextOf, type Implementation } from '../_context.ts'
import { failedEntry, storeError } from '../_key-errors.ts'
import { checkMapping, entriesUnreadable, keyList } from '../_many-args.ts'
import { isWrongType } from '../_messages.ts'
import { forInIsOwn, own } from '../_own.ts'
import { timeoutToMs } from '../_timeout.ts'
import type { CacheLike } from '../cache-like.ts'
import type { IncrOptions, SetOptions, TimeoutOption, VersionOption } from '../cache-options.ts'
import { globEscape } from '../key-function.ts'
import { addTo, moveVersion } from './_counters.ts'
import { measuredInto, observedGetMany, observedStore } from './_observed.ts'
import { getValue, readValue } from './_read-value.ts'
import { storedBeforeFailure, storedNewValue } from './_removed.ts'
import type { keyCommands } from './keys.ts'

/** What `setGet` resolves for a key that held no value, told apart from a stored `null`. */
const NO_OLD_VALUE: unique symbol = Symbol('no old value')

/**
 * The `set` events of a `setMany` of `keys`: one for each key `stored` says was, with its size
 * (`sizes`), unless the expiry `ms` (≤ 0) deleted them instead.
 */
function reportStored(
  context: CacheContext,
  keys: readonly string[],
  stored: readonly boolean[],
  sizes: readonly number[],
  ms: number | null,
): void {
  if (ms !== null && ms <= 0) return
  for (let i = 0; i < keys.length; i++) {
    if (stored[i]) {
      context.events.emit('set', { operation: 'setMany', key: keys[i] as string, bytes: sizes[i] })
    }
  }
}

/** What the class itself defines. */
type ClassMembers = 'makeKey' | 'makePattern' | 'close' | typeof Symbol.asyncDispose

/** The standard API over the value store: what `CacheLike` documents. */
export const standardCommands = {
  get(key: string, defaultValue?: unknown, options?: VersionOption): Promise<unknown> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    const given = arguments.length
    if (given > 3) return refuseGet(this, key, given)
    let context: CacheContext
    try {
      context = contextOf(this)
    } catch (error) {
      return Promise.reject(error)
    }
    // Timed here rather than by a wrapper (see _timing.ts): the one async function between the
    // caller and the store also emits the `operation` event, so a timed get costs no extra promise.
    const events = context.events
    if (events.timing && events.depth === 0 && context.recorder === undefined) {
      return getValue(context, key, defaultValue, options, 'get', true, performance.now())
    }
    return readValue(context, key, defaultValue, options, 'get')
  },

  async set(
    key: string,
    value: unknown,
    timeoutOrOptions?: number | null | SetOptions,
    options?: Omit<SetOptions, 'timeout'>,
  ): Promise<boolean | unknown> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    if (arguments.length > 4) throw tooManyArguments(this, 'set', 4, arguments.length)
    const context = contextOf(this)
    let get = false
    let rkey: string | undefined
    try {
      const [timeout, rest, condition, wantsOld] = setArguments(timeoutOrOptions, options)
      get = wantsOld
      if (get) {
        const ms = timeoutToMs(timeout, context.defaultTimeout)
        rkey = context.key(key, rest)
        if (!context.events.writes) {
          return await context.store.setGet(rkey, key, value, ms, condition)
        }
        const sizes: number[] = []
        let old: unknown
        try {
          old = await measuredInto(context, sizes, () =>
            context.store.setGet(rkey as string, key, value, ms, condition, NO_OLD_VALUE),
          )
        } catch (error) {
          // An old value it could not read rejects the call, but the new one is stored.
          if (storedNewValue(error)) {
            context.events.emit('set', { operation: 'set', key, bytes: sizes[0] })
          }
          throw error
        }
        // SET … GET stores unless its condition refused: nx stores where there was no value,
        // xx where there was one.
        const had = old !== NO_OLD_VALUE
        const stored = condition === undefined || (condition === 'nx') !== had
        if (stored && (ms === null || ms > 0)) {
          context.events.emit('set', { operation: 'set', key, bytes: sizes[0] })
        }
        return had ? old : null
      }
      if (context.events.writes) {
        const ms = timeoutToMs(timeout, context.defaultTimeout)
        return await observedStore(
          context,
          'set',
          key,
          value,
          ms,
          context.key(key, rest),
          condition,
        )
      }
      return await context.storeValue(key, value, timeout, rest, condition)
    } catch (error) {
      if (rkey !== undefined && isWrongType(error)) {
        // SET … GET reads the old value: a key of another type refuses it, as `get` words it.
        return context.fail(await context.wrongType(error, 'set', key, rkey), null, 'set')
      }
      // The store has the Redis key only: a value it could not encode is named here (`SET …
      // GET` names it itself, and its errors may be the old value's, which name it too).
      return context.fail(get ? error : storeError(error, key), get ? null : false, 'set')
    }
  },

  async add(
    key: string,
    value: unknown,
    timeoutOrOptions?: number | null | TimeoutOption,
    options?: VersionOption,
  ): Promise<boolean> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    if (arguments.length > 4) throw tooManyArguments(this, 'add', 4, arguments.length)
    const context = contextOf(this)
    try {
      const [timeout, rest] = timeoutArguments('add', timeoutOrOptions, options, TIMEOUT_KEYS)
      if (context.events.writes) {
        const ms = timeoutToMs(timeout, context.defaultTimeout)
        return await observedStore(context, 'add', key, value, ms, context.key(key, rest), 'nx')
      }
      return await context.storeValue(key, value, timeout, rest, 'nx')
    } catch (error) {
      return context.fail(storeError(error, key), false, 'add')
    }
  },

  async delete(key: string, options?: VersionOption): Promise<boolean> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    if (arguments.length > 2) throw tooManyArguments(this, 'delete', 2, arguments.length)
    const context = contextOf(this)
    try {
      const deleted = await context.store.delete(context.key(key, options, 'delete'))
      if (context.events.writes) context.events.emit('delete', { operation: 'delete', key })
      return deleted
    } catch (error) {
      return context.fail(error, false, 'delete')
    }
  },

  async getMany(keys: Iterable<string>, options?: VersionOption): Promise<Map<string, unknown>> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    if (arguments.length > 2) throw tooManyArguments(this, 'getMany', 2, arguments.length)
    const context = contextOf(this)
    try {
      const list = keyList(keys, 'getMany') as string[]
      checkOptions(options, 'getMany', VERSION_ONLY)
      if (list.length === 0) return new Map()
      const version = checkVersionOption(own(options, 'version')) ?? context.version
      const rkeys = context.makeKeys(list, version)
      if (context.events.reads) return await observedGetMany(context, list, rkeys)
      return await context.store.getMany(list, rkeys)
    } catch (error) {
      return context.fail(error, new Map(), 'getMany')
    }
  },

  async setMany(
    entries: Record<string, unknown> | Map<string, unknown>,
    timeoutOrOptions?: number | null | TimeoutOption,
    versionOptions?: VersionOption,
  ): Promise<string[]> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    if (arguments.length > 3) throw tooManyArguments(this, 'setMany', 3, arguments.length)
    const context = contextOf(this)
    let keys: string[] = []
    // The sizes of the values written, when a `set` listener wants them; and their expiry.
    let sizes: number[] | undefined
    let ms: number | null = null
    try {
      const [timeout, options] = timeoutArguments(
        'setMany',
        timeoutOrOptions,
        versionOptions,
        TIMEOUT_KEYS,
      )
      let values: unknown[]
      try {
        checkMapping(entries, 'setMany', 'keys to values')
        if (entries instanceof Map) {
          keys = [...entries.keys()]
          values = [...entries.values()]
        } else if (forInIsOwn(entries)) {
          values = []
          for (const key in entries) {
            keys.push(key)
            values.push(entries[key])
          }
        } else {
          keys = Object.keys(entries)
          values = new Array(keys.length)
          for (let i = 0; i < keys.length; i++) values[i] = entries[keys[i] as string]
        }
      } catch (error) {
        // The caller's own object failed (a getter, a revoked Proxy): not an outage for
        // ignoreExceptions to hide, as for `keyList`.
        throw entriesUnreadable(error)
      }
      if (keys.length === 0) return []
      ms = timeoutToMs(timeout, context.defaultTimeout)
      const expiry = ms
      const version = checkVersionOption(own(options, 'version')) ?? context.version
      const rkeys = context.makeKeys(keys, version)
      let stored: boolean[]
      if (context.events.writes) {
        sizes = []
        stored = await measuredInto(context, sizes, () =>
          context.store.setMany(rkeys, values, expiry),
        )
        reportStored(context, keys, stored, sizes, ms)
      } else {
        stored = await context.store.setMany(rkeys, values, ms)
      }
      return stored.includes(false) ? keys.filter((_, i) => !stored[i]) : []
    } catch (caught) {
      // A value the store could not encode (it has the Redis keys only) is named here.
      const entry = failedEntry(caught)
      const error = entry === undefined ? caught : storeError(caught, keys[entry] as string)
      // A pipeline that failed part way says which of its writes were stored; otherwise no key
      // is known to be.
      const stored = storedBeforeFailure(error)
      if (stored === undefined) return context.fail(error, keys, 'setMany')
      if (sizes !== undefined) reportStored(context, keys, stored, sizes, ms)
      return context.fail(
        error,
        keys.filter((_, i) => !stored[i]),
        'setMany',
      )
    }
  },

  async deleteMany(keys: Iterable<string>, options?: VersionOption): Promise<number> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    if (arguments.length > 2) throw tooManyArguments(this, 'deleteMany', 2, arguments.length)
    const context = contextOf(this)
    try {
      checkOptions(options, 'deleteMany', VERSION_ONLY)
      const version = checkVersionOption(own(options, 'version')) ?? context.version
      const list = keyList(keys, 'deleteMany') as string[]
      const rkeys = context.makeKeys(list, version)
      if (rkeys.length === 0) return 0
      const deleted = await context.store.deleteMany(rkeys)
      if (context.events.writes) {
        for (const key of list) context.events.emit('delete', { operation: 'deleteMany', key })
      }
      return deleted
    } catch (error) {
      return context.fail(error, 0, 'deleteMany')
    }
  },

  async clear(): Promise<void> {
    const context = contextOf(this)
    try {
      if (context.keyPrefix === '') {
        await context.store.flush()
        return
      }
      // Every version: `<prefix>:*`, or the user's key function's pattern with the version `*`.
      const pattern = context.defaultKeys
        ? `${globEscape(context.keyPrefix)}:*`
        : context.makePattern('*', '*' as unknown as number)
      await context.store.deleteMatching(pattern, context.itersize)
    } catch (error) {
      return context.fail(error, undefined, 'clear')
    }
  },

  async hasKey(key: string, options?: VersionOption): Promise<boolean> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    if (arguments.length > 2) throw tooManyArguments(this, 'hasKey', 2, arguments.length)
    const context = contextOf(this)
    try {
      return await context.store.has(context.key(key, options, 'hasKey'))
    } catch (error) {
      return context.fail(error, false, 'hasKey')
    }
  },

  incr(
    key: string,
    delta: number | bigint = 1,
    options?: IncrOptions,
  ): Promise<number | bigint | null> {
    // biome-ignore lint/complexity/noArguments: its count, free (a wrapper is not: _arity.ts)
    const given = arguments.length
    if (given > 3) return Promise.reject(tooManyArguments(this, 'incr', 3, given))
    return addTo(this, key, delta, options, 'incr')
  },

  decr(key: string, delta: number | bigint = 1, options?: IncrOptions) {
    return addTo(this, key, delta, options, 'decr')
  },

  async touch(
    key: string,
    timeoutOrOptions?: number | null | TimeoutOption,
    versionOptions?: VersionOption,
  ): Promise<boolean> {
    const context = contextOf(this)
    try {
      const [timeout, options] = timeoutArguments(
        'touch',
        timeoutOrOptions,
        versionOptions,
        TIMEOUT_KEYS,
      )
      const ms = timeoutToMs(timeout, context.defaultTimeout)
      return await context.store.touch(context.key(key, options), ms)
    } catch (error) {
      return context.fail(error, false, 'touch')
    }
  },

  incrVersion(key: string, delta = 1, options?: VersionOption): Promise<number | null> {
    return moveVersion(this, key, delta, options, 'incrVersion')
  },

  decrVersion(key: string, delta = 1, options?: VersionOption): Promise<number | null> {
    return moveVersion(this, key, delta, options, 'decrVersion')
  },
} satisfies Implementation<Omit<CacheLike, ClassMembers | 'getOrSet' | keyof typeof keyCommands>>
