// The many-key calls of the standard API in a pipeline (getMany, setMany, deleteMany): one
// `MGET`, `MSET` or `UNLINK` routed by the first key (or one `SET … PX` per key), each key named
// to the local tier as the method would, queued by the recorder as in `_pipeline-standard.ts`.
import {
  checkOptions,
  checkVersionOption,
  TIMEOUT_KEYS,
  timeoutArguments,
  VERSION_ONLY,
} from './_args.ts'
import { type CacheContext, contextOf } from './_context.ts'
import { encodeAt } from './_key-errors.ts'
import { checkMapping, entriesUnreadable, keyList } from './_many-args.ts'
import { own } from './_own.ts'
import {
  checked,
  type Entry,
  type EntryPipe,
  type PipelineCommand,
  run,
} from './_pipeline-entry.ts'
import { integerReply, mgetReplies } from './_replies.ts'
import { timeoutToMs } from './_timeout.ts'
import type { TimeoutOption, VersionOption } from './cache-options.ts'
import type { RedisArgument } from './types.ts'

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

/** The many-key calls' queueing functions, by method name (a part of `standardEntries`). */
export const manyEntries: Record<string, Entry> = {
  getMany(pipe: EntryPipe, keys: Iterable<string>, options?: VersionOption) {
    const context = contextOf(pipe.cache)
    return checked(pipe, context, 'getMany', new Map<string, unknown>(), () => {
      const list = keyList(keys, 'getMany') as string[]
      checkOptions(options, 'getMany', VERSION_ONLY)
      const version = checkVersionOption(own(options, 'version')) ?? context.version
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
    // The keys, for the answer of an ignored error (none when the entries cannot be read: the
    // refusal below is never ignored).
    const keys: string[] = []
    return checked<string[]>(pipe, context, 'setMany', keys, () => {
      const values: unknown[] = []
      try {
        checkMapping(entries, 'setMany', 'keys to values')
        const pairs = entries instanceof Map ? entries : Object.entries(entries)
        for (const [key, value] of pairs) {
          keys.push(key)
          values.push(value)
        }
      } catch (error) {
        throw entriesUnreadable(error)
      }
      const [timeout, options] = timeoutArguments(
        'setMany',
        timeoutOrOptions,
        versionOptions,
        TIMEOUT_KEYS,
      )
      const first = keys[0]
      if (first === undefined) return Promise.resolve([])
      const ms = timeoutToMs(timeout, context.defaultTimeout)
      const version = checkVersionOption(own(options, 'version')) ?? context.version
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
      const version = checkVersionOption(own(options, 'version')) ?? context.version
      const rkeys = context.makeKeys(list, version)
      const first = list[0]
      if (first === undefined) return Promise.resolve(0)
      const build = (): RedisArgument[] => ['UNLINK', ...rkeys]
      return runWritingAll(context, first, { version }, 'deleteMany', rkeys, build, integerReply, 0)
    })
  },
}
