// The cursor walks over one key's members (`SSCAN`, `ZSCAN`, `HSCAN`) that `sscan`, `zscan` and
// `hscan` share: the arguments checked before anything is sent, then `SCAN` from cursor 0 until
// Redis answers 0 again, each batch turned into the caller's items.
import { checkOptions } from '../_args.ts'
import type { CacheContext } from '../_context.ts'
import { isWrongType } from '../_messages.ts'
import { own } from '../_own.ts'
import { CursorOwner, cursorReply, serverOf } from '../_scan-walk.ts'
import { describe } from '../_timeout.ts'
import type { VersionOption } from '../cache-options.ts'
import { InvalidArgumentError, ResponseError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'

/** Options of `sscan()`, `zscan()` and `hscan()`. */
export interface MemberScanOptions extends VersionOption {
  /**
   * A Redis glob. `hscan` matches it against field names; `sscan` and `zscan` against each
   * member **as stored** (encoded): with the JSON serializer the string `'a'` is stored as `"a"`,
   * so `match: '"a*'` finds the strings that start with `a`.
   */
  match?: string
  /** Items Redis looks at per call (a hint). @default the cache's `scanItersize` */
  count?: number
}

const MEMBER_SCAN_KEYS = ['match', 'count', 'version'] as const

/**
 * The items of `key` by `command`, `items` turning each batch's flat reply (members, or
 * member–score / field–value pairs) into the caller's items. The arguments are checked now (a
 * bad one throws before anything is sent); with `ignoreExceptions`, a failure ends the walk.
 */
export function scanKey<T>(
  context: CacheContext,
  command: 'SSCAN' | 'ZSCAN' | 'HSCAN',
  key: string,
  options: MemberScanOptions,
  items: (flat: unknown[]) => Iterable<T>,
): AsyncIterable<T> {
  const method = command.toLowerCase()
  let rkey: string
  let tail: RedisArgument[]
  try {
    ;[rkey, tail] = scanArguments(context, method, key, options)
  } catch (error) {
    // Still thrown at once, before any iteration; reported as a failure of the call.
    context.events.thrown(method, error)
    throw error
  }
  return guarded(context, method, key, rkey, walk(context, command, rkey, tail, items))
}

/** The Redis key of a member scan, and its arguments after the cursor, checked. */
function scanArguments(
  context: CacheContext,
  method: string,
  key: string,
  options: MemberScanOptions,
): [rkey: string, tail: RedisArgument[]] {
  checkOptions(options, method, MEMBER_SCAN_KEYS)
  const rkey = context.key(key, options)
  const count = own(options, 'count') ?? context.itersize
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new InvalidArgumentError(
      `${method}: count must be a positive integer, got ${describe(count)}`,
    )
  }
  const match = own(options, 'match')
  if (match !== undefined && (typeof match !== 'string' || match === '')) {
    throw new InvalidArgumentError(
      `${method}: match must be a non-empty string, got ${describe(match)}`,
    )
  }
  const tail: RedisArgument[] = match === undefined ? [] : ['MATCH', match]
  tail.push('COUNT', String(count))
  return [rkey, tail]
}

async function* walk<T>(
  context: CacheContext,
  command: string,
  rkey: string,
  tail: RedisArgument[],
  items: (flat: unknown[]) => Iterable<T>,
): AsyncGenerator<T> {
  let cursor = '0'
  // Redis never hands out a cursor twice in one walk; a server that does (a proxy's bug) would
  // keep the walk going forever.
  const seen = new Set<string>()
  // Nor is a cursor sent to another server than the one that handed it out (a failover, a
  // reconnection): the walk fails instead. Not on a cluster, which keeps no count of its own
  // servers (`serverOf`): its key walks go on per node, unchecked, as before.
  const connection = context.connection
  const owner =
    connection.routesBySlot === true
      ? undefined
      : new CursorOwner(serverOf(connection), command, command === 'HSCAN' ? 'fields' : 'members')
  do {
    owner?.sending(cursor)
    const reply = await connection.command([command, rkey, cursor, ...tail], {
      key: rkey,
      // On the primary, as key SCAN is: a cursor means something only to the node that handed
      // it out, and reads over replicas rotate among them (each holds the members in its own
      // order), so a walk across them would skip and repeat members.
      readonly: false,
      // HSCAN's field names as bytes: decoded as text, names that are not UTF-8 could not be
      // told (hscan refuses them, as hgetall does).
      text: command !== 'HSCAN' && context.text,
    })
    owner?.answered(cursor)
    // `[cursor, items]`, all strings, pairs whole (`cursorReply`): else a `ResponseError`, never
    // a nil field read as `"null"` or a reply of another shape walked on.
    const [next, flat] = cursorReply(
      reply,
      command,
      command === 'HSCAN' ? 'fields' : 'members',
      command === 'SSCAN' ? 1 : 2,
    )
    cursor = next
    if (seen.has(cursor)) {
      throw new ResponseError(
        `${command} handed out the cursor ${cursor.slice(0, 20)} twice in one walk: the server's walk does not end`,
      )
    }
    seen.add(cursor)
    yield* items(flat)
  } while (cursor !== '0')
}

/** `walk` under the error policy: with `ignoreExceptions`, a failure ends the iteration. */
async function* guarded<T>(
  context: CacheContext,
  method: string,
  key: string,
  rkey: string,
  items: AsyncGenerator<T>,
): AsyncGenerator<T> {
  try {
    yield* items
  } catch (error) {
    context.fail(
      isWrongType(error) ? await context.wrongType(error, method, key, rkey) : error,
      undefined,
      method,
    )
  }
}
