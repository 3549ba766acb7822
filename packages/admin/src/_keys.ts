// The key browser: a page of a cache's keys matching a pattern, walked with SCAN (never KEYS) on
// every primary, each with its type, TTL and size. The walk is held between pages behind an
// opaque cursor (so it works on a cluster too), bounded in number and idle time. Its SCAN COUNT
// adapts to each call's time (`adaptiveScan`), and a page stops scanning after `PAGE_SCAN_MS`:
// a sparse pattern over long names answers a short page, and a cursor, rather than a long wait. A page's keys are described in chunks bounded in the bytes of their names, and
// names too long to list whole are cut: keys named with hundreds of KB neither take the
// connection past its maxInFlightBytes nor make the answer unbounded. A listing whose server
// changed (a failover, a reconnection) cannot go on: 410 `server_changed`, search again.
import { randomBytes } from 'node:crypto'
import { serverOf } from '@cachex/core/internal'
import type { KeyRow } from './_api-types.ts'
import type { AdminCache } from './_caches.ts'
import { byNameBytes } from './_chunks.ts'
import { HttpError } from './_http.ts'
import { adaptiveScan, serverChangedSince } from './_scan.ts'

/** Keys per page at most. */
export const MAX_PAGE = 500
/** SCAN calls one page may make at most (a sparse pattern answers a short page, and a cursor). */
const MAX_SCANS_PER_PAGE = 200
/** Open cursors at most; the least recently used is dropped. */
const MAX_CURSORS = 64
/** A cursor unused this long is dropped. */
const CURSOR_IDLE_MS = 10 * 60_000
/** Keys per SCAN call at most (the COUNT starts at 1 and grows while calls are fast). */
const SCAN_COUNT = 500
/** Milliseconds one page may spend in SCAN calls: past them, it answers what it found. */
const PAGE_SCAN_MS = 1000
/**
 * Bytes of key names described concurrently at most (a longer name goes alone): each is sent
 * in three commands, and the connection's maxInFlightBytes (32 MiB by default) is shared with
 * the application's commands.
 */
const DESCRIBE_BYTES = 256 * 1024
/** Characters of a name listed whole at most: the longest `key` the key routes take. */
const MAX_NAME_CHARS = 64 * 1024
/** Characters of names (`key`, `redisKey`, `notUtf8`) a page lists whole, all its rows together. */
const PAGE_NAME_CHARS = 2 * 1024 * 1024
/** Characters listed of a name cut short. */
const NAME_HEAD_CHARS = 1024

interface Walk {
  alias: string
  iterator: AsyncIterator<Array<string | Buffer>>
  /** Keys of the last SCAN reply not yet handed out (a name that is not UTF-8 as its bytes). */
  pending: Array<string | Buffer>
  done: boolean
  used: number
  /** A page of this walk is being read: a second concurrent one waits for no one, it is refused. */
  busy: boolean
  /** The connection's count of its servers (`serverOf`) when the walk began. */
  generation: number | undefined
}

/** The open key walks of one handler. */
export class KeyWalks {
  readonly #walks = new Map<string, Walk>()

