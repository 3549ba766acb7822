// When a connection is tried again, and what a refused handshake says: the retry schedules (an
// unreachable server's short steps, a refused password's long ones) and the words of the hint.
import { ErrorReply } from '@redis/client'

/** Milliseconds before the first reconnection attempt after a failed one. */
export const FIRST_RECONNECT_DELAY = 100
/** The longest wait between two reconnection attempts, in milliseconds. */
export const MAX_RECONNECT_DELAY = 2000

/**
 * Milliseconds to wait before reconnection attempt `retries` (0 for the first after a failure):
 * 100 ms, doubling up to 2 s, each shortened by up to 20 % at random so that many processes that
 * lost the same server do not all knock at once. Never gives up: a connection that cachex made is
 * retried for as long as it is open. node-redis's `reconnectStrategy` for the clients cachex
 * creates.
 */
export function reconnectDelay(retries: number): number {
  const base = Math.min(MAX_RECONNECT_DELAY, FIRST_RECONNECT_DELAY * 2 ** Math.min(retries, 16))
  return Math.round(base * (1 - 0.2 * Math.random()))
}

/** Milliseconds before a handshake the server refused (see `isRefusedHandshake`) is tried again. */
export const REFUSED_FIRST_RETRY_MS = 10_000
/** The longest wait between two tries of a handshake the server keeps refusing, in milliseconds. */
export const REFUSED_MAX_RETRY_MS = 300_000

/**
 * Milliseconds to wait before trying again a connection whose handshake the server refused
 * `refusals` times in a row (0 for the first refusal): 10 s, doubling up to 5 minutes, each
 * shortened by up to 20 % at random (see `reconnectDelay`). A refusal stands until an operator
 * changes the password or the ACL, and every try lands in the server's ACL log as a failed
 * authentication: `reconnectDelay`'s 2 s, on every connection of every process, floods it.
 */
export function refusedRetryDelay(refusals: number): number {
  const base = Math.min(
    REFUSED_MAX_RETRY_MS,
    REFUSED_FIRST_RETRY_MS * 2 ** Math.min(Math.max(refusals, 0), 8),
  )
  return Math.round(base * (1 - 0.2 * Math.random()))
}

/**
 * A `reconnectStrategy` for a client of cachex's that node-redis keeps reconnecting (a sentinel's):
 * `reconnectDelay` apart, but `refusedRetryDelay` apart (10 s, doubling up to 5 minutes) while
 * the server refuses its handshake (`cause`: a wrong password, an unknown user). One per client:
 * it counts that client's refusals in a row, from its last connection (`retries` 0).
 */
export function refusalAwareReconnect(): (retries: number, cause: unknown) => number {
  let refusals = 0
  return (retries, cause) => {
    if (retries === 0) refusals = 0
    if (!isRefusedHandshake(cause)) return reconnectDelay(retries)
    return refusedRetryDelay(refusals++)
  }
}

/**
 * Whether `error`, or an error it wraps, is the server refusing a connection's handshake with an
 * error reply: wrong credentials or an unknown user (`WRONGPASS`), none given where it requires
 * them (`NOAUTH`), or a user the ACL forbids a command of the handshake (`NOPERM`). The server is
 * up and answering; trying again meets the same refusal until its configuration changes.
 */
export function isRefusedHandshake(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ErrorReply && /^(WRONGPASS|NOAUTH|NOPERM)\b/.test(e.message)) return true
  }
  return false
}

/** Where the password goes, for a connection cachex opens from a URL and its options. */
export const PASSWORD_IN_URL = 'put it in the URL (redis://:password@host) or the `password` option'
/**
 * Where the password goes, for a node-redis `RedisSentinel` handed in as `location`: cachex does
 * not open its connections, node-redis does, with its own options.
 */
export const PASSWORD_IN_SENTINEL =
  'give it in the `nodeClientOptions` of the RedisSentinel you handed in (`sentinelClientOptions` for the sentinels themselves)'
/**
 * Where the password goes, for a node-redis `RedisCluster` handed in as `location`: cachex does
 * not open its connections, node-redis does, with its own options.
 */
export const PASSWORD_IN_CLUSTER = 'give it in the `defaults` of the RedisCluster you handed in'
/**
 * Where the password goes, for the sentinels of cachex's own sentinel connection: the URL's
 * credentials and the `password` option are the data nodes', not the sentinels'.
 */
export const PASSWORD_IN_SENTINELS =
  "give the sentinels' password as `sentinelOptions.password` (the URL's and the `password` option are the data nodes')"
/** Which credentials the sentinels of cachex's own sentinel connection refused. */
export const SENTINELS_CREDENTIALS =
  "the sentinels' are `sentinelOptions.username` and `sentinelOptions.password`"
/** What to do about a server that asks for a password none was given for (`NOAUTH`). */
const NOAUTH_HINT = 'the server requires a password: '
/** What a server that refused the credentials given (`WRONGPASS`) means. */
const WRONGPASS_HINT = 'the user name or password given is wrong'

/**
 * Whether `message` (of an error, or an error's text) reports the server refusing the
 * connection's credentials: none given where it requires a password (`NOAUTH`), or wrong ones
 * (`WRONGPASS`).
 */
export function isAuthRefusal(message: string): boolean {
  return /\b(NOAUTH|WRONGPASS)\b/.test(message)
}

/**
 * `message` with what an authentication refusal it reports means, in words: Redis's own text
 * (`NOAUTH HELLO must be called with the client already authenticated…`) never says "password".
 * `where` says where the password goes (`PASSWORD_IN_URL` for a connection cachex opens from a
 * URL, `PASSWORD_IN_SENTINELS` for the sentinels cachex connects to, `PASSWORD_IN_SENTINEL`,
 * `PASSWORD_IN_CLUSTER` for a node-redis object handed in); `whose`, if given, says whose
 * credentials a wrong one (`WRONGPASS`) was (`SENTINELS_CREDENTIALS`). Once only: a message that
 * quotes another keeps one hint.
 */
export function withAuthHint(
  message: string,
  where: string = PASSWORD_IN_URL,
  whose?: string,
): string {
  if (message.includes(NOAUTH_HINT) || message.includes(WRONGPASS_HINT)) return message
  const hint = /\bNOAUTH\b/.test(message)
    ? `${NOAUTH_HINT}${where}`
    : /\bWRONGPASS\b/.test(message)
      ? whose === undefined
        ? WRONGPASS_HINT
        : `${WRONGPASS_HINT} — ${whose}`
      : undefined
  if (hint === undefined) return message
  return `${hint} (${message.trimEnd()})`
}
