// Keys and the server: DEL/UNLINK, EXISTS, the expiry commands, TYPE, RENAME(NX), SCAN, FLUSHDB,
// PING, INFO, SLOWLOG, MEMORY USAGE, DBSIZE, TIME, PUBLISH (no subscribers: 0).

import { compileGlob } from '@cachex/core/internal'
import { arg, type Call, type CommandSpec, type CommandTable, is } from './_command.ts'
import {
  fail,
  fitsInt64,
  integer,
  NOT_INTEGER,
  OK,
  type Reply,
  Status,
  SYNTAX,
  toBigInt,
} from './_reply.ts'
import { KEY_OVERHEAD, type Kind } from './store.ts'

function expire(unit: 1 | 1000, absolute: boolean, name: string) {
  return (call: Call): Reply => {
    const { store, now } = call
    const key = arg(call, 0)
    // As Redis's `expireGenericCommand`: the options are checked before the time.
    let nx = false
    let xx = false
    let gt = false
    let lt = false
    for (const option of call.args.slice(2)) {
      const word = option.toUpperCase()
      if (word === 'NX') nx = true
      else if (word === 'XX') xx = true
      else if (word === 'GT') gt = true
      else if (word === 'LT') lt = true
      else throw fail(`ERR Unsupported option ${option}`)
    }
    if (nx && (xx || gt || lt)) {
      throw fail('ERR NX and XX, GT or LT options at the same time are not compatible')
    }
    if (gt && lt) throw fail('ERR GT and LT options at the same time are not compatible')
    const n = toBigInt(arg(call, 1))
    if (n === undefined) throw fail(NOT_INTEGER)
    const at = n * BigInt(unit) + (absolute ? 0n : BigInt(now))
    if (!fitsInt64(n * BigInt(unit)) || !fitsInt64(at)) {
      throw fail(`ERR invalid expire time in '${name}' command`)
    }
    const entry = store.get(key, now)
    if (entry === undefined) return 0
    const current = entry.expiresAt === 0 ? Infinity : entry.expiresAt
    const target = Number(at)
    if (nx && entry.expiresAt !== 0) return 0
    if (xx && entry.expiresAt === 0) return 0
    if (gt && !(target > current)) return 0
    if (lt && !(target < current)) return 0
    if (target <= now) store.delete(key)
    else entry.expiresAt = target
    return 1
  }
}

function ttl(unit: 1 | 1000) {
  return (call: Call): Reply => {
    const entry = call.store.get(arg(call, 0), call.now)
    if (entry === undefined) return -2
    if (entry.expiresAt === 0) return -1
    const ms = entry.expiresAt - call.now
    return unit === 1 ? ms : Math.floor((ms + 500) / 1000)
  }
}

function rename(nx: boolean) {
  return (call: Call): Reply => {
    const { store, now } = call
    const source = arg(call, 0)
    const destination = arg(call, 1)
    const entry = store.get(source, now)
    if (entry === undefined) throw fail('ERR no such key')
    if (source === destination) return nx ? 0 : OK
    if (nx && store.get(destination, now) !== undefined) return 0
    store.delete(source)
    // The data's bytes: `put` counts the destination's name and `KEY_OVERHEAD` again.
    const bytes = entry.bytes - source.length - KEY_OVERHEAD
    store.put(destination, entry.kind, entry.value, bytes, entry.expiresAt)
    store.wake(destination)
    return nx ? 1 : OK
  }
}

/** Parses `[MATCH pattern] [COUNT n] [TYPE t]` (TYPE only for `SCAN`). */
export function scanOptions(
  args: readonly string[],
  from: number,
  allowType: boolean,
): { match: ((s: string) => boolean) | undefined; count: number; type: string | undefined } {
  let match: ((s: string) => boolean) | undefined
  let count = 10
  let type: string | undefined
  for (let i = from; i < args.length; i += 2) {
    const word = args[i] ?? ''
    const value = args[i + 1]
    if (value === undefined) throw fail(SYNTAX)
    if (is(word, 'MATCH')) {
      const glob = compileGlob(value)
      // Redis skips matching for `*` alone; otherwise its matcher never matches an empty string
      // with a non-empty pattern (`**` leaves out an empty field, as `HSCAN … MATCH **` does).
      match = value === '*' ? undefined : (s) => (s === '' ? value === '' : glob.test(s))
    } else if (is(word, 'COUNT')) {
      count = integer(value)
      if (count < 1) throw fail(SYNTAX)
    } else if (allowType && is(word, 'TYPE')) {
      type = value.toLowerCase()
    } else throw fail(SYNTAX)
  }
  return { match, count, type }
}

/** The largest cursor Redis takes (an unsigned 64-bit integer). */
const MAX_CURSOR = (1n << 64n) - 1n

/** A `SCAN`-family cursor argument: an unsigned 64-bit integer, as Redis reads it. */
export function parseCursor(value: string): bigint {
  if (!/^[0-9]{1,20}$/.test(value)) throw fail('ERR invalid cursor')
  const cursor = BigInt(value)
  if (cursor > MAX_CURSOR) throw fail('ERR invalid cursor')
  return cursor
}

function scan(call: Call): Reply {
  const { store, now } = call
  const cursor = parseCursor(arg(call, 0))
  const { match, count, type } = scanOptions(call.args, 1, true)
  const [next, keys] = store.scanKeys(cursor, count)
  const out: string[] = []
  for (const key of keys) {
    const entry = store.keys.get(key)
    if (entry === undefined || (entry.expiresAt !== 0 && entry.expiresAt < now)) continue
    if (type !== undefined && entry.kind !== (type as Kind)) continue
    if (match === undefined || match(key)) out.push(key)
  }
  return [next, out]
}

