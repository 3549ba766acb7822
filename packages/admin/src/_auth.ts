// Who a request is: a bearer token (compared in constant time), a browser session (an HttpOnly,
// SameSite=Strict cookie holding a random id, in memory, expiring) or the application's `auth`
// function. Writes from a browser also need the session's CSRF token in a header.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { InvalidArgumentError } from '@cachex/core'
import { ownOptions } from '@cachex/core/internal'
import { requestHosts } from './_hosts.ts'
import { cookie, HttpError, isHttps } from './_http.ts'
import type { AdminAuthFunction, AdminTokenAuth } from './options.ts'

/** The name of the session cookie. */
export const SESSION_COOKIE = 'cachex_admin'
/** The header a write sends its CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token'
/** A session ends after this long without a request… */
const IDLE_MS = 30 * 60_000
/** …and after this long in any case. */
const LIFETIME_MS = 12 * 60 * 60_000
/** Sessions held at most: the oldest goes first. */
const MAX_SESSIONS = 1000
/**
 * Sessions of one user (`who`) held at most: their oldest goes first, so that no one user (an
 * `auth` function lets many browsers in) can push everyone else's sessions out.
 */
const MAX_SESSIONS_PER_WHO = 50
/** Failed logins (or bearer tokens) allowed per minute from one address; past it, 429. */
const MAX_FAILURES_PER_MINUTE = 10
/** The window failures are counted over. */
const THROTTLE_WINDOW_MS = 60_000
/**
 * Addresses whose failures are remembered at most: the one failing longest ago is forgotten
 * first, so that many addresses cannot grow the table without bound.
 */
const MAX_THROTTLED_ADDRESSES = 10_000
/** The shortest token accepted. */
export const MIN_TOKEN_LENGTH = 16

/** One browser session. */
export interface Session {
  readonly id: string
  readonly csrf: string
  readonly created: number
  seen: number
  who: string
}

/** Who made a request, and how they proved it. */
export interface Principal {
  who: string
  /** `bearer`: an `Authorization` header, which no other site can make a browser send. */
  via: 'bearer' | 'session' | 'function'
  session: Session | undefined
}

/** The checked `auth` option. */
export type Auth =
  | { kind: 'token'; digest: Buffer; label: string }
  | { kind: 'function'; check: AdminAuthFunction }

/** Checks the `auth` option: a token of 16 characters or more, or a function. */
export function checkAuth(auth: unknown): Auth {
  if (typeof auth === 'function') return { kind: 'function', check: auth as AdminAuthFunction }
  if (auth === undefined || auth === null) {
    throw new InvalidArgumentError(
      'createAdminHandler() needs auth: { token } (16 characters or more) or a function (req) => boolean; the admin does not start without it',
    )
  }
  if (typeof auth !== 'object') {
    throw new InvalidArgumentError('auth must be { token } or a function (req) => boolean')
  }
  const { token, label } = ownOptions(auth) as AdminTokenAuth
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new InvalidArgumentError(
      `auth.token must be a string of at least ${MIN_TOKEN_LENGTH} characters (generate one: openssl rand -hex 32)`,
    )
  }
  if (label !== undefined && (typeof label !== 'string' || label === '')) {
    throw new InvalidArgumentError('auth.label must be a non-empty string')
  }
  return { kind: 'token', digest: digest(token), label: label ?? 'token' }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

/** Compares two secrets in time that does not depend on where they differ (or their lengths). */
function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected)
}

/** The sessions of one handler, in memory, and its throttle of failed logins. */
export class Sessions {
  readonly #sessions = new Map<string, Session>()
  readonly #throttle = new Throttle()

