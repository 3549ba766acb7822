// The standard API in a pipeline. The methods go through the value store (coalescing, a local
// tier, scripts run with EVALSHA), which sends at once: here each is a `context.run` command with
// the store's semantics (SET … PX/NX/XX, ≤ 0 deletes, the incr scripts), queued by the recorder.
import {
  checkMapping,
  checkOptions,
  checkVersionOption,
  incrArguments,
  keyList,
  setArguments,
  TIMEOUT_KEYS,
  timeoutArguments,
  VERSION_ONLY,
} from './_args.ts'
import { type CacheContext, type CommandWithFallback, contextOf } from './_context.ts'
import { INCR_NUMBER_SCRIPT, INCR_SCRIPT } from './_incr.ts'
import { encodeAt } from './_key-errors.ts'
import { incrReply } from './_pipeline-incr.ts'
import { type IncrLink, IncrRefused, PipelinedIncr } from './_pipeline-writes.ts'
import { integerReply, isOne, mgetReplies } from './_replies.ts'
import { timeoutToMs } from './_timeout.ts'
import type { CacheLike } from './cache-like.ts'
import type { IncrOptions, SetOptions, TimeoutOption, VersionOption } from './cache-options.ts'
import { decodeReplaced, setGetWrites } from './commands/_removed.ts'
import type { Script } from './script.ts'
import type { RedisArgument } from './types.ts'

/**
 * A `context.run` command as the standard API's pipeline entries give it: with what to do with an
 * error before the policy sees it (a method that handles some errors itself).
 */
export interface PipelineCommand<T> extends CommandWithFallback<T> {
  /**
   * The call's result for `error` (a reply error, or one `convert` threw) when the method handles
   * it itself; `undefined` leaves it to the policy.
   */
  onError?(error: unknown): Promise<T> | undefined
  /** An `incr` outside a transaction: told when the pipeline is sent. */
  incr?: IncrLink | undefined
}

/** What an entry needs of the pipeline it is queued on (`CachePipeline`). */
export interface EntryPipe {
  /** The cache the calls are made on. */
  readonly cache: CacheLike
  /** Whether the pipeline is a transaction. */
  readonly transaction: boolean
  /**
   * Notes that the call being queued failed before it queued a command (bad arguments, by
   * `checked()`): a transaction then waits for its error and sends nothing, while a call that
   * queued nothing without this note resolved its value, and is not waited for.
   */
  refuse(): void
}

export type Entry = (pipe: EntryPipe, ...args: never[]) => Promise<unknown>

/** `{ version }` of checked options, for `context.run` (which checks nothing more). */
export function versionOf(options: VersionOption | undefined): VersionOption | undefined {
  const version = checkVersionOption(options?.version)
  return version === undefined ? undefined : { version }
}

/** One command on `key`, read or written, with a converter and `fallback`. */
export function run<T>(
  context: CacheContext,
  key: string,
  options: VersionOption | undefined,
  label: string,
  access: 'read' | 'write',
  build: (rkey: string) => RedisArgument[],
  convert: (reply: unknown) => T,
  fallback: T,
): Promise<T> {
  const command: CommandWithFallback<T> = { label, access, build, convert, fallback }
  return context.run(key, options, command)
}

/**
 * One command that writes every key of `rkeys` (`MSET`, `UNLINK`), routed by the first: each is
 * named to the local tier, which drops what it holds for them as the method alone would.
 */
function runWritingAll<T>(
  context: CacheContext,
  first: string,
  options: VersionOption,
  label: string,
  rkeys: readonly string[],
  build: () => RedisArgument[],
  convert: (reply: unknown) => T,
  fallback: T,
): Promise<T> {
  const command: PipelineCommand<T> = {
    label,
    access: 'write',
    build,
    convert,
    fallback,
    alsoWrites: rkeys.slice(1),
  }
  return context.run(first, options, command)
}

/**
 * A call checked before it is queued: its error is the call's result (under the policy), and is
 * noted on `pipe` as it is thrown (`refuse`), so that a transaction knows at once that it must
 * not send.
 */