function info(call: Call): Reply {
  const { store } = call
  const sections: Record<string, string[]> = {
    server: [
      'redis_version:7.0.15',
      'redis_mode:standalone',
      'cachex_backend:memory',
      'os:node',
      `process_id:${process.pid}`,
      `uptime_in_seconds:${Math.floor(process.uptime())}`,
    ],
    clients: ['connected_clients:1', 'blocked_clients:0'],
    memory: [
      `used_memory:${store.used}`,
      `maxmemory:${store.maxBytes ?? 0}`,
      `maxmemory_policy:${store.maxBytes === null ? 'noeviction' : 'allkeys-lru'}`,
    ],
    persistence: ['loading:0', 'rdb_changes_since_last_save:0'],
    stats: ['total_connections_received:1', 'total_commands_processed:0'],
    replication: ['role:master', 'connected_slaves:0'],
    keyspace:
      store.keys.size === 0
        ? []
        : [`db0:keys=${store.keys.size},expires=${store.expires},avg_ttl=0`],
  }
  const wanted = call.args.map((s) => s.toLowerCase())
  const all =
    wanted.length === 0 || wanted.some((s) => s === 'all' || s === 'everything' || s === 'default')
  const lines: string[] = []
  for (const [name, body] of Object.entries(sections)) {
    if (!all && !wanted.includes(name)) continue
    if (lines.length > 0) lines.push('')
    lines.push(`# ${name[0]?.toUpperCase()}${name.slice(1)}`, ...body)
  }
  // No section asked for exists: Redis answers an empty string.
  return lines.length === 0 ? '' : `${lines.join('\r\n')}\r\n`
}

/** DEL and UNLINK (which only frees memory later on a server): how many live keys went. */
const DELETE: CommandSpec = {
  arity: -2,
  write: true,
  run: (call) =>
    unique(call.args).filter(
      (k) => call.store.get(k, call.now) !== undefined && call.store.delete(k),
    ).length,
}

/** FLUSHDB and FLUSHALL: a store is one database. */
const FLUSH: CommandSpec = {
  arity: -1,
  write: true,
  run: (call) => {
    // As Redis's `getFlushCommandFlags`: nothing, or one of ASYNC / SYNC; else nothing is flushed.
    const [mode] = call.args
    if (call.args.length > 1 || (mode !== undefined && !is(mode, 'ASYNC') && !is(mode, 'SYNC'))) {
      throw fail(SYNTAX)
    }
    call.store.clear()
    return OK
  },
}

export const KEYS: CommandTable = {
  DEL: DELETE,
  UNLINK: DELETE,
  EXISTS: {
    arity: -2,
    run: (call) => call.args.filter((k) => call.store.get(k, call.now) !== undefined).length,
  },
  EXPIRE: { arity: -3, write: true, run: expire(1000, false, 'expire') },
  PEXPIRE: { arity: -3, write: true, run: expire(1, false, 'pexpire') },
  EXPIREAT: { arity: -3, write: true, run: expire(1000, true, 'expireat') },
  PEXPIREAT: { arity: -3, write: true, run: expire(1, true, 'pexpireat') },
  PERSIST: {
    arity: 2,
    write: true,
    run: (call) => {
      const entry = call.store.get(arg(call, 0), call.now)
      if (entry === undefined || entry.expiresAt === 0) return 0
      entry.expiresAt = 0
      return 1
    },
  },
  TTL: { arity: 2, run: ttl(1000) },
  PTTL: { arity: 2, run: ttl(1) },
  TYPE: {
    arity: 2,
    run: (call) => new Status(call.store.get(arg(call, 0), call.now)?.kind ?? 'none'),
  },
  RENAME: { arity: 3, write: true, run: rename(false) },
  RENAMENX: { arity: 3, write: true, run: rename(true) },
  SCAN: { arity: -2, run: scan },
  DBSIZE: { arity: 1, run: (call) => call.store.keys.size },
  FLUSHDB: FLUSH,
  FLUSHALL: FLUSH,
  PING: {
    arity: -1,
    run: (call) => {
      // As Redis's `pingCommand`: at most one message.
      if (call.args.length > 1) throw fail("ERR wrong number of arguments for 'ping' command")
      return call.args.length === 0 ? new Status('PONG') : arg(call, 0)
    },
  },
  ECHO: { arity: 2, run: (call) => arg(call, 0) },
  INFO: { arity: -1, run: info },
  TIME: {
    arity: 1,
    run: (call) => [String(Math.floor(call.now / 1000)), String((call.now % 1000) * 1000)],
  },
  PUBLISH: { arity: 3, run: () => 0 },
  MEMORY: {
    arity: -2,
    run: (call) => {
      const sub = arg(call, 0).toUpperCase()
      if (sub === 'USAGE' && call.args.length >= 2) {
        // The store's approximate bytes of the key, without touching its LRU position.
        const entry = call.store.keys.get(arg(call, 1))
        if (entry === undefined || (entry.expiresAt !== 0 && entry.expiresAt < call.now)) {
          return null
        }
        return entry.bytes
      }
      throw fail(`ERR unknown subcommand '${arg(call, 0)}'. Try MEMORY HELP.`)
    },
  },
  SLOWLOG: {
    arity: -2,
    run: (call) => {
      const sub = arg(call, 0).toUpperCase()
      if (sub === 'GET') return []
      if (sub === 'LEN') return 0
      if (sub === 'RESET') return OK
      throw fail(`ERR unknown subcommand '${arg(call, 0)}'. Try SLOWLOG HELP.`)
    },
  },
}

function unique(keys: readonly string[]): string[] {
  return [...new Set(keys)]
}
