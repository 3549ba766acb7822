// Which sites the admin answers, and where: the Host check against DNS rebinding (a page under
// evil.example whose name resolves to this server is same-origin for the browser), the admin
// over HTTP/2 (`:authority`, no `Host`), and container pages at the edges of what Redis stores
// (infinite scores, the largest stream id as a cursor).
import { request as httpRequest } from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { InvalidArgumentError } from '@cachex/core'
import { type Cache, createCache } from '@cachex/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AdminOptions, createAdminHandler } from '../src/index.ts'
import {
  type AdminServer,
  BACKENDS,
  backendServer,
  Client,
  closeAll,
  keyPath,
  startAdmin,
  TOKEN,
} from './helpers.ts'

/** An answer of `send`. */
interface Raw {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/** A request with any headers, `Host` included (as a browser sends it after DNS rebinding). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Raw> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method, headers },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** The `name=value` of the session cookie an answer sets, or `undefined`. */
function sessionCookie(answer: Raw): string | undefined {
  const header = answer.headers['set-cookie']
  const first = Array.isArray(header) ? header[0] : header
  return first?.split(';')[0]
}

describe('the Host check (DNS rebinding)', () => {
  let cache: Cache
  beforeAll(() => {
    cache = createCache({ location: 'memory://', keyPrefix: 'hosts' })
  })
  afterAll(() => closeAll(cache))

  /** An admin whose `auth` trusts the connection, as a local setup may. */
  function loopbackAdmin(options: Partial<AdminOptions> = {}): Promise<AdminServer> {
    return startAdmin({
      caches: { default: cache },
      auth: (req) => req.socket.remoteAddress === '127.0.0.1',
      ...options,
    })
  }

  it.each([
    [
      'trusts the connection',
      (req: { socket: { remoteAddress?: string } }) => req.socket.remoteAddress === '127.0.0.1',
    ],
    [
      'trusts a header (the docs’ example)',
      (req: { headers: Record<string, unknown> }) =>
        req.headers['x-staff-user'] === 'ada' ? 'ada' : false,
    ],
  ] as const)(
    'an auth function that %s: a page under another name gets nothing',
    async (_, auth) => {
      await cache.set('victim', 'safe')
      const admin = await startAdmin({ caches: { default: cache }, auth: auth as never })
      try {
        const port = new URL(admin.url).port
        // What the browser sends once evil.example resolves to 127.0.0.1: its own name as Host and
        // Origin, so every request is same-origin for the browser.
        const site = {
          Host: `evil.example:${port}`,
          Origin: `http://evil.example:${port}`,
          'Sec-Fetch-Site': 'same-origin',
          'X-Staff-User': 'ada',
        }
        const session = await send(admin.url, 'GET', '/api/session', site)
        expect(session.status).toBe(403)
        expect(JSON.parse(session.text)).toMatchObject({ error: 'host_not_allowed' })
        expect(JSON.parse(session.text).message).toMatch(/evil\.example.*allowedHosts/)
        expect(sessionCookie(session)).toBeUndefined()
        expect(session.headers['content-security-policy']).toBeDefined()
        const read = await send(admin.url, 'GET', '/api/caches/default/key?key=victim', site)
        expect(read.status).toBe(403)
        expect(read.text).not.toContain('safe')
        const write = await send(
          admin.url,
          'PUT',
          '/api/caches/default/key?key=victim',
          { ...site, 'Content-Type': 'application/json' },
          JSON.stringify({ revision: 'string:', value: '"owned"' }),
        )
        expect(write.status).toBe(403)
        // The page and its files too: nothing is served under a name the admin does not answer.
        for (const path of ['/', '/index.html', '/assets/app.js', '/api/login', '/api/nope']) {
          expect((await send(admin.url, 'GET', path, site)).status, path).toBe(403)
        }
        expect(await cache.get('victim')).toBe('safe')
        // The same requests under the address itself go through.
        const own = { ...site, Host: `127.0.0.1:${port}`, Origin: `http://127.0.0.1:${port}` }
        const ok = await send(admin.url, 'GET', '/api/session', own)
        expect(ok.status).toBe(200)
        expect(sessionCookie(ok)).toMatch(/^cachex_admin=/)
      } finally {
        await admin.close()
      }
    },
  )

  it('answers IP addresses, localhost and *.localhost by default, and nothing else', async () => {
    const admin = await loopbackAdmin()
    try {
      const port = new URL(admin.url).port
      const status = async (host: string) =>
        (await send(admin.url, 'GET', '/api/caches', { Host: host })).status
      for (const host of [
        `127.0.0.1:${port}`,
        '10.1.2.3',
        `[::1]:${port}`,
        '[fe80::1]',
        `localhost:${port}`,
        'LocalHost',
        'localhost.',
        `app.localhost:${port}`,
        'a.b.localhost',
      ]) {
        expect(await status(host), host).toBe(200)
      }
      for (const host of [
        `evil.example:${port}`,
        'localhost.evil.example',
        'evillocalhost',
        '127.0.0.1.nip.io',
        '::1',
        '[evil.example]',
        'evil.example:80:80',
        'a b',
      ]) {
        expect(await status(host), host).toBe(403)
      }
    } finally {
      await admin.close()
    }
  })

  it('takes allowedHosts: names, and .domain for a domain and its subdomains', async () => {
    const admin = await loopbackAdmin({ allowedHosts: ['Admin.Example.com', '.corp.example'] })
    try {
      const status = async (host: string, extra: Record<string, string> = {}) =>
        (await send(admin.url, 'GET', '/api/caches', { Host: host, ...extra })).status
      for (const host of [
        'admin.example.com',
        'admin.example.com:8443',
        'corp.example',
        'a.b.corp.example',
        'localhost',
        '127.0.0.1',
      ]) {
        expect(await status(host), host).toBe(200)
      }
      for (const host of [
        'example.com',
        'x.admin.example.com',
        'admin.example.com.evil.example',
        'evilcorp.example',
        'evil.example',
      ]) {
        expect(await status(host), host).toBe(403)
      }
      // A proxy's X-Forwarded-Host is trusted to match Origin, so it is checked as well.
      expect(await status('127.0.0.1', { 'X-Forwarded-Host': 'admin.example.com' })).toBe(200)
      expect(await status('127.0.0.1', { 'X-Forwarded-Host': 'evil.example' })).toBe(403)
      expect(
        await status('127.0.0.1', { 'X-Forwarded-Host': 'admin.example.com, evil.example' }),
      ).toBe(403)
    } finally {
      await admin.close()
    }
  })

  it('allowedHosts: true answers any host (behind a proxy that fixes Host)', async () => {
    const admin = await loopbackAdmin({ allowedHosts: true })
    try {
      const answer = await send(admin.url, 'GET', '/api/caches', {
        Host: 'admin.example.com',
        'X-Forwarded-Host': 'admin.example.com',
      })
      expect(answer.status).toBe(200)
    } finally {
      await admin.close()
    }
  })

  it('takes a host named with its default port (:80, :443) as the Origin without it', async () => {
    const admin = await startAdmin({
      caches: { default: cache },
      auth: { token: TOKEN },
      allowedHosts: ['admin.example.com'],
      audit: () => undefined,
    })
    try {
      const login = (headers: Record<string, string>) =>
        send(
          admin.url,
          'POST',
          '/api/login',
          { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'same-origin', ...headers },
          JSON.stringify({ token: TOKEN }),
        )
      const read = async (headers: Record<string, string>) =>
        (
          await send(admin.url, 'GET', '/api/caches', {
            Authorization: `Bearer ${TOKEN}`,
            ...headers,
          })
        ).status
      // nginx's `proxy_set_header X-Forwarded-Host $host:$server_port;`: the browser's Origin
      // and Referer name no default port.
      const https = { 'X-Forwarded-Host': 'admin.example.com:443', 'X-Forwarded-Proto': 'https' }
      expect((await login({ ...https, Origin: 'https://admin.example.com' })).status).toBe(200)
      expect(await read({ ...https, Referer: 'https://admin.example.com/wiki' })).toBe(200)
      const http = { 'X-Forwarded-Host': 'admin.example.com:80' }
      expect((await login({ ...http, Origin: 'http://admin.example.com' })).status).toBe(200)
      // `Host: x:80` with the port in the Referer too (the URL drops it).
      expect(
        await read({ Host: 'admin.example.com:80', Referer: 'http://admin.example.com:80/' }),
      ).toBe(200)
      // A bare Host is still the Origin of either default port.
      expect(
        (await login({ Host: 'admin.example.com', Origin: 'https://admin.example.com' })).status,
      ).toBe(200)
      // Still strict: another port, another scheme's default port, another host.
      for (const [headers, what] of [
        [{ ...https, Origin: 'https://admin.example.com:8443' }, 'another port'],
        [{ ...https, Origin: 'http://admin.example.com' }, 'http against :443'],
        [{ ...http, Origin: 'https://admin.example.com' }, 'https against :80'],
        [{ ...https, Origin: 'https://evil.example' }, 'another host'],
        [{ Host: 'admin.example.com:8080', Origin: 'http://admin.example.com' }, 'bare vs :8080'],
      ] as const) {
        expect((await login(headers)).status, what).toBe(403)
      }
      expect(await read({ ...https, Referer: 'https://admin.example.com:444/' })).toBe(403)
    } finally {
      await admin.close()
    }
  })

  it('checks the option', () => {
    const caches = { default: cache }
    const auth = { token: TOKEN }
    for (const allowedHosts of [
      false,
      '*',
      'admin.example.com',
      ['admin.example.com:443'],
      ['http://admin.example.com'],
      ['*.example.com'],
      [''],
      ['.'],
      [5],
    ]) {
      expect(
        () => createAdminHandler({ caches, auth, allowedHosts: allowedHosts as never }),
        JSON.stringify(allowedHosts),
      ).toThrow(InvalidArgumentError)
    }
    expect(() => createAdminHandler({ caches, auth, allowedHosts: ['*'] })).toThrow(
      /allowedHosts: true/,
    )
    for (const allowedHosts of [[], ['a.example'], ['.example.com', '::1', '10.0.0.1'], true]) {
      expect(() =>
        createAdminHandler({ caches, auth, allowedHosts: allowedHosts as string[] | true }),
      ).not.toThrow()
    }
  })
})

describe('the admin over HTTP/2 (`:authority`, no Host)', () => {
  let cache: Cache
  let handler: ReturnType<typeof createAdminHandler>
  let server: http2.Http2Server
  let session: http2.ClientHttp2Session
  let origin: string

  beforeAll(async () => {
    cache = createCache({ location: 'memory://', keyPrefix: 'h2' })
    handler = createAdminHandler({ caches: { default: cache }, auth: { token: TOKEN } })
    server = http2.createServer(handler as never)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    session = http2.connect(origin)
  })

  afterAll(async () => {
    session?.close()
    handler?.close()
    await new Promise((resolve) => server?.close(resolve))
    await closeAll(cache)
  })

  /** One HTTP/2 request, as a browser sends it: `:authority` and `Origin`. */
  function h2(
    headers: http2.OutgoingHttpHeaders,
    body?: string,
  ): Promise<{ status: number; headers: http2.IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      const stream = session.request({ origin, 'sec-fetch-site': 'same-origin', ...headers })
      let answer: http2.IncomingHttpHeaders = {}
      let text = ''
      stream.setEncoding('utf8')
      stream.on('response', (h) => {
        answer = h
      })
      stream.on('data', (chunk) => {
        text += chunk
      })
      stream.on('end', () => resolve({ status: Number(answer[':status']), headers: answer, text }))
      stream.on('error', reject)
      stream.end(body)
    })
  }

