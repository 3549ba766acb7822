// The shapes the admin's JSON API answers (see src/ for the server's side).

/** One node of a decoded value. */
export type TreeNode =
  | { type: 'none' }
  | { type: 'bool'; value: boolean }
  | { type: 'int' | 'float'; value: string }
  | { type: 'str'; value: string; length?: number }
  | { type: 'bytes' | 'bytearray'; value: string; length: number }
  | { type: 'list' | 'tuple' | 'set' | 'frozenset'; items: TreeNode[]; length: number }
  | { type: 'dict'; entries: Array<[TreeNode, TreeNode]>; length: number; class?: string }
  | {
      type:
        | 'datetime'
        | 'date'
        | 'time'
        | 'timedelta'
        | 'Decimal'
        | 'UUID'
        | 'timezone'
        | 'ZoneInfo'
        | 'SafeString'
        | 'global'
        | 'object'
      value: string
    }
  | { type: 'cycle' }
  | { type: 'ref' }
  | { type: 'deep' }
  | { type: 'error'; message: string; preview: string; length: number }

export interface SessionInfo {
  who: string
  csrf: string | null
  readOnly: boolean
  auth: 'token' | 'function'
}

export interface CacheInfo {
  alias: string
  keyPrefix?: string
  version?: number
  defaultTimeout?: number | null
  address?: string | null
  hitRate?: boolean
  error?: string
}

export interface KeyRow {
  key: string
  redisKey: string
  type: string
  ttl: number | null
  size: number | null
}

export interface KeyPage {
  keys: KeyRow[]
  cursor: string | null
}

export interface KeyView {
  key: string
  redisKey: string
  version: number
  type: string
  ttl: number | null
  size: number | null
  revision: string
  readOnly: boolean
  string?: {
    length: number
    serializer: string | null
    compressor: string | null
    tree?: TreeNode
    json?: string
    error?: string
    preview?: string
    tooLarge?: boolean
  }
  container?: { columns: string[]; rows: TreeNode[][]; total: number; cursor: string | null }
}

export interface JobView {
  id: string
  kind: 'count' | 'delete'
  cache: string
  pattern: string
  state: 'running' | 'done' | 'failed' | 'cancelled'
  matched: number
  deleted: number
  expected: number | null
  error?: string
}

export interface InfoView {
  sections: Array<{ name: string; fields: Array<[string, string]> }>
  keyspace: Array<{ db: string; keys: number; expires: number }>
  hitRatio: number | null
}

export interface SlowlogRow {
  id: number
  time: number
  duration: number
  command: string[]
  client: string
}

export interface MemoryView {
  sampled: number
  memoryUsage: boolean
  groups: Array<{ prefix: string; keys: number; bytes: number }>
}

export interface HitsView {
  available: boolean
  bucketSeconds: number
  buckets: Array<{ t: number; hits: number; misses: number }>
}
