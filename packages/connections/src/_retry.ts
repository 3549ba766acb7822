// When a connection is tried again, and what a refused handshake says: the retry schedules (an
// unreachable server's short steps, a refused password's long ones) and the words of the hint.
import { ErrorReply } from '@redis/client'
import { commandRefusal } from './_acl.ts'
import { isErrorReply } from './_errors.ts'

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
 * changes the password, the ACL or the server's configuration, and every try lands in the
 * server's ACL log as a failed authentication: `reconnectDelay`'s 2 s, on every connection of
 * every process, floods it.
 */
export function refusedRetryDelay(refusals: number): number {
  const base = Math.min(
    REFUSED_MAX_RETRY_MS,
    REFUSED_FIRST_RETRY_MS * 2 ** Math.min(Math.max(refusals, 0), 8),
  )
  return Math.round(base * (1 - 0.2 * Math.random()))
}

/**
 * Whether `error`, or an error it wraps, is a connection's handshake refused: by the server with
 * an error reply — wrong credentials or an unknown user (`WRONGPASS`), none given where it
 * requires them (`NOAUTH`), a user the ACL forbids a command of the handshake (`NOPERM`), or a
 * command of the handshake the server does not know, renamed or disabled there (`ERR unknown
 * command 'SELECT'`, as managed services rename commands away; `HELLO` on a server older than
 * Redis 6: see `HANDSHAKE_COMMANDS`) — or a TLS certificate refused either way
 * (`isCertificateRefusal`). The server is up; trying again meets the same refusal until the
 * configuration changes, and no failover changes it. An unknown command of a call's own is no
 * refused handshake: node-redis rejects that call with it, and emits no error.
 */
export function isRefusedHandshake(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (!(e instanceof ErrorReply)) continue
    if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(e.message)) return true
    const refusal = commandRefusal(e)
    if (refusal?.unknown === true && HANDSHAKE_COMMANDS.has(refusal.command)) return true
  }
  return isCertificateRefusal(error)
}

/**
 * The commands node-redis may send to open a connection, whose failure fails the connection (as
 * `commandRefusal` names them): `HELLO` (RESP3, with the credentials), `AUTH` (RESP2), `CLIENT
 * SETNAME` (a `name`, RESP2), `SELECT` (a database other than 0), `READONLY` (a cluster
 * replica's), `CLIENT TRACKING` (a tracking connection's); `CLIENT` alone where the reply's
 * arguments are cut (`redact`). Not `CLIENT SETINFO`, whose failure node-redis ignores.
 */
const HANDSHAKE_COMMANDS: ReadonlySet<string> = new Set([
  'hello',
  'auth',
  'client',
  'client|setname',
  'select',
  'readonly',
  'client|tracking',
])

/**
 * Whether `error`, emitted by a node-redis client, says that it could not read a reply — not that
 * its socket failed. node-redis emits what its decoder throws while it reads the socket, then
 * resets the decoder, dropping the rest of what it had read, but keeps the socket and the
 * commands waiting for replies: the connection is out of step (the next reply goes to the command
 * whose reply was lost: a get resolves another key's value), or its handshake waits for ever.
 * Told by what the decoder throws, never by an error's class alone (node-redis emits on 'error'
 * what an app's own listener of its `ping-interval` event throws, a credentials provider's
 * failure, a reconnect strategy's): a type byte RESP does not have (`Unknown RESP type`); a
 * string longer than V8's longest, read as text, or a reply larger than a Buffer
 * (`ERR_STRING_TOO_LONG`, `ERR_BUFFER_TOO_LARGE`); a reply nested deeper than the recursive
 * decoder's stack (`Maximum call stack size exceeded`); and any other `TypeError` or `RangeError`
 * whose stack runs through the decoder or the reply handlers of node-redis's commands queue —
 * a reply no command waited for (`Cannot read properties of undefined (reading 'resolve')`, in
 * the queue's `#onReply`), a reply past the largest Buffer (`ERR_OUT_OF_RANGE`), memory that ran
 * out for one (`Array buffer allocation failed`). Where stacks are cut off
 * (`Error.stackTraceLimit` 0) or renamed (a minified bundle), those last ones are not recognised,
 * and are handled as any other error.
 */