export function checked<T>(
  pipe: EntryPipe,
  context: CacheContext,
  method: string,
  fallback: T,
  queue: () => Promise<T>,
): Promise<T> {
  try {
    return queue()
  } catch (error) {
    pipe.refuse()
    return Promise.resolve().then(() => context.fail(error, fallback, method))
  }
}

/** `set`/`add`: SET with PX and NX/XX; a timeout ≤ 0 deletes (or, with NX, checks absence). */
function storeValue(
  context: CacheContext,
  label: string,
  key: string,
  value: unknown,
  timeout: number | null | undefined,
  options: VersionOption | undefined,
  condition: 'nx' | 'xx' | undefined,
): Promise<boolean> {
  const ms = timeoutToMs(timeout, context.defaultTimeout)
  const version = versionOf(options)
  // Encoded now, as the method does before anything is sent: a value it cannot store is refused
  // even where the timeout would only delete the key (as `cache.set` and django-redis do).
  const data = encodeAt(context.codec, value, key)
  if (ms !== null && ms <= 0) {
    if (condition === 'nx') {
      return run(
        context,
        key,
        version,
        label,
        'read',
        (k) => ['EXISTS', k],
        (r) => r === 0,
        false,
      )
    }
    return run(context, key, version, label, 'write', (k) => ['UNLINK', k], isOne, false)
  }
  const build = (rkey: string): RedisArgument[] => {
    const args: RedisArgument[] = ['SET', rkey, data]
    if (ms !== null) args.push('PX', String(ms))
    if (condition === 'nx') args.push('NX')
    else if (condition === 'xx') args.push('XX')
    return args
  }
  return run(context, key, version, label, 'write', build, (r) => r !== null, false)
}

/** `set` with `get: true`: `SET … GET` (`GETDEL`, or `GET` with nx, for a timeout ≤ 0), decoded. */
function setGet(
  context: CacheContext,
  key: string,
  value: unknown,
  timeout: number | null | undefined,
  options: VersionOption | undefined,
  condition: 'nx' | 'xx' | undefined,
): Promise<unknown> {
  const ms = timeoutToMs(timeout, context.defaultTimeout)
  const data = encodeAt(context.codec, value, key)
  const build = (rkey: string): RedisArgument[] => {
    if (ms !== null && ms <= 0) return [condition === 'nx' ? 'GET' : 'GETDEL', rkey]
    const args: RedisArgument[] = ['SET', rkey, data]
    if (ms !== null) args.push('PX', String(ms))
    if (condition === 'nx') args.push('NX')
    else if (condition === 'xx') args.push('XX')
    args.push('GET')
    return args
  }
  const written = setGetWrites(ms, condition)
  return context.run<unknown>(key, versionOf(options), {
    label: 'set',
    access: 'write',
    build,
    // Read as bytes: an old value the codec cannot read was replaced or deleted all the same,
    // and is given back as the stored bytes (`decodeReplaced`), which text may not hold.
    bytes: true,
    convert: (reply) => decodeReplaced(context, reply, key, written),
    fallback: null,
  })
}

/**
 * What a TTL/PTTL reply means: `null` never expires, `0` no such key. A reply of another type
 * rejects (`integerReply`), as the method's does.
 */
export function ttlOf(reply: unknown): number | null {
  const t = integerReply(reply)
  return t === -1 ? null : t === -2 ? 0 : t
}

/**
 * `incr` and `decr` (`method`), queued: `given` added to the integer at `key`, or subtracted. The
 * delta is checked as the caller gave it, and `method` names the call in its errors.
 */
