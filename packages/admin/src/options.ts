import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Cache } from '@cachex/core'

/**
 * A registry of caches by alias, as `caches` of `@cachex/redis` is (Django's `CACHES`): the
 * admin lists `aliases()` and opens each with `get(alias)`.
 */
export interface AdminCacheRegistry {
  /** The cache of `alias`; throws when there is no such alias. */
  get(alias: string): Cache
  /** The aliases that are configured. */
  aliases(): string[]
}

/** The caches the admin shows: a plain object of caches by alias, or a registry. */
export type AdminCaches = Readonly<Record<string, Cache>> | AdminCacheRegistry

/**
 * Decides whether a request may use the admin (for `auth` as a function). Resolve `true` (or a
 * non-empty string, the user's name, which the audit log then names) to let it in; `false` to
 * refuse it (401). It runs on every request: look at the application's own session cookie or
 * header here. What it throws counts as `false`.
 */
export type AdminAuthFunction = (
  req: IncomingMessage,
) => boolean | string | Promise<boolean | string>

/** A bearer token: requests send `Authorization: Bearer <token>`; a browser logs in with it once. */
export interface AdminTokenAuth {
  /** The secret, at least 16 characters. Compared in constant time. */
  token: string
  /**
   * Who a request with this token is, in the audit log.
   * @default 'token'
   */
  label?: string
}

/** One write made through the admin, for the `audit` option. */
export interface AdminAuditEntry {
  /** When it finished, as an ISO 8601 timestamp. */
  time: string
  /** Who made it: the token's `label` (`'token'`), or the name the `auth` function resolved (else `'user'`). */
  who: string
  /** What it was. */
  action: 'set' | 'expire' | 'persist' | 'delete' | 'deletePattern'
  /** The alias of the cache. */
  cache: string
  /** The user's key (`set`, `expire`, `persist`, `delete`). */
  key?: string
  /** The pattern over user keys (`deletePattern`). */
  pattern?: string
  /** How many keys it deleted (`delete`, `deletePattern`). */
  count?: number
  /**
   * Whether it was applied: `false` for a refused compare-and-set (a concurrent change), a
   * failure, or a write refused by `readOnly` or the CSRF checks.
   */
  ok: boolean
  /**
   * Why it was not applied, when `ok` is `false`: `'conflict'`, `'read_only'`, `'csrf'`,
   * a job's error, or the code of the error an edit or delete failed with
   * (`'E_TIMEOUT'`: its reply did not come, and it may have been applied all the same).
   */
  reason?: string
}

/** Options of `createAdminHandler`. */
export interface AdminOptions {
  /** The caches to show: `caches` of `@cachex/redis`, or `{ alias: cache, … }`. */
  caches: AdminCaches
  /**
   * Who may use the admin, required: `{ token }` (a bearer token of at least 16 characters,
   * which a browser sends once to log in and then holds an HttpOnly session cookie), or a
   * function that looks at each request. Without it, `createAdminHandler` throws.
   */
  auth: AdminTokenAuth | AdminAuthFunction
  /**
   * Refuse every write (edit, delete, `deletePattern`) with 403; browsing, the dry-run count of
   * a pattern and the server pages still work.
   * @default false
   */
  readOnly?: boolean
  /**
   * The path the handler is reached under when the framework does not strip it from `req.url`
   * (plain `node:http`, Hono, a Next.js route, a Fastify raw route), such as `'/admin'`. A request
   * outside it is passed to `next` (or answered 404). Express, `@fastify/middie` and NestJS
   * middleware strip their mount path themselves: leave it out there (the handler notices a
   * stripped `req.url` by `req.originalUrl`).
   * @default ''
   */
  basePath?: string
  /**
   * The host names the admin answers (without a port), beyond those it always answers: IP
   * addresses, `localhost` and `*.localhost`. A name starting with `.` adds a domain and its
   * subdomains (`'.corp.example'`: `corp.example`, `admin.corp.example`…). Any other `Host`
   * (HTTP/2: `:authority`), or `X-Forwarded-Host`, is answered 403 on every route, the page and
   * its files included: a page whose own name its owner points at this server (DNS rebinding)
   * reaches nothing, whatever `auth` trusts. List the names the admin is reached by (add only
   * names whose DNS you control); `true` answers any host, for a proxy in front that checks
   * `Host` itself.
   * @default [] (IP addresses, `localhost` and `*.localhost` only)
   */
  allowedHosts?: readonly string[] | true
  /**
   * Called once per write (and per refused or failed write) with who did what to which key.
   * @default a JSON line on `console.info`
   */
  audit?: (entry: AdminAuditEntry) => void
}

/**
 * The admin: a request handler of the `node:http` shape, `(req, res, next?)`, which Express,
 * Fastify (`@fastify/middie`), Hono's node adapter, Next.js and NestJS mount as middleware.
 */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void
  /**
   * Stops what the handler holds: its listeners on the caches' `hit`/`miss` events, its
   * sessions, its key-browser cursors and running `deletePattern` jobs. The caches stay open.
   */
  close(): void
}
