// The option and result types of the stream commands (`./streams.ts`).
import type { VersionOption } from '../cache-options.ts'

/** One stream entry: its ID and its fields, values decoded. */
export interface StreamEntry<T = unknown> {
  /** The entry's ID, such as `'1700000000000-0'`. */
  id: string
  /** The entry's fields (an object built field by field: a field named `__proto__` stays a field). */
  fields: Record<string, T>
}

/** What `xread` / `xreadgroup` read from one stream: the user's key and its entries. */
export interface StreamRead<T = unknown> {
  /** The stream, as the user named it (not the Redis key). */
  key: string
  entries: StreamEntry<T>[]
  /**
   * `xreadgroup` reading a consumer's pending entries again (an ID other than `'>'`) only, and
   * only when there are some: the pending IDs whose entries were deleted from the stream
   * meanwhile (Redis lists them without fields). Acknowledge them with `xack`.
   */
  deletedIds?: string[]
}

/** The streams to read, each with the ID to read after: `{ orders: '0', jobs: '$' }` or a `Map`. */
export type StreamOffsets = Record<string, string> | Map<string, string>

/** How a stream is trimmed: `maxlen` or `minid` (one of them), `approximate`, `limit`. */
export interface StreamTrimOptions {
  /** Keep at most this many entries (`MAXLEN`). */
  maxlen?: number
  /** Drop the entries whose ID is lower than this (`MINID`). */
  minid?: string
  /** Trim whole macro nodes only (`~`): faster, may keep a few more entries. @default false */
  approximate?: boolean
  /** With `approximate`: evict at most this many entries in this call (`LIMIT`). */
  limit?: number
}

/** Options of `xadd()`. */
export interface XAddOptions extends StreamTrimOptions, VersionOption {
  /** The entry's ID. @default '*' (Redis picks the next one) */
  id?: string
  /** Add nothing when the stream does not exist (`NOMKSTREAM`): resolves `null`. @default false */
  nomkstream?: boolean
}

/** Options of `xtrim()`: `maxlen` or `minid` is required. */
export interface XTrimOptions extends StreamTrimOptions, VersionOption {}

/** Options of `xrange()` / `xrevrange()`. */
export interface XRangeOptions extends VersionOption {
  /** At most this many entries. */
  count?: number
}

/** Options of `xread()`. */
export interface XReadOptions extends VersionOption {
  /** At most this many entries per stream. */
  count?: number
  /**
   * Milliseconds to wait for an entry when none is there yet (`BLOCK`): a positive integer. The
   * call's own bound is `socketTimeout` plus this; `0` (Redis's "forever") is refused, since a
   * call that may never end cannot be bounded: loop over a finite `block` instead.
   */
  block?: number
}

/** Options of `xreadgroup()`. */
export interface XReadGroupOptions extends XReadOptions {
  /** Do not add what is read to the pending entries list (`NOACK`). @default false */
  noack?: boolean
}

/** Options of `xgroupCreate()`. */
export interface XGroupCreateOptions extends VersionOption {
  /** The last ID the group has seen: `'$'` for new entries only, `'0'` for the whole stream. @default '$' */
  id?: string
  /** Create an empty stream when there is none (`MKSTREAM`). @default false */
  mkstream?: boolean
  /** The group's entries-read counter (`ENTRIESREAD`, Redis 7.0+), for its lag. */
  entriesRead?: number
}

/** Options of `xpending()` for its extended form (one record per pending entry): `count` is required. */
export interface XPendingRangeOptions extends VersionOption {
  /** The lowest ID. @default '-' */
  start?: string
  /** The highest ID. @default '+' */
  end?: string
  /** At most this many entries. */
  count: number
  /** Only the entries of this consumer. */
  consumer?: string
  /** Only the entries idle for at least this many milliseconds (`IDLE`). */
  idle?: number
}

/** `xpending()`'s summary of a group's pending entries. */
export interface XPendingSummary {
  /** How many entries are pending. */
  count: number
  /** The lowest pending ID, or `null` when none is. */
  smallest: string | null
  /** The highest pending ID, or `null` when none is. */
  largest: string | null
  /** Each consumer with pending entries, and how many. */
  consumers: Array<{ name: string; pending: number }>
}

/** One pending entry, in `xpending()`'s extended form. */
export interface XPendingEntry {
  id: string
  /** The consumer it was delivered to. */
  consumer: string
  /** Milliseconds since it was last delivered. */
  idle: number
  /** How many times it was delivered. */
  deliveries: number
}

/** Options of `xclaim()`. */
export interface XClaimOptions extends VersionOption {
  /** Set the entries' idle time to this many milliseconds (`IDLE`). */
  idle?: number
  /** Set the entries' idle time as of this Unix time in milliseconds (`TIME`). */
  time?: number
  /** Set the entries' delivery count (`RETRYCOUNT`). */
  retrycount?: number
  /** Claim IDs that are not pending yet, if they exist in the stream (`FORCE`). @default false */
  force?: boolean
  /** Resolve the IDs claimed only, without their fields (`JUSTID`). @default false */
  justid?: boolean
  /** Update the group's last delivered ID (`LASTID`). */
  lastid?: string
}

/** Options of `xautoclaim()`. */
export interface XAutoClaimOptions extends VersionOption {
  /** Where the scan of pending entries starts. @default '0-0' */
  start?: string
  /** At most this many entries (Redis's default: 100). */
  count?: number
  /** Resolve the IDs claimed only, without their fields (`JUSTID`). @default false */
  justid?: boolean
}

/** What `xautoclaim()` claimed. */
export interface XAutoClaimResult<T = unknown> {
  /** Where the next call should start; `'0-0'` once every pending entry was scanned. */
  nextId: string
  /** The entries claimed. */
  entries: StreamEntry<T>[]
  /** Pending IDs whose entries no longer exist (removed from the pending list). */
  deletedIds: string[]
}

/** What `xautoclaim(…, { justid: true })` claimed. */
export interface XAutoClaimIdsResult {
  nextId: string
  /** The IDs claimed. */
  ids: string[]
  deletedIds: string[]
}

/** `xinfoStream()`: what Redis tells of a stream (`XINFO STREAM`), in camelCase. */
export interface StreamInfo<T = unknown> {
  length: number
  radixTreeKeys: number
  radixTreeNodes: number
  lastGeneratedId: string
  /** Redis 7.0+. */
  maxDeletedEntryId?: string
  /** Redis 7.0+. */
  entriesAdded?: number
  /** Redis 7.0+. */
  recordedFirstEntryId?: string
  /** How many consumer groups the stream has. */
  groups: number
  firstEntry: StreamEntry<T> | null
  lastEntry: StreamEntry<T> | null
}
