// What a connection failure says of the port it reached when that speaks something other than
// what the URL asked for: plain RESP to a `rediss://` URL (`withTlsHint`), TLS only to a
// `redis://` one (`withPlainHint`), or no RESP at all, such as an HTTP server (`withProtocolHint`);
// `tlsMismatchHint` puts them together for a standalone connection. The other errors' words are
// `_errors.ts`'s.
import { ClosedError, ConnectionError, TimeoutError } from '@cachex/core'
import { ErrorReply } from '@redis/client'
import { isSocketClosed } from './_redis-errors.ts'

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
