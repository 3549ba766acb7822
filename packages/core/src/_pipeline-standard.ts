// The standard API in a pipeline. The methods go through the value store (coalescing, a local
// tier, scripts run with EVALSHA), which sends at once: here each is a `context.run` command with
// the store's semantics (SET … PX/NX/XX, ≤ 0 deletes, the incr scripts), queued by the recorder.
// The many-key calls are in _pipeline-many.ts; what every entry is written with, in
// _pipeline-entry.ts.
import {
  checkOptions,
  incrArguments,
  setArguments,
  TIMEOUT_KEYS,
  timeoutArguments,
  VERSION_ONLY,
} from './_args.ts'
import { type CacheContext, contextOf } from './_context.ts'
import { INCR_NUMBER_SCRIPT, INCR_SCRIPT } from './_incr.ts'
import { encodeAt } from './_key-errors.ts'
import {
  checked,
  type Entry,
  type EntryPipe,
  type PipelineCommand,
  run,
  versionOf,
} from './_pipeline-entry.ts'
import { incrReply } from './_pipeline-incr.ts'
import { manyEntries } from './_pipeline-many.ts'
import { IncrRefused, PipelinedIncr } from './_pipeline-writes.ts'
import { isOne } from './_replies.ts'
import { timeoutToMs } from './_timeout.ts'
import type { IncrOptions, SetOptions, TimeoutOption, VersionOption } from './cache-options.ts'
import { decodeReplaced, setGetWrites } from './commands/_removed.ts'
import type { Script } from './script.ts'
import type { RedisArgument } from './types.ts'

// The entries' building blocks, where `_pipeline.ts` and `_pipeline-keys.ts` import them from.
export {
  checked,
  type Entry,
  type EntryPipe,
  type PipelineCommand,
  run,
  ttlOf,
  versionOf,
} from './_pipeline-entry.ts'

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

  ...manyEntries,

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
