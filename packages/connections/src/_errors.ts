// node-redis's errors as cachex's (`toCachexError`), passwords cut out of every message and
// cause (`scrub`, `redact`), with what a handshake's unknown command or a Cluster node's reply
// means; and which error replies are which. What a failure says of a port that speaks something
// other than the URL asked for (TLS, plain, no RESP) is `_mismatch-hints.ts`'s.
import { CachexError, ClosedError, ConnectionError, ResponseError } from '@cachex/core'
import { recognizeAcrossCopies } from '@cachex/core/internal'
import { ErrorReply } from '@redis/client'
import { isClientClosed } from './_redis-errors.ts'

export {
  isClientClosed,
  isClientOffline,
  isDisconnected,
  isDropped,
  isRootNodesUnavailable,
  isSocketClosed,
} from './_redis-errors.ts'

/**
 * A node-redis error as a `CachexError`: error replies become `ResponseError`, everything else a
 * `ConnectionError`. `secrets` (passwords) are cut out of every message.
 */
export function toCachexError(error: unknown, secrets: readonly string[] = []): CachexError {
  if (error instanceof CachexError) return error
  const raw = error instanceof Error ? error.message : String(error)
  const message = withHandshakeHint(redact(raw, secrets))
  const cause = scrub(error, secrets)
  if (error instanceof ErrorReply) return new ResponseError(message, { cause })
  if (isClientClosed(error)) return new ClosedError('the connection is closed', { cause })
  // `name`, not the class's: a minified bundle renames classes, never what `name` was set to.
  const name = error instanceof Error && error.name !== 'Error' ? error.name : ''
  return new ConnectionError(message || name || 'connection error', { cause })
}

/**
 * `error`, to keep as the `cause` of an error cachex throws: itself when no secret appears in it
 * or in the errors it wraps, otherwise a copy of that chain (same classes, codes and fields) with
 * every secret cut out of each message, stack and other text. A server that does not know `HELLO`
 * quotes the handshake, password included, in its error reply.
 */
export function scrub(error: unknown, secrets: readonly string[] = []): unknown {
  if (!secrets.some((s) => s !== '') || !(error instanceof Error) || !mentions(error, secrets, 0))
    return error
  return scrubbedCopy(error, secrets, 0)
}

const MAX_CAUSES = 5

/**
 * Whether a text of `error` or of the errors it wraps shows a secret, whole or in part (as
 * `redact` finds it: a server quotes arguments cut short).
 */
function mentions(error: Error, secrets: readonly string[], depth: number): boolean {
  for (const key of Reflect.ownKeys(error)) {
    const value = (error as unknown as Record<PropertyKey, unknown>)[key]
    if (typeof value === 'string' && redact(value, secrets) !== value) return true
  }
  const cause = error.cause
  return depth < MAX_CAUSES && cause instanceof Error && mentions(cause, secrets, depth + 1)
}

function scrubbedCopy(error: Error, secrets: readonly string[], depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(error) as object) as Error
  for (const key of Reflect.ownKeys(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, key) as PropertyDescriptor
    if ('value' in descriptor) {
      const value: unknown = descriptor.value
      if (typeof value === 'string') descriptor.value = redact(value, secrets)
      else if (key === 'cause' && value instanceof Error) {
        descriptor.value =
          depth < MAX_CAUSES ? scrubbedCopy(value, secrets, depth + 1) : '(cut: too deep)'
      }
    }
    Object.defineProperty(copy, key, descriptor)
  }
  return copy
}

/**
 * `text` with every secret replaced by `***`, and what could be part of one too:
 * - the arguments a server quotes back in `unknown command '…', with args beginning with: …`. A
 *   server without `HELLO` (Redis before 6, or `HELLO` renamed away) answers the handshake so,
 *   password included, and cuts the quoted arguments at 128 characters in all: a long password
 *   comes back cut, which no whole-secret match finds. The quote runs to the end of its line
 *   (Redis replies hold no line break).
 * - any run of 8 characters or more that starts a secret (the longest such run at each place)
 *   and ends where a text cut short ends (see `CUT_SHORT`): a password cut some other way.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text.replace(QUOTED_ARGUMENTS, '$1 (arguments redacted)')
  // Longest first: a secret that holds a shorter one is cut whole.
  const ordered = secrets.filter((s) => s !== '').sort((a, b) => b.length - a.length)
  for (const secret of ordered) {
    out = out.split(secret).join('***')
    if (secret.length > MIN_SECRET_PREFIX) out = withoutPrefixes(out, secret)
  }
  return out
}

/** The arguments quoted in an unknown-command reply (Redis 7 quotes with `'`, older with `` ` ``). */
const QUOTED_ARGUMENTS = /(with args beginning with:)[^\r\n]*/gi

/** The shortest start of a secret `redact` cuts: shorter runs match ordinary words too often. */
const MIN_SECRET_PREFIX = 8