export function isUnreadableReply(error: unknown): error is Error {
  if (!(error instanceof Error) || error instanceof ErrorReply) return false
  if (/^Unknown RESP type\b/.test(error.message)) return true
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && DECODER_CODES.has(code)) return true
  // A socket's, TLS's errors are plain `Error`s.
  if (!(error instanceof TypeError || error instanceof RangeError)) return false
  if (code === undefined && /^Maximum call stack size exceeded/.test(error.message)) return true
  return typeof error.stack === 'string' && DECODER_FRAME.test(error.stack)
}

/** The `code` of an error Node throws for a reply node-redis's decoder cannot hold. */
const DECODER_CODES: ReadonlySet<string> = new Set(['ERR_STRING_TOO_LONG', 'ERR_BUFFER_TOO_LARGE'])

/**
 * A stack frame of node-redis's decoder (`RESP/decoder.js`, `Decoder.write`) or of its commands
 * queue (`client/commands-queue.js`), whose reply handlers it calls.
 */
const DECODER_FRAME =
  /[\\/]RESP[\\/]decoder\.js:\d|[\\/]commands-queue\.js:\d|\bat Decoder\.write\b/

/**
 * Whether `error`, or an error it wraps, is a TLS handshake that failed on a certificate: the
 * server's, which the client does not accept (signed by a CA it was not given, self-signed,
 * expired, not listing the name the client asked for), or the client's, which the server requires
 * or does not accept (a TLS alert: certificate required, unknown CA, bad certificate). Node and
 * OpenSSL say so in the error's `code`. The server speaks TLS and is up: the certificates or the
 * client's options must change.
 */
export function isCertificateRefusal(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code
    if (!(e instanceof ErrorReply) && typeof code === 'string' && CERTIFICATE_CODE.test(code)) {
      return true
    }
  }
  return false
}

/**
 * The `code` of a certificate refused in a TLS handshake: Node's checks of the server's
 * certificate (`SELF_SIGNED_CERT_IN_CHAIN`, `UNABLE_TO_VERIFY_LEAF_SIGNATURE`,
 * `CERT_HAS_EXPIRED`, `ERR_TLS_CERT_ALTNAME_INVALID`…) and the alerts of a server that refuses
 * the client's (`ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED`, `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`,
 * `ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE`…).
 */
const CERTIFICATE_CODE =
  /CERT|^UNABLE_TO_(GET|VERIFY|DECRYPT|DECODE)_|^HOSTNAME_MISMATCH$|^INVALID_(CA|PURPOSE)$|^PATH_LENGTH_EXCEEDED$|UNKNOWN_CA$/

/**
 * Where the password goes, for a connection cachex opens from a URL and its options. A name
 * before the `@` without a colon is a user name: a password typed so (the form ioredis reads as
 * a password) is sent as none.
 */
export const PASSWORD_IN_URL =
  'put it in the URL after a colon (redis://:password@host; redis://name@host gives a user name only) or the `password` option'
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
 * Where the TLS options go, for each place a password goes (see `withAuthHint`): a certificate is
 * given beside the password.
 */
const SOCKET_OPTIONS: ReadonlyMap<string, string> = new Map([
  [PASSWORD_IN_URL, '`clientOptions.socket`'],
  [PASSWORD_IN_SENTINELS, '`sentinelOptions.socket`'],
  [PASSWORD_IN_SENTINEL, 'the socket options of the RedisSentinel you handed in'],
  [PASSWORD_IN_CLUSTER, 'the `defaults.socket` of the RedisCluster you handed in'],
])

/** The words of a server that refused the client's certificate, or its lack of one (an alert). */
const CLIENT_CERTIFICATE_REFUSED =
  /\balert (certificate required|unknown ca|bad certificate|certificate (unknown|expired|revoked)|unsupported certificate)\b/i
/** The words of a server's certificate the client did not accept (Node's checks). */
const SERVER_CERTIFICATE_REFUSED =
  /self[- ]signed certificate|unable to (get (local )?issuer certificate|verify the first certificate)|certificate (has expired|is not yet valid|signature failure|chain too long|is revoked|revoked|not trusted|rejected)|invalid CA certificate|unsupported certificate purpose|does not match certificate's altnames/i

/** What a certificate refused in the TLS handshake means (before where the TLS options go). */
const CERTIFICATE_HINT = 'the TLS handshake failed: '

/**
 * Whether `message` (of an error, or an error's text) reports the server refusing the
 * connection's credentials — none given where it requires a password (`NOAUTH`), wrong ones
 * (`WRONGPASS`) — or a TLS certificate refused either way (see `isCertificateRefusal`): a
 * refusal that waiting does not change, told apart from a server that is unreachable.
 */
