// One page of a container's elements, fetched with a bound on the bytes it brings over: a list of
// three 20 MiB elements must not cost 60 MiB of memory and network to show three rows. No read
// command bounds its elements' sizes (LRANGE, HSCAN, SSCAN, ZRANGE and XRANGE send them whole, and
// only hashes have a STRLEN of a member), so a Lua script runs the read on the server and sends
// each element whole only while it fits: an element over MAX_ELEMENT_BYTES, or past the page's
// MAX_PAGE_BYTES, comes back as its length and its first HEAD_BYTES bytes (shown as a preview, as
// a string too large to fetch is). On the server too the script reads in steps, and stops once
// the page has read MAX_READ_BYTES (or sent MAX_STREAM_PAIRS field pairs): Redis runs nothing else
// while a script runs, and one read of a page of large elements held it for seconds. An element is
// still read whole, however large (Redis reads no byte range of a list element or hash value).
// A page cut short goes on where it stopped. memory:// runs the script natively, as its others.
import { type Connection, defineScript, runScript } from '@cachex/core'

/** An element sent whole up to this size… */
export const MAX_ELEMENT_BYTES = 1024 * 1024
/** …while the page's elements together stay under this. */
export const MAX_PAGE_BYTES = 8 * 1024 * 1024
/** Bytes of an element too large to send that are sent, for its preview (as written in READ). */
export const HEAD_BYTES = 256
/** Field pairs of stream entries one page sends at most (each pair is two nodes of the tree). */
export const MAX_STREAM_PAIRS = 10_000
/**
 * Bytes of elements one page reads on the server before it stops (plus the last one read, whole):
 * a few tens of milliseconds of the server's time, read in steps.
 */
export const MAX_READ_BYTES = 64 * 1024 * 1024

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
  /**
   * The next HSCAN / SSCAN cursor (`'0'` at the end); for a list, zset or stream, where the read
   * stopped short of the count asked (its budget spent), or `''` when it did not.
   */
  next: string
  /** hash: field, value, …; set: members; list: values; zset: member, score, …. */
  items: Element[]
  entries: StreamEntry[]
}

// KEYS[1]: the container. ARGV: the type, where to start (a cursor, an index, a stream id), the
// count (for a list or zset: the last index), the largest element sent whole, the bytes the page
// sends whole at most, the field pairs of stream entries sent at most, the bytes it reads at most.
// Every number goes in as text from the caller, and back to Redis through int (Lua would print a
// large one as 1e+15). The read goes in steps (1 element, then more while they are small) and
// stops once the bytes read or the field pairs are spent: the next step is never started past
// them. A list, zset or stream read cut short answers where it stopped, else ''.
const READ = defineScript(`local kind, at, n = ARGV[1], ARGV[2], ARGV[3]
local max, left, npairs = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local budget, big, step = tonumber(ARGV[7]), 1, 1
local function int(x) return string.format('%.0f', x) end
local function cap(v)
  if type(v) ~= 'string' then return v end
  budget = budget - #v
  if #v > big then big = #v end
  if #v > max or #v > left then return {#v, string.sub(v, 1, 256)} end
  left = left - #v
  return v
end
local function grow(fill)
  step = math.max(1, math.min(step * 2, 64, math.floor(1 / fill / 2)))
end
if kind == 'hash' or kind == 'set' then
  local out, cursor, asked, want = {}, at, 0, tonumber(n)
  repeat
    local count = math.max(1, math.min(step, want - asked))
    local reply = redis.call(kind == 'hash' and 'HSCAN' or 'SSCAN', KEYS[1], cursor, 'COUNT', count)
    cursor = reply[1]
    for i = 1, #reply[2] do out[#out + 1] = cap(reply[2][i]) end
    asked = asked + count
    grow(big / budget)
  until cursor == '0' or asked >= want or budget <= 0
  return {cursor, out}
end
if kind == 'list' or kind == 'zset' then
  local out, i, last, width = {}, tonumber(at), tonumber(n), kind == 'zset' and 2 or 1
  while i <= last and budget > 0 do
    local to = math.min(last, i + step - 1)
    local got = kind == 'list' and redis.call('LRANGE', KEYS[1], int(i), int(to))
      or redis.call('ZRANGE', KEYS[1], int(i), int(to), 'WITHSCORES')
    for j = 1, #got, width do
      out[#out + 1] = cap(got[j])
      if width == 2 then out[#out + 1] = got[j + 1] end
    end
    if #got < (to - i + 1) * width then return {'', out} end
    i = to + 1
    grow(big / budget)
  end
  return {i <= last and int(i) or '', out}
end
local out, from, want, heavy, wide = {}, at, tonumber(n), 1, 1
while want > 0 and npairs > 0 and budget > 0 do
  local entries = redis.call('XRANGE', KEYS[1], from, '+', 'COUNT', math.min(step, want))
  for i = 1, #entries do
    if npairs <= 0 or budget <= 0 then return {from, out} end
    local fields, sent, bytes = entries[i][2], {}, 0
    local take = math.min(#fields, npairs * 2)
    for j = 1, #fields do
      bytes = bytes + #fields[j]
      if j <= take then sent[j] = cap(fields[j]) else budget = budget - #fields[j] end
    end
    heavy, wide = math.max(heavy, bytes), math.max(wide, #fields / 2)
    npairs = npairs - math.floor(take / 2)
    out[#out + 1] = {entries[i][1], #fields / 2, sent}
    from = '(' .. entries[i][1]
  end
  if #entries < math.min(step, want) then return {'', out} end
  want = want - #entries
  grow(math.max(heavy / budget, wide / npairs))
end
return {want > 0 and from or '', out}`)

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
  const args = [
    kind,
    at,
    n,
    MAX_ELEMENT_BYTES,
    MAX_PAGE_BYTES,
    MAX_STREAM_PAIRS,
    MAX_READ_BYTES,
  ].map(String)
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
