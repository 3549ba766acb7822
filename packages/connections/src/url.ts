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
  try {
    parsed = new URL(url)
  } catch (error) {
    throw new InvalidArgumentError(`invalid Redis URL: ${redactUrl(url)}`, { cause: error })
  }
  const query = parsed.searchParams
  const username = decode(parsed.username) || query.get('username') || undefined
  const password = decode(parsed.password) || query.get('password') || undefined
  const address: RedisAddress = { tls: false, database: 0, username, password }
  switch (parsed.protocol) {
    case 'redis:':
    case 'rediss:': {
      address.tls = parsed.protocol === 'rediss:'
      address.host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'
      address.port = parsed.port === '' ? 6379 : Number(parsed.port)
      const path = parsed.pathname.replace(/^\//, '')
      address.database = parseDatabase(path || query.get('db'), url)
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
  return url
    .replace(/\/\/([^/@:]*):([^@/]*)@/, '//$1:***@')
    .replace(/([?&]password=)[^&]*/i, '$1***')
}

function decode(part: string): string {
  return part === '' ? '' : decodeURIComponent(part)
}

function parseDatabase(text: string | null, url: string): number {
  if (text === null || text === '') return 0
  const db = Number(text)
  if (!Number.isInteger(db) || db < 0) {
    throw new InvalidArgumentError(`invalid database number '${text}' in ${redactUrl(url)}`)
  }
  return db
}
