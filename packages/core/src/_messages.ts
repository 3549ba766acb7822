// Messages of the cache's errors that need more than one line to build: what a WRONGTYPE key
// holds, why a lock could not be taken, an unsafe incr result.

import { bounded } from './_bounded.ts'
import { own } from './_own.ts'
import { describe } from './_timeout.ts'
import { NotANumberError, ResponseError } from './errors.ts'
import { globEscape } from './key-function.ts'
import type { LockOptions } from './lock-types.ts'

/** Readable names of the Redis types `TYPE` answers, for `WRONGTYPE` messages. */
export const REDIS_TYPES: Record<string, string> = {
  string: 'string value',
  list: 'list',
  hash: 'hash',
  set: 'set',
  zset: 'sorted set',
  stream: 'stream',
}

/**
 * Whether `error` is a `WRONGTYPE` reply: to a command (`WRONGTYPE …`), or to a command a script
 * ran (Redis 7 keeps the prefix; Redis 6 wraps it: `ERR Error running script … : WRONGTYPE …`).
 */
export function isWrongType(error: unknown): error is ResponseError {
  return (
    error instanceof ResponseError &&
    (error.message.startsWith('WRONGTYPE') || error.message.includes(': WRONGTYPE '))
  )
}

/**
 * Whether `error` is Redis refusing a write it did not run: `OOM` (`maxmemory` with
 * `noeviction`), `NOREPLICAS` (`min-replicas-to-write`), `MISCONF` (a failed save with
 * `stop-writes-on-bgsave-error`), `READONLY` (a replica). A read still runs there.
 */
export function isWriteRefused(error: unknown): error is ResponseError {
  return error instanceof ResponseError && /^(OOM|NOREPLICAS|MISCONF|READONLY) /.test(error.message)
}

/**
 * Whether `error` is an ACL's refusal (`NOPERM`). Redis checks a command against the user's ACL
 * — the command itself, and each key it names (a script's declared `KEYS` too) — before it runs
 * it: a `NOPERM` reply means nothing ran.
 */
export function isNoPerm(error: unknown): error is ResponseError {
  return error instanceof ResponseError && error.message.startsWith('NOPERM')
}

/**
 * `error` with a hint when it is an ACL's refusal of a key (`NOPERM … permissions to access …`,
 * which Redis 7.0 words without naming the key): the user's key patterns (`~app:*`) must allow
 * the cache's keys, which begin with its prefix (`prefix`, when `defaultKeys`: no key function of
 * the user's). Still a `ResponseError`, the server's text kept, the original as its `cause`; any
 * other error is returned as it is.
 */
export function withKeyAccessHint(error: unknown, prefix: string, defaultKeys: boolean): unknown {
  if (!isNoPerm(error) || error.code !== 'E_RESPONSE') return error
  const message = error.message
  if (!/permissions to access/.test(message) || message.includes('(the ACL user')) return error
  // The pattern Redis matches the keys with (a `*` or `[` of the prefix escaped); none for a
  // prefix no message can show whole.
  const keys = !defaultKeys
    ? "this cache's keys (its keyFunction's)"
    : prefix.length > 200 || !showable(prefix)
      ? "this cache's keys, which begin with its keyPrefix"
      : `this cache's keys, which begin with '${prefix}:' (keyPrefix): allow ~${globEscape(prefix)}:*`
  return new ResponseError(`${message} (the ACL user's key patterns must allow ${keys})`, {
    cause: error,
  })
}

/**
 * Whether `text` can be quoted in a message as it is: no control character (C0, DEL, C1), line
 * or paragraph separator, or bidirectional control, which would break a log line or reorder it.
 */
function showable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x2028 && c <= 0x202e)) return false
    if (c >= 0x2066 && c <= 0x2069) return false
  }
  return true
}

/**
 * Whether `error` is an ACL's refusal of the command `name` itself (`'mget'`), not of one of its
 * keys: `NOPERM this user has no permissions to run the 'mget' command` (Redis 7.0; 7.2 names the
 * user instead of "this user").
 */
export function refusesCommand(error: unknown, name: string): boolean {
  return isNoPerm(error) && error.message.toLowerCase().includes(`'${name.toLowerCase()}' command`)
}

/**
 * Whether `error` is a cluster's `TRYAGAIN`: a command or script over several keys of one slot
 * that a migration has split between two nodes (or that are missing from the node asked), which
 * the connection no longer sends again (`CommandRoute.tryAgain: false`, or its retry budget
 * spent). Redis answers it before it runs the command: nothing ran.
 */
export function isTryAgain(error: unknown): error is ResponseError {
  return error instanceof ResponseError && error.message.startsWith(TRYAGAIN_REPLY)
}

/**
 * How Redis's own `TRYAGAIN` begins (Redis and Valkey, every version): the only `TRYAGAIN` that
 * says nothing ran. A script's error reply may begin `TRYAGAIN` too (`redis.error_reply(…)`),
 * after its writes ran: sent again, they would run again.
 */
export const TRYAGAIN_REPLY = 'TRYAGAIN Multiple keys request during rehashing of slot'

