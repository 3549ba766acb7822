// `createAdminHandler`: the options checked once, then one function per request that finds the
// route under the base path, authenticates, and answers JSON (the API) or the web app's files.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CachexError, InvalidArgumentError } from '@cachex/core'
import { ownOptions } from '@cachex/core/internal'
import { asset } from './_assets-table.ts'
import {
  authenticate,
  CSRF_HEADER,
  checkAuth,
  checkCsrf,
  checkLogin,
  checkSameOrigin,
  clearSessionCookie,
  type Principal,
  Sessions,
  setSessionCookie,
} from './_auth.ts'
import { cacheRoute, methodNotAllowed } from './_cache-routes.ts'
import { addressOf, CacheSet } from './_caches.ts'
import { checkAllowedHosts, checkHost } from './_hosts.ts'
import { HttpError, readJsonBody, scrub, securityHeaders, sendError, sendJson } from './_http.ts'
import { Jobs } from './_jobs.ts'
import { KeyWalks } from './_keys.ts'
import type { Request, State } from './_state.ts'
import type { AdminAuditEntry, AdminHandler, AdminOptions } from './options.ts'

/** Bytes of a login body read at most (before anyone is authenticated): 413 beyond. */
const MAX_LOGIN_BODY_BYTES = 8 * 1024

/**
 * The admin web app and its JSON API as one request handler of the `node:http` shape,
 * `(req, res, next?)`: mount it in Express (`app.use('/admin', handler)`), Fastify (through
 * `@fastify/middie`, or a raw route with `basePath`), Hono's node adapter, a Next.js route or a
 * NestJS middleware (docs/admin.md shows each). It serves a key browser of `caches` to whoever
 * `auth` lets in, and answers 401 to anyone else; 403 to a request under a host name it does not
 * answer (`allowedHosts`: IP addresses, `localhost` and `*.localhost` by default).
 *
 * Throws `InvalidArgumentError` without `auth` (a token of 16 characters or more, or a function),
 * without `caches`, or with an `allowedHosts` that is not a list of host names or `true`. The
 * options (and `auth`) are read from their own properties only: one a polluted `Object.prototype`
 * holds (`allowedHosts = true`, which would turn the Host check off) counts for nothing.
 */
export function createAdminHandler(given: AdminOptions): AdminHandler {
  if (given === null || typeof given !== 'object') {
    throw new InvalidArgumentError(
      'createAdminHandler() takes options: { caches, auth, allowedHosts?, readOnly?, basePath?, audit? }',
    )
  }
  const options = ownOptions(given)
  const auth = checkAuth(options.auth)
  const known = new Set(['caches', 'auth', 'allowedHosts', 'readOnly', 'basePath', 'audit'])
  for (const name of Object.keys(options)) {
    if (!known.has(name)) {
      throw new InvalidArgumentError(
        `createAdminHandler(): unknown option '${name}' (options: ${[...known].join(', ')})`,
      )
    }
  }
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean') {
    throw new InvalidArgumentError('readOnly must be a boolean')
  }
  if (options.audit !== undefined && typeof options.audit !== 'function') {
    throw new InvalidArgumentError('audit must be a function (entry) => void')
  }
  const allowedHosts = checkAllowedHosts(options.allowedHosts)
  const state: State = {
    auth,
    caches: new CacheSet(options.caches),
    readOnly: options.readOnly ?? false,
    basePath: checkBasePath(options.basePath),
    audit: options.audit ?? defaultAudit,
    sessions: new Sessions(),
    walks: new KeyWalks(),
    jobs: new Jobs(),
  }
  const handler = ((req: IncomingMessage, res: ServerResponse, next?: (e?: unknown) => void) => {
    let request: Request | null
    try {
      request = parse(state, req, res)
    } catch (error) {
      securityHeaders(res)
      answerError(res, error)
      return
    }
    if (request === null) {
      if (typeof next === 'function') next()
      else {
        securityHeaders(res)
        sendError(res, 404, 'not found', 'not_found')
      }
      return
    }
    securityHeaders(res)
    try {
      // Before anything else, `auth` included: a page under another name gets nothing.
      checkHost(allowedHosts, req)
    } catch (error) {
      answerError(res, error)
      return
    }
    route(state, request).catch((error: unknown) => answerError(res, error))
  }) as AdminHandler
  handler.close = () => {
    state.caches.close()
    state.sessions.clear()
    state.walks.close()
    state.jobs.close()
  }
  return handler
}