  it('a browser logs in and saves a value', async () => {
    await cache.set('doc', { a: 1 })
    const json = { 'content-type': 'application/json' }
    const login = await h2(
      { ':method': 'POST', ':path': '/api/login', ...json },
      JSON.stringify({ token: TOKEN }),
    )
    expect(login.status, login.text).toBe(200)
    const cookie = String(login.headers['set-cookie']).split(';')[0] as string
    const csrf = JSON.parse(login.text).csrf as string
    const page = await h2({ ':path': `/${keyPath('default', 'doc')}`, cookie })
    expect(page.status).toBe(200)
    const revision = JSON.parse(page.text).revision
    const put = await h2(
      {
        ':method': 'PUT',
        ':path': `/${keyPath('default', 'doc')}`,
        cookie,
        'x-csrf-token': csrf,
        ...json,
      },
      JSON.stringify({ revision, value: '{"a":2}' }),
    )
    expect(put.status, put.text).toBe(200)
    expect(await cache.get('doc')).toEqual({ a: 2 })
    // Another site's Origin is still refused, and so is another name as `:authority`.
    const cross = await h2(
      { ':method': 'POST', ':path': '/api/login', ...json, origin: 'http://evil.example' },
      JSON.stringify({ token: TOKEN }),
    )
    expect(cross.status).toBe(403)
    const port = new URL(origin).port
    const rebound = await h2({
      ':path': '/api/caches',
      ':authority': `evil.example:${port}`,
      origin: `http://evil.example:${port}`,
      cookie,
    })
    expect(rebound.status).toBe(403)
    expect(JSON.parse(rebound.text)).toMatchObject({ error: 'host_not_allowed' })
  })
})