export function isAuthRefusal(message: string): boolean {
  return (
    /\b(NOAUTH|WRONGPASS)\b/.test(message) ||
    CLIENT_CERTIFICATE_REFUSED.test(message) ||
    SERVER_CERTIFICATE_REFUSED.test(message)
  )
}

/**
 * How a connection that refuses calls at once says what state its server is in, before
 * ", not waiting (…)": `text` is the failure it is down for, as described (`withAuthHint`), and
 * `cause` that failure itself, when known.
 * - `refused the connection`: the server refused the credentials (`NOAUTH`, `WRONGPASS`, an
 *   error reply to the handshake: `isRefusedHandshake`), or answered it with another error reply
 *   (`ERR max number of clients reached`). The server is up: "unreachable" would send one
 *   looking at the network.
 * - `did not complete the TLS handshake`: a certificate was refused (`isCertificateRefusal`),
 *   by the client (the server's) or by the server (the client's, or its lack of one) — not the
 *   server refusing the connection.
 * - `is unreachable` otherwise.
 */
export function refusalState(text: string, cause?: unknown): string {
  if (/\b(NOAUTH|WRONGPASS)\b/.test(text)) return 'refused the connection'
  if (
    CLIENT_CERTIFICATE_REFUSED.test(text) ||
    SERVER_CERTIFICATE_REFUSED.test(text) ||
    isCertificateRefusal(cause)
  ) {
    return 'did not complete the TLS handshake'
  }
  // Any error reply is the server's answer (`ERR max number of clients reached`): it is up.
  return isRefusedHandshake(cause) || isErrorReply(cause)
    ? 'refused the connection'
    : 'is unreachable'
}

/**
 * `message` with what an authentication refusal it reports means, in words: Redis's own text
 * (`NOAUTH HELLO must be called with the client already authenticated…`) never says "password".
 * `where` says where the password goes (`PASSWORD_IN_URL` for a connection cachex opens from a
 * URL, `PASSWORD_IN_SENTINELS` for the sentinels cachex connects to, `PASSWORD_IN_SENTINEL`,
 * `PASSWORD_IN_CLUSTER` for a node-redis object handed in); `whose`, if given, says whose
 * credentials a wrong one (`WRONGPASS`) was (`SENTINELS_CREDENTIALS`). A TLS certificate refused
 * either way says which one was not accepted and which TLS option (`ca`, or `cert` and `key`)
 * to look at, where the socket options of that connection go; OpenSSL's and Node's own words
 * (`self-signed certificate in certificate chain`) say neither. Once only: a message that
 * quotes another keeps one hint.
 */
export function withAuthHint(
  message: string,
  where: string = PASSWORD_IN_URL,
  whose?: string,
): string {
  if (
    message.includes(NOAUTH_HINT) ||
    message.includes(WRONGPASS_HINT) ||
    message.includes(CERTIFICATE_HINT)
  ) {
    return message
  }
  const socket = SOCKET_OPTIONS.get(where) ?? 'the socket options'
  const hint = /\bNOAUTH\b/.test(message)
    ? `${NOAUTH_HINT}${where}`
    : /\bWRONGPASS\b/.test(message)
      ? whose === undefined
        ? WRONGPASS_HINT
        : `${WRONGPASS_HINT} — ${whose}`
      : CLIENT_CERTIFICATE_REFUSED.test(message)
        ? `${CERTIFICATE_HINT}the server did not accept the client's certificate, or its lack of one — give one signed by a CA the server trusts as \`cert\` and \`key\` in ${socket}`
        : SERVER_CERTIFICATE_REFUSED.test(message)
          ? `${CERTIFICATE_HINT}the server's certificate was not accepted${serverCertificateAdvice(message, socket)}`
          : undefined
  if (hint === undefined) return message
  return `${hint} (${message.trimEnd()})`
}

/** What to change about a server's certificate the client did not accept (`message` says why). */
function serverCertificateAdvice(message: string, socket: string): string {
  if (/altnames/i.test(message)) {
    return ` — it does not list the name the server was reached by: reach it by one it lists, or set \`servername\` in ${socket}`
  }
  // An expired one is renewed on the server; the client's options change nothing.
  if (/certificate (has expired|is not yet valid)/i.test(message)) return ''
  return ` — give the CA that signed it as \`ca\` in ${socket}`
}
