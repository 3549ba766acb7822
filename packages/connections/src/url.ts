import { domainToASCII } from 'node:url'
import { InvalidArgumentError } from '@cachex/core'
import { PLAIN_NAME, redactUrl, ZONED_HOST } from './_url-redact.ts'

export { redactUrl } from './_url-redact.ts'

/** Where and how to reach one Redis server, parsed from a URL. */
export interface RedisAddress {
  /** Host name or IP, for TCP. */
  host?: string
  /** TCP port. @default 6379 */
  port?: number
  /** Path of a Unix socket (`unix://`). */
  path?: string
  /** TLS (`rediss://`). */
  tls: boolean
  /** ACL user name. */
  username?: string
  /** Password. */
  password?: string
  /** Database number. @default 0 */
  database: number
}

/**
 * Parses `redis://[[user]:password@]host[:port][/db]`, `rediss://…` (TLS) and
 * `unix://[[user]:password@]/path/to.sock[?db=N]` as django-redis and redis-py do. `db`,
 * `username` and `password` may also come as query parameters (an empty one counts as absent);
 * any other query parameter is refused with an `InvalidArgumentError`, since cachex takes every
 * other setting as an option (`socketTimeout`, `clientOptions`…). `valkey://` and `valkeys://`
 * (Valkey's own schemes, which valkey-py and django-cachex accept) read as `redis://` and
 * `rediss://`: Valkey speaks the same protocol. An IPv6 host may carry a zone ID, written as
 * RFC 6874 says: `redis://[fe80::1%25eth0]:6379` is host `fe80::1%eth0`. A `memory://` location (the in-memory backend,
 * no Redis server) is refused, and so is `memory:name`, with a message saying `memory://name`.
 */