  /** A page of keys: `cursor` continues a walk, else a new one starts. */
  async page(
    entry: AdminCache,
    pattern: string,
    version: number,
    count: number,
    cursor: string | undefined,
  ): Promise<{ keys: KeyRow[]; cursor: string | null }> {
    this.#expire()
    let id = cursor
    let walk = id === undefined ? undefined : this.#walks.get(id)
    if (id !== undefined && (walk === undefined || walk.alias !== entry.alias)) {
      throw new HttpError(410, 'this key listing expired: search again', 'cursor_expired')
    }
    if (walk === undefined || id === undefined) {
      const redisPattern = entry.cache.makePattern(pattern, version)
      const generation = serverOf(entry.cache.connection)()
      const iterator = adaptiveScan(entry.cache.connection, redisPattern, SCAN_COUNT)
      id = randomBytes(16).toString('base64url')
      walk = {
        alias: entry.alias,
        iterator,
        pending: [],
        done: false,
        used: Date.now(),
        busy: false,
        generation,
      }
      this.#walks.set(id, walk)
      while (this.#walks.size > MAX_CURSORS) this.#drop(this.#walks.keys().next().value as string)
    }
    if (walk.busy) throw new HttpError(409, 'this page is being read already', 'busy')
    walk.busy = true
    const redisKeys: Array<string | Buffer> = []
    let finished: boolean
    let keys: Awaited<ReturnType<typeof describeKeys>>
    try {
      try {
        let scans = 0
        const until = performance.now() + PAGE_SCAN_MS
        while (redisKeys.length < count) {
          if (walk.pending.length > 0) {
            redisKeys.push(...walk.pending.splice(0, count - redisKeys.length))
            continue
          }
          if (walk.done || scans >= MAX_SCANS_PER_PAGE) break
          if (scans > 0 && performance.now() > until) break
          scans++
          const next = await walk.iterator.next()
          if (next.done === true) walk.done = true
          else walk.pending = next.value
        }
      } catch (error) {
        this.#drop(id)
        // Its server changed (a failover, a reconnection): the walk cannot go on there.
        if (serverChangedSince(entry.cache.connection, walk.generation, error)) {
          throw new HttpError(
            410,
            'the server changed since this key listing began (a failover or reconnection): its cursor means nothing to the new server, and going on would miss and repeat keys; search again',
            'server_changed',
          )
        }
        throw error
      }
      // Move it to the end: the map is in least-recently-used order.
      this.#walks.delete(id)
      finished = walk.done && walk.pending.length === 0
      if (!finished) this.#walks.set(id, walk)
      else void walk.iterator.return?.()
      // Still busy while the page's rows are read: the same cursor asked again meanwhile is told
      // 409, not handed the page after this one, which this page's failure would leave unlisted.
      try {
        keys = await describeKeys(entry, redisKeys, version)
      } catch (error) {
        // The page's keys are taken from the walk: going on from its cursor would skip them. The
        // cursor of a failed page ends here, as when its SCAN failed (a 410 asked again).
        walk.busy = false
        this.#drop(id)
        throw error
      }
    } finally {
      walk.busy = false
      walk.used = Date.now()
    }
    return { keys, cursor: finished ? null : id }
  }

  #drop(id: string): void {
    const walk = this.#walks.get(id)
    this.#walks.delete(id)
    if (walk !== undefined && !walk.busy) void walk.iterator.return?.()?.catch(() => undefined)
  }

  #expire(): void {
    const before = Date.now() - CURSOR_IDLE_MS
    for (const [id, walk] of this.#walks) if (walk.used < before && !walk.busy) this.#drop(id)
  }

