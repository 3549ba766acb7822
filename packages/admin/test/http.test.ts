// The admin over HTTP against a real redis-server and the in-process memory:// backend: auth and
// sessions (401, login, CSRF, read-only), the key browser over SCAN, decoded values and
// containers, edits with compare-and-set (409 on a concurrent change, nothing overwritten),
// deletes, deletePattern jobs, the server pages, the audit log, and the headers of every answer.
import { InvalidArgumentError } from '@cachex/core'
import { type Cache, createCache } from '@cachex/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AdminAuditEntry, createAdminHandler } from '../src/index.ts'
import {
  type AdminServer,
  allKeys,
  BACKENDS,
  backendServer,
  Client,
  closeAll,
  keyPath,
  startAdmin,
  TOKEN,
  waitForJob,
} from './helpers.ts'

describe('createAdminHandler() options', () => {
  const cache = createCache({ location: 'memory://' })
  afterAll(() => cache.close())

  it('refuses to start without auth, with a short token, or without caches', () => {
    // @ts-expect-error auth is required
    expect(() => createAdminHandler({ caches: { default: cache } })).toThrow(InvalidArgumentError)
    expect(() =>
      createAdminHandler({ caches: { default: cache }, auth: { token: 'short' } }),
    ).toThrow(/at least 16 characters/)
    // @ts-expect-error caches is required
    expect(() => createAdminHandler({ auth: { token: TOKEN } })).toThrow(InvalidArgumentError)
    expect(() =>
      // @ts-expect-error not a cache
      createAdminHandler({ caches: { default: {} }, auth: { token: TOKEN } }),
    ).toThrow(/not a Cache/)
    expect(() =>
      // @ts-expect-error unknown option
      createAdminHandler({ caches: {}, auth: { token: TOKEN }, readonly: true }),
    ).toThrow(/unknown option 'readonly'/)
    expect(() => createAdminHandler({ caches: { default: cache }, auth: () => true })).not.toThrow()
  })
})