export function parseRedisUrl(url: string): RedisAddress {
  // `memory:name` (or `memory:/name`) is the in-memory backend's location with a slash missing:
  // the parser would take it for a URL with no `//`, told only that it has no scheme.
  if (/^memory:(?!\/\/)/i.test(url)) throw new InvalidArgumentError(MEMORY_SLASHES)
  // `unix:/user:password@/path` (a slash short): no userinfo is read there, and the whole text
  // would be the socket's path, which the connection's errors quote.
  if (/^unix:(?!\/\/)/i.test(url) && url.includes('@')) {
    throw new InvalidArgumentError(
      'invalid Redis URL: a unix socket with a user or a password is written unix://[[user]:password@]/path/to.sock, with two slashes; the text is not shown, as it may hold a password',
    )
  }
  let parsed: URL
  // WHATWG URL refuses credentials without a host, which `unix://user:pw@/path` has: take them
  // out before parsing.
  let userinfo: string | undefined
  // The userinfo runs to the last `@` before the path, so that a raw `@` or `/` in a password
  // stays in it.
  const unix = /^unix:\/\/([^/?#][^?#]*)@(?=\/)/i.exec(url)
  if (unix !== null) {
    userinfo = unix[1] as string
    url = `unix://${url.slice(unix[0].length)}`
  }
  // An IPv6 zone ID (RFC 6874), which the URL parser refuses: taken out, put back on the host.
  let zone: string | undefined
  const zoned = ZONED_HOST.exec(url)
  if (zoned !== null) {
    zone = zoned[2]
    url = `${zoned[1]}]${url.slice(zoned[0].length)}`
  }
  try {
    parsed = new URL(url)
  } catch (error) {
    throw new InvalidArgumentError(
      SCHEME.test(url) ? `invalid Redis URL: ${redactUrl(url)}${encodingHint(url)}` : NO_SCHEME,
      { cause: scrubbed(error, url) },
    )
  }
  // `abc:def` parses with the scheme `abc:`: a password put in location (one holding a `:`)
  // reads so, and each check below would echo it (its `#`, its path, its query).
  if (!SCHEME.test(url) && !/^(redis|rediss|valkey|valkeys|unix):/i.test(url)) {
    throw new InvalidArgumentError(NO_SCHEME)
  }
  // `redis:/host` (one slash) parses as a path with no host: the host would silently become
  // 127.0.0.1 and the path a database number. Not shown: `redis:` may start a password.
  if (/^(redis|valkey)s?:(?!\/\/)/i.test(url)) {
    throw new InvalidArgumentError(
      `invalid Redis URL (expected ${parsed.protocol}//host:port/db, with two slashes); the text is not shown, as it may hold a password`,
    )
  }
  // A `#` starts a fragment, which no Redis URL has: it is a raw `#` in a password (or a query
  // value), and what follows it would be dropped — `redis://admin:99#Spring@host/0` parses as
  // host `admin`, port 99.
  if (url.includes('#')) {
    throw new InvalidArgumentError(
      `invalid Redis URL (it holds a raw '#', which starts a URL fragment and cuts the URL short): ${redactUrl(url)}${encodingHint(url, true)}`,
    )
  }
  try {
    return addressOf(parsed, url, userinfo, zone)
  } catch (error) {
    // A raw `/` or `?` in a password moves the rest of the URL into the path or the query: the
    // refusal of that path or query says so.
    const hint = error instanceof InvalidArgumentError ? encodingHint(url) : ''
    if (hint === '') throw error
    throw new InvalidArgumentError(`${(error as Error).message}${hint}`, {
      cause: (error as Error).cause,
    })
  }
}

/**
 * The advice added to the refusal of a URL whose password may hold a raw `#`, `/` or `?` (the
 * characters that end a URL's userinfo early): an `@` after one of them, past the scheme. `always`
 * gives it whatever the URL (a `#`, never in a valid Redis URL). Never quotes the URL.
 */
function encodingHint(url: string, always = false): string {
  const start = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0].length ?? -1
  const at = url.lastIndexOf('@')
  const early = start < 0 ? -1 : url.slice(start).search(/[#/?]/)
  const inUserinfo = early >= 0 && at > start + early && !/^unix:\/\/\//i.test(url)
  if (!inUserinfo && !always) return ''
  return `; a '#', '/' or '?' in a password (or a user name) must be percent-encoded, as %23, %2F and %3F (and '@' as %40, '%' as %25): encodeURIComponent(password) does it`
}

/** The address `parsed` (the URL `url`) gives, past the checks of its syntax. */
function addressOf(
  parsed: URL,
  url: string,
  userinfo: string | undefined,
  zone: string | undefined,
): RedisAddress {
  const query = queryOf(parsed, url)
  const colon = userinfo?.indexOf(':') ?? -1
  const rawUser =
    userinfo === undefined ? parsed.username : userinfo.slice(0, colon < 0 ? undefined : colon)
  const rawPassword =
    userinfo === undefined ? parsed.password : colon < 0 ? '' : userinfo.slice(colon + 1)
  const username = decode(rawUser) || query.username
  const password = decode(rawPassword) || query.password
  const address: RedisAddress = { tls: false, database: 0, username, password }
  switch (parsed.protocol) {
    case 'redis:':
    case 'rediss:':
    case 'valkey:':
    case 'valkeys:': {
      address.tls = parsed.protocol === 'rediss:' || parsed.protocol === 'valkeys:'
      address.host = hostOf(parsed.hostname, url)
      if (zone !== undefined) address.host = `${address.host}%${zone}`
      address.port = parsed.port === '' ? 6379 : Number(parsed.port)
      // The parser refuses 65536 and up; 0 it takes, and no server listens there: every call
      // would fail to connect (and, under ignoreExceptions, quietly serve fallbacks forever).
      if (address.port === 0) {
        throw new InvalidArgumentError(
          `invalid Redis URL (port 0 is no port a server listens on): ${redactUrl(url)}`,
        )
      }
      // As redis-py: a `?db=` wins over the path (an empty one is absent).
      const path = parsed.pathname.replace(/^\/+|\/+$/g, '')
      address.database = parseDatabase(query.db ?? path, url)
      break
    }
    case 'unix:': {
      if (parsed.pathname === '')
        throw new InvalidArgumentError(`no socket path in ${redactUrl(url)}`)
      address.path = decode(parsed.pathname)
      address.database = parseDatabase(query.db ?? null, url)
      break
    }
    default:
      // A memory:// location handed to a Redis topology (the `cluster` factory, say).
      if (parsed.protocol === 'memory:') {
        throw new InvalidArgumentError(
          'a memory:// location is the in-memory backend, not a Redis server: give it to createCache() with client unset, or to memory()',
        )
      }
      throw new InvalidArgumentError(
        `unsupported Redis URL scheme '${parsed.protocol}' (use redis://, rediss://, unix://, valkey:// or valkeys://, or memory://[name] for the in-memory backend): ${redactUrl(url)}`,
      )
  }
  return address
}

/**
 * The host of a `redis://` URL as the resolver takes it. The URL parser keeps the host of a
 * scheme it does not know percent-encoded (`%6Cocalhost`), a Unicode name included
 * (`b%C3%BCcher.example`): it is decoded, as redis-py's `unquote(url.hostname)`, and a name
 * that is not ASCII is then put in its ASCII form (IDNA: `xn--bcher-kva.example`), the one DNS
 * knows (one IDNA does not map stays as decoded). An ASCII name is left as written, its case
 * too: a sentinel location's host is a service name, which Sentinel matches case for case. An
 * IPv6 address loses its brackets; no host is 127.0.0.1. An invalid escape, or a name that
 * decodes to characters no host name holds (`/`, `:`, a space…, which would otherwise send the
 * connection somewhere else or nowhere), is an `InvalidArgumentError`.
 */
function hostOf(hostname: string, url: string): string {
  if (hostname === '') return '127.0.0.1'
  if (hostname.startsWith('[')) return hostname.replace(/^\[(.*)\]$/, '$1')
  let name: string
  try {
    name = decodeURIComponent(hostname)
  } catch {
    throw new InvalidArgumentError(
      `invalid Redis URL (its host name has an invalid percent-encoding): ${redactUrl(url)}`,
    )
  }
  if (NOT_IN_HOST_NAMES.test(name)) {
    throw new InvalidArgumentError(
      `invalid Redis URL (its host name decodes to a character no host name holds): ${redactUrl(url)}`,
    )
  }
  // Past the check above, an ASCII name holds printable characters only.
  return /^[!-~]*$/.test(name) ? name : domainToASCII(name) || name
}

/** The characters WHATWG URL forbids in a domain: C0 controls, space, `#%/:<>?@[\]^|`, DEL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are the point
const NOT_IN_HOST_NAMES = /[\u0000-\u0020#%/:<>?@[\\\]^|\u007f]/

/** A URL's start: a scheme and `//` (`unix:` too, as in `unix:///path.sock`). */
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * The error of a location with no `scheme://`. It does not echo the text: a location without a
 * scheme is often not a URL at all, but the password put in the wrong setting (an environment
 * variable mix-up), where nothing tells its parts apart.
 */
const NO_SCHEME =
  'invalid Redis URL: it has no scheme (expected redis://[[user]:password@]host[:port][/db], rediss://…, unix:///path/to.sock, valkey://… or valkeys://…, or memory://[name] for the in-memory backend); the text is not shown, as it may be a password'

/** The error of `memory:name` or `memory:/name`: a `memory://` location, a slash or two short. */
const MEMORY_SLASHES =
  'invalid location: the in-memory backend takes two slashes (expected memory://name, or memory:// for a store of its own)'

/**
 * The URL parser's error without the URL: Node's `TypeError` keeps it in `input` (and in its
 * `util.inspect` output), password included. A copy with the same message and code, and the
 * redacted URL as `input`.
 */
function scrubbed(error: unknown, url: string): Error {
  const source = error instanceof Error ? error : new Error(String(error))
  const message = source.message.split(url).join(redactUrl(url))
  const copy = source instanceof TypeError ? new TypeError(message) : new Error(message)
  const code = (source as { code?: unknown }).code
  return Object.assign(copy, {
    ...(typeof code === 'string' ? { code } : {}),
    input: redactUrl(url),
  })
}

/** The query parameters a Redis URL may carry. */
const QUERY_PARAMETERS = ['db', 'username', 'password'] as const

/**
 * The `db`, `username` and `password` query parameters of `parsed`, each its first non-empty
 * value (as redis-py's `parse_qs`, which drops blank values). Any other parameter is refused:
 * dropping it would silently connect otherwise than the URL says (`?database=2` to database 0,
 * `?ssl=true` without TLS).
 */
function queryOf(
  parsed: URL,
  url: string,
): Partial<Record<(typeof QUERY_PARAMETERS)[number], string>> {
  // No prototype: an `Object.prototype.db` (or `.password`) another library set must not read as
  // a parameter the URL gave.
  const query: Partial<Record<(typeof QUERY_PARAMETERS)[number], string>> = Object.create(null)
  for (const [name, value] of parsed.searchParams) {
    if (!(QUERY_PARAMETERS as readonly string[]).includes(name)) {
      // A raw `?` in a password may move part of it into the query: name the parameter only when
      // no `@` follows the `?`.
      // Nor unless it is written as a plain `name=` (`?secret` alone may be a password).
      const question = url.indexOf('?')
      const plain =
        PLAIN_NAME.test(name) &&
        url
          .slice(question + 1)
          .split('&')
          .includes(`${name}=${value}`)
      const shown = plain && url.indexOf('@', question) < 0 ? ` '${name}'` : ''
      throw new InvalidArgumentError(
        `unknown query parameter${shown} in ${redactUrl(url)}: cachex reads only db, username and password from a URL; give the rest as options (socketTimeout, socketConnectTimeout, clientOptions.socket for TLS and other socket settings, and so on)`,
      )
    }
    const key = name as (typeof QUERY_PARAMETERS)[number]
    if (query[key] === undefined && value !== '') query[key] = value
  }
  return query
}

/** Percent-decodes like Python's `unquote`: a malformed escape such as a lone `%` stays as is. */
function decode(part: string): string {
  if (part === '') return ''
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}

function parseDatabase(text: string | null, url: string): number {
  if (text === null || text === '') return 0
  const db = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (!Number.isSafeInteger(db)) {
    // A raw `/` in a password moves part of it into the path: name the text only when the URL
    // has no userinfo it could come from.
    // Nor unless it is digits: `0&password=…` (an `&` typed for `?`), `0-secret` or a name may
    // hold a password (the URL shown hides it too).
    const plain = /^\d{1,20}$/.test(text)
    const shown = url.includes('@') || !plain ? '' : ` '${text}'`
    throw new InvalidArgumentError(`invalid database number${shown} in ${redactUrl(url)}`)
  }
  return db
}