function checkBasePath(basePath: unknown): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return ''
  if (typeof basePath !== 'string' || !/^\/[\w.~!$&'()*+,;=:@%/-]*$/.test(basePath)) {
    throw new InvalidArgumentError(
      `basePath must be a path such as '/admin', got ${String(basePath)}`,
    )
  }
  return basePath.replace(/\/+$/, '')
}

function defaultAudit(entry: AdminAuditEntry): void {
  console.info(`cachex admin: ${JSON.stringify(entry)}`)
}

/** The request under the base path, or `null` when it is not the admin's. */
function parse(state: State, req: IncomingMessage, res: ServerResponse): Request | null {
  const url = req.url ?? '/'
  const original = (req as { originalUrl?: unknown }).originalUrl
  const [pathname = '/', search = ''] = splitUrl(url)
  let path: string
  let external: string
  if (typeof original === 'string' && original !== url) {
    // Express, middie and NestJS strip their mount path and keep the whole one here.
    path = pathname
    external = splitUrl(original)[0] ?? '/'
  } else {
    external = pathname
    const base = state.basePath
    if (base === '') path = pathname
    else if (pathname === base || pathname.startsWith(`${base}/`))
      path = pathname.slice(base.length)
    else return null
  }
  if (path === '') path = '/'
  const base = external.endsWith(path)
    ? external.slice(0, external.length - path.length)
    : state.basePath
  return { req, res, path, query: new URLSearchParams(search), base, external }
}

function splitUrl(url: string): [string, string] {
  const q = url.indexOf('?')
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)]
}

function answerError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (error instanceof HttpError) {
    sendError(res, error.status, error.message, error.code)
  } else if (error instanceof InvalidArgumentError) {
    sendError(res, 400, error.message, 'invalid')
  } else if (error instanceof CachexError) {
    sendError(res, 502, error.message, error.code)
  } else {
    sendError(res, 500, error instanceof Error ? error.message : String(error), 'internal')
  }
}

async function route(state: State, request: Request): Promise<void> {
  const { req, res, path } = request
  const method = req.method ?? 'GET'
  if (path === '/' && !request.external.endsWith('/')) {
    // The app's links are relative, so its page must be at a URL under the mount: its
    // `index.html` (a framework that strips trailing slashes, as Next.js does, leaves a file name
    // alone, where a redirect to `<mount>/` would loop with it).
    const last = request.external.split('/').pop() || '.'
    const search = splitUrl(req.url ?? '')[1]
    res.statusCode = 308
    res.setHeader('Location', `${last}/index.html${search === '' ? '' : `?${search}`}`)
    res.end()
    return
  }
  if (path === '/' || path === '/index.html') {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET')
    const principal = await authenticate(state.auth, state.sessions, req)
    // The page holds no data, but a request without credentials gets a 401 all the same (the
    // page then shows its login form).
    serveAsset(request, 'index.html', principal === null ? 401 : 200)
    return
  }
  if (path.startsWith('/assets/')) {
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed('GET')
    serveAsset(request, path.slice('/assets/'.length), 200)
    return
  }
  if (!path.startsWith('/api/')) throw new HttpError(404, 'not found', 'not_found')
  const parts = path
    .slice('/api/'.length)
    .split('/')
    .map((part) => {
      try {
        return decodeURIComponent(part)
      } catch {
        throw new HttpError(400, 'the path is not valid percent-encoding')
      }
    })
  if (parts[0] === 'login' && parts.length === 1) return login(state, request, method)
  if (parts[0] === 'logout' && parts.length === 1) return logout(state, request, method)
  // Reads too: a GET another site makes (an `<img>` there) would start a session, or a listing
  // whose cursor pushes the user's own out of those kept, and the user's next step would fail.
  // A client that sends none of the headers this looks at (curl, a script) goes on. Writes are
  // checked with their CSRF token (`checkCsrf`), once the user is known, so that a forged one is
  // in the audit log.
  if (method === 'GET' || method === 'HEAD') checkSameOrigin(req)
  const principal = await authenticate(state.auth, state.sessions, req)
  if (principal === null) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="cachex admin"')
    throw new HttpError(
      401,
      'log in first: send Authorization: Bearer <token>, or log in on the page',
      'unauthorized',
    )
  }
  if (parts[0] === 'session' && parts.length === 1)
    return session(state, request, principal, method)
  if (parts[0] === 'caches' && parts.length === 1) {
    if (method !== 'GET') throw methodNotAllowed('GET')
    return listCaches(state, request)
  }
  if (parts[0] === 'caches' && parts.length === 3) {
    const entry = state.caches.get(parts[1] as string)
    return cacheRoute(state, request, principal, method, entry, parts[2] as string)
  }
  if (parts[0] === 'jobs' && parts.length === 2) {
    const id = parts[1] as string
    if (method === 'GET') return sendJson(res, 200, state.jobs.get(id))
    if (method === 'DELETE') {
      checkCsrf(principal, req)
      return sendJson(res, 200, state.jobs.cancel(id))
    }
    throw methodNotAllowed('GET, DELETE')
  }
  throw new HttpError(404, 'no such API route', 'not_found')
}

