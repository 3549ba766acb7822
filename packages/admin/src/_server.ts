// The server pages: an `INFO` summary (chosen fields only: no paths, no addresses of other
// nodes; on a cluster, every primary's, named by its address, and their sums), the slow log
// (arguments of commands that carry secrets redacted), and memory by key prefix from a sample of
// the cache's keys (`MEMORY USAGE`).

import { bounded } from '@cachex/core/internal'
import type { InfoSummary, InfoView, MemoryView, SlowlogRow } from './_api-types.ts'
import type { AdminCache } from './_caches.ts'
import { clusterInfo } from './_cluster-info.ts'
import { sizeOf } from './_keys.ts'

/** The `INFO` fields shown, by section. Anything else (paths, other nodes' addresses) is not. */
const INFO_FIELDS: ReadonlyArray<readonly [section: string, fields: readonly string[]]> = [
  [
    'Server',
    ['redis_version', 'redis_mode', 'cachex_backend', 'os', 'arch_bits', 'uptime_in_seconds'],
  ],
  ['Clients', ['connected_clients', 'blocked_clients', 'maxclients']],
  [
    'Memory',
    [
      'used_memory',
      'used_memory_human',
      'used_memory_peak_human',
      'maxmemory',
      'maxmemory_human',
      'maxmemory_policy',
      'mem_fragmentation_ratio',
    ],
  ],
  [
    'Stats',
    [
      'total_connections_received',
      'total_commands_processed',
      'instantaneous_ops_per_sec',
      'keyspace_hits',
      'keyspace_misses',
      'expired_keys',
      'evicted_keys',
    ],
  ],
  ['Replication', ['role', 'connected_slaves']],
  ['Persistence', ['loading', 'rdb_changes_since_last_save', 'aof_enabled']],
]

/**
 * The `INFO` page. On a connection that routes by slot (a cluster), every primary's (`nodes`,
 * each named by its address; one that failed has its error), and at the top what they sum to:
 * the keyspace, the hits and misses, and the counters of `CLUSTER_TOTALS`. Elsewhere, the one
 * server's.
 */
export async function infoSummary(entry: AdminCache): Promise<InfoView> {
  const connection = entry.cache.connection
  if (connection.routesBySlot !== true) return summarize(await entry.cache.info())
  const nodes = await clusterInfo(connection)
  const answered = nodes.flatMap((node) => ('info' in node ? [node.info] : []))
  const totals: Array<[string, string]> = [
    ['primaries', String(nodes.length)],
    ['primaries_answered', String(answered.length)],
  ]
  for (const field of CLUSTER_TOTALS) {
    const values = answered.map((info) => Number(info[field]))
    if (values.length > 0 && values.every(Number.isFinite)) {
      totals.push([field, String(values.reduce((a, b) => a + b, 0))])
    }
  }
  const keyspace = new Map<string, { db: string; keys: number; expires: number }>()
  for (const db of answered.flatMap((info) => summarize(info).keyspace)) {
    const sum = keyspace.get(db.db) ?? { db: db.db, keys: 0, expires: 0 }
    sum.keys += db.keys
    sum.expires += db.expires
    keyspace.set(db.db, sum)
  }
  const hits = answered.reduce((n, info) => n + Number(info.keyspace_hits), 0)
  const misses = answered.reduce((n, info) => n + Number(info.keyspace_misses), 0)
  return {
    sections: [{ name: 'Cluster totals', fields: totals }],
    keyspace: [...keyspace.values()],
    hitRatio: ratio(hits, misses),
    nodes: nodes.map((node) =>
      'info' in node
        ? { address: node.address, ...summarize(node.info) }
        : { address: node.address, error: node.error },
    ),
  }
}

/** The counters a cluster's INFO page sums over its primaries. */
const CLUSTER_TOTALS = [
  'connected_clients',
  'used_memory',
  'total_commands_processed',
  'instantaneous_ops_per_sec',
  'keyspace_hits',
  'keyspace_misses',
  'expired_keys',
  'evicted_keys',
]

/** One server's `INFO` (`name: value`; `dbN` as objects) as the page shows it. */
function summarize(info: Record<string, unknown>): InfoSummary {
  const sections = INFO_FIELDS.map(([name, fields]) => ({
    name,
    fields: fields
      .filter((field) => Object.hasOwn(info, field))
      .map((field): [string, string] => [field, String(info[field])]),
  })).filter((section) => section.fields.length > 0)
  const keyspace: InfoView['keyspace'] = []
  for (const [name, value] of Object.entries(info)) {
    if (!/^db\d+$/.test(name) || typeof value !== 'object' || value === null) continue
    const fields = value as Record<string, unknown>
    keyspace.push({
      db: name,
      keys: Number(fields.keys ?? 0),
      expires: Number(fields.expires ?? 0),
    })
  }
  return {
    sections,
    keyspace,
    hitRatio: ratio(Number(info.keyspace_hits), Number(info.keyspace_misses)),
  }
}

/** `hits / (hits + misses)`, when both are counted and some are. */
function ratio(hits: number, misses: number): number | null {
  return Number.isFinite(hits) && Number.isFinite(misses) && hits + misses > 0
    ? hits / (hits + misses)
    : null
}

