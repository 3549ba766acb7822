// One node's `SCAN` walk, shared by every connection's `scan` and by the admin's key browser:
// the cursor loop, the reply's shape checked, a cursor handed out twice refused, a cursor never
// sent to another server than the one that handed it out, and keys that are not UTF-8 kept as
// bytes. Its COUNT is fixed, or paced by the time each call took.
import { isUtf8 } from 'node:buffer'
import { toText, wrongReply } from './_replies.ts'
import { ConnectionError, ResponseError } from './errors.ts'
import type { Connection } from './types.ts'

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
 * by each call's time (`ScanPace`). With `server` (the connection's count of its servers,
 * `serverOf`), a walk whose server changed between two of its calls fails (`CursorOwner`).
 */
export async function* scanWalk(
  run: (args: string[]) => Promise<unknown>,
  pattern: string,
  count: number | ScanPace,
  server?: () => number | undefined,
): AsyncGenerator<Array<string | Buffer>> {
  const pace = typeof count === 'number' ? undefined : count
  let n = pace === undefined ? (count as number) : pace.first
  const owner = server === undefined ? undefined : new CursorOwner(server, 'SCAN', 'keys')
  let cursor = '0'
  // Redis never hands out a cursor twice in one walk (it advances in reverse-binary order until
  // 0); a server that does (a proxy's bug) would keep the walk going forever.
  const seen = new Set<string>()
  do {
    owner?.sending(cursor)
    const started = pace === undefined ? 0 : performance.now()
    const reply = await run(['SCAN', cursor, 'MATCH', pattern, 'COUNT', String(n)])
    owner?.answered(cursor)
    if (pace !== undefined) n = pace.next(n, performance.now() - started)
    const [next, keys] = cursorReply(reply, 'SCAN', 'keys', 1)
    cursor = next
    if (seen.has(cursor)) {
      throw new ResponseError(
        `SCAN handed out the cursor ${cursor.slice(0, 20)} twice in one walk: the server's walk does not end`,
      )
    }
    if (seen.size >= SEEN_CURSORS) seen.clear()
    seen.add(cursor)
    yield keys.map(scannedKey)
  } while (cursor !== '0')
}

/**
 * A cursor walk's reply (`SCAN`, `HSCAN`, `SSCAN`, `ZSCAN`): `[cursor, items]`, the cursor and
 * each item a string reply (bytes, or text where the route reads text), and `items` a whole
 * number of `step`s (2: `HSCAN`'s field–value and `ZSCAN`'s member–score pairs). Anything else
 * (a proxy or server out of step) rejects with `ResponseError`, never read as a key or cursor: a
 * nil key read as `"null"` would be deleted by a pattern delete. One type check an item.
 */
export function cursorReply(
  reply: unknown,
  command: string,
  items: string,
  step: 1 | 2,
): [cursor: string, items: unknown[]] {
  if (!Array.isArray(reply) || reply.length !== 2 || !Array.isArray(reply[1])) {
    throw new ResponseError(`${command} answered something other than [cursor, ${items}]`)
  }
  const [cursor, list] = reply as [unknown, unknown[]]
  if (!isBytes(cursor)) throw wrongReply(`a ${command} cursor (a string)`, cursor)
  for (const item of list) {
    if (!isBytes(item)) throw wrongReply(`a string among ${command}'s ${items}`, item)
  }
  if (list.length % step !== 0) {
    throw new ResponseError(`${command} answered ${list.length} items, not pairs`)
  }
  return [toText(cursor), list]
}

/** Whether a reply is a string reply: bytes, or text where the route reads text. */
function isBytes(reply: unknown): reply is string | Buffer {
  return typeof reply === 'string' || Buffer.isBuffer(reply)
}

