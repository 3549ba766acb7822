// The admin's handler on a real HTTP server (node:http on a free loopback port), and a small
// client that keeps the session cookie and CSRF token as a browser would.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Cache } from '@cachex/core'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { type AdminHandler, type AdminOptions, createAdminHandler } from '../src/index.ts'

/** A token long enough for the handler. */
export const TOKEN = 'test-token-0123456789abcdef'

/** Where a suite runs: a real `redis-server`, or the in-process `memory://`. */
export type Backend = 'redis' | 'memory'
export const BACKENDS: readonly Backend[] = ['redis', 'memory']

/** A server for `backend`: a fresh `redis-server`, or a `memory://<name>` store of its own. */
export async function backendServer(
  backend: Backend,
): Promise<{ url: string; stop(): Promise<void> }> {
  if (backend === 'redis') return standaloneServer()
  return { url: `memory://${uniquePrefix('admin')}`, stop: async () => undefined }
}

/** The admin on a loopback HTTP server. */
export interface AdminServer {
  /** `http://127.0.0.1:port` (+ the path the handler is mounted under). */
  url: string
  handler: AdminHandler
  server: Server
  close(): Promise<void>
}

/** Starts `createAdminHandler(options)` on a free loopback port; `mount` wraps it (basePath tests). */
export async function startAdmin(
  options: AdminOptions,
  mount?: (handler: AdminHandler) => Parameters<typeof createServer>[1],
): Promise<AdminServer> {
  const handler = createAdminHandler(options)
  const listener = mount === undefined ? handler : mount(handler)
  const server = createServer(listener)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    handler,
    server,
    close: async () => {
      handler.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** An answer, with its body as text and JSON (when it is JSON). */
export interface Answer {
  status: number
  headers: Headers
  text: string
  // biome-ignore lint/suspicious/noExplicitAny: test answers are read field by field
  json: any
}

/** A client of the admin: a bearer token, or a browser-like session after `login()`. */
export class Client {
  cookie: string | undefined
  csrf: string | undefined
  /** Every body this client received, to check that no secret was ever sent. */
  readonly bodies: string[] = []

  constructor(
    readonly base: string,
    readonly bearer?: string,
  ) {}

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const all: Record<string, string> = { ...headers }
    if (this.bearer !== undefined) all.Authorization = `Bearer ${this.bearer}`
    if (this.cookie !== undefined) all.Cookie = this.cookie
    if (this.csrf !== undefined && method !== 'GET' && all['X-CSRF-Token'] === undefined) {
      all['X-CSRF-Token'] = this.csrf
    }
    if (body !== undefined) all['Content-Type'] ??= 'application/json'
    const response = await fetch(`${this.base}/${path}`, {
      method,
      headers: all,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      redirect: 'manual',
    })
    const text = await response.text()
    this.bodies.push(text)
    const setCookie = response.headers.get('set-cookie')
    if (setCookie !== null) {
      const value = /^cachex_admin=([^;]*)/.exec(setCookie)?.[1]
      this.cookie = value === undefined || value === '' ? undefined : `cachex_admin=${value}`
    }
    let json: unknown = null
    try {
      json = JSON.parse(text)
    } catch {
      // Not JSON.
    }
    return { status: response.status, headers: response.headers, text, json }
  }

  get(path: string) {
    return this.request('GET', path)
  }

  /** Logs in with the token (a browser session); resolves the session's answer. */
  async login(token = TOKEN): Promise<Answer> {
    const answer = await this.request('POST', 'api/login', { token })
    if (answer.status === 200) this.csrf = answer.json.csrf
    return answer
  }
}

/** A page of keys, following cursors to the end. */
export async function allKeys(
  client: Client,
  alias: string,
  pattern: string,
  count = 2,
): Promise<Array<{ key: string; type: string; ttl: number | null; size: number | null }>> {
  const keys = []
  let cursor: string | null | undefined
  do {
    const query = new URLSearchParams({ pattern, count: String(count) })
    if (cursor) query.set('cursor', cursor)
    const answer = await client.get(`api/caches/${alias}/keys?${query}`)
    if (answer.status !== 200) throw new Error(`keys: ${answer.status} ${answer.text}`)
    keys.push(...answer.json.keys)
    cursor = answer.json.cursor
  } while (cursor !== null)
  return keys
}

/** The path of one key's API route. */
export function keyPath(alias: string, key: string, extra: Record<string, string> = {}): string {
  return `api/caches/${encodeURIComponent(alias)}/key?${new URLSearchParams({ key, ...extra })}`
}

/** Polls a job until it ends. */
export async function waitForJob(client: Client, id: string) {
  for (let i = 0; i < 600; i++) {
    const answer = await client.get(`api/jobs/${id}`)
    if (answer.json.state !== 'running') return answer.json
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error('the job did not end')
}

/** Closes caches, ignoring errors. */
export async function closeAll(...caches: Array<Cache | undefined>): Promise<void> {
  await Promise.all(caches.map((cache) => cache?.close().catch(() => undefined)))
}
