// getOrSet's refresh (`earlyRecompute`, a stale value within its `grace`) replaces a value that is
// still there, so it must not replace a newer one: a `set()` or a `delete()` made while the
// factory ran wins, as a miss's `add` loses to a value stored meanwhile.
import { createHash } from 'node:crypto'
import type { CacheContext } from '../_context.ts'
import { defineScript, runScript } from '../script.ts'
import type { RedisArgument } from '../types.ts'
import { measured } from './_observed.ts'
import { readWithMeta, scriptOr } from './_stampede.ts'

// Stores ARGV[2] at KEYS[1] (expiring in ARGV[3] ms; '' never) only if the key still holds the
// bytes whose SHA1 is ARGV[1] (the digest, not the bytes: a large value is not sent twice) and
// its expiry has not been set again since it had ARGV[4] ms left ('' never expired): a PTTL only
// falls, so one that grew, or a key persisted, was written meanwhile (a `set` of the same bytes).
export const REFRESH_SWAP_SCRIPT = defineScript(`local v = redis.call('GET', KEYS[1])
if not v or redis.sha1hex(v) ~= ARGV[1] then
  return 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ARGV[4] == '' then
  if ttl ~= -1 then
    return 0
  end
elseif ttl == -1 or ttl > tonumber(ARGV[4]) then
  return 0
end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`)

/** What a refresh read on the primary before its factory ran: the value it replaces. */
export interface Unchanged {
  /** The value's bytes. */
  raw: RedisArgument
  /** Its milliseconds to expiry then; `null` when it never expires. */
  pttl: number | null
}

/**
 * Stores `value` at `rkey` (expiring in `ms`; `null` never, > 0 otherwise) if it still holds
 * `before`, the value the refresh decided to replace, with no expiry set since; resolves whether
 * it stored. One script; for a user without `@scripting` (or a server with `EVAL` renamed away:
 * `scriptOr`), the same check as a read of the key (`stillHolds`) and then a `SET`, two round
 * trips: a write landing between them is overwritten.
 * Reports the `set` event of a value stored.
 */
export async function storeIfUnchanged(
  context: CacheContext,
  rkey: string,
  key: string,
  value: unknown,
  ms: number | null,
  before: Unchanged,
): Promise<boolean> {
  const [stored, sizes] = await measured(context, () => {
    const data = context.encode(value, key)
    const digest = createHash('sha1').update(before.raw).digest('hex')
    return context.store.writing([rkey], () =>
      scriptOr(
        context.connection,
        async () => {
          const ttl = before.pttl === null ? '' : String(before.pttl)
          const args = [digest, data, ms === null ? '' : String(ms), ttl]
          return (await runScript(context.connection, REFRESH_SWAP_SCRIPT, [rkey], args)) === 1
        },
        async () => (await stillHolds(context, rkey, before)) && context.store.set(rkey, value, ms),
      ),
    )
  })
  if (stored && context.events.writes) {
    context.events.emit('set', { operation: 'getOrSet', key, bytes: sizes[0] })
  }
  return stored
}

/**
 * Whether `rkey` still holds `before` on the primary, with no expiry set since: the script's
 * check (`REFRESH_SWAP_SCRIPT`), with the `GET` + `PTTL` the refresh read `before` with.
 */
async function stillHolds(
  context: CacheContext,
  rkey: string,
  before: Unchanged,
): Promise<boolean> {
  // On the primary and as bytes, as `before` was read: a replica may lack the newer write.
  const now = await readWithMeta(context, rkey, false, false, false)
  if (!sameBytes(now.raw, before.raw)) return false
  // A PTTL only falls: one that grew, or a key persisted, had its expiry set again meanwhile.
  if (before.pttl === null) return now.persistent
  return now.pttl !== null && now.pttl <= before.pttl
}

/** Whether a reply (`null` for a missing key) is the bytes of `raw`. */
function sameBytes(reply: unknown, raw: RedisArgument): boolean {
  const bytes = typeof reply === 'string' ? Buffer.from(reply) : reply
  return Buffer.isBuffer(bytes) && bytes.equals(typeof raw === 'string' ? Buffer.from(raw) : raw)
}
