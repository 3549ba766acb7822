// The stream commands of a `Cache` (django-cachex's `xadd` … `xautoclaim`, `xgroup_create`,
// `xinfo_stream`): field values go through the cache's codec, so a field holds any value the
// cache stores; field names, entry IDs, group and consumer names stay text, as hash fields do.
import { checkOptions, flagOption, splitOptions, VERSION_ONLY } from '../_args.ts'
import { contextOf, type Implementation } from '../_context.ts'
import { encodeAt } from '../_key-errors.ts'
import { own } from '../_own.ts'
import { answered } from '../_pipeline-families.ts'
import { integerReply, toPairs, toText } from '../_replies.ts'
import type { VersionOption } from '../cache-options.ts'
import { InvalidArgumentError, ResponseError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'
import {
  checkBlock,
  checkEntryId,
  checkId,
  checkNewId,
  entriesOf,
  fieldPairs,
  liveEntries,
  optionalCount,
  streamInfo,
  streamOffsets,
  trimArguments,
} from './_stream-args.ts'
import type {
  StreamEntry,
  StreamInfo,
  StreamOffsets,
  StreamRead,
  XAddOptions,
  XRangeOptions,
  XReadOptions,
  XTrimOptions,
} from './stream-types.ts'

/** The stream commands of a `Cache`. */
export interface StreamCommands {
  /**
   * Appends an entry; resolves its ID, or `null` with `nomkstream` when the stream does not
   * exist. `fields` is a plain object or a `Map` of field names to values (any value the cache
   * stores). `maxlen` / `minid` trim the stream in the same call.
   */
  xadd(
    key: string,
    fields: Record<string, unknown> | Map<string, unknown>,
    options?: XAddOptions,
  ): Promise<string | null>
  /** How many entries the stream has (0 for a missing key). */
  xlen(key: string, options?: VersionOption): Promise<number>
  /** The entries from `start` to `end` (inclusive; `'-'` and `'+'` are the ends, `'('` excludes). */
  xrange<T = unknown>(
    key: string,
    start?: string,
    end?: string,
    options?: XRangeOptions,
  ): Promise<StreamEntry<T>[]>
  /** The entries from `end` down to `start`, newest first. */
  xrevrange<T = unknown>(
    key: string,
    end?: string,
    start?: string,
    options?: XRangeOptions,
  ): Promise<StreamEntry<T>[]>
  /**
   * Reads the entries after the given ID of each stream (`'$'`: only entries added from now on,
   * with `block`); resolves one `{ key, entries }` per stream that had entries, in the order
   * given, keyed by the user's key (`[]` when none had any, also when `block` ran out).
   * `version` applies to every key. On a cluster the streams must share a hash slot.
   */
  xread<T = unknown>(streams: StreamOffsets, options?: XReadOptions): Promise<StreamRead<T>[]>
  /** Trims the stream (`maxlen` or `minid` required); resolves how many entries were removed. */
  xtrim(key: string, options: XTrimOptions): Promise<number>
  /**
   * Deletes entries by ID; resolves how many existed. A last argument that is an object is the
   * options: `xdel(key, id1, id2, { version: 2 })`.
   */
  xdel(key: string, ...ids: string[] | [...string[], VersionOption]): Promise<number>
  /** What Redis tells of the stream (`XINFO STREAM`), or `null` when there is no such key. */
  xinfoStream<T = unknown>(key: string, options?: VersionOption): Promise<StreamInfo<T> | null>
}

const XADD_KEYS = [
  'id',
  'maxlen',
  'minid',
  'approximate',
  'limit',
  'nomkstream',
  'version',
] as const
const XTRIM_KEYS = ['maxlen', 'minid', 'approximate', 'limit', 'version'] as const
const XRANGE_KEYS = ['count', 'version'] as const
const XREAD_KEYS = ['count', 'block', 'version'] as const

/** The stream commands, attached to `Cache`. */
export const streamCommands = {
  async xadd(
    key: string,
    fields: Record<string, unknown> | Map<string, unknown>,
    options: XAddOptions = {},
  ) {
    checkOptions(options, 'xadd', XADD_KEYS)
    const pairs = fieldPairs(fields)
    const id = own(options, 'id') === undefined ? '*' : checkNewId(own(options, 'id'), 'xadd', 'id')
    const trim = trimArguments(options, 'xadd', false)
    const context = contextOf(this)
    return context.run<string | null>(key, options, {
      access: 'write',
      label: 'xadd',
      build: (rkey) => {
        const args: RedisArgument[] = ['XADD', rkey]
        if (flagOption(own(options, 'nomkstream'), 'xadd', 'nomkstream')) args.push('NOMKSTREAM')
        args.push(...trim, id)
        for (const [field, value] of pairs) {
          args.push(field, encodeAt(context.codec, value, key, field))
        }
        return args
      },
      convert: (reply) => (reply === null || reply === undefined ? null : toText(reply)),
      fallback: null,
    })
  },

  xlen(key: string, options?: VersionOption) {
    return contextOf(this).run(key, options, {
      method: 'xlen',
      access: 'read',
      build: (rkey) => ['XLEN', rkey],
      convert: integerReply,
      fallback: 0,
    })
  },

  xrange(key: string, start = '-', end = '+', options?: XRangeOptions) {
    return range(this, 'XRANGE', key, start, end, options)
  },

  xrevrange(key: string, end = '+', start = '-', options?: XRangeOptions) {
    return range(this, 'XREVRANGE', key, end, start, options)
  },

  async xread(streams: StreamOffsets, options: XReadOptions = {}) {
    checkOptions(options, 'xread', XREAD_KEYS)
    const head: RedisArgument[] = ['XREAD']
    const count = optionalCount(own(options, 'count'), 'xread')
    if (count !== undefined) head.push('COUNT', count)
    const blockMs = checkBlock(own(options, 'block'), 'xread')
    if (blockMs !== undefined) head.push('BLOCK', String(blockMs))
    return readStreams(this, 'xread', 'read', head, streams, options, blockMs)
  },

  async xtrim(key: string, options: XTrimOptions) {
    if (options === undefined) {
      throw new InvalidArgumentError('xtrim() needs options with maxlen or minid')
    }
    checkOptions(options, 'xtrim', XTRIM_KEYS)
    const trim = trimArguments(options, 'xtrim', true)
    return contextOf(this).run(key, options, {
      access: 'write',
      label: 'xtrim',
      build: (rkey) => ['XTRIM', rkey, ...trim],
      convert: integerReply,
      fallback: 0,
    })
  },

  async xdel(key: string, ...ids: string[] | [...string[], VersionOption]) {
    const [names, options] = splitOptions(ids)
    checkOptions(options, 'xdel', VERSION_ONLY)
    for (const id of names) checkEntryId(id, 'xdel', 'an ID')
    if (names.length === 0) return answered(this, 0)
    return contextOf(this).run(key, options, {
      access: 'write',
      label: 'xdel',
      build: (rkey) => ['XDEL', rkey, ...names],
      convert: integerReply,
      fallback: 0,
    })
  },

  async xinfoStream(key: string, options?: VersionOption) {
    checkOptions(options, 'xinfoStream', VERSION_ONLY)
    const context = contextOf(this)
    return context.run<StreamInfo | null>(key, options, {
      access: 'read',
      label: 'xinfoStream',
      // Field names as bytes: one that is not UTF-8 is refused, as the reads of entries do.
      bytes: true,
      build: (rkey) => ['XINFO', 'STREAM', rkey],
      convert: (reply) => streamInfo(context, reply, key),
      fallback: null,
      // A missing stream is an error reply of XINFO; a cache reports it as "nothing there".
      answers: (error) => error instanceof ResponseError && /no such key/i.test(error.message),
    })
  },
} satisfies Implementation<StreamCommands>

/** `xrange` / `xrevrange`: the entries between two IDs. */
async function range(
  cache: object,
  command: 'XRANGE' | 'XREVRANGE',
  key: string,
  from: string,
  to: string,
  options: XRangeOptions | undefined,
): Promise<StreamEntry[]> {
  const method = command.toLowerCase()
  checkOptions(options, method, XRANGE_KEYS)
  checkId(from, method, command === 'XRANGE' ? 'start' : 'end')
  checkId(to, method, command === 'XRANGE' ? 'end' : 'start')
  const count = optionalCount(own(options, 'count'), method)
  const context = contextOf(cache)
  return context.run<StreamEntry[]>(key, options, {
    access: 'read',
    label: method,
    bytes: true,
    build: (rkey) =>
      count === undefined ? [command, rkey, from, to] : [command, rkey, from, to, 'COUNT', count],
    convert: (reply) => liveEntries(context, reply, key),
    fallback: [],
  })
}

/**
 * `xread` / `xreadgroup`: `head` (the command and its options) then `STREAMS`, the Redis keys
 * and the IDs; the reply's streams are put back under the user's keys.
 */
export async function readStreams(
  cache: object,
  method: string,
  access: 'read' | 'write',
  head: RedisArgument[],
  streams: StreamOffsets,
  options: VersionOption,
  blockMs: number | undefined,
): Promise<StreamRead[]> {
  const offsets = streamOffsets(streams, method)
  const context = contextOf(cache)
  const [first] = offsets[0] as [string, string]
  const userKeys = new Map<string, string>()
  return context.run<StreamRead[]>(first, options, {
    access,
    label: method,
    blockMs,
    bytes: true,
    // Every Redis key before anything is sent; a bad key or version goes through the error
    // policy (and its `error` event), as the first key's would.
    build: () => {
      const rkeys = offsets.map(([name]) => context.key(name, options))
      for (let i = 0; i < rkeys.length; i++) {
        userKeys.set(rkeys[i] as string, offsets[i]?.[0] as string)
      }
      return [...head, 'STREAMS', ...rkeys, ...offsets.map(([, id]) => id)]
    },
    convert: (reply) => {
      const result: StreamRead[] = []
      // The entries of every stream read decompress under one budget.
      const budget = context.budget()
      // RESP2: [[key, entries], …]; RESP3 (a map, flattened): [key, entries, …].
      for (const [rkey, raw] of toPairs(reply)) {
        const name = userKeys.get(toText(rkey))
        if (name === undefined) continue
        const entries: StreamEntry[] = []
        const deletedIds: string[] = []
        for (const entry of entriesOf(context, raw, name, budget)) {
          if (entry.fields === null) deletedIds.push(entry.id)
          else entries.push(entry)
        }
        result.push(
          deletedIds.length === 0 ? { key: name, entries } : { key: name, entries, deletedIds },
        )
      }
      return result
    },
    fallback: [],
  })
}