  create(who: string): Session {
    this.#dropOldestOf(who)
    while (this.#sessions.size >= MAX_SESSIONS) {
      const oldest = this.#sessions.keys().next().value as string
      this.#sessions.delete(oldest)
    }
    const now = Date.now()
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      created: now,
      seen: now,
      who,
    }
    this.#sessions.set(session.id, session)
    return session
  }

  /** Makes room for one more session of `who` within `MAX_SESSIONS_PER_WHO` (theirs go first). */
  #dropOldestOf(who: string): void {
    const theirs: string[] = []
    for (const session of this.#sessions.values()) if (session.who === who) theirs.push(session.id)
    // The map is in creation order: the first of theirs is their oldest.
    for (let i = 0; i <= theirs.length - MAX_SESSIONS_PER_WHO; i++) {
      this.#sessions.delete(theirs[i] as string)
    }
  }

  /** The live session of the request's cookie, if any. */
  of(req: IncomingMessage): Session | undefined {
    const id = cookie(req, SESSION_COOKIE)
    if (id === undefined || id.length > 64) return undefined
    const session = this.#sessions.get(id)
    if (session === undefined) return undefined
    const now = Date.now()
    if (now - session.seen > IDLE_MS || now - session.created > LIFETIME_MS) {
      this.#sessions.delete(id)
      return undefined
    }
    session.seen = now
    return session
  }

  delete(session: Session): void {
    this.#sessions.delete(session.id)
  }

  clear(): void {
    this.#sessions.clear()
    this.#throttle.clear()
  }

  /** Throws 429 while too many logins failed from the request's address in the last minute. */
  checkThrottle(req: IncomingMessage): void {
    this.#throttle.check(addressOf(req))
  }

  /** Counts a failed login (or bearer token) against the request's address. */
  failed(req: IncomingMessage): void {
    this.#throttle.failed(addressOf(req))
  }

  /** Addresses whose failures are remembered (a test checks the bound). */
  get throttledAddresses(): number {
    return this.#throttle.size
  }
}

/**
 * The client's address, as the socket has it. Behind a proxy every client shares the proxy's:
 * the throttle then counts them together (headers such as `X-Forwarded-For` are not trusted, as
 * anyone can send them).
 */
function addressOf(req: IncomingMessage): string {
  return req.socket?.remoteAddress ?? 'unknown'
}

/** Failed attempts per address over the last minute, in a table of bounded size. */
class Throttle {
  /** Times of the failures of each address; the map is in order of each address's last failure. */
  readonly #failures = new Map<string, number[]>()

  get size(): number {
    return this.#failures.size
  }

  check(address: string): void {
    const recent = this.#recent(address)
    if (recent !== undefined && recent.length >= MAX_FAILURES_PER_MINUTE) {
      throw new HttpError(
        429,
        'too many failed logins from this address: wait a minute',
        'throttled',
      )
    }
  }

  failed(address: string): void {
    const recent = this.#recent(address) ?? []
    // Only the last few matter: the list stays short whatever a client sends.
    if (recent.length >= MAX_FAILURES_PER_MINUTE) recent.shift()
    recent.push(Date.now())
    // Re-inserted last: the first entry is always the address that failed longest ago.
    this.#failures.delete(address)
    this.#failures.set(address, recent)
    while (this.#failures.size > MAX_THROTTLED_ADDRESSES) {
      this.#failures.delete(this.#failures.keys().next().value as string)
    }
  }

  clear(): void {
    this.#failures.clear()
  }

  /** The address's failures within the window (older ones dropped), if any. */
  #recent(address: string): number[] | undefined {
    const times = this.#failures.get(address)
    if (times === undefined) return undefined
    const since = Date.now() - THROTTLE_WINDOW_MS
    while (times.length > 0 && (times[0] as number) <= since) times.shift()
    if (times.length === 0) {
      this.#failures.delete(address)
      return undefined
    }
    return times
  }
}

/** Who the request is, or `null` (a 401). */
export async function authenticate(
  auth: Auth,
  sessions: Sessions,
  req: IncomingMessage,
): Promise<Principal | null> {
  if (auth.kind === 'token') {
    const header = req.headers.authorization
    if (typeof header === 'string' && /^bearer\s/i.test(header)) {
      // Bearer guesses count as failed logins do: an address that guesses is throttled, the
      // right token included, until its minute passes.
      sessions.checkThrottle(req)
      const given = header.slice(7).trim()
      if (sameSecret(given, auth.digest))
        return { who: auth.label, via: 'bearer', session: undefined }
      sessions.failed(req)
      return null
    }
    const session = sessions.of(req)
    return session === undefined ? null : { who: session.who, via: 'session', session }
  }
  let verdict: boolean | string
  try {
    verdict = await auth.check(req)
  } catch {
    return null
  }
  if (verdict !== true && (typeof verdict !== 'string' || verdict === '')) return null
  const who = typeof verdict === 'string' ? verdict : 'user'
  const session = sessions.of(req)
  if (session !== undefined) session.who = who
  return { who, via: 'function', session }
}

