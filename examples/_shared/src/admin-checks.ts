// The checks of the admin UI (`@cachex/admin`) an example mounts, over HTTP: the same for every
// framework, so that each example proves its mount passes requests, bodies and headers through.
import { deepStrictEqual, match, ok, strictEqual } from 'node:assert/strict'
import { randomBytes } from 'node:crypto'

/** Milliseconds one HTTP request may take. */
const REQUEST_TIMEOUT_MS = 10_000
/** Pages of keys followed at most when looking for a key (a few keys fit in the first). */
const MAX_KEY_PAGES = 20

/** A token for `CACHEX_ADMIN_TOKEN`: random, 48 hex characters (the admin wants 16 or more). */
export function adminToken(): string {
  return randomBytes(24).toString('hex')
}

/** Options of `checkAdmin`. */
export interface AdminCheckOptions {
  /** Where the admin is mounted, without a trailing slash: `http://127.0.0.1:3000/admin`. */
  url: string
  /** The token the app was started with (`CACHEX_ADMIN_TOKEN`). */
  token: string
  /** The alias of the app's cache, as the admin lists it. @default 'default' */
  alias?: string
  /**
   * A key the app wrote (as `cache.get` takes it) holding an integer: the check sets it to 100
   * through the admin, from a logged-in browser session with its CSRF token.
   */
  counterKey: string
  /** Another key the app wrote: the check deletes it through the admin, with the bearer token. */
  deleteKey: string
  /** Prints one line of progress. */
  log(message: string): void
}

/** One answer, read whole. */
interface Answer {
  status: number
  headers: Headers
  text: string
}