function incr(
  pipe: EntryPipe,
  key: string,
  given: number | bigint,
  options: IncrOptions | undefined,
  method: 'incr' | 'decr',
): Promise<unknown> {
  const context = contextOf(pipe.cache)
  return checked<number | bigint | null>(pipe, context, method, null, () => {
    const asNumber = incrArguments(given, options, method)
    const delta = method === 'incr' ? given : -given
    // EVAL, not EVALSHA: a NOSCRIPT retry would run after the commands queued behind it.
    const script: Script = asNumber ? INCR_NUMBER_SCRIPT : INCR_SCRIPT
    const convert = incrReply(context, key, asNumber, method, pipe.transaction)
    // A transaction has run already when its replies are read: the error stays.
    const link = pipe.transaction
      ? undefined
      : new PipelinedIncr(context, key, delta, asNumber, method)
    const command: PipelineCommand<number | bigint | null> = {
      label: method,
      access: 'write',
      build: (rkey) => ['EVAL', script.source, '1', rkey, String(delta)],
      // Answered: no longer under way (a fallback is, until it settles).
      convert:
        link === undefined
          ? convert
          : (reply) => {
              const value = convert(reply)
              link.end()
              return value
            },
      fallback: null,
      incr: link,
      // INCRBY refuses a value that is not an integer's digits (a float, a pickled number): the
      // method then reads, adds and writes back, which a pipeline does after the batch.
      onError: (error) => {
        if (link === undefined) return undefined
        if (error instanceof IncrRefused) {
          return link.fallBack(error.refused, () => pipe.cache[method](key, given, options))
        }
        link.end()
        return undefined
      },
    }
    return context.run(key, versionOf(options), command)
  })
}

