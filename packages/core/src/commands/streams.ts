// The stream commands of a `Cache` (django-cachex's `xadd` … `xautoclaim`, `xgroup_create`,
// `xinfo_stream`): field values go through the cache's codec, so a field holds any value the
// cache stores; field names, entry IDs, group and consumer names stay text, as hash fields do.
import { checkOptions, splitOptions, VERSION_ONLY } from '../_args.ts'
import { type CacheContext, contextOf, type Implementation } from '../_context.ts'
import { setOwn } from '../_own.ts'
import { isOne, toArray, toNumber, toPairs, toText } from '../_replies.ts'
import { describe } from '../_timeout.ts'
import type { VersionOption } from '../cache-options.ts'
import { InvalidArgumentError, ResponseError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'
import {
  checkBlock,
  checkId,
  checkName,
  entriesOf,
  fieldPairs,
  liveEntries,
  nonNegative,
  optionalCount,
  pendingSummary,
  positive,
  streamInfo,
  streamOffsets,
  trimArguments,
} from './_stream-args.ts'
import type {
  StreamEntry,
  StreamInfo,
  StreamOffsets,
  StreamRead,
  StreamTrimOptions,
  XAddOptions,
  XAutoClaimIdsResult,
  XAutoClaimOptions,
  XAutoClaimResult,
  XClaimOptions,
  XGroupCreateOptions,
  XPendingEntry,
  XPendingRangeOptions,
  XPendingSummary,
  XRangeOptions,
  XReadGroupOptions,
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
  /**
   * Creates consumer group `group` on the stream; resolves `true`. Rejects with a
   * `ResponseError` when the group exists (`BUSYGROUP`) or, without `mkstream`, when the
   * stream does not.
   */
  xgroupCreate(key: string, group: string, options?: XGroupCreateOptions): Promise<boolean>
  /** Destroys consumer group `group`; resolves whether it existed. */
  xgroupDestroy(key: string, group: string, options?: VersionOption): Promise<boolean>
  /**
   * Reads as `consumer` of `group`: `'>'` for entries never delivered to the group (they become
   * pending until `xack`), another ID for this consumer's pending entries after it (those
   * deleted from the stream meanwhile are listed in `deletedIds`). Resolves as `xread`;
   * `version` applies to every key.
   */
  xreadgroup<T = unknown>(
    group: string,
    consumer: string,
    streams: StreamOffsets,
    options?: XReadGroupOptions,
  ): Promise<StreamRead<T>[]>
  /**
   * Acknowledges entries of `group`; resolves how many were pending. A last argument that is an
   * object is the options.
   */
  xack(key: string, group: string, ...ids: string[] | [...string[], VersionOption]): Promise<number>
  /**
   * The pending entries of `group`: a summary, or with `count` one record per entry (from
   * `start` to `end`, of `consumer` only, idle for at least `idle` ms).
   */
  xpending(key: string, group: string, options?: VersionOption): Promise<XPendingSummary>
  xpending(key: string, group: string, options: XPendingRangeOptions): Promise<XPendingEntry[]>
  /**
   * Gives `consumer` the pending entries `ids` that have been idle for at least `minIdleTime`
   * milliseconds; resolves the entries claimed (their IDs only with `justid`).
   */
  xclaim<T = unknown>(
    key: string,
    group: string,
    consumer: string,
    minIdleTime: number,
    ids: readonly string[],
    options?: XClaimOptions & { justid?: false },
  ): Promise<StreamEntry<T>[]>
  xclaim(
    key: string,
    group: string,
    consumer: string,
    minIdleTime: number,
    ids: readonly string[],
    options: XClaimOptions & { justid: true },
  ): Promise<string[]>
  /**
   * Gives `consumer` the pending entries idle for at least `minIdleTime` milliseconds, scanning
   * from `start`; call again from `nextId` until it is `'0-0'`.
   */
  xautoclaim<T = unknown>(
    key: string,
    group: string,
    consumer: string,
    minIdleTime: number,
    options?: XAutoClaimOptions & { justid?: false },
  ): Promise<XAutoClaimResult<T>>
  xautoclaim(
    key: string,
    group: string,
    consumer: string,
    minIdleTime: number,
    options: XAutoClaimOptions & { justid: true },
  ): Promise<XAutoClaimIdsResult>
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
const XREADGROUP_KEYS = ['count', 'block', 'noack', 'version'] as const
const XGROUP_CREATE_KEYS = ['id', 'mkstream', 'entriesRead', 'version'] as const
const XPENDING_KEYS = ['start', 'end', 'count', 'consumer', 'idle', 'version'] as const
const XCLAIM_KEYS = ['idle', 'time', 'retrycount', 'force', 'justid', 'lastid', 'version'] as const
const XAUTOCLAIM_KEYS = ['start', 'count', 'justid', 'version'] as const

const EMPTY_SUMMARY = (): XPendingSummary => ({
  count: 0,
  smallest: null,
  largest: null,
  consumers: [],
})

/** The stream commands, attached to `Cache`. */
export const streamCommands = {
  async xadd(
    key: string,
    fields: Record<string, unknown> | Map<string, unknown>,
    options: XAddOptions = {},
  ) {
    checkOptions(options, 'xadd', XADD_KEYS)
    const pairs = fieldPairs(fields)
    const id = options.id === undefined ? '*' : checkId(options.id, 'xadd', 'id')
    const trim = trimArguments(options, 'xadd', false)
    const context = contextOf(this)
    return context.run<string | null>(key, options, {
      access: 'write',
      build: (rkey) => {
        const args: RedisArgument[] = ['XADD', rkey]
        if (options.nomkstream === true) args.push('NOMKSTREAM')
        args.push(...trim, id)
        for (const [field, value] of pairs) args.push(field, context.codec.encode(value))
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
      convert: toNumber,
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
    const count = optionalCount(options.count, 'xread')
    if (count !== undefined) head.push('COUNT', count)
    const blockMs = checkBlock(options.block, 'xread')
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
      build: (rkey) => ['XTRIM', rkey, ...trim],
      convert: toNumber,
      fallback: 0,
    })
  },

  async xdel(key: string, ...ids: string[] | [...string[], VersionOption]) {
    const [names, options] = splitOptions(ids)
    checkOptions(options, 'xdel', VERSION_ONLY)
    for (const id of names) checkId(id, 'xdel', 'an ID')
    if (names.length === 0) return 0
    return contextOf(this).run(key, options, {
      access: 'write',
      build: (rkey) => ['XDEL', rkey, ...names],
      convert: toNumber,
      fallback: 0,
    })
  },

  async xgroupCreate(key: string, group: string, options: XGroupCreateOptions = {}) {
    checkOptions(options, 'xgroupCreate', XGROUP_CREATE_KEYS)
    checkName(group, 'xgroupCreate', 'group')
    const id = options.id === undefined ? '$' : checkId(options.id, 'xgroupCreate', 'id')
    const entriesRead =
      options.entriesRead === undefined
        ? undefined
        : nonNegative(options.entriesRead, 'xgroupCreate', 'entriesRead')
    return contextOf(this).run(key, options, {
      access: 'write',
      label: 'xgroupCreate',
      build: (rkey) => {
        const args: RedisArgument[] = ['XGROUP', 'CREATE', rkey, group, id]
        if (options.mkstream === true) args.push('MKSTREAM')
        if (entriesRead !== undefined) args.push('ENTRIESREAD', entriesRead)
        return args
      },
      convert: () => true,
      fallback: false,
    })
  },

  async xgroupDestroy(key: string, group: string, options?: VersionOption) {
    checkOptions(options, 'xgroupDestroy', VERSION_ONLY)
    checkName(group, 'xgroupDestroy', 'group')
    return contextOf(this).run(key, options, {
      access: 'write',
      label: 'xgroupDestroy',
      build: (rkey) => ['XGROUP', 'DESTROY', rkey, group],
      convert: isOne,
      fallback: false,
    })
  },

  async xreadgroup(
    group: string,
    consumer: string,
    streams: StreamOffsets,
    options: XReadGroupOptions = {},
  ) {
    checkOptions(options, 'xreadgroup', XREADGROUP_KEYS)
    checkName(group, 'xreadgroup', 'group')
    checkName(consumer, 'xreadgroup', 'consumer')
    const head: RedisArgument[] = ['XREADGROUP', 'GROUP', group, consumer]
    const count = optionalCount(options.count, 'xreadgroup')
    if (count !== undefined) head.push('COUNT', count)
    const blockMs = checkBlock(options.block, 'xreadgroup')
    if (blockMs !== undefined) head.push('BLOCK', String(blockMs))
    if (options.noack === true) head.push('NOACK')
    return readStreams(this, 'xreadgroup', 'write', head, streams, options, blockMs)
  },

  async xack(key: string, group: string, ...ids: string[] | [...string[], VersionOption]) {
    const [names, options] = splitOptions(ids)
    checkOptions(options, 'xack', VERSION_ONLY)
    checkName(group, 'xack', 'group')
    for (const id of names) checkId(id, 'xack', 'an ID')
    if (names.length === 0) return 0
    return contextOf(this).run(key, options, {
      access: 'write',
      build: (rkey) => ['XACK', rkey, group, ...names],
      convert: toNumber,
      fallback: 0,
    })
  },

  async xpending(
    key: string,
    group: string,
    options?: VersionOption | XPendingRangeOptions,
  ): Promise<XPendingSummary | XPendingEntry[]> {
    checkOptions(options, 'xpending', XPENDING_KEYS)
    checkName(group, 'xpending', 'group')
    const context = contextOf(this)
    const range = options as Partial<XPendingRangeOptions> | undefined
    if (range?.count === undefined) {
      for (const name of ['start', 'end', 'consumer', 'idle'] as const) {
        if (range?.[name] !== undefined) {
          throw new InvalidArgumentError(
            `xpending(): '${name}' selects entries of the extended form, which needs 'count' too`,
          )
        }
      }
      return context.run<XPendingSummary>(key, options, {
        access: 'read',
        build: (rkey) => ['XPENDING', rkey, group],
        convert: pendingSummary,
        fallback: EMPTY_SUMMARY(),
      })
    }
    const args: RedisArgument[] = []
    if (range.idle !== undefined) args.push('IDLE', nonNegative(range.idle, 'xpending', 'idle'))
    args.push(
      range.start === undefined ? '-' : checkId(range.start, 'xpending', 'start'),
      range.end === undefined ? '+' : checkId(range.end, 'xpending', 'end'),
      positive(range.count, 'xpending', 'count'),
    )
    if (range.consumer !== undefined) args.push(checkName(range.consumer, 'xpending', 'consumer'))
    return context.run<XPendingEntry[]>(key, options, {
      access: 'read',
      build: (rkey) => ['XPENDING', rkey, group, ...args],
      convert: (reply) =>
        toArray(reply).map((row) => {
          const [id, consumer, idle, deliveries] = toArray(row)
          return {
            id: toText(id),
            consumer: toText(consumer),
            idle: toNumber(idle),
            deliveries: toNumber(deliveries),
          }
        }),
      fallback: [],
    })
  },

  async xclaim(
    key: string,
    group: string,
    consumer: string,
    minIdleTime: number,
    ids: readonly string[],
    options: XClaimOptions = {},
  ) {
    checkOptions(options, 'xclaim', XCLAIM_KEYS)
    checkName(group, 'xclaim', 'group')
    checkName(consumer, 'xclaim', 'consumer')
    const minIdle = nonNegative(minIdleTime, 'xclaim', 'minIdleTime')
    if (!Array.isArray(ids) || ids.length === 0) {
      throw new InvalidArgumentError(
        `xclaim() needs a non-empty array of IDs, got ${describe(ids)}`,
      )
    }
    for (const id of ids) checkId(id, 'xclaim', 'an ID')
    const tail: RedisArgument[] = []
    if (options.idle !== undefined) tail.push('IDLE', nonNegative(options.idle, 'xclaim', 'idle'))
    if (options.time !== undefined) tail.push('TIME', nonNegative(options.time, 'xclaim', 'time'))
    if (options.retrycount !== undefined) {
      tail.push('RETRYCOUNT', nonNegative(options.retrycount, 'xclaim', 'retrycount'))
    }
    if (options.force === true) tail.push('FORCE')
    if (options.justid === true) tail.push('JUSTID')
    if (options.lastid !== undefined)
      tail.push('LASTID', checkId(options.lastid, 'xclaim', 'lastid'))
    const context = contextOf(this)
    const justid = options.justid === true
    return context.run<StreamEntry[] | string[]>(key, options, {
      access: 'write',
      build: (rkey) => ['XCLAIM', rkey, group, consumer, minIdle, ...ids, ...tail],
      convert: (reply) => (justid ? toArray(reply).map(toText) : liveEntries(context, reply, key)),
      fallback: [],
    })
  },

  async xautoclaim(
    key: string,
    group: string,
    consumer: string,
    minIdleTime: number,
    options: XAutoClaimOptions = {},
  ) {
    checkOptions(options, 'xautoclaim', XAUTOCLAIM_KEYS)
    checkName(group, 'xautoclaim', 'group')
    checkName(consumer, 'xautoclaim', 'consumer')
    const minIdle = nonNegative(minIdleTime, 'xautoclaim', 'minIdleTime')
    const start =
      options.start === undefined ? '0-0' : checkId(options.start, 'xautoclaim', 'start')
    const tail: RedisArgument[] = []
    const count = optionalCount(options.count, 'xautoclaim')
    if (count !== undefined) tail.push('COUNT', count)
    const justid = options.justid === true
    if (justid) tail.push('JUSTID')
    const context = contextOf(this)
    return context.run<XAutoClaimResult | XAutoClaimIdsResult>(key, options, {
      access: 'write',
      build: (rkey) => ['XAUTOCLAIM', rkey, group, consumer, minIdle, start, ...tail],
      convert: (reply) => {
        const [next, claimed, deleted] = toArray(reply)
        const nextId = toText(next)
        const deletedIds = toArray(deleted).map(toText)
        if (justid) return { nextId, ids: toArray(claimed).map(toText), deletedIds }
        const entries: StreamEntry[] = []
        for (const entry of entriesOf(context, claimed, key)) {
          // Redis 6.2 lists a deleted entry among the claimed ones, without fields.
          if (entry.fields === null) deletedIds.push(entry.id)
          else entries.push(entry)
        }
        return { nextId, entries, deletedIds }
      },
      fallback: justid
        ? { nextId: '0-0', ids: [], deletedIds: [] }
        : { nextId: '0-0', entries: [], deletedIds: [] },
    })
  },

  async xinfoStream(key: string, options?: VersionOption) {
    checkOptions(options, 'xinfoStream', VERSION_ONLY)
    const context = contextOf(this)
    try {
      return await context.run<StreamInfo | null>(key, options, {
        access: 'read',
        label: 'xinfoStream',
        build: (rkey) => ['XINFO', 'STREAM', rkey],
        convert: (reply) => streamInfo(context, reply, key),
        fallback: null,
      })
    } catch (error) {
      // A missing stream is an error reply of XINFO; a cache reports it as "nothing there".
      if (error instanceof ResponseError && /no such key/i.test(error.message)) return null
      throw error
    }
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
  const count = optionalCount(options?.count, method)
  const context = contextOf(cache)
  return context.run<StreamEntry[]>(key, options, {
    access: 'read',
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
async function readStreams(
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
  // Every Redis key up front: a bad key or version fails before anything is sent.
  const rkeys = offsets.map(([name]) => context.key(name, options))
  const userKeys = new Map<string, string>()
  for (let i = 0; i < rkeys.length; i++) userKeys.set(rkeys[i] as string, offsets[i]?.[0] as string)
  return context.run<StreamRead[]>(first, options, {
    access,
    blockMs,
    build: () => [...head, 'STREAMS', ...rkeys, ...offsets.map(([, id]) => id)],
    convert: (reply) => {
      const result: StreamRead[] = []
      // RESP2: [[key, entries], …]; RESP3 (a map, flattened): [key, entries, …].
      for (const [rkey, raw] of toPairs(reply)) {
        const name = userKeys.get(toText(rkey))
        if (name === undefined) continue
        const entries: StreamEntry[] = []
        const deletedIds: string[] = []
        for (const entry of entriesOf(context, raw, name)) {
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