  close(): void {
    for (const id of [...this.#walks.keys()]) this.#drop(id)
  }
}

/**
 * Type, TTL and size of each key, asked concurrently (node-redis pipelines them) in chunks of
 * at most `DESCRIBE_BYTES` of names. A key whose name is not UTF-8 (SCAN yields its bytes) is
 * asked about by those bytes, and listed under its name decoded with U+FFFD for each invalid
 * byte, flagged with its bytes in hex: that lossy name may be another key's, so the key routes
 * refuse it (`checkNameable`). Names are listed whole while they fit (`listNames`).
 */
export async function describeKeys(
  entry: AdminCache,
  redisKeys: ReadonlyArray<string | Buffer>,
  version: number,
): Promise<KeyRow[]> {
  const connection = entry.cache.connection
  const ask = (args: Array<string | Buffer>, key: string | Buffer) =>
    connection.command(args, { key, readonly: true, text: true })
  const describe = async (redisKey: string | Buffer): Promise<KeyRow> => {
    const [type, pttl] = await Promise.all([
      ask(['TYPE', redisKey], redisKey),
      ask(['PTTL', redisKey], redisKey),
    ])
    const kind = String(type)
    const name = typeof redisKey === 'string' ? redisKey : redisKey.toString('utf8')
    const row: KeyRow = {
      key: entry.internals.userKey(name, version),
      redisKey: name,
      type: kind,
      ttl: ttlSeconds(Number(pttl)),
      size: await sizeOf(entry, redisKey, kind),
    }
    if (typeof redisKey !== 'string') row.notUtf8 = redisKey.toString('hex')
    return row
  }
  const rows: KeyRow[] = []
  for (const chunk of byNameBytes(redisKeys, MAX_PAGE, DESCRIBE_BYTES)) {
    rows.push(...(await Promise.all(chunk.map(describe))))
  }
  listNames(rows)
  return rows
}

/**
 * Cuts the names of `rows` that are not listed whole: a name over `MAX_NAME_CHARS` (the key
 * routes refuse it: it cannot be opened anyway), and, once the page's names passed
 * `PAGE_NAME_CHARS`, every later one. A cut row keeps the first `NAME_HEAD_CHARS` of its names
 * (the bytes of as many in `notUtf8`), their lengths, and `truncated`.
 */
function listNames(rows: KeyRow[]): void {
  let left = PAGE_NAME_CHARS
  for (const row of rows) {
    const chars = row.key.length + row.redisKey.length + (row.notUtf8?.length ?? 0)
    if (row.key.length <= MAX_NAME_CHARS && chars <= left) {
      left -= chars
      continue
    }
    row.truncated = true
    row.keyLength = row.key.length
    row.redisKeyLength = row.redisKey.length
    row.key = head(row.key)
    row.redisKey = head(row.redisKey)
    if (row.notUtf8 !== undefined) row.notUtf8 = row.notUtf8.slice(0, 2 * NAME_HEAD_CHARS)
  }
}

/** The first `NAME_HEAD_CHARS` of `name`, without half of a surrogate pair at the end. */
function head(name: string): string {
  const cut = name.slice(0, NAME_HEAD_CHARS)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

/**
 * Throws 400 for a key name holding U+FFFD: that is what a name that is not UTF-8 is listed as,
 * and acting on it would reach another key (the one whose name is those characters) or none.
 * The admin cannot name such a key; it refuses, rather than guess.
 */
export function checkNameable(key: string): void {
  if (key.includes('\uFFFD')) {
    throw new HttpError(
      400,
      "this key's name is not UTF-8; cachex cannot name it (a name holding U+FFFD, the character invalid bytes decode to, is refused)",
      'not_utf8',
    )
  }
}

/** PTTL in seconds: `null` for no expiry (-1); 0 for a missing key (-2). */
export function ttlSeconds(pttl: number): number | null {
  if (pttl === -1) return null
  if (pttl < 0 || !Number.isFinite(pttl)) return 0
  return pttl / 1000
}

/**
 * The bytes a key takes: `MEMORY USAGE` (Redis samples 5 elements of a container: bounded), or,
 * where that is refused (an ACL, an old server), `STRLEN` of a string; `null` otherwise.
 */
export async function sizeOf(
  entry: AdminCache,
  redisKey: string | Buffer,
  type: string,
): Promise<number | null> {
  if (type === 'none') return null
  const connection = entry.cache.connection
  if (entry.memoryUsage) {
    try {
      const reply = await connection.command(['MEMORY', 'USAGE', redisKey], {
        key: redisKey,
        readonly: true,
      })
      return reply === null ? null : Number(reply)
    } catch (error) {
      if (/unknown command|NOPERM|unknown subcommand/i.test(String((error as Error)?.message))) {
        entry.memoryUsage = false
      } else {
        return null
      }
    }
  }
  if (type !== 'string') return null
  try {
    return Number(await connection.command(['STRLEN', redisKey], { key: redisKey, readonly: true }))
  } catch {
    return null
  }
}
