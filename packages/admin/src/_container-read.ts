// One page of a container's elements, fetched with a bound on the bytes it brings over: a list of
// three 20 MiB elements must not cost 60 MiB of memory and network to show three rows. No read
// command bounds its elements' sizes (LRANGE, HSCAN, SSCAN, ZRANGE and XRANGE send them whole, and
// only hashes have a STRLEN of a member), so a Lua script runs the read on the server and sends
// each element whole only while it fits: an element over MAX_ELEMENT_BYTES, or past the page's
// MAX_PAGE_BYTES, comes back as its length and its first HEAD_BYTES bytes (shown as a preview, as
// a string too large to fetch is). The server still reads the elements (it holds them already);
// what crosses to this process is bounded. memory:// runs the script natively, as its others.
import { type Connection, defineScript, runScript } from '@cachex/core'

/** An element sent whole up to this size… */
export const MAX_ELEMENT_BYTES = 1024 * 1024
/** …while the page's elements together stay under this. */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024
/** Bytes of an element too large to send that are sent, for its preview (as written in READ). */
export const HEAD_BYTES = 256
/** Field pairs of stream entries one page sends at most (each pair is two nodes of the tree). */
export const MAX_STREAM_PAIRS = 10_000

/** An element too large to send: its length and first bytes. */
export interface TooLarge {
  tooLarge: number
  head: Buffer
}

/** One element as fetched. */
export type Element = Buffer | TooLarge

/** A stream entry as fetched: its id, how many field pairs it has, and those sent (flat). */
export interface StreamEntry {
  id: string
  pairs: number
  fields: Element[]
}

/** What one read brings: a SCAN cursor (hash, set) and elements, or stream entries. */
export interface Fetched {
  /** The next HSCAN / SSCAN cursor (`'0'` at the end); `''` for the other types. */
  next: string
  /** hash: field, value, …; set: members; list: values; zset: member, score, …. */
  items: Element[]
  entries: StreamEntry[]
}

// KEYS[1]: the container. ARGV: the type, where to start (a cursor, an index, a stream id), the
// count (for a list or zset: the last index), the largest element sent whole, the bytes the page
// sends whole at most, the field pairs of stream entries sent at most. Every number goes in as
// text from the caller (Lua would print a large one as 1e+15).
const READ = defineScript(`local kind, at, n = ARGV[1], ARGV[2], ARGV[3]
local max, left, npairs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local function cap(v)
  if type(v) ~= 'string' then return v end
  if #v > max or #v > left then return {#v, string.sub(v, 1, 256)} end
  left = left - #v
  return v
end
local function capAll(list, step)
  for i = 1, #list, step do list[i] = cap(list[i]) end
  return list
end
if kind == 'hash' or kind == 'set' then
  local reply = redis.call(kind == 'hash' and 'HSCAN' or 'SSCAN', KEYS[1], at, 'COUNT', n)
  return {reply[1], capAll(reply[2], 1)}
end
if kind == 'list' then
  return {'', capAll(redis.call('LRANGE', KEYS[1], at, n), 1)}
end
if kind == 'zset' then
  return {'', capAll(redis.call('ZRANGE', KEYS[1], at, n, 'WITHSCORES'), 2)}
end
local entries = redis.call('XRANGE', KEYS[1], at, '+', 'COUNT', n)
local out = {}
for i = 1, #entries do
  local fields, sent = entries[i][2], {}
  local take = math.min(#fields, npairs * 2)
  for j = 1, take do sent[j] = cap(fields[j]) end
  npairs = npairs - math.floor(take / 2)
  out[i] = {entries[i][1], #fields / 2, sent}
end
return {'', out}`)

/**
 * Reads one page of `kind` (`hash`, `set`, `list`, `zset` or `stream`) at `redisKey`: `at` is the
 * SCAN cursor, the first index, or the first stream id (`-`, or `(id` after one); `n` the count,
 * or the last index of a list or zset. Elements too large to send come back as `TooLarge`.
 */
export async function fetchPage(
  connection: Connection,
  kind: string,
  redisKey: string,
  at: string,
  n: string,
): Promise<Fetched> {
  const args = [kind, at, n, MAX_ELEMENT_BYTES, MAX_PAGE_BYTES, MAX_STREAM_PAIRS].map(String)
  const reply = list(await runScript(connection, READ, [redisKey], args))
  const next = text(reply[0])
  if (kind !== 'stream') return { next, items: list(reply[1]).map(element), entries: [] }
  const entries = list(reply[1]).map((e): StreamEntry => {
    const [id, pairs, fields] = list(e)
    return { id: text(id), pairs: Number(pairs), fields: list(fields).map(element) }
  })
  return { next, items: [], entries }
}

/** A reply element: its bytes, or, from the script, `[length, head]` when it was too large. */
function element(reply: unknown): Element {
  if (Array.isArray(reply)) {
    return { tooLarge: Number(reply[0]), head: bytes(reply[1]) }
  }
  return bytes(reply)
}

function bytes(reply: unknown): Buffer {
  return Buffer.isBuffer(reply) ? reply : Buffer.from(String(reply ?? ''))
}

function text(reply: unknown): string {
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply ?? '')
}

function list(reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : []
}