/** Whether `token` is the admin's token (a login). */
export function checkLogin(auth: Auth, token: unknown): boolean {
  return auth.kind === 'token' && typeof token === 'string' && sameSecret(token, auth.digest)
}

/**
 * Throws 403 unless a write may go on: a bearer request may; a browser's needs its session's CSRF
 * token in `X-CSRF-Token`, and no sign that another site sent it.
 */
export function checkCsrf(principal: Principal, req: IncomingMessage): void {
  if (principal.via === 'bearer') return
  checkSameOrigin(req)
  const session = principal.session
  const given = req.headers[CSRF_HEADER]
  if (session === undefined || typeof given !== 'string' || given.length > 128) {
    throw new HttpError(403, 'a write needs the X-CSRF-Token header of the session', 'csrf')
  }
  if (!timingSafeEqual(digest(given), digest(session.csrf))) {
    throw new HttpError(403, 'the X-CSRF-Token header does not match the session', 'csrf')
  }
}

/**
 * Throws 403 when the browser says the request came from another site (`Sec-Fetch-Site`), or its
 * `Origin` or `Referer` names another host than the request's (`Host`, HTTP/2 `:authority`, or a
 * proxy's `X-Forwarded-Host`). A request with none of these headers (curl, a script) goes on.
 */
export function checkSameOrigin(req: IncomingMessage): void {
  const site = req.headers['sec-fetch-site']
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, 'the request comes from another site', 'csrf')
  }
  checkOwnHost(req, req.headers.origin, 'Origin')
  // An older browser sends neither `Sec-Fetch-Site` nor `Origin` with an `<img>` or a link of
  // another site, but names that site's page in `Referer`. The admin's own pages send none
  // (`Referrer-Policy: no-referrer`), so one of another host can only come from elsewhere.
  checkOwnHost(req, req.headers.referer, 'Referer')
}

/** The port a URL of each scheme leaves out (its `port` is then `''`). */
const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' }

/** Throws 403 unless `url` (the `header` sent, if any) is of one of the request's own hosts. */
function checkOwnHost(req: IncomingMessage, url: string | undefined, header: string): void {
  if (typeof url !== 'string' || url === '') return
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new HttpError(403, `the ${header} header is not a URL`, 'csrf')
  }
  // A URL drops its scheme's default port (`http://x:80/` is `http://x/`), and a browser sends
  // none in `Origin`; a `Host` or a proxy's `X-Forwarded-Host` may name it (nginx's
  // `$host:$server_port`: `x:80`). So the URL's host matches the request's bare host, or that
  // host with the scheme's default port: `https://x` is `x` or `x:443`, never `x:80` or `x:8443`.
  const host = parsed.host.toLowerCase()
  const ownHosts = [host]
  const defaultPort = parsed.port === '' ? DEFAULT_PORTS[parsed.protocol] : undefined
  if (defaultPort !== undefined) ownHosts.push(`${host}:${defaultPort}`)
  // HTTP/2 sends `:authority` and no `Host`; a proxy names the host the browser asked for in
  // `X-Forwarded-Host` (checked against `allowedHosts` with the others: `checkHost`).
  const hosts = requestHosts(req).map((h) => h.toLowerCase())
  if (!hosts.some((h) => ownHosts.includes(h))) {
    throw new HttpError(403, 'the request comes from another origin', 'csrf')
  }
}

/** Sets the session cookie (HttpOnly, SameSite=Strict, Secure over TLS) for `path`. */
export function setSessionCookie(
  req: IncomingMessage,
  res: ServerResponse,
  session: Session,
  path: string,
): void {
  const secure = isHttps(req) ? '; Secure' : ''
  res.setHeader(
    'Set-Cookie',
    `${SESSION_COOKIE}=${session.id}; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=${LIFETIME_MS / 1000}${secure}`,
  )
}

/** Clears the session cookie. */
export function clearSessionCookie(res: ServerResponse, path: string): void {
  res.setHeader(
    'Set-Cookie',
    `${SESSION_COOKIE}=; Path=${path}; HttpOnly; SameSite=Strict; Max-Age=0`,
  )
}
