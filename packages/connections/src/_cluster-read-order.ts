// A read must not overtake a write queued before it on a demoted primary with a READONLY client.
// With `readFromReplicas`, cachex's client of a node first met as a replica is in `READONLY`
// mode, and stays so when the node is promoted. Right after a failback the map still names it as
// the primary of its slots, but it is a replica again: a write sent to it gets `MOVED` (and
// follows it to the new primary), while a read sent right behind it — one pipeline, calls of one
// tick — is answered from the replica's copy, the value from before the write (a script that
// writes gets `READONLY` instead). Replies on one connection come in send order: when the read's
// reply arrives, the write's `MOVED` has arrived, so the read's reply is dropped and it follows
// that `MOVED` (or `READONLY`) too, after the write.

import { type RedisArgument, ResponseError } from '@cachex/core'
import { READONLY_REPLY } from '@cachex/core/internal'
import { ErrorReply } from '@redis/client'
import type { MovedReply, NodeHandle } from './_cluster-node-handle.ts'
import type { Shard } from './_slot-map.ts'

/**
 * Commands that only read their keys: answered by a replica on a `READONLY` connection, not
 * redirected. A command not named here is left as it is (a write answered is a write done: the
 * node owned the slot).
 */
const READS = new Set([
  'GET',
  'MGET',
  'GETRANGE',
  'SUBSTR',
  'STRLEN',
  'LCS',
  'EXISTS',
  'TYPE',
  'TTL',
  'PTTL',
  'EXPIRETIME',
  'PEXPIRETIME',
  'DUMP',
  'OBJECT',
  'GETBIT',
  'BITCOUNT',
  'BITPOS',
  'BITFIELD_RO',
  'HGET',
  'HMGET',
  'HGETALL',
  'HKEYS',
  'HVALS',
  'HLEN',
  'HEXISTS',
  'HSTRLEN',
  'HRANDFIELD',
  'HSCAN',
  'HTTL',
  'HPTTL',
  'HEXPIRETIME',
  'HPEXPIRETIME',
  'LRANGE',
  'LLEN',
  'LINDEX',
  'LPOS',
  'SMEMBERS',
  'SISMEMBER',
  'SMISMEMBER',
  'SCARD',
  'SRANDMEMBER',
  'SSCAN',
  'SINTER',
  'SUNION',
  'SDIFF',
  'SINTERCARD',
  'ZRANGE',
  'ZRANGEBYSCORE',
  'ZREVRANGE',
  'ZREVRANGEBYSCORE',
  'ZRANGEBYLEX',
  'ZREVRANGEBYLEX',
  'ZSCORE',
  'ZMSCORE',
  'ZCARD',
  'ZCOUNT',
  'ZLEXCOUNT',
  'ZRANK',
  'ZREVRANK',
  'ZRANDMEMBER',
  'ZSCAN',
  'ZINTER',
  'ZUNION',
  'ZDIFF',
  'ZINTERCARD',
  'XRANGE',
  'XREVRANGE',
  'XLEN',
  'XINFO',
  'XPENDING',
  'XREAD',
  'PFCOUNT',
  'GEOPOS',
  'GEODIST',
  'GEOHASH',
  'GEOSEARCH',
  'GEORADIUS_RO',
  'GEORADIUSBYMEMBER_RO',
  'SORT_RO',
  'EVAL_RO',
  'EVALSHA_RO',
  'FCALL_RO',
])

const LOWER = /[a-z]/

/** Whether `args` is a command that only reads (see `READS`). */
export function isRead(args: readonly RedisArgument[]): boolean {
  const first = args[0]
  const name = typeof first === 'string' ? first : String(first)
  return READS.has(name) || (LOWER.test(name) && READS.has(name.toUpperCase()))
}

/**
 * Notes that `node` answered `error` to its command numbered `number` (`NodeHandle.sent`) for
 * `slot` under the slot table `table`, when that says the node is no primary of the slot: a
 * `MOVED`, or a `READONLY` (a script's write refused by a replica). The first one is kept.
 */
export function noteMoved(
  node: NodeHandle,
  slot: number,
  number: number,
  error: unknown,
  table: ReadonlyArray<Shard | undefined>,
): void {
  if (!(error instanceof ErrorReply || error instanceof ResponseError)) return
  const message = error.message
  if (!message.startsWith('MOVED ') && !message.startsWith(READONLY_REPLY)) return
  if (!node.moved.has(slot)) node.moved.set(slot, { number, error, table })
}

/**
 * The `MOVED` (or `READONLY`) a read numbered `number`, answered by `node` for `slot`, must
 * follow instead of its reply: one `node` answered for that slot to a command sent before the
 * read. A slot map built since (`table`, not the one the entry was noted under) that names `node`
 * as the slot's primary again (the slot came back to it) forgets the entry: the reply stands.
 */
export function staleRead(
  node: NodeHandle,
  slot: number,
  number: number,
  table: ReadonlyArray<Shard | undefined>,
): MovedReply | undefined {
  const moved = node.moved
  if (moved.size === 0) return undefined
  const entry = moved.get(slot)
  if (entry === undefined || entry.number >= number) return undefined
  if (entry.table === table || table[slot]?.master !== node) return entry
  moved.delete(slot)
  return undefined
}

/**
 * A `MOVED` names `node` as the primary of `slot`: it owns the slot now, and what it answered
 * for it before is forgotten (see `noteMoved`).
 */
export function ownsSlot(node: NodeHandle, slot: number): void {
  if (node.moved.size !== 0) node.moved.delete(slot)
}
