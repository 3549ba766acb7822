// Compare-and-set for the admin's writes: one Lua script that checks a key still holds what the
// page showed (its type and, for a string, the SHA1 of its bytes) before it writes, deletes or
// changes the TTL, so that a concurrent change is reported (409) and nothing is overwritten. The
// memory:// backend runs it natively (packages/connections/src/memory/scripts.ts, ADMIN_CAS).
import { createHash } from 'node:crypto'
import { type Connection, defineScript, type RedisArgument, runScript } from '@cachex/core'

// ARGV: op ('digest' | 'set' | 'ttl' | 'delete'), the expected type, the expected SHA1 (strings),
// the TTL ('' keeps it, 'persist', or milliseconds) and the new value ('set').
const CAS = defineScript(`local kind = redis.call('TYPE', KEYS[1])['ok']
if ARGV[1] == 'digest' then
  if kind == 'string' then
    return {kind, redis.sha1hex(redis.call('GET', KEYS[1]))}
  end
  return {kind, ''}
end
if kind ~= ARGV[2] then
  return 0
end
if kind == 'string' and redis.sha1hex(redis.call('GET', KEYS[1])) ~= ARGV[3] then
  return 0
end
if ARGV[1] == 'delete' then
  return redis.call('DEL', KEYS[1])
end
if ARGV[1] == 'set' then
  redis.call('SET', KEYS[1], ARGV[5], 'KEEPTTL')
end
if ARGV[4] == 'persist' then
  redis.call('PERSIST', KEYS[1])
elseif ARGV[4] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1`)

/**
 * A key's revision: what a write checks before it applies. `string:<sha1 of the bytes>` for a
 * string, `<type>:` for the other types (whose contents are not compared).
 */
export function revisionOf(type: string, raw?: Buffer | string): string {
  if (type !== 'string' || raw === undefined) return `${type}:`
  return `string:${createHash('sha1').update(raw).digest('hex')}`
}

/** The revision of a key, computed by Redis (for a string too large to fetch). */
export async function serverRevision(connection: Connection, rkey: string): Promise<string> {
  const reply = (await runScript(connection, CAS, [rkey], ['digest'])) as unknown[]
  const kind = String(reply[0])
  const digest = String(reply[1])
  return kind === 'string' ? `string:${digest}` : `${kind}:`
}

/** What a compare-and-set write does besides checking. */
export type CasOperation =
  | { op: 'set'; value: RedisArgument; ttl: TtlChange }
  | { op: 'ttl'; ttl: TtlChange }
  | { op: 'delete' }

/** A TTL change: keep it, remove it (`persist`), or milliseconds from now. */
export type TtlChange = 'keep' | 'persist' | number

/** Runs a write when the key still has `revision`; resolves whether it did. */
export async function compareAndSet(
  connection: Connection,
  rkey: string,
  revision: string,
  operation: CasOperation,
): Promise<boolean> {
  const colon = revision.indexOf(':')
  const type = revision.slice(0, colon)
  const digest = revision.slice(colon + 1)
  const ttl = operation.op === 'delete' ? 'keep' : operation.ttl
  const ttlArg = ttl === 'keep' ? '' : ttl === 'persist' ? 'persist' : String(ttl)
  const args: RedisArgument[] = [operation.op, type, digest, ttlArg]
  if (operation.op === 'set') args.push(operation.value)
  const reply = await runScript(connection, CAS, [rkey], args)
  return Number(reply) >= 1
}