/** `text` with each run of `MIN_SECRET_PREFIX` or more characters that starts `secret` cut. */
function withoutPrefixes(text: string, secret: string): string {
  const start = secret.slice(0, MIN_SECRET_PREFIX)
  let at = text.indexOf(start)
  if (at < 0) return text
  let out = ''
  let from = 0
  while (at >= 0) {
    // The longest run here that starts the secret.
    let end = at + MIN_SECRET_PREFIX
    while (end < text.length && end - at < secret.length && text[end] === secret[end - at]) end++
    // A run shorter than the secret is cut only where a text cut short ends (the text's end, a
    // closing quote, an ellipsis, a line's end): elsewhere it is an ordinary word the secret
    // happens to start with (`username-password` for `password-of-prod`, the host name).
    if (end - at < secret.length && !CUT_SHORT.test(text.slice(end, end + 3))) {
      at = text.indexOf(start, at + 1)
      continue
    }
    out += `${text.slice(from, at)}***`
    from = end
    at = text.indexOf(start, end)
  }
  return out + text.slice(from)
}

/** What follows a quoted text a server cut short: nothing, a quote, an ellipsis, a line break. */
const CUT_SHORT = /^(?:$|['"`]|\.\.\.|…|\r|\n)/

/**
 * `message` with what an unknown command of the handshake means, once: `HELLO` — the server is
 * older than Redis 6 or has `HELLO` renamed away, and node-redis opens every connection with
 * `HELLO 3` (RESP3), which cachex's local tier needs too; `SELECT` — renamed or disabled (as
 * managed services do), with which node-redis chooses a database other than 0. The server's words
 * alone read as if cachex sent something wrong.
 */
function withHandshakeHint(message: string): string {
  const hint = /unknown command [`']HELLO[`']/i.test(message)
    ? HELLO_HINT
    : /unknown command [`']SELECT[`']/i.test(message)
      ? SELECT_HINT
      : undefined
  if (hint === undefined || message.includes(hint)) return message
  return `${message.trimEnd()} (${hint})`
}

const HELLO_HINT =
  'the server does not know HELLO, with which node-redis opens each connection: it is older than Redis 6 — cachex needs 6 or later — or HELLO is renamed or disabled there'

const SELECT_HINT =
  'the server does not know SELECT, with which node-redis opens a connection to a database other than 0: SELECT is renamed or disabled there, as managed services do — use database 0 (no /db in the URL)'

const CLUSTER_HINT =
  "the server is a Redis Cluster node, which this cache reaches as a single server: create it with client: 'cluster' and the cluster's nodes as its location — see docs/topologies.md"

/** The error replies only a Redis Cluster node gives: a slot served elsewhere, keys in several. */
const CLUSTER_REPLY = /^(MOVED|ASK|CROSSSLOT) /

/**
 * An error reply of a connection to one server, with a hint when only a Redis Cluster node gives
 * it (`MOVED`, `ASK`, `CROSSSLOT`): a cluster node was given as a standalone location, and the
 * cache half works — the keys of that node's slots go through, the others fail with the server's
 * bare redirection. A cluster connection follows redirections itself and never maps them here.
 * Still a `ResponseError`, the server's text first.
 */
export function withClusterHint(error: CachexError): CachexError {
  if (
    !(error instanceof ResponseError) ||
    error.code !== 'E_RESPONSE' ||
    !CLUSTER_REPLY.test(error.message) ||
    error.message.includes(CLUSTER_HINT)
  ) {
    return error
  }
  return new ResponseError(`${error.message} (${CLUSTER_HINT})`, { cause: error.cause })
}

/**
 * A write refused at once, unsent, because the Sentinel service has no primary to take it right
 * now: the sentinels are failing over (from the first step they announce until the new primary is
 * announced with `+switch-master`). Retry in a moment, or set `sentinelOptions.waitForPrimary` to
 * have writes wait for the new primary within `socketTimeout`. Reads go on meanwhile. A
 * `ConnectionError`, so `ignoreExceptions` covers it.
 */
export class FailoverError extends ConnectionError {
  override readonly code: string = 'E_FAILOVER'
}
// An error of another copy of this package is a FailoverError too, as core's classes are.
recognizeAcrossCopies(FailoverError, 'FailoverError')

/** Whether `error`, or an error it wraps, is an error reply (a wrong password, an unknown user…). */
export function isErrorReply(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ErrorReply) return true
  }
  return false
}

/**
 * Whether a replica that failed a read this way should leave the read rotation for a while, and
 * the read run elsewhere: it could not be reached, dropped the connection, did not answer in
 * time, or cannot serve reads now (`LOADING` while it loads its data set, `MASTERDOWN` when cut
 * off from its primary with `replica-serve-stale-data no`, `BUSY` while another client's long
 * script or function runs on it). Takes a cachex error or a raw node-redis one (mapped as
 * `toCachexError` maps it); anything that is not an error (a reply in a batch) is not a failure.
 * Only for what a replica answered: a primary's `BUSY` (or `LOADING`) is the caller's to see.
 */
export function isReplicaFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const typed = toCachexError(error)
  if (typed instanceof ConnectionError) return true
  return typed instanceof ResponseError && /^(LOADING|MASTERDOWN|BUSY)\b/.test(typed.message)
}

/** Whether `error` is a `BUSY` error reply: a script or function of another client is running. */
export function isBusyReply(error: unknown): boolean {
  return error instanceof Error && /^BUSY\b/.test(toCachexError(error).message)
}

/**
 * The error of the calls on a client, client pool or sentinel of the user's that its owner closed
 * (`close()`, `destroy()`): the cache does not open it again (its owner is shutting down; reopened,
 * it would keep the process alive).
 */
export function ownerClosedError(where: string, what: string): ConnectionError {
  return new ConnectionError(
    `${where} was closed by its owner (close() or destroy()): the cache does not open a ${what} of yours again; reopen it, or hand the cache an open one`,
  )
}
