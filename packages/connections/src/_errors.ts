import {
  CachexError,
  ClosedError,
  ConnectionError,
  ResponseError,
  TimeoutError,
} from '@cachex/core'
import { recognizeAcrossCopies } from '@cachex/core/internal'
import { ErrorReply } from '@redis/client'
import { isClientClosed, isSocketClosed } from './_redis-errors.ts'

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

const TLS_HINT =
  'the TLS handshake did not complete — is the server configured for TLS? Use redis:// for a plain server'

/**
 * A failed connection to a `rediss://` URL with a hint: against a plain server, the TLS
 * handshake either waits for an answer that never comes (the server reads the ClientHello as the
 * start of a command) or fails with an SSL error, neither of which says "TLS". Other errors (a
 * refused connection, a wrong password) pass through.
 */
export function withTlsHint(error: unknown): unknown {
  // A call refused while the connection is down quotes the hinted failure: said once.
  if (error instanceof Error && error.message.includes(TLS_HINT)) return error
  if (error instanceof TimeoutError) {
    return new TimeoutError(`${error.message} (${TLS_HINT})`, { cause: error.cause ?? error })
  }
  if (error instanceof ConnectionError && !(error instanceof ClosedError) && isTlsFailure(error)) {
    return new ConnectionError(`${error.message} (${TLS_HINT})`, { cause: error.cause ?? error })
  }
  return error
}

/**
 * Whether an error (or its cause) comes from the TLS layer (OpenSSL codes and messages) the way
 * a plain server makes it fail. Not a certificate refused either way (a name the certificate does
 * not list, an unknown CA, a client certificate the server requires): the server speaks TLS, and
 * "use redis://" would be the wrong advice.
 */
function isTlsFailure(error: unknown): boolean {
  let tls = false
  for (let e: unknown = error, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    const code = (e as { code?: unknown }).code
    const text = `${typeof code === 'string' ? code : ''} ${e.message}`
    if (/CERT|ALTNAME|ALERT|self[- ]signed|unable to (get|verify)|altnames/i.test(text))
      return false
    if (/SSL|TLS|EPROTO|wrong version number|packet length too long/i.test(text)) tls = true
  }
  return tls
}

const CLOSED_UNANSWERED = 'the server closed the connection before answering'

/**
 * A failed connection to a `redis://` URL with a hint: a TLS-only server reads the plain
 * handshake as a broken TLS record and drops the connection without a word, which node-redis
 * reports as `read ECONNRESET` (or a socket closed unexpectedly) — nothing says "TLS". Only when
 * the server answered nothing (no error reply in the chain): a refused connection (nothing
 * listens), a timeout, a refused password, a server that says why it hangs up (`max number of
 * clients reached`) pass through. `scheme` is the URL scheme with TLS to suggest (`rediss://`,
 * `valkeys://`).
 */
function withPlainHint(error: unknown, scheme: string): unknown {
  if (
    !(error instanceof ConnectionError) ||
    error instanceof TimeoutError ||
    error instanceof ClosedError
  ) {
    return error
  }
  const message = withPlainHintText(error.message, error, `if it serves TLS only, use ${scheme}`)
  if (message === error.message) return error
  return new ConnectionError(message, { cause: error.cause ?? error })
}

/**
 * `text`, the message of a failed plain connection, with the hint of `withPlainHint` when
 * `failure` is the server dropping the connection unanswered (a TLS-only server's way): `advice`
 * says what to change (`if it serves TLS only, use rediss://`). For the topologies whose own
 * messages name the failure (a cluster's seeds, the sentinels), until they were first ready.
 * Once only.
 */
export function withPlainHintText(text: string, failure: unknown, advice: string): string {
  if (text.includes(CLOSED_UNANSWERED) || !(failure instanceof Error)) return text
  if (!isClosedUnanswered(failure)) return text
  return `${text} (${CLOSED_UNANSWERED}: ${advice})`
}

/**
 * Whether `error`'s message carries the hint `withPlainHint` adds: the server dropped a plain
 * connection unanswered, as one that serves TLS only does.
 */
export function hasPlainHint(error: unknown): boolean {
  return error instanceof Error && error.message.includes(CLOSED_UNANSWERED)
}

/**
 * Whether an error (or its cause) is the server dropping the connection (a reset, a broken pipe,
 * a socket closed unexpectedly) with no error reply of the server's before it, and not in a TLS
 * handshake (the client spoke TLS then: a reset there is no sign of a TLS-only server).
 */
