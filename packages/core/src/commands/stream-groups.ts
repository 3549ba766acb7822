// The consumer-group commands of a stream (django-cachex's `xgroup_create` … `xautoclaim`):
// groups, consumers and pending entries. Entries are read and decoded as `streams.ts` reads them.
import { checkOptions, flagOption, splitOptions, VERSION_ONLY } from '../_args.ts'
import { contextOf, type Implementation } from '../_context.ts'
import { own } from '../_own.ts'
import { answered } from '../_pipeline-families.ts'
import { integerReply, isOne, toArray, toText } from '../_replies.ts'
import { describe } from '../_timeout.ts'
import type { VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'
import {
  checkBlock,
  checkEntryId,
  checkId,
  checkName,
  entriesOf,
  liveEntries,
  nonNegative,
  optionalCount,
  pendingSummary,
  positive,
} from './_stream-args.ts'
import type {
  StreamEntry,
  StreamOffsets,
  StreamRead,
  XAutoClaimIdsResult,
  XAutoClaimOptions,
  XAutoClaimResult,
  XClaimOptions,
  XGroupCreateOptions,
  XPendingEntry,
  XPendingRangeOptions,
  XPendingSummary,
  XReadGroupOptions,
} from './stream-types.ts'
import { readStreams } from './streams.ts'

/** The consumer-group commands of a `Cache`'s streams. */
export interface StreamGroupCommands {
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
}

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

/** The consumer-group commands, attached to `Cache`. */
export const streamGroupCommands = {
  async xgroupCreate(key: string, group: string, options: XGroupCreateOptions = {}) {
    checkOptions(options, 'xgroupCreate', XGROUP_CREATE_KEYS)
    checkName(group, 'xgroupCreate', 'group')
    const id =
      own(options, 'id') === undefined ? '$' : checkId(own(options, 'id'), 'xgroupCreate', 'id')
    const entriesRead =
      own(options, 'entriesRead') === undefined
        ? undefined
        : nonNegative(own(options, 'entriesRead'), 'xgroupCreate', 'entriesRead')
    return contextOf(this).run(key, options, {
      access: 'write',
      label: 'xgroupCreate',
      build: (rkey) => {
        const args: RedisArgument[] = ['XGROUP', 'CREATE', rkey, group, id]
        if (flagOption(own(options, 'mkstream'), 'xgroupCreate', 'mkstream')) args.push('MKSTREAM')
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
    const count = optionalCount(own(options, 'count'), 'xreadgroup')
    if (count !== undefined) head.push('COUNT', count)
    const blockMs = checkBlock(own(options, 'block'), 'xreadgroup')
    if (blockMs !== undefined) head.push('BLOCK', String(blockMs))
    if (flagOption(own(options, 'noack'), 'xreadgroup', 'noack')) head.push('NOACK')
    return readStreams(this, 'xreadgroup', 'write', head, streams, options, blockMs)
  },

  async xack(key: string, group: string, ...ids: string[] | [...string[], VersionOption]) {
    const [names, options] = splitOptions(ids)
    checkOptions(options, 'xack', VERSION_ONLY)
    checkName(group, 'xack', 'group')
    for (const id of names) checkEntryId(id, 'xack', 'an ID')
    if (names.length === 0) return answered(this, 0)
    return contextOf(this).run(key, options, {
      access: 'write',
      label: 'xack',
      build: (rkey) => ['XACK', rkey, group, ...names],
      convert: integerReply,
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
    if (own(range, 'count') === undefined) {
      for (const name of ['start', 'end', 'consumer', 'idle'] as const) {
        if (range?.[name] !== undefined) {
          throw new InvalidArgumentError(
            `xpending(): '${name}' selects entries of the extended form, which needs 'count' too`,
          )
        }
      }
      return context.run<XPendingSummary>(key, options, {
        access: 'read',
        label: 'xpending',
        build: (rkey) => ['XPENDING', rkey, group],
        convert: pendingSummary,
        fallback: EMPTY_SUMMARY(),
      })
    }
    const args: RedisArgument[] = []
    if (own(range, 'idle') !== undefined)
      args.push('IDLE', nonNegative(own(range, 'idle'), 'xpending', 'idle'))
    args.push(
      own(range, 'start') === undefined ? '-' : checkId(own(range, 'start'), 'xpending', 'start'),
      own(range, 'end') === undefined ? '+' : checkId(own(range, 'end'), 'xpending', 'end'),
      positive(own(range, 'count'), 'xpending', 'count'),
    )
    if (own(range, 'consumer') !== undefined)
      args.push(checkName(own(range, 'consumer'), 'xpending', 'consumer'))
    return context.run<XPendingEntry[]>(key, options, {
      access: 'read',
      label: 'xpending',
      build: (rkey) => ['XPENDING', rkey, group, ...args],
      convert: (reply) =>
        toArray(reply).map((row) => {
          const [id, consumer, idle, deliveries] = toArray(row)
          return {
            id: toText(id),
            consumer: toText(consumer),
            idle: integerReply(idle),
            deliveries: integerReply(deliveries),
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
    for (const id of ids) checkEntryId(id, 'xclaim', 'an ID')
    const tail: RedisArgument[] = []
    if (own(options, 'idle') !== undefined)
      tail.push('IDLE', nonNegative(own(options, 'idle'), 'xclaim', 'idle'))
    if (own(options, 'time') !== undefined)
      tail.push('TIME', nonNegative(own(options, 'time'), 'xclaim', 'time'))
    if (own(options, 'retrycount') !== undefined) {
      tail.push('RETRYCOUNT', nonNegative(own(options, 'retrycount'), 'xclaim', 'retrycount'))
    }
    if (flagOption(own(options, 'force'), 'xclaim', 'force')) tail.push('FORCE')
    if (flagOption(own(options, 'justid'), 'xclaim', 'justid')) tail.push('JUSTID')
    if (own(options, 'lastid') !== undefined)
      tail.push('LASTID', checkEntryId(own(options, 'lastid'), 'xclaim', 'lastid'))
    const context = contextOf(this)
    const justid = flagOption(own(options, 'justid'), 'xclaim', 'justid')
    return context.run<StreamEntry[] | string[]>(key, options, {
      access: 'write',
      label: 'xclaim',
      bytes: true,
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
      own(options, 'start') === undefined
        ? '0-0'
        : checkId(own(options, 'start'), 'xautoclaim', 'start')
    const tail: RedisArgument[] = []
    const count = optionalCount(own(options, 'count'), 'xautoclaim')
    if (count !== undefined) tail.push('COUNT', count)
    const justid = flagOption(own(options, 'justid'), 'xautoclaim', 'justid')
    if (justid) tail.push('JUSTID')
    const context = contextOf(this)
    return context.run<XAutoClaimResult | XAutoClaimIdsResult>(key, options, {
      access: 'write',
      label: 'xautoclaim',
      bytes: true,
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
} satisfies Implementation<StreamGroupCommands>
