// Compare-and-set for the admin's writes: one Lua script that checks a key still holds what the
// page showed (its type and, for a string, a digest of its bytes) before it writes, deletes or
// changes the TTL, so that a concurrent change is reported (409) and nothing is overwritten.
// A string over the fetch limit (`MAX_FETCH_BYTES`) is not hashed whole: its digest is the SHA1
// of its length and of 16 slices of 4 KiB spread over it (its head and its tail among them), so
// that no page and no write of a string of hundreds of MB holds Redis — and every other client
// of it — while a script hashes it. A change inside such a string that keeps its length and
// misses every slice is not seen. The memory:// backend runs it natively
// (packages/connections/src/memory/scripts.ts, ADMIN_CAS).
import { createHash } from 'node:crypto'
import { type Connection, defineScript, type RedisArgument, runScript } from '@cachex/core'

/**
 * A string longer than this is not fetched by the key page: its first bytes are shown, and Redis
 * computes its bounded digest (`CAS`).
 */
export const MAX_FETCH_BYTES = 16 * 1024 * 1024

// ARGV: op ('digest' | 'set' | 'ttl' | 'delete'), the fetch limit, the expected type, the
// expected digest (strings), the TTL ('' keeps it, 'persist', or milliseconds) and the new value
// ('set'). A string's digest: its SHA1 while it is at most the fetch limit (as the page hashes
// what it fetched), else the SHA1 of its length and of 16 slices of 4096 bytes at even steps from
// its first byte to its last (GETRANGE reads only those).
const CAS = defineScript(`local kind = redis.call('TYPE', KEYS[1])['ok']
local function digest()
  if kind ~= 'string' then
    return ''
  end
  local n = redis.call('STRLEN', KEYS[1])
  if n <= tonumber(ARGV[2]) then
    return redis.sha1hex(redis.call('GET', KEYS[1]))
  end
  local parts = {tostring(n)}
  for i = 0, 15 do
    local at = math.floor(i * (n - 4096) / 15)
    parts[#parts + 1] = redis.call('GETRANGE', KEYS[1], at, at + 4095)
  end
  return redis.sha1hex(table.concat(parts, ':'))
end
if ARGV[1] == 'digest' then
  return {kind, digest()}
end
if kind ~= ARGV[3] or digest() ~= ARGV[4] then
  return 0
end
if ARGV[1] == 'delete' then
  return redis.call('UNLINK', KEYS[1])
end
if ARGV[1] == 'set' then
  redis.call('SET', KEYS[1], ARGV[6], 'KEEPTTL')
end
if ARGV[5] == 'persist' then
  redis.call('PERSIST', KEYS[1])
elseif ARGV[5] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 1`)

/**
 * A key's revision: what a write checks before it applies. `string:<sha1 of the bytes>` for a
 * string the page fetched (at most `MAX_FETCH_BYTES`), `<type>:` for the other types (whose
 * contents are not compared).
 */
export function revisionOf(type: string, raw?: Buffer | string): string {
  if (type !== 'string' || raw === undefined) return `${type}:`
  return `string:${createHash('sha1').update(raw).digest('hex')}`
}

/**
 * The revision of a key, computed by Redis (for a string too large to fetch): over the fetch
 * limit, the bounded digest of the string (its length and 16 slices of it), not its whole SHA1.
 */
export async function serverRevision(connection: Connection, rkey: string): Promise<string> {
  const limit = String(MAX_FETCH_BYTES)
  const reply = (await runScript(connection, CAS, [rkey], ['digest', limit])) as unknown[]
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
  const args: RedisArgument[] = [operation.op, String(MAX_FETCH_BYTES), type, digest, ttlArg]
  if (operation.op === 'set') args.push(operation.value)
  const reply = await runScript(connection, CAS, [rkey], args)
  return Number(reply) >= 1
}