/** Commands whose arguments may hold a password: only their name is shown. */
const SECRET_COMMANDS = new Set(['AUTH', 'HELLO', 'ACL', 'CONFIG', 'MIGRATE', 'MODULE'])
/** Characters of one slow-log argument shown. */
const MAX_ARG = 200

export async function slowlog(entry: AdminCache, count: number): Promise<SlowlogRow[]> {
  const entries = await entry.cache.slowlogGet(count)
  return entries.map((e) => {
    const name = String(e.command[0] ?? '').toUpperCase()
    const command = SECRET_COMMANDS.has(name)
      ? [name, '(arguments redacted)']
      : e.command.map((a) => (a.length > MAX_ARG ? `${a.slice(0, MAX_ARG)}…` : a))
    return { id: e.id, time: e.startTime, duration: e.duration, command, client: e.clientAddress }
  })
}

/** Keys sampled for memory by prefix at most. */
export const MAX_SAMPLES = 10_000
/**
 * SCAN calls one memory sample makes at most (as a page of keys does): a prefix with few keys
 * among many others gets a smaller sample, not a walk of the whole keyspace.
 */
const MAX_SAMPLE_SCANS = 200
/** Prefix groups shown; the rest are summed as `(other)`. */
const MAX_GROUPS = 15
/**
 * Characters of key names one memory sample holds at most: a name may be up to 512 MB, and the
 * sample keeps its names until it has sized them.
 */
const SAMPLE_NAME_CHARS = 4 * 1024 * 1024
/** Characters of key names sized concurrently at most (a longer name goes alone). */
const SIZE_NAME_CHARS = 256 * 1024
/** Keys sized concurrently at most. */
const SIZE_KEYS = 200

/**
 * Up to `samples` keys of the cache, of `SAMPLE_NAME_CHARS` in all, in at most `MAX_SAMPLE_SCANS`
 * SCAN calls. A key whose name is not UTF-8 (SCAN yields its bytes) is skipped: the cache has no
 * user key for it.
 */
async function sampleKeys(entry: AdminCache, samples: number): Promise<string[]> {
  const keys: string[] = []
  let chars = 0
  let scans = 0
  const walk = entry.cache.connection.scan(entry.cache.makePattern('*', entry.cache.version), 1000)
  for await (const batch of walk) {
    for (const key of batch) {
      if (keys.length >= samples || chars >= SAMPLE_NAME_CHARS) break
      if (typeof key !== 'string') continue
      keys.push(key)
      chars += key.length
    }
    if (keys.length >= samples || chars >= SAMPLE_NAME_CHARS || ++scans >= MAX_SAMPLE_SCANS) break
  }
  return keys
}

/** `keys` in runs sized together: `SIZE_KEYS` at most, of `SIZE_NAME_CHARS` (or one longer). */
function* sizingRuns(keys: readonly string[]): Generator<string[]> {
  let run: string[] = []
  let chars = 0
  for (const key of keys) {
    if (run.length > 0 && (run.length >= SIZE_KEYS || chars + key.length > SIZE_NAME_CHARS)) {
      yield run
      run = []
      chars = 0
    }
    run.push(key)
    chars += key.length
  }
  if (run.length > 0) yield run
}

/**
 * Memory by key prefix: up to `samples` keys of the cache (`sampleKeys`), each sized, grouped by the
 * user key up to its first `:` (`user:42` → `user:`; a key without `:` is its own group), a group's
 * name cut at 1,024 characters (`bounded`: names that long are grouped by their start).
 */
export async function memoryByPrefix(entry: AdminCache, samples: number): Promise<MemoryView> {
  const connection = entry.cache.connection
  const version = entry.cache.version
  const keys = await sampleKeys(entry, samples)
  const groups = new Map<string, { keys: number; bytes: number }>()
  for (const chunk of sizingRuns(keys)) {
    const sizes = await Promise.all(
      chunk.map(async (redisKey) => {
        const type = entry.memoryUsage
          ? 'string'
          : String(
              await connection.command(['TYPE', redisKey], {
                key: redisKey,
                readonly: true,
                text: true,
              }),
            )
        return sizeOf(entry, redisKey, type)
      }),
    )
    chunk.forEach((redisKey, j) => {
      const key = entry.internals.userKey(redisKey, version)
      const colon = key.indexOf(':')
      const prefix = bounded(colon === -1 ? key : key.slice(0, colon + 1))
      const group = groups.get(prefix) ?? { keys: 0, bytes: 0 }
      group.keys++
      group.bytes += sizes[j] ?? 0
      groups.set(prefix, group)
    })
  }
  const sorted = [...groups]
    .map(([prefix, g]) => ({ prefix, ...g }))
    .sort((a, b) => b.bytes - a.bytes)
  const shown = sorted.slice(0, MAX_GROUPS)
  const rest = sorted.slice(MAX_GROUPS)
  if (rest.length > 0) {
    shown.push({
      prefix: `(${rest.length} other prefixes)`,
      keys: rest.reduce((n, g) => n + g.keys, 0),
      bytes: rest.reduce((n, g) => n + g.bytes, 0),
    })
  }
  return { sampled: keys.length, memoryUsage: entry.memoryUsage, groups: shown }
}
