// The shapes of the admin's JSON API: what the server answers and the browser app reads. Types
// only (no runtime, no Node types), so the app in ui/ imports them as the server does.

/** One node of a value tree (see the README's API section). */
export type TreeNode =
  | { type: 'none' }
  | { type: 'bool'; value: boolean }
  | { type: 'int' | 'float'; value: string }
  | { type: 'str'; value: string; length?: number }
  | { type: 'bytes' | 'bytearray'; value: string; length: number }
  | { type: 'list' | 'tuple' | 'set' | 'frozenset'; items: TreeNode[]; length: number }
  | { type: 'dict'; entries: Array<[TreeNode, TreeNode]>; length: number; class?: string }
  | { type: 'datetime' | 'date' | 'time' | 'timedelta' | 'Decimal' | 'UUID'; value: string }
  | { type: 'timezone' | 'ZoneInfo' | 'SafeString' | 'global' | 'object'; value: string }
  | { type: 'cycle' }
  | { type: 'ref' }
  | { type: 'deep' }
  | { type: 'error'; message: string; preview: string; length: number }

/** A string value as the page shows it. */
export interface StringView {
  /** Bytes stored. */
  length: number
  /** The serializer that read it; `null` for an integer stored as digits (or when unread). */
  serializer: string | null
  /** The compressor that decompressed it, if any. */
  compressor: string | null
  /** The decoded value, when the codec read it. */
  tree?: TreeNode
  /** The value as JSON text, when it can be edited as JSON. */
  json?: string
  /** Why the codec could not read it. */
  error?: string
  /** The first bytes, escaped (`\xNN`), when it could not be read or is too large. */
  preview?: string
  /** The value is larger than the admin fetches. */
  tooLarge?: boolean
}

/** A page of a container's rows. */
export interface ContainerView {
  /** Column names: `field, value` (hash), `index, value` (list), `member` (set), `member, score` (zset), `id, fields` (stream). */
  columns: string[]
  rows: TreeNode[][]
  /** Elements in the container. */
  total: number
  /** Where the next page starts; `null` at the end. */
  cursor: string | null
}

/** What `GET api/caches/:alias/key` answers. */
export interface KeyView {
  key: string
  redisKey: string
  version: number
  type: string
  ttl: number | null
  size: number | null
  /** What a write of this key sends back (`PUT`, `DELETE`): it applies only if the key still has it. */
  revision: string
  string?: StringView
  container?: ContainerView
}

/** What `GET api/caches/:alias/key` sends: the key's view, and whether the admin refuses writes. */
export interface KeyAnswer extends KeyView {
  readOnly: boolean
}

/** One key of a page. */
export interface KeyRow {
  /** The user's key (the cache's reverse key function applied). */
  key: string
  /** The Redis key. */
  redisKey: string
  /** `string`, `hash`, `list`, `set`, `zset`, `stream`, or `none` when it went in between. */
  type: string
  /** Seconds to live; `null` when it never expires. */
  ttl: number | null
  /** Bytes, from `MEMORY USAGE` (or `STRLEN` for a string where that is refused); `null` unknown. */
  size: number | null
  /**
   * The Redis key's bytes in hex, when its name is not UTF-8: `key` and `redisKey` then show it
   * with U+FFFD for the invalid bytes, a name that may be another key's, and the key routes
   * refuse it (400): the admin lists such a key but cannot open, edit or delete it. For a name
   * cut short (`truncated`), the bytes of its first characters only.
   */
  notUtf8?: string
  /**
   * `key` and `redisKey` are the first characters of names too long to list whole (over
   * 64 Ki characters, which the key routes refuse, or past the page's budget for names): the
   * admin lists the key but cannot open it from the list.
   */
  truncated?: boolean
  /** The length of the whole `key` in characters, when `truncated`. */
  keyLength?: number
  /** The length of the whole `redisKey` in characters, when `truncated`. */
  redisKeyLength?: number
}

/** What `GET api/jobs/:id` answers. */
export interface JobView {
  id: string
  /** `count`: a dry run; `delete`: the real one. */
  kind: 'count' | 'delete'
  cache: string
  pattern: string
  state: 'running' | 'done' | 'failed' | 'cancelled'
  /** Keys the pattern matched so far. */
  matched: number
  /** Keys deleted so far. */
  deleted: number
  /** The dry run's count the browser sent, for a progress bar. */
  expected: number | null
  error?: string
}

/** One server's `INFO`, as the page shows it. */
export interface InfoSummary {
  sections: Array<{ name: string; fields: Array<[string, string]> }>
  /** `db0: keys=…` lines. */
  keyspace: Array<{ db: string; keys: number; expires: number }>
  /** Server-wide `keyspace_hits / (hits + misses)`, when the server counts them. */
  hitRatio: number | null
}

/** What `GET api/caches/:alias/info` answers. */
export interface InfoView extends InfoSummary {
  /**
   * On a cluster, each primary's `INFO`, sorted by address; one that did not answer has its
   * error instead. `keyspace` and `hitRatio` are then the sums over the primaries that answered,
   * and `sections` one `Cluster totals` section: how many primaries answered, and their counters
   * summed.
   */
  nodes?: InfoNodeView[]
}

/** One primary of a cluster on the INFO page: its `INFO`, or why it did not answer. */
export type InfoNodeView = ({ address: string } & InfoSummary) | { address: string; error: string }

/** One slow-log entry as the page shows it. */
export interface SlowlogRow {
  id: number
  /** Unix seconds. */
  time: number
  /** Microseconds. */
  duration: number
  command: string[]
  client: string
}

/** What `GET api/caches/:alias/memory` answers. */
export interface MemoryView {
  /** Keys looked at. */
  sampled: number
  /** Whether sizes are `MEMORY USAGE` bytes (else `STRLEN` of strings only). */
  memoryUsage: boolean
  groups: Array<{ prefix: string; keys: number; bytes: number }>
}

/** One bucket of the hit-rate series. */
export interface HitBucket {
  /** The bucket's start, in ms since the epoch. */
  t: number
  hits: number
  misses: number
}

/** What `GET api/session` answers. */
export interface SessionInfo {
  who: string
  csrf: string | null
  readOnly: boolean
  auth: 'token' | 'function'
}

/** One cache of `GET api/caches`. */
export interface CacheInfo {
  alias: string
  keyPrefix?: string
  version?: number
  defaultTimeout?: number | null
  address?: string | null
  hitRate?: boolean
  error?: string
}

/** What `GET api/caches/:alias/keys` answers. */
export interface KeyPage {
  keys: KeyRow[]
  cursor: string | null
}

/** What `GET api/caches/:alias/hits` answers. */
export interface HitsView {
  available: boolean
  bucketSeconds: number
  buckets: HitBucket[]
}