/** The standard API's queueing functions, by method name. */
export const standardEntries: Record<string, Entry> = {
  get(pipe: EntryPipe, key: string, defaultValue?: unknown, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    const fallback = defaultValue === undefined ? null : defaultValue
    return checked(pipe, context, 'get', fallback, () => {
      checkOptions(options, 'get', VERSION_ONLY)
      const convert = (r: unknown) => (r === null ? fallback : context.decode(r, key))
      return run(
        context,
        key,
        versionOf(options),
        'get',
        'read',
        (k) => ['GET', k],
        convert,
        fallback,
      )
    })
  },

  set(
    pipe: EntryPipe,
    key: string,
    value: unknown,
    timeoutOrOptions?: number | null | SetOptions,
    options?: Omit<SetOptions, 'timeout'>,
  ) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'set', false, () => {
      const [timeout, rest, condition, get] = setArguments(timeoutOrOptions, options)
      if (get) return setGet(context, key, value, timeout, rest, condition) as Promise<boolean>
      return storeValue(context, 'set', key, value, timeout, rest, condition)
    })
  },

  add(
    pipe: EntryPipe,
    key: string,
    value: unknown,
    timeoutOrOptions?: number | null | TimeoutOption,
    options?: VersionOption,
  ) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'add', false, () => {
      const [timeout, rest] = timeoutArguments('add', timeoutOrOptions, options, TIMEOUT_KEYS)
      return storeValue(context, 'add', key, value, timeout, rest, 'nx')
    })
  },

  delete(pipe: EntryPipe, key: string, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'delete', false, () => {
      checkOptions(options, 'delete', VERSION_ONLY)
      return run(
        context,
        key,
        versionOf(options),
        'delete',
        'write',
        (k) => ['UNLINK', k],
        isOne,
        false,
      )
    })
  },

  hasKey(pipe: EntryPipe, key: string, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'hasKey', false, () => {
      checkOptions(options, 'hasKey', VERSION_ONLY)
      return run(
        context,
        key,
        versionOf(options),
        'hasKey',
        'read',
        (k) => ['EXISTS', k],
        isOne,
        false,
      )
    })
  },

  getMany(pipe: EntryPipe, keys: Iterable<string>, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'getMany', new Map<string, unknown>(), () => {
      const list = keyList(keys, 'getMany') as string[]
      checkOptions(options, 'getMany', VERSION_ONLY)
      const version = checkVersionOption(options?.version) ?? context.version
      const rkeys = context.makeKeys(list, version)
      const first = list[0]
      if (first === undefined) return Promise.resolve(new Map<string, unknown>())
      const convert = (reply: unknown) => {
        const replies = mgetReplies(reply, rkeys.length)
        const found = new Map<string, unknown>()
        // The pipeline's budget (`CacheContext.sharedBudget`), as the method's own getMany has one.
        const budget = context.budget()
        for (let i = 0; i < list.length; i++) {
          const r = replies[i]
          const k = list[i] as string
          if (r !== null && r !== undefined && !found.has(k)) {
            found.set(k, context.decode(r, k, undefined, budget))
          }
        }
        return found
      }
      const build = (): RedisArgument[] => ['MGET', ...rkeys]
      return run(context, first, { version }, 'getMany', 'read', build, convert, new Map())
    })
  },

  setMany(
    pipe: EntryPipe,
    entries: Record<string, unknown> | Map<string, unknown>,
    timeoutOrOptions?: number | null | TimeoutOption,
    versionOptions?: VersionOption,
  ) {
    const context = contextOf(pipe.cache)
    const keys =
      entries instanceof Map
        ? [...entries.keys()]
        : typeof entries === 'object' && entries !== null
          ? Object.keys(entries)
          : []
    return checked<string[]>(pipe, context, 'setMany', keys, () => {
      checkMapping(entries, 'setMany', 'keys to values')
      const [timeout, options] = timeoutArguments(
        'setMany',
        timeoutOrOptions,
        versionOptions,
        TIMEOUT_KEYS,
      )
      const values =
        entries instanceof Map
          ? [...entries.values()]
          : keys.map((k) => (entries as Record<string, unknown>)[k])
      const first = keys[0]
      if (first === undefined) return Promise.resolve([])
      const ms = timeoutToMs(timeout, context.defaultTimeout)
      const version = checkVersionOption(options?.version) ?? context.version
      const rkeys = context.makeKeys(keys, version)
      const data = values.map((value, i) => encodeAt(context.codec, value, keys[i] as string))
      const v = { version }
      if (ms !== null && ms <= 0) {
        const build = (): RedisArgument[] => ['UNLINK', ...rkeys]
        return runWritingAll(context, first, v, 'setMany', rkeys, build, () => [], keys)
      }
      if (ms === null) {
        const build = (): RedisArgument[] => [
          'MSET',
          ...rkeys.flatMap((k, i) => [k, data[i] as RedisArgument]),
        ]
        return runWritingAll(context, first, v, 'setMany', rkeys, build, () => [], keys)
      }
      // One SET … PX per key, each routed by its own key.
      const px = String(ms)
      const sets = keys.map((k, i) =>
        run(
          context,
          k,
          v,
          'setMany',
          'write',
          (rkey) => ['SET', rkey, data[i] as RedisArgument, 'PX', px],
          () => true,
          false,
        ),
      )
      return Promise.all(sets).then((stored) => keys.filter((_, i) => !stored[i]))
    })
  },

  deleteMany(pipe: EntryPipe, keys: Iterable<string>, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'deleteMany', 0, () => {
      checkOptions(options, 'deleteMany', VERSION_ONLY)
      const list = keyList(keys, 'deleteMany') as string[]
      const version = checkVersionOption(options?.version) ?? context.version
      const rkeys = context.makeKeys(list, version)
      const first = list[0]
      if (first === undefined) return Promise.resolve(0)
      const build = (): RedisArgument[] => ['UNLINK', ...rkeys]
      return runWritingAll(context, first, { version }, 'deleteMany', rkeys, build, integerReply, 0)
    })
  },

  incr(pipe: EntryPipe, key: string, delta: number | bigint = 1, options?: IncrOptions) {
    return incr(pipe, key, delta, options, 'incr')
  },

  decr(pipe: EntryPipe, key: string, delta: number | bigint = 1, options?: IncrOptions) {
    return incr(pipe, key, delta, options, 'decr')
  },

  touch(
    pipe: EntryPipe,
    key: string,
    timeoutOrOptions?: number | null | TimeoutOption,
    versionOptions?: VersionOption,
  ) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'touch', false, () => {
      const [timeout, options] = timeoutArguments(
        'touch',
        timeoutOrOptions,
        versionOptions,
        TIMEOUT_KEYS,
      )
      const ms = timeoutToMs(timeout, context.defaultTimeout)
      const v = versionOf(options)
      if (ms === null) {
        // PERSIST answers 0 for a key without expiry too: EXISTS says whether it exists.
        const persist = run(context, key, v, 'touch', 'write', (k) => ['PERSIST', k], isOne, false)
        const exists = run(context, key, v, 'touch', 'read', (k) => ['EXISTS', k], isOne, false)
        return Promise.all([persist, exists]).then(([, found]) => found)
      }
      return run(context, key, v, 'touch', 'write', (k) => ['PEXPIRE', k, String(ms)], isOne, false)
    })
  },
}
