// The SCAN walks of the key browser and of delete-by-pattern, bounded in what one call holds
// Redis for. Redis matches the pattern against every key a SCAN visits, at a cost of about the
// key's name length times the pattern's characters from its first `*` on (with no `*`, one pass
// over the pattern): 500 keys named with 60,000 characters and a pattern of 1,000 `?` after a
// `*` held it for 27 s in one `SCAN … COUNT 500`, and every other client waited. So the pattern
// is bounded (`checkPattern`), and the COUNT adapts to the time of each call: it starts at 1,
// doubles while calls are fast, and shrinks after a slow one, down to 1.
import { type Connection, ConnectionError } from '@cachex/core'
import { scanWalk, serverOf } from '@cachex/core/internal'
import { HttpError } from './_http.ts'

/** Characters of a pattern at most. */
export const MAX_PATTERN_CHARS = 1024
/**
 * Characters of a pattern from its first `*` on, at most (the `*` included). Measured with Redis
 * 7.0 on a busy 2-core machine: one key named with 64 Ki characters against `*` and 127 `?`
 * costs 13 to 19 ms (256 characters: 21 to 40 ms; 1,000: 84 to 128 ms), so that even a SCAN of
 * COUNT 1 over such names stays under `SLOW_MS` or close to it.
 */
export const MAX_STAR_TAIL = 128
/** A SCAN call that took longer (milliseconds, as the client saw it) shrinks the COUNT. */
const SLOW_MS = 20
/** A call faster than this doubles the COUNT: the next is then expected under `SLOW_MS / 2`. */
const FAST_MS = SLOW_MS / 4
/** What a shrunk COUNT aims at (milliseconds a call). */
const AIM_MS = SLOW_MS / 2
/**
 * Throws 400 for a pattern that could hold Redis too long: over `MAX_PATTERN_CHARS`, or over
 * `MAX_STAR_TAIL` from its first `*` on. An escaped `\*` counts as a `*` (the bound errs on the
 * safe side).
 */
export function checkPattern(pattern: string): void {
  if (pattern.length > MAX_PATTERN_CHARS) {
    throw new HttpError(
      400,
      `pattern is longer than ${MAX_PATTERN_CHARS} characters`,
      'pattern_too_long',
    )
  }
  const tail = starTail(pattern)
  if (tail > MAX_STAR_TAIL) {
    throw new HttpError(
      400,
      `pattern has ${tail} characters from its first * on; at most ${MAX_STAR_TAIL} are taken (Redis matches them against the whole name of every key it visits, and a longer pattern would hold it for long over long names)`,
      'pattern_too_long',
    )
  }
}

/** Characters of `pattern` from its first `*` on (0 without one). */
function starTail(pattern: string): number {
  const star = pattern.indexOf('*')
  return star === -1 ? 0 : pattern.length - star
}

/** The COUNT of the next SCAN call, after one at `count` that took `ms`. */
export function nextCount(count: number, ms: number, max: number): number {
  if (ms > SLOW_MS) return Math.max(1, Math.floor((count * AIM_MS) / ms))
  if (ms < FAST_MS) return Math.min(max, count * 2)
  return count
}

/**
 * Walks every key matching the Redis glob `redisPattern` with SCAN, yielding each reply's keys
 * as one batch (a key is a string when its bytes are UTF-8, else its bytes), as
 * `Connection.scan` does, but with a COUNT that adapts to each call's time (see `nextCount`),
 * from 1 up to `max`. The time is the call's as the client sees it, which bounds the server's.
 *
 * A connection that routes by hash slot (a cluster) walks every primary through its own `scan`,
 * whose COUNT stays as given: there the COUNT is `max` divided by the pattern's characters from
 * its first `*` on, so that a costly pattern goes a few keys a call. Other connections run one
 * server: the walk their `scan` makes (`scanWalk`), paced by each call's time, which fails with
 * a `ConnectionError` once the server changed (`serverOf`: the connection's own count of its
 * servers) since its first call.
 */
export async function* adaptiveScan(
  connection: Connection,
  redisPattern: string,
  max: number,
): AsyncGenerator<Array<string | Buffer>> {
  if (connection.routesBySlot === true) {
    const count = Math.max(1, Math.floor(max / Math.max(1, starTail(redisPattern))))
    yield* connection.scan(redisPattern, count)
    return
  }
  const pace = { first: 1, next: (count: number, ms: number) => nextCount(count, ms, max) }
  // Fails rather than send a cursor to another server than the one that handed it out (a
  // failover, a reconnection): see `serverChangedSince`.
  const server = serverOf(connection)
  yield* scanWalk((args) => connection.command(args), redisPattern, pace, server)
}

/**
 * Whether `error`, which ended a walk begun when the connection's count of its servers
 * (`serverOf`) was `generation`, came with the walk's server changing (a failover, a
 * reconnection): a `ConnectionError` after the count changed. Such a walk cannot go on: its
 * cursor means nothing to the new server. Never on a cluster, whose walks go on per node.
 */
export function serverChangedSince(
  connection: Connection,
  generation: number | undefined,
  error: unknown,
): boolean {
  return (
    connection.routesBySlot !== true &&
    error instanceof ConnectionError &&
    serverOf(connection)() !== generation
  )
}

/** The largest SCAN cursor: Redis's are unsigned 64-bit integers. */
const MAX_U64 = 2n ** 64n - 1n

/**
 * The HSCAN / SSCAN cursor a page hands out: `<cursor>.<count>`, with the connection's count of
 * its servers (`serverOf`) read before the page's read, or the cursor alone on a connection that
 * keeps none (a cluster, a wrapper). `null` at the end of the walk.
 */
export function memberCursor(next: string | null, generation: number | undefined): string | null {
  return next === null || generation === undefined ? next : `${next}.${generation}`
}

/**
 * The HSCAN / SSCAN cursor of a page's query (what `memberCursor` handed out), after the check
 * that its server is the one that gave it: a 410 `server_changed` when the connection's count of
 * its servers moved since (a Sentinel failover, a reconnection to a restarted server: the old
 * server's cursor means nothing to the new one, and sent there the page would miss and repeat
 * members), and so does a cursor without the count where pages hand it out (whose server cannot
 * be told). A 400 for what no page handed out.
 */
export function memberCursorOf(connection: Connection, at: string): string {
  const parts = /^(\d{1,20})(?:\.(\d{1,20}))?$/.exec(at)
  if (parts === null || BigInt(parts[1] as string) > MAX_U64) {
    throw new HttpError(400, 'cursor must be a number (the cursor the previous page gave)')
  }
  const given = parts[2]
  const now = serverOf(connection)()
  // A bare cursor where pages hand out tagged ones (a page of an earlier version): its server
  // cannot be told, so it is not sent on. `0` is the start of a walk, which any server takes.
  if (given === undefined ? now !== undefined && parts[1] !== '0' : String(now) !== given) {
    throw memberServerChanged()
  }
  return parts[1] as string
}

/** The 410 of a member page whose server changed since its cursor was handed out. */
export function memberServerChanged(): HttpError {
  return new HttpError(
    410,
    "the server changed since this page's cursor was handed out (a failover or reconnection): it means nothing to the new server, and going on would miss and repeat members; reload from the first page",
    'server_changed',
  )
}
