import { InvalidArgumentError } from '@cachex/core'

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
 * `username` and `password` may also come as query parameters.
 */
export function parseRedisUrl(url: string): RedisAddress {
  let parsed: URL
  // WHATWG URL refuses credentials without a host, which `unix://user:pw@/path` has: take them
  // out before parsing.
  let userinfo: string | undefined
  const unix = /^unix:\/\/([^/?#]*)@/i.exec(url)
  if (unix !== null) {
    userinfo = unix[1] as string
    url = `unix://${url.slice(unix[0].length)}`
  }
  try {
    parsed = new URL(url)
  } catch (error) {
    throw new InvalidArgumentError(`invalid Redis URL: ${redactUrl(url)}`, { cause: error })
  }
  const query = parsed.searchParams
  const colon = userinfo?.indexOf(':') ?? -1
  const rawUser =
    userinfo === undefined ? parsed.username : userinfo.slice(0, colon < 0 ? undefined : colon)
  const rawPassword =
    userinfo === undefined ? parsed.password : colon < 0 ? '' : userinfo.slice(colon + 1)
  const username = decode(rawUser) || query.get('username') || undefined
  const password = decode(rawPassword) || query.get('password') || undefined
  const address: RedisAddress = { tls: false, database: 0, username, password }
  switch (parsed.protocol) {
    case 'redis:':
    case 'rediss:': {
      address.tls = parsed.protocol === 'rediss:'
      address.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'
      address.port = parsed.port === '' ? 6379 : Number(parsed.port)
      // As redis-py: a `?db=` wins over the path.
      const path = parsed.pathname.replace(/^\/+|\/+$/g, '')
      address.database = parseDatabase(query.get('db') ?? path, url)
      break
    }
    case 'unix:': {
      if (parsed.pathname === '')
        throw new InvalidArgumentError(`no socket path in ${redactUrl(url)}`)
      address.path = decodeURIComponent(parsed.pathname)
      address.database = parseDatabase(query.get('db'), url)
      break
    }
    default:
      throw new InvalidArgumentError(
        `unsupported Redis URL scheme '${parsed.protocol}' (use redis://, rediss:// or unix://): ${redactUrl(url)}`,
      )
  }
  return address
}

/** The URL with any password replaced by `***`, for messages and logs. */
export function redactUrl(url: string): string {
  // The userinfo runs to the last `@` before the path, so a raw `@` in a password is hidden too.
  return url
    .replace(/\/\/([^/?#@:]*):([^/?#]*)@/, '//$1:***@')
    .replace(/([?&]password=)[^&]*/i, '$1***')
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
    throw new InvalidArgumentError(`invalid database number '${text}' in ${redactUrl(url)}`)
  }
  return db
}