describe.each(BACKENDS)('container pages at the edges (%s)', (backend) => {
  let stop: () => Promise<void>
  let cache: Cache
  let admin: AdminServer
  const raw = (...args: string[]) => cache.connection.command(args, { key: args[1] as string })

  beforeAll(async () => {
    const server = await backendServer(backend)
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: 'edges' })
    admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await stop?.()
  })

  it('shows +inf and -inf scores as infinities, as the tree shows floats', async () => {
    const zset = cache.makeKey('scores')
    await raw('ZADD', zset, '+inf', '"top"', '-inf', '"bottom"', '1.5', '"mid"', 'inf', '"also"')
    const answer = await new Client(admin.url, TOKEN).get(keyPath('default', 'scores'))
    expect(answer.status).toBe(200)
    const rows = answer.json.container.rows as Array<
      [{ value: string }, { type: string; value: string }]
    >
    expect(rows.map(([member, score]) => [member.value, score])).toEqual([
      ['bottom', { type: 'float', value: '-Infinity' }],
      ['mid', { type: 'float', value: '1.5' }],
      ['also', { type: 'float', value: 'Infinity' }],
      ['top', { type: 'float', value: 'Infinity' }],
    ])
  })

  it('the largest stream id as a cursor is an empty last page', async () => {
    const stream = cache.makeKey('stream')
    await raw('XADD', stream, '1-1', 'a', '"1"')
    await raw('XADD', stream, '2-0', 'b', '"2"')
    const client = new Client(admin.url, TOKEN)
    const max = '18446744073709551615-18446744073709551615'
    const last = await client.get(keyPath('default', 'stream', { cursor: max }))
    expect(last.status, last.text).toBe(200)
    expect(last.json.container).toEqual({
      columns: ['id', 'fields'],
      rows: [],
      total: 2,
      cursor: null,
    })
    // The largest sequence of a millisecond goes on at the next millisecond.
    const next = await client.get(
      keyPath('default', 'stream', { cursor: '1-18446744073709551615' }),
    )
    expect(next.status, next.text).toBe(200)
    expect(next.json.container.rows.map((row: Array<{ value: string }>) => row[0]?.value)).toEqual([
      '2-0',
    ])
    // Past the largest id, still a 400.
    const over = await client.get(
      keyPath('default', 'stream', { cursor: '18446744073709551616-0' }),
    )
    expect(over.status).toBe(400)
  })
})