describe.each(BACKENDS)('the admin over HTTP (%s)', (backend) => {
  let stop: () => Promise<void>
  let cache: Cache
  let pickled: Cache
  let admin: AdminServer
  let readOnly: AdminServer
  const audit: AdminAuditEntry[] = []

  beforeAll(async () => {
    const server = await backendServer(backend)
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: `app-${backend}` })
    pickled = createCache({
      location: server.url,
      keyPrefix: `py-${backend}`,
      serializer: 'pickle',
      compressor: 'zlib',
    })
    admin = await startAdmin({
      caches: { default: cache, pickled },
      auth: { token: TOKEN },
      audit: (entry) => audit.push(entry),
    })
    readOnly = await startAdmin({
      caches: { default: cache },
      auth: { token: TOKEN },
      readOnly: true,
      audit: (entry) => audit.push(entry),
    })
  })

  afterAll(async () => {
    await admin?.close()
    await readOnly?.close()
    await closeAll(cache, pickled)
    await stop?.()
  })

  it('answers 401 without credentials, with every security header', async () => {
    const anonymous = new Client(admin.url)
    for (const path of ['api/caches', 'api/session', `${keyPath('default', 'x')}`, '']) {
      const answer = await anonymous.get(path)
      expect(answer.status, path).toBe(401)
      const csp = answer.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe-inline')
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
      expect(answer.headers.get('referrer-policy')).toBe('no-referrer')
    }
    expect((await new Client(admin.url, 'wrong-token-0123456789').get('api/caches')).status).toBe(
      401,
    )
    // The page itself is the login form: a 401, but HTML that loads the app.
    const page = await anonymous.get('')
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    expect(page.text).toContain('assets/app.js')
    expect(page.text).not.toMatch(/<script>|\son\w+=/)
  })

  it('serves the app with ETags, and accepts a bearer token', async () => {
    const client = new Client(admin.url, TOKEN)
    expect((await client.get('')).status).toBe(200)
    const app = await client.get('assets/app.js')
    expect(app.status).toBe(200)
    expect(app.headers.get('content-type')).toMatch(/javascript/)
    const etag = app.headers.get('etag') as string
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await client.request('GET', 'assets/app.js', undefined, { 'If-None-Match': etag })
    expect(again.status).toBe(304)
    expect((await client.get('assets/nope.js')).status).toBe(404)
    const caches = await client.get('api/caches')
    expect(caches.status).toBe(200)
    expect(caches.json.caches.map((c: { alias: string }) => c.alias)).toEqual([
      'default',
      'pickled',
    ])
    const address = caches.json.caches[0].address as string
    if (backend === 'redis') expect(address).toMatch(/^127\.0\.0\.1:\d+\/0$/)
    else expect(address).toMatch(/^memory:\/\//)
  })

  it('logs a browser in with a session cookie, and writes need its CSRF token', async () => {
    const browser = new Client(admin.url)
    expect((await browser.login('not-the-token-0123456789')).status).toBe(401)
    const login = await browser.login()
    expect(login.status).toBe(200)
    const setCookie = login.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/HttpOnly/)
    expect(setCookie).toMatch(/SameSite=Strict/)
    expect(setCookie).toMatch(/Path=\//)
    expect(login.json.csrf).toMatch(/^[\w-]{40,}$/)
    expect((await browser.get('api/caches')).status).toBe(200)
    const session = await browser.get('api/session')
    expect(session.json).toMatchObject({ who: 'token', readOnly: false, csrf: login.json.csrf })

    await cache.set('csrf', { a: 1 })
    const page = await browser.get(keyPath('default', 'csrf'))
    const body = { revision: page.json.revision, value: '{"a": 2}' }
    const noToken = await browser.request('PUT', keyPath('default', 'csrf'), body, {
      'X-CSRF-Token': '',
    })
    expect(noToken.status).toBe(403)
    const wrong = await browser.request('PUT', keyPath('default', 'csrf'), body, {
      'X-CSRF-Token': 'x'.repeat(43),
    })
    expect(wrong.status).toBe(403)
    const crossSite = await browser.request('PUT', keyPath('default', 'csrf'), body, {
      Origin: 'https://evil.example',
    })
    expect(crossSite.status).toBe(403)
    expect(await cache.get('csrf')).toEqual({ a: 1 })
    // Each refused write is in the audit log, who tried it and why (a forged request shows).
    expect(
      audit.filter((e) => e.key === 'csrf').map((e) => [e.action, e.ok, e.reason, e.who]),
    ).toEqual([
      ['set', false, 'csrf', 'token'],
      ['set', false, 'csrf', 'token'],
      ['set', false, 'csrf', 'token'],
    ])
    const ok = await browser.request('PUT', keyPath('default', 'csrf'), body)
    expect(ok.status).toBe(200)
    expect(await cache.get('csrf')).toEqual({ a: 2 })

    expect((await browser.request('POST', 'api/logout')).status).toBe(204)
    expect((await browser.get('api/caches')).status).toBe(401)
  })

  it('browses keys over SCAN, page by page, as the user keys with type, TTL and size', async () => {
    await cache.setMany({ 'user:1': { name: 'ada' }, 'user:2': 'two', 'user:3': 3 }, 60)
    await cache.set('other', 'x', null)
    await cache.hset('user:h', 'f', 'v')
    const client = new Client(admin.url, TOKEN)
    const keys = await allKeys(client, 'default', 'user:*', 2)
    expect(keys.map((k) => k.key).sort()).toEqual(['user:1', 'user:2', 'user:3', 'user:h'])
    const one = keys.find((k) => k.key === 'user:1')
    expect(one?.type).toBe('string')
    expect(one?.ttl).toBeGreaterThan(50)
    expect(one?.size).toBeGreaterThan(0)
    expect(keys.find((k) => k.key === 'user:h')?.type).toBe('hash')
    const all = await allKeys(client, 'default', '*', 100)
    expect(all.find((k) => k.key === 'other')?.ttl).toBeNull()
    expect((await client.get('api/caches/default/keys?cursor=nope')).status).toBe(410)
    expect((await client.get('api/caches/nope/keys')).status).toBe(404)
  })

  it('shows a value decoded by the cache’s codec, and containers as rows', async () => {
    const client = new Client(admin.url, TOKEN)
    await cache.set('doc', { name: 'ada', tags: ['a', 'b'], n: 1.5, ok: true, none: null })
    const doc = await client.get(keyPath('default', 'doc'))
    expect(doc.status).toBe(200)
    expect(doc.json.string.serializer).toBe('json')
    expect(doc.json.string.tree.type).toBe('dict')
    expect(JSON.parse(doc.json.string.json)).toEqual({
      name: 'ada',
      tags: ['a', 'b'],
      n: 1.5,
      ok: true,
      none: null,
    })
    expect(doc.json.revision).toMatch(/^string:[0-9a-f]{40}$/)

    await pickled.set('blob', { text: 'x'.repeat(100), raw: Buffer.from([0, 255]) })
    const blob = await client.get(keyPath('pickled', 'blob'))
    expect(blob.json.string).toMatchObject({ serializer: 'pickle', compressor: 'zlib' })
    const entries = blob.json.string.tree.entries as Array<
      [{ value: string }, { type: string; value: string }]
    >
    expect(entries.find(([k]) => k.value === 'raw')?.[1]).toMatchObject({
      type: 'bytes',
      value: '\\x00\\xff',
    })
    expect(blob.json.string.json).toBeUndefined()

    await cache.hset('h', { a: 1, b: { c: [1] } })
    await cache.rpush('l', 'x', 'y', 'z')
    await cache.sadd('s', 'm')
    await cache.zadd('z', { p: 2, q: 1 })
    const h = await client.get(keyPath('default', 'h'))
    expect(h.json.container.columns).toEqual(['field', 'value'])
    expect(h.json.container.total).toBe(2)
    const l = await client.get(`${keyPath('default', 'l')}&count=2`)
    expect(l.json.container.rows.map((r: Array<{ value: string }>) => r[1]?.value)).toEqual([
      'x',
      'y',
    ])
    expect(l.json.container.cursor).toBe('2')
    const rest = await client.get(`${keyPath('default', 'l')}&count=2&cursor=2`)
    expect(rest.json.container.rows.map((r: Array<{ value: string }>) => r[1]?.value)).toEqual([
      'z',
    ])
    expect(rest.json.container.cursor).toBeNull()
    const z = await client.get(keyPath('default', 'z'))
    expect(
      z.json.container.rows.map((r: Array<{ value: string }>) => [r[0]?.value, r[1]?.value]),
    ).toEqual([
      ['q', '1'],
      ['p', '2'],
    ])
    expect((await client.get(keyPath('default', 's'))).json.container.rows[0][0].value).toBe('m')
    await cache.xadd('x', { a: 1 }, { id: '1-1' })
    await cache.xadd('x', { b: 'two' }, { id: '1-2' })
    const x = await client.get(`${keyPath('default', 'x')}&count=1`)
    expect(x.json.container.columns).toEqual(['id', 'fields'])
    expect(x.json.container.total).toBe(2)
    expect(x.json.container.rows[0][0].value).toBe('1-1')
    expect(x.json.container.rows[0][1].entries[0][0].value).toBe('a')
    expect(x.json.container.cursor).toBe('1-1')
    const after = await client.get(`${keyPath('default', 'x')}&count=1&cursor=1-1`)
    expect(after.json.container.rows[0][1].entries[0][1].value).toBe('two')
    expect((await client.get(keyPath('default', 'missing'))).status).toBe(404)
  })

  it('edits with compare-and-set: a concurrent change answers 409 and is not overwritten', async () => {
    const client = new Client(admin.url, TOKEN)
    await cache.set('cas', { v: 1 }, 100)
    const loaded = await client.get(keyPath('default', 'cas'))
    // Someone else writes between the page load and the save.
    await cache.set('cas', { v: 'theirs' }, 100)
    const save = await client.request('PUT', keyPath('default', 'cas'), {
      revision: loaded.json.revision,
      value: '{"v": "mine"}',
    })
    expect(save.status).toBe(409)
    expect(save.json.error).toBe('conflict')
    expect(await cache.get('cas')).toEqual({ v: 'theirs' })
    const deleted = await client.request(
      'DELETE',
      `${keyPath('default', 'cas', { revision: loaded.json.revision })}`,
    )
    expect(deleted.status).toBe(409)
    expect(await cache.hasKey('cas')).toBe(true)

    const fresh = await client.get(keyPath('default', 'cas'))
    const mine = await client.request('PUT', keyPath('default', 'cas'), {
      revision: fresh.json.revision,
      value: '{"v": "mine", "__proto__": {"admin": true}}',
      ttl: 500,
    })
    expect(mine.status).toBe(200)
    const stored = (await cache.get('cas')) as Record<string, unknown>
    expect(stored.v).toBe('mine')
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).admin).toBeUndefined()
    expect(await cache.ttl('cas')).toBeGreaterThan(400)
    // The revision the save answered is the new one: a TTL-only change with it applies.
    const persist = await client.request('PUT', keyPath('default', 'cas'), {
      revision: mine.json.revision,
      ttl: null,
    })
    expect(persist.status).toBe(200)
    expect(await cache.ttl('cas')).toBeNull()
    const bad = await client.request('PUT', keyPath('default', 'cas'), {
      revision: mine.json.revision,
      value: '{',
    })
    expect(bad.status).toBe(400)

    // The TTL of a container changes under its type's revision.
    await cache.rpush('cas-list', 'a')
    const list = await client.get(keyPath('default', 'cas-list'))
    const expire = await client.request('PUT', keyPath('default', 'cas-list'), {
      revision: list.json.revision,
      ttl: 30,
    })
    expect(expire.status).toBe(200)
    expect(await cache.ttl('cas-list')).toBeGreaterThan(20)

    const gone = await client.request(
      'DELETE',
      keyPath('default', 'cas', { revision: mine.json.revision }),
    )
    expect(gone.status).toBe(200)
    expect(await cache.hasKey('cas')).toBe(false)
    expect(audit.filter((e) => e.key === 'cas').map((e) => [e.action, e.ok])).toEqual([
      ['set', false],
      ['delete', false],
      ['set', true],
      ['persist', true],
      ['delete', true],
    ])
    expect(audit.find((e) => e.key === 'cas')?.who).toBe('token')
  })

  it('deletes by pattern: a dry-run count, then a job that reports its progress', async () => {
    const client = new Client(admin.url, TOKEN)
    const entries: Record<string, number> = {}
    for (let i = 0; i < 2500; i++) entries[`sess:${i}`] = i
    await cache.setMany(entries)
    await cache.set('keep', 1)
    const dry = await client.request('POST', 'api/caches/default/delete-pattern', {
      pattern: 'sess:*',
      dryRun: true,
    })
    expect(dry.status).toBe(202)
    const counted = await waitForJob(client, dry.json.id)
    expect(counted).toMatchObject({ kind: 'count', state: 'done', matched: 2500, deleted: 0 })
    expect(await cache.hasKey('sess:1')).toBe(true)
    const run = await client.request('POST', 'api/caches/default/delete-pattern', {
      pattern: 'sess:*',
      expected: 2500,
    })
    const done = await waitForJob(client, run.json.id)
    expect(done).toMatchObject({ kind: 'delete', state: 'done', deleted: 2500, expected: 2500 })
    expect(await cache.keys('sess:*')).toEqual([])
    expect(await cache.hasKey('keep')).toBe(true)
    expect(audit.find((e) => e.action === 'deletePattern')).toMatchObject({
      pattern: 'sess:*',
      count: 2500,
      ok: true,
    })
  })

  it('refuses every write when read-only, and still browses', async () => {
    const client = new Client(readOnly.url, TOKEN)
    await cache.set('ro', 1)
    const page = await client.get(keyPath('default', 'ro'))
    expect(page.status).toBe(200)
    expect(page.json.readOnly).toBe(true)
    expect(
      (
        await client.request('PUT', keyPath('default', 'ro'), {
          revision: page.json.revision,
          value: '2',
        })
      ).status,
    ).toBe(403)
    expect((await client.request('DELETE', keyPath('default', 'ro'))).status).toBe(403)
    expect(
      (await client.request('POST', 'api/caches/default/delete-pattern', { pattern: '*' })).status,
    ).toBe(403)
    const dry = await client.request('POST', 'api/caches/default/delete-pattern', {
      pattern: 'r*',
      dryRun: true,
    })
    expect(dry.status).toBe(202)
    expect(await cache.get('ro')).toBe(1)
    expect(
      audit
        .filter((e) => e.key === 'ro' || e.pattern === '*')
        .map((e) => [e.action, e.ok, e.reason]),
    ).toEqual([
      ['set', false, 'read_only'],
      ['delete', false, 'read_only'],
      ['deletePattern', false, 'read_only'],
    ])
  })

  it('answers the server pages: INFO, slow log, memory by prefix, hit rate', async () => {
    const client = new Client(admin.url, TOKEN)
    const info = await client.get('api/caches/default/info')
    expect(info.status).toBe(200)
    const server = info.json.sections.find((s: { name: string }) => s.name === 'Server')
    expect(server.fields.map((f: string[]) => f[0])).toContain('redis_version')
    expect(JSON.stringify(info.json)).not.toMatch(/executable|config_file/)
    const slow = await client.get('api/caches/default/slowlog')
    expect(slow.status).toBe(200)
    expect(Array.isArray(slow.json.entries)).toBe(true)
    await cache.setMany({ 'big:1': 'x'.repeat(5000), 'big:2': 'y'.repeat(5000), 'small:1': 1 })
    const memory = await client.get('api/caches/default/memory?samples=1000')
    expect(memory.status).toBe(200)
    const groups = memory.json.groups as Array<{ prefix: string; bytes: number; keys: number }>
    const big = groups.find((g) => g.prefix === 'big:')
    expect(big?.keys).toBe(2)
    expect(big?.bytes).toBeGreaterThan(10_000)
    expect(groups.find((g) => g.prefix === 'small:')?.keys).toBe(1)
    const hits = await client.get('api/caches/default/hits')
    expect(hits.status).toBe(200)
    expect(hits.json.bucketSeconds).toBe(10)
    // The cache's `hit` / `miss` events (cache.on) are counted per 10-second bucket.
    expect(hits.json.available).toBe(true)
    const before = count(hits.json.buckets)
    await cache.get('small:1')
    await cache.get('absent')
    const after = await client.get('api/caches/default/hits')
    expect(count(after.json.buckets)).toEqual({ hits: before.hits + 1, misses: before.misses + 1 })
  })

  it('never sends a URL with credentials or a password', async () => {
    const client = new Client(admin.url, TOKEN)
    await client.get('api/caches')
    await client.get('api/caches/default/info')
    for (const body of client.bodies) expect(body).not.toMatch(/redis:\/\/[^\s"]*@/)
  })
})

