// One node's `SCAN` walk, shared by every connection's `scan` and by the admin's key browser:
// the cursor loop, the reply's shape checked, a cursor handed out twice refused, and keys that
// are not UTF-8 kept as bytes. Its COUNT is fixed, or paced by the time each call took.
import { isUtf8 } from 'node:buffer'
import { ResponseError } from './errors.ts'

/**
 * A COUNT that follows the time of each `SCAN` call: `first` for the first call, then
 * `next(count, ms)` after a call at `count` that took `ms` (as the client saw it).
 */
export interface ScanPace {
  first: number
  next(count: number, ms: number): number
}

/**
 * Cursors remembered to notice a server that hands one out twice in a walk; past this many the
 * memory starts over (a walk at COUNT 1 over millions of keys makes millions of calls).
 */
const SEEN_CURSORS = 65_536

/**
 * Walks `SCAN … MATCH pattern` on one node through `run`, yielding each reply's keys as one batch
 * (a key is a string when its bytes are UTF-8, else its bytes), with a fixed `count` or one paced
 * by each call's time (`ScanPace`).
 */
export async function* scanWalk(
  run: (args: string[]) => Promise<unknown>,
  pattern: string,
  count: number | ScanPace,
): AsyncGenerator<Array<string | Buffer>> {
  const pace = typeof count === 'number' ? undefined : count
  let n = pace === undefined ? (count as number) : pace.first
  let cursor = '0'
  // Redis never hands out a cursor twice in one walk (it advances in reverse-binary order until
  // 0); a server that does (a proxy's bug) would keep the walk going forever.
  const seen = new Set<string>()
  do {
    const started = pace === undefined ? 0 : performance.now()
    const reply = await run(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(n)])
    if (pace !== undefined) n = pace.next(n, performance.now() - started)
    if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
      throw new ResponseError('SCAN answered something other than [cursor, keys]')
    }
    cursor = String(reply[0])
    if (seen.has(cursor)) {
      throw new ResponseError(
        `SCAN handed out the cursor ${cursor.slice(0, 20)} twice in one walk: the server's walk does not end`,
      )
    }
    if (seen.size >= SEEN_CURSORS) seen.clear()
    seen.add(cursor)
    yield (reply[1] as unknown[]).map(scannedKey)
  } while (cursor !== '0')
}

/**
 * A key of a `SCAN` reply: its text, or its bytes when they are not UTF-8. Decoding those would
 * turn each invalid byte into U+FFFD, the name of another key (or of none): a caller that deletes
 * what it scanned would delete that one instead.
 */
function scannedKey(key: unknown): string | Buffer {
  if (!Buffer.isBuffer(key)) return String(key)
  return isUtf8(key) ? key.toString('utf8') : key
}