/**
 * How a replica's refusal of a write begins (a script's too, at its first write): nothing was
 * written. A script's own error reply that begins `READONLY` otherwise comes after it ran.
 */
export const READONLY_REPLY = "READONLY You can't write against a read only replica"

/**
 * Whether `error` says that this user cannot run scripts on this server, before anything ran:
 * an ACL user without `@scripting` (`NOPERM … 'eval'`, or `'evalsha'`), or `EVAL` renamed or
 * disabled on the server (`ERR unknown command 'EVAL'`, as managed services rename commands
 * away; `'EVALSHA'` too, though `runScript` sends `EVAL` again for that one). Both stand until an
 * operator changes the server: callers with a stand-in of plain commands use it from then on.
 */
export function isScriptRefused(error: unknown): boolean {
  return (
    error instanceof ResponseError &&
    (/^NOPERM\b.*'eval(sha)?'/i.test(error.message) || isUnknownCommand(error, 'eval(sha)?'))
  )
}

/**
 * Whether `error` is a server's reply to a command it does not know, renamed or disabled there
 * (`rename-command EVALSHA ""`): `ERR unknown command 'EVALSHA', with args beginning with: …`
 * (Redis 6 quotes with backquotes). `name` is matched whole, case-insensitively, as a regular
 * expression's source.
 */
export function isUnknownCommand(error: unknown, name: string): boolean {
  return (
    error instanceof ResponseError &&
    new RegExp(`^ERR unknown command [\`']${name}[\`']`, 'i').test(error.message)
  )
}

/**
 * The methods (and commands, by their lowercase names) that send several keys in one command,
 * with the Redis type they read their first key as (`null`: the first key is a destination,
 * which Redis overwrites without looking at its type). A `WRONGTYPE` reply to them is pinned on
 * the first key only when it holds another type (`wrongType`).
 */
const MULTI_KEY_METHODS: ReadonlyMap<string, string | null> = new Map([
  ['sdiff', 'set'],
  ['sinter', 'set'],
  ['sunion', 'set'],
  ['smove', 'set'],
  ['sdiffstore', null],
  ['sinterstore', null],
  ['sunionstore', null],
  ['lmove', 'list'],
  ['blmove', 'list'],
  ['blpop', 'list'],
  ['brpop', 'list'],
  ['xread', 'stream'],
  ['xreadgroup', 'stream'],
])

/**
 * A `WRONGTYPE` reply as a `ResponseError` that names the user's key and what it holds (`typeOf`
 * asks `TYPE`, on this error path only): `incr() on key 'hits': it holds a list, …`. A method of
 * several keys (`sinter`, `smove`, `lmove`, `blpop`, `sunionstore`…) names none when its first key
 * is not at fault: Redis does not say which of them holds the wrong kind of value, and the first
 * may not even exist.
 */
export async function wrongTypeError(
  error: ResponseError,
  method: string,
  key: string,
  typeOf: () => Promise<string>,
): Promise<ResponseError> {
  const expected = MULTI_KEY_METHODS.get(method)
  let holds = 'another kind of value'
  let type = ''
  if (expected !== null) {
    try {
      type = await typeOf()
      if (type !== '' && type !== 'none') holds = `a ${REDIS_TYPES[type] ?? type}`
    } catch {
      // The message only loses the type.
    }
  }
  // Several keys, and the first one missing, of the right type, or a destination: another one
  // is at fault, and Redis does not say which.
  if (expected !== undefined && (expected === null || type === expected || type === 'none')) {
    return new ResponseError(
      `${method}(): one of its keys holds a kind of value that ${method}() does not work on (${error.message})`,
      { cause: error },
    )
  }
  return new ResponseError(
    `${method}() on key '${bounded(key)}': it holds ${holds}, which ${method}() does not work on (${error.message})`,
    { cause: error },
  )
}

/**
 * The rejection of `incr(…, { as: 'number' })` (or `decr`'s: `method`) when the result is not a
 * safe integer.
 */
export function unsafeResult(key: string, method: 'incr' | 'decr' = 'incr'): NotANumberError {
  return new NotANumberError(
    `${method}() on key '${bounded(key)}' with as: 'number': the result would be beyond ±(2^53 - 1), which a number cannot hold exactly; the value was left unchanged (without as: 'number', ${method}() resolves a bigint)`,
  )
}

/** Why `acquireLock` could not take a lock, from the options it was given. */
export function whyNotAcquired(options: LockOptions): string {
  if (own(options, 'blocking') === false) return 'another owner holds it (blocking: false)'
  if (typeof own(options, 'blockingTimeout') === 'number') {
    return `another owner held it for the whole blockingTimeout (${own(options, 'blockingTimeout')} s)`
  }
  return 'another owner holds it'
}

/**
 * A lock name for an error message: the name quoted (`bounded`: its first 1,024 characters and
 * `…` when longer), or what was given instead.
 */
export function lockNameOf(key: unknown): string {
  return typeof key === 'string' ? `'${bounded(key)}'` : describe(key)
}