describe('mounting', () => {
  const cache = createCache({ location: 'memory://' })
  afterAll(() => cache.close())

  it('serves under basePath, passes other paths to next, and redirects the bare mount to its index.html', async () => {
    const admin = await startAdmin(
      { caches: { default: cache }, auth: { token: TOKEN }, basePath: '/admin' },
      (handler) => (req, res) => {
        handler(req, res, () => {
          res.statusCode = 418
          res.end('the app')
        })
      },
    )
    try {
      const root = new Client(admin.url, TOKEN)
      expect((await root.get('elsewhere')).status).toBe(418)
      const redirect = await root.get('admin')
      expect(redirect.status).toBe(308)
      expect(redirect.headers.get('location')).toBe('admin/index.html')
      expect((await root.get('admin/index.html')).status).toBe(200)
      expect((await root.get('admin/')).status).toBe(200)
      expect((await root.get('admin/api/caches')).json.caches[0].alias).toBe('default')
      const browser = new Client(`${admin.url}/admin`)
      const login = await browser.login()
      expect(login.headers.get('set-cookie')).toMatch(/Path=\/admin\//)
    } finally {
      await admin.close()
    }
  })

  it('works behind a framework that strips the mount path (req.originalUrl)', async () => {
    const admin = await startAdmin(
      { caches: { default: cache }, auth: { token: TOKEN } },
      (handler) => (req, res) => {
        const url = req.url ?? '/'
        if (!url.startsWith('/mounted')) {
          res.statusCode = 404
          res.end()
          return
        }
        Object.assign(req, { originalUrl: url, url: url.slice('/mounted'.length) || '/' })
        handler(req, res)
      },
    )
    try {
      const client = new Client(`${admin.url}/mounted`, TOKEN)
      expect((await client.get('api/caches')).status).toBe(200)
      const redirect = await new Client(admin.url, TOKEN).get('mounted')
      expect(redirect.headers.get('location')).toBe('mounted/index.html')
      const browser = new Client(`${admin.url}/mounted`)
      expect((await browser.login()).headers.get('set-cookie')).toMatch(/Path=\/mounted\//)
    } finally {
      await admin.close()
    }
  })

  it('takes an auth function, and gives its browser session a CSRF token', async () => {
    const admin = await startAdmin({
      caches: { default: cache },
      auth: (req) => (req.headers['x-app-user'] === 'ada' ? 'ada' : false),
    })
    try {
      const anonymous = new Client(admin.url)
      expect((await anonymous.get('api/caches')).status).toBe(401)
      const app = { 'X-App-User': 'ada' }
      const browser = new Client(admin.url)
      const session = await browser.request('GET', 'api/session', undefined, app)
      expect(session.json).toMatchObject({ who: 'ada', auth: 'function' })
      browser.csrf = session.json.csrf
      await cache.set('fn', 1)
      const page = await browser.request('GET', keyPath('default', 'fn'), undefined, app)
      const noCsrf = await browser.request(
        'PUT',
        keyPath('default', 'fn'),
        { revision: page.json.revision, value: '2' },
        { ...app, 'X-CSRF-Token': 'no' },
      )
      expect(noCsrf.status).toBe(403)
      const ok = await browser.request(
        'PUT',
        keyPath('default', 'fn'),
        { revision: page.json.revision, value: '2' },
        app,
      )
      expect(ok.status).toBe(200)
      expect(await cache.get('fn')).toBe(2)
      // The session alone is not enough: the function decides on every request.
      expect((await browser.get('api/caches')).status).toBe(401)
    } finally {
      await admin.close()
    }
  })
})

function count(buckets: Array<{ hits: number; misses: number }>): { hits: number; misses: number } {
  return buckets.reduce((n, b) => ({ hits: n.hits + b.hits, misses: n.misses + b.misses }), {
    hits: 0,
    misses: 0,
  })
}