async function send(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const headers = { ...options.headers }
  let body: string | undefined
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  let response: Response
  try {
    response = await fetch(url, {
      method,
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (error) {
    throw new Error(`${method} ${url} failed: ${String(error)}`, { cause: error })
  }
  return { status: response.status, headers: response.headers, text: await response.text() }
}

function expectStatus(answer: Answer, status: number, what: string): void {
  if (answer.status !== status) {
    throw new Error(`${what} answered ${answer.status}, expected ${status}: ${answer.text}`)
  }
}

function json(answer: Answer, what: string): Record<string, unknown> {
  match(answer.headers.get('content-type') ?? '', /^application\/json/, `${what} is JSON`)
  try {
    return JSON.parse(answer.text) as Record<string, unknown>
  } catch {
    throw new Error(`${what} answered something that is not JSON: ${answer.text}`)
  }
}

/**
 * Checks the admin an example mounts, over HTTP, as a browser and a script use it: the page and
 * the API refuse a request without credentials (401), a bearer token reads the caches and the
 * keys the app wrote, a browser logs in (a JSON body through the framework) and writes only with
 * its CSRF token (403 without), and a bearer request deletes a key. Afterwards `counterKey` holds
 * 100 and `deleteKey` is gone: the caller checks that the app sees both.
 */
export async function checkAdmin(options: AdminCheckOptions): Promise<void> {
  const { url, token, log } = options
  const alias = options.alias ?? 'default'
  const bearer = { authorization: `Bearer ${token}` }
  const api = `${url}/api/caches/${encodeURIComponent(alias)}`

  // The mount itself redirects to the page's index.html under it: its links are relative.
  const bare = await send('GET', url)
  expectStatus(bare, 308, `GET ${url}`)
  strictEqual(
    bare.headers.get('location'),
    `${url.slice(url.lastIndexOf('/') + 1)}/index.html`,
    `GET ${url} redirects to the page's index.html under the mount`,
  )

  // The page: 401 (the login form) without credentials, 200 with the bearer token; strict CSP.
  const anonymous = await send('GET', `${url}/index.html`)
  expectStatus(anonymous, 401, `GET ${url}/index.html without credentials`)
  match(anonymous.headers.get('content-type') ?? '', /^text\/html/, 'the login page is HTML')
  const page = await send('GET', `${url}/index.html`, { headers: bearer })
  expectStatus(page, 200, `GET ${url}/index.html with the bearer token`)
  match(page.headers.get('content-type') ?? '', /^text\/html/, 'the page is HTML')
  match(
    page.headers.get('content-security-policy') ?? '',
    /default-src 'self'/,
    'the page carries its Content-Security-Policy',
  )
  ok(page.text.includes('assets/app.js'), 'the page loads assets/app.js')
  const script = await send('GET', `${url}/assets/app.js`)
  expectStatus(script, 200, `GET ${url}/assets/app.js`)
  match(script.headers.get('content-type') ?? '', /^text\/javascript/, 'app.js is JavaScript')
  ok(script.text.length > 1000, 'app.js is the bundled web app')
  log(`admin: ${url}/index.html answers 401 without credentials, the page and its script with them`)

  // The API: 401 without credentials or with a wrong token; the caches and keys with the token.
  const refused = await send('GET', `${url}/api/caches`)
  expectStatus(refused, 401, `GET ${url}/api/caches without credentials`)
  strictEqual(json(refused, 'the 401').error, 'unauthorized', 'the 401 says unauthorized')
  const wrong = await send('GET', `${url}/api/caches`, {
    headers: { authorization: `Bearer ${adminToken()}` },
  })
  expectStatus(wrong, 401, `GET ${url}/api/caches with a wrong token`)
  const listed = await send('GET', `${url}/api/caches`, { headers: bearer })
  expectStatus(listed, 200, `GET ${url}/api/caches with the bearer token`)
  const caches = json(listed, 'the caches').caches as { alias: string; error?: string }[]
  const cache = caches.find((entry) => entry.alias === alias)
  ok(cache !== undefined, `the admin lists the cache '${alias}' (${listed.text})`)
  strictEqual(cache.error, undefined, `the cache '${alias}' opens`)
  const keys = new Set<string>()
  let cursor: string | null = null
  for (let pages = 0; pages < MAX_KEY_PAGES; pages++) {
    const query = `pattern=*${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`
    const answer = await send('GET', `${api}/keys?${query}`, { headers: bearer })
    expectStatus(answer, 200, `GET ${api}/keys?${query}`)
    const body = json(answer, 'the keys') as { keys: { key: string }[]; cursor: string | null }
    for (const { key } of body.keys) keys.add(key)
    cursor = body.cursor
    if (cursor === null) break
  }
  for (const key of [options.counterKey, options.deleteKey]) {
    ok(keys.has(key), `the key browser lists '${key}' (it lists ${JSON.stringify([...keys])})`)
  }
  const counterUrl = `${api}/key?key=${encodeURIComponent(options.counterKey)}`
  const before = await send('GET', counterUrl, { headers: bearer })
  expectStatus(before, 200, `GET ${counterUrl}`)
  const { revision } = json(before, 'the key page') as { revision: string }
  log(`admin: the API lists the cache '${alias}' and the keys the app wrote`)

  // Writes without credentials: 401, whatever the method.
  const edit = { revision, value: '100' }
  expectStatus(await send('PUT', counterUrl, { body: edit }), 401, 'a PUT without credentials')
  const deleteUrl = `${api}/key?key=${encodeURIComponent(options.deleteKey)}`
  expectStatus(await send('DELETE', deleteUrl), 401, 'a DELETE without credentials')

  // A browser logs in (a JSON body the framework must pass through unread, or parsed)…
  const login = await send('POST', `${url}/api/login`, { body: { token } })
  expectStatus(login, 200, `POST ${url}/api/login with the token`)
  const { csrf } = json(login, 'the login') as { csrf: string }
  const setCookie = login.headers.get('set-cookie') ?? ''
  match(setCookie, /^cachex_admin=[^;]+;.*HttpOnly; SameSite=Strict/, 'the login sets the cookie')
  ok(
    setCookie.includes(`; Path=${new URL(url).pathname}/;`),
    `the session cookie is scoped to the admin's path (${setCookie})`,
  )
  const session = { cookie: setCookie.slice(0, setCookie.indexOf(';')) }
  // …and cannot write without the session's CSRF token…
  const forged = await send('PUT', counterUrl, { headers: session, body: edit })
  expectStatus(forged, 403, 'a PUT with the session cookie but no X-CSRF-Token')
  strictEqual(json(forged, 'the 403').error, 'csrf', 'the 403 names the CSRF token')
  expectStatus(
    await send('DELETE', deleteUrl, { headers: session }),
    403,
    'a DELETE with the session cookie but no X-CSRF-Token',
  )
  // …but can with it: the value goes through the cache's codec.
  const saved = await send('PUT', counterUrl, {
    headers: { ...session, 'x-csrf-token': csrf },
    body: edit,
  })
  expectStatus(saved, 200, 'a PUT with the session cookie and its X-CSRF-Token')
  strictEqual(json(saved, 'the edit').ok, true, 'the edit is applied')
  const after = await send('GET', counterUrl, { headers: bearer })
  expectStatus(after, 200, `GET ${counterUrl} after the edit`)
  const shown = json(after, 'the key page') as { string?: { json?: string } }
  strictEqual(shown.string?.json, '100', `the admin shows '${options.counterKey}' as 100`)
  log(
    `admin: writes need credentials (401) and the CSRF token (403); a session set '${options.counterKey}' to 100`,
  )

  // A script deletes with the bearer token alone (no other site can send that header).
  const deleted = await send('DELETE', deleteUrl, { headers: bearer })
  expectStatus(deleted, 200, `DELETE ${deleteUrl} with the bearer token`)
  deepStrictEqual(json(deleted, 'the delete'), { ok: true, deleted: true }, 'the key is deleted')
  log(`admin: the bearer token deleted '${options.deleteKey}'`)
}