function serveAsset(request: Request, name: string, status: number): void {
  const { req, res } = request
  const file = asset(name)
  if (file === undefined) throw new HttpError(404, 'not found', 'not_found')
  res.setHeader('ETag', file.etag)
  // The page may differ by status (401 or 200): never cached; the files are revalidated.
  res.setHeader('Cache-Control', name === 'index.html' ? 'no-store' : 'no-cache')
  if (status === 200 && req.headers['if-none-match'] === file.etag) {
    res.statusCode = 304
    res.end()
    return
  }
  res.statusCode = status
  res.setHeader('Content-Type', file.type)
  res.setHeader('Content-Length', file.body.length)
  res.end(req.method === 'HEAD' ? undefined : file.body)
}

function cookiePath(request: Request): string {
  return `${request.base}/`
}

async function login(state: State, request: Request, method: string): Promise<void> {
  const { req, res } = request
  if (method !== 'POST') throw methodNotAllowed('POST')
  if (state.auth.kind !== 'token') {
    throw new HttpError(400, "this admin uses the application's own login (an auth function)")
  }
  checkSameOrigin(req)
  state.sessions.checkThrottle(req)
  // Anyone may post here: a token is a few dozen bytes, so a small body is all that is read.
  const body = await readJsonBody(req, MAX_LOGIN_BODY_BYTES)
  if (!checkLogin(state.auth, body.token)) {
    state.sessions.failed(req)
    throw new HttpError(401, 'wrong token', 'unauthorized')
  }
  const created = state.sessions.create(state.auth.label)
  setSessionCookie(req, res, created, cookiePath(request))
  sendJson(res, 200, sessionView(state, created.who, created.csrf))
}

async function logout(state: State, request: Request, method: string): Promise<void> {
  const { req, res } = request
  if (method !== 'POST') throw methodNotAllowed('POST')
  checkSameOrigin(req)
  const current = state.sessions.of(req)
  if (current !== undefined) state.sessions.delete(current)
  clearSessionCookie(res, cookiePath(request))
  res.statusCode = 204
  res.setHeader('Cache-Control', 'no-store')
  res.end()
}

function sessionView(state: State, who: string, csrf: string | null) {
  return { who, csrf, readOnly: state.readOnly, auth: state.auth.kind, csrfHeader: CSRF_HEADER }
}

async function session(
  state: State,
  request: Request,
  principal: Principal,
  method: string,
): Promise<void> {
  if (method !== 'GET') throw methodNotAllowed('GET')
  let current = principal.session
  if (current === undefined && principal.via === 'function') {
    // The application's auth let the browser in: a session of our own carries its CSRF token.
    // Not for a request another site made (an `<img>` there): each would push one of the user's
    // own sessions out of the 50 kept, and their next write would be refused (`route` refused
    // it already; checked here again, next to what it guards).
    checkSameOrigin(request.req)
    current = state.sessions.create(principal.who)
    setSessionCookie(request.req, request.res, current, cookiePath(request))
  }
  sendJson(request.res, 200, sessionView(state, principal.who, current?.csrf ?? null))
}

async function listCaches(state: State, request: Request): Promise<void> {
  const caches = await Promise.all(
    state.caches.aliases().map(async (alias) => {
      try {
        const entry = state.caches.get(alias)
        return {
          alias,
          keyPrefix: entry.cache.keyPrefix,
          version: entry.cache.version,
          defaultTimeout: entry.cache.defaultTimeout,
          address: await addressOf(entry),
          hitRate: entry.hits.available,
        }
      } catch (error) {
        return { alias, error: scrub(error instanceof Error ? error.message : String(error)) }
      }
    }),
  )
  sendJson(request.res, 200, { caches, readOnly: state.readOnly })
}