function isClosedUnanswered(error: Error): boolean {
  let closed = false
  for (let e: unknown = error, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    if (e instanceof ErrorReply || /TLS|SSL|secure/.test(e.message)) return false
    const code = (e as { code?: unknown }).code
    if (code === 'ECONNRESET' || code === 'EPIPE') closed = true
    if (isSocketClosed(e)) closed = true
  }
  return closed
}

/** What `tlsMismatchHint` reads of a standalone connection's client source (`ClientSource`). */
interface HintSource {
  /** Whether the URL asked for TLS (`rediss://`). */
  tls: boolean
  /** `undefined` for a client of the user's. */
  makeClient: unknown
  /** The client, whose options may set TLS on its socket. */
  client: unknown
  /** Where it connects to (the URL, redacted). */
  where: string
}

/**
 * How a standalone connection hints at a TLS mismatch in its connection failures: `rediss://`
 * against a plain server (`withTlsHint`), `redis://` against a TLS-only one (`withPlainHint`) —
 * the latter only until the connection was first ready (`everReady`): once it was, the server
 * spoke plain RESP, and a reset since is an outage.
 */
export function tlsMismatchHint(
  source: HintSource,
): (failure: unknown, everReady: boolean) => unknown {
  const tls = tlsHintOf(source)
  // Until first ready, a reply that is no RESP at all says what answers on the port instead.
  return (failure, everReady) =>
    everReady ? tls(failure, everReady) : withProtocolHint(tls(failure, everReady))
}

/** `tlsMismatchHint`'s TLS part. */
function tlsHintOf(source: HintSource): (failure: unknown, everReady: boolean) => unknown {
  if (source.tls) return withTlsHint
  const scheme = plainScheme(source)
  if (scheme === undefined) return (failure) => failure
  return (failure, everReady) => (everReady ? failure : withPlainHint(failure, scheme))
}

const NOT_RESP = 'the server did not answer in the Redis protocol'

/** node-redis's error for a reply whose first byte is no RESP type. */
const UNKNOWN_RESP = /Unknown RESP type (\d+)/

/** What a first byte that is no RESP type suggests answers instead (a guess, said as one). */
const GUESSES: Readonly<Record<string, string>> = {
  H: 'an HTTP server?',
  S: 'an SSH server?',
  '<': 'an HTML page?',
  '{': 'a JSON API?',
}

/**
 * A connection failure whose cause is a reply that is no RESP (node-redis's `Unknown RESP type
 * 72 "H"`): the port is some other server's (an HTTP server, SSH…). Says so, with what it sent
 * first: `the server did not answer in the Redis protocol (it sent 'H…': an HTTP server?)`.
 * Once only.
 */
function withProtocolHint(error: unknown): unknown {
  if (
    !(error instanceof ConnectionError) ||
    error instanceof TimeoutError ||
    error instanceof ClosedError ||
    error.message.includes(NOT_RESP)
  ) {
    return error
  }
  let code: number | undefined
  for (let e: unknown = error, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    const match = UNKNOWN_RESP.exec(e.message)
    if (match !== null) {
      code = Number(match[1])
      break
    }
  }
  if (code === undefined) return error
  const char = String.fromCharCode(code)
  const sent =
    code > 0x20 && code < 0x7f
      ? `it sent '${char}…'${GUESSES[char] === undefined ? '' : `: ${GUESSES[char]}`}`
      : `it sent the byte 0x${code.toString(16).padStart(2, '0')} first`
  const hinted = `${error.message} (${NOT_RESP} (${sent}); check the host and port)`
  return new ConnectionError(hinted, { cause: error.cause ?? error })
}

/**
 * The URL scheme with TLS (`rediss://`, `valkeys://`) that `withPlainHint` suggests to a plain
 * connection cachex makes from a `redis://` or `valkey://` URL; `undefined` for a Unix socket, a
 * client of the user's (no URL to fix), or TLS set in `clientOptions.socket` (a client pool shows
 * no options: there, `withPlainHint` skips an error from a TLS socket).
 */
function plainScheme(source: HintSource): string | undefined {
  if (source.makeClient === undefined) return undefined
  const scheme = /^(redis|valkey):\/\//i.exec(source.where)?.[1]?.toLowerCase()
  const socket = (source.client as { options?: { socket?: { tls?: unknown } } }).options?.socket
  if (scheme === undefined || socket?.tls === true) return undefined
  return `${scheme}s://`
}

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