/**
 * The server a cursor walk (`SCAN`, `HSCAN`…) runs on, by the connection's count of its servers
 * (`serverOf`), which changes whenever the server it sends to may have been replaced (a failover,
 * a reconnection). A cursor means something only to the server that handed it out: each Redis
 * process seeds the hash of its tables at start, so another one (a promoted replica, the same
 * server restarted) orders the keys otherwise, and a walk that went on there would silently miss
 * and repeat keys. The server that answered the walk's first call owns its cursors (a reply that
 * arrives after a change comes from the new server: a connection drops, or rejects, the calls in
 * flight to the one it leaves); once the count changed, the walk fails with a `ConnectionError`
 * (`isServerChanged`) rather than send a cursor to another server. One integer compare a call.
 */
export class CursorOwner {
  readonly #server: () => number | undefined
  readonly #command: string
  readonly #items: string
  /** The count when the first call was answered. */
  #owner: number | undefined

  constructor(server: () => number | undefined, command: string, items: string) {
    this.#server = server
    this.#command = command
    this.#items = items
  }

  /** Before a call with `cursor`: throws when its server changed since it handed `cursor` out. */
  sending(cursor: string): void {
    if (cursor !== '0' && this.#server() !== this.#owner) throw this.#changed()
  }

  /** After the reply to the call with `cursor`: the first call's server owns the walk. */
  answered(cursor: string): void {
    const now = this.#server()
    if (cursor === '0') this.#owner = now
    else if (now !== this.#owner) throw this.#changed()
  }

  #changed(): ConnectionError {
    const error = new ConnectionError(
      `the server changed during the ${this.#command} walk (a failover or reconnection): ${this.#items} may have been missed or repeated; walk again`,
    )
    Object.defineProperty(error, SERVER_CHANGED, {
      __proto__: null,
      value: true,
    } as PropertyDescriptor)
    return error
  }
}

/**
 * The mark of a walk's `ConnectionError` for a changed server: `Symbol.for`, so that one made by
 * one copy of `@cachex/core` (the connection's) is read by another (the cache's).
 */
const SERVER_CHANGED = Symbol.for('@cachex/core.serverChanged')

/** Whether `error` is the failure of a cursor walk whose server changed (`CursorOwner`). */
export function isServerChanged(error: unknown): boolean {
  return typeof error === 'object' && error !== null && Object.hasOwn(error, SERVER_CHANGED)
}

/**
 * The key of a connection's count of the servers it sent to (`serverOf`): a method that changes
 * its answer only when this connection's own server may have been replaced (its reconnection, a
 * failover of its primary). A connection without one (a wrapper that does not pass it on, one of
 * your own) is not watched: its `generation` counts the changes of every connection in the
 * process, and one elsewhere would end its walks for nothing.
 */
export const SERVER_EPOCH = Symbol.for('@cachex/core.serverEpoch')

/** The count a cursor walk on `connection` watches: its own (`SERVER_EPOCH`); none without one. */
export function serverOf(connection: Connection): () => number | undefined {
  const own = (connection as { [SERVER_EPOCH]?: () => number })[SERVER_EPOCH]
  return typeof own === 'function' ? () => own.call(connection) : () => undefined
}

/** Times a walk whose server changed starts over at most (`rescanning`). */
const RESTARTS = 3

/**
 * The batches of `walk()`, walked again from the start when its server changed
 * (`isServerChanged`), at most `RESTARTS` times: for a caller that may see a key twice (a
 * delete deletes it again; `keys()` keeps each once), not for one that hands keys out as they
 * come (`iterKeys`), which would hand them out again.
 */
export async function* rescanning<T>(walk: () => AsyncIterable<T>): AsyncGenerator<T> {
  for (let restarts = 0; ; restarts++) {
    try {
      yield* walk()
      return
    } catch (error) {
      if (!isServerChanged(error) || restarts >= RESTARTS) throw error
    }
  }
}

/**
 * A key of a `SCAN` reply (a string reply, `cursorReply`): its text, or its bytes when they are
 * not UTF-8. Decoding those would turn each invalid byte into U+FFFD, the name of another key (or
 * of none): a caller that deletes what it scanned would delete that one instead.
 */
function scannedKey(key: unknown): string | Buffer {
  if (!Buffer.isBuffer(key)) return key as string
  return isUtf8(key) ? key.toString('utf8') : key
}
