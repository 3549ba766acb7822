// Probe: the admin over HTTP against hostile clients and hostile data.
import { request as httpRequest } from 'node:http'
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis, trackUnhandledRejections } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AdminServer,
  Client,
  closeAll,
  keyPath,
  startAdmin,
  TOKEN,
  waitForJob,
} from '../test/helpers.ts'

/** A raw request with any headers (Host included). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method, headers },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c) => {
          text += c
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      },
    )
    req.setTimeout(20_000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(body)
  })
}

let server: RedisServer
let cache: Cache
let admin: AdminServer
const SECRET = 'pw-Very-Secret-42'

beforeAll(async () => {
  server = await startRedis({ password: SECRET, args: ['--requirepass', SECRET] })
  cache = createCache({ location: server.url, keyPrefix: 'hp' })
  admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
})

afterAll(async () => {
  await admin?.close()
  await closeAll(cache)
  await server?.stop()
})

describe('auth on every route', () => {
  it('no route answers data without credentials', async () => {
    await cache.set('k', 1)
    const routes: Array<[string, string]> = [
      ['GET', '/api/caches'],
      ['GET', '/api/caches/default/keys'],
      ['GET', '/api/caches/default/key?key=k'],
      ['GET', '/api/caches/default/info'],
      ['GET', '/api/caches/default/slowlog'],
      ['GET', '/api/caches/default/memory'],
      ['GET', '/api/caches/default/hits'],
      ['GET', '/api/jobs/x'],
      ['DELETE', '/api/caches/default/key?key=k'],
      ['PUT', '/api/caches/default/key?key=k'],
      ['POST', '/api/caches/default/delete-pattern'],
      ['GET', '/api/%63aches'],
      ['GET', '/api//caches'],
      ['GET', '/API/caches'],
      ['GET', '/api/caches/'],
      ['GET', '/./api/caches'],
      ['GET', '/assets/../api/caches'],
    ]
    for (const [method, path] of routes) {
      const answer = await send(admin.url, method, path, { 'Content-Type': 'application/json' }, '{}')
      expect(answer.status, `${method} ${path}`).toBeGreaterThanOrEqual(400)
      expect(answer.text, path).not.toMatch(/"keyPrefix"|"keys"|redis_version/)
    }
    expect(await cache.get('k')).toBe(1)
  })

  it('asset paths cannot reach anything but the app files', async () => {
    for (const path of [
      '/assets/../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/..\\..\\package.json',
      '/assets/%2e%2e%5c%2e%2e%5cpackage.json',
      '/assets/app.js%00.css',
      '/assets/__proto__',
      '/assets/constructor',
      '/assets/toString',
      '/assets/',
      '/assets//etc/passwd',
    ]) {
      const answer = await send(admin.url, 'GET', path)
      expect(answer.status, path).toBe(404)
    }
  })

  it('no password in any answer (URL, INFO, slow log, errors)', async () => {
    const client = new Client(admin.url, TOKEN)
    await cache.connection.command(['CONFIG', 'SET', 'slowlog-log-slower-than', '0'], {})
    await cache.set('x', 1)
    const bodies = [
      await client.get('api/caches'),
      await client.get('api/caches/default/info'),
      await client.get('api/caches/default/slowlog?count=1000'),
      await client.get('api/caches/default/memory'),
      await client.get(keyPath('default', 'x')),
    ]
    // A cache whose server is gone.
    const gone = createCache({
      location: `redis://admin:${SECRET}@127.0.0.1:1/0`,
      keyPrefix: 'g',
    })
    const other = await startAdmin({ caches: { gone }, auth: { token: TOKEN } })
    try {
      const c = new Client(other.url, TOKEN)
      bodies.push(await c.get('api/caches'))
      bodies.push(await c.get('api/caches/gone/keys'))
      bodies.push(await c.get('api/caches/gone/info'))
      bodies.push(await c.get(keyPath('gone', 'x')))
    } finally {
      await other.close()
      await closeAll(gone)
    }
    for (const b of bodies) expect(b.text).not.toContain(SECRET)
    await cache.connection.command(['CONFIG', 'SET', 'slowlog-log-slower-than', '10000'], {})
  })
})

describe('DNS rebinding: the Host header names another site', () => {
  it('an auth function trusting loopback: a page under evil.example cannot read or write', async () => {
    const local = createCache({ location: server.url, keyPrefix: 'dr' })
    await local.set('victim', 'safe')
    // A common setup for a local admin: trust whoever connects from this machine.
    const loopback = await startAdmin({
      caches: { default: local },
      auth: (req) => req.socket.remoteAddress === '127.0.0.1',
    })
    try {
      const port = new URL(loopback.url).port
      // What the browser sends once evil.example resolves to 127.0.0.1: its own name as Host
      // and Origin, so every request is "same-origin" for the browser.
      const site = { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }
      const session = await send(loopback.url, 'GET', '/api/session', {
        ...site,
        'Sec-Fetch-Site': 'same-origin',
      })
      const cookie = String(session.headers['set-cookie'] ?? '').split(';')[0] as string
      const csrf = JSON.parse(session.text).csrf as string
      const read = await send(loopback.url, 'GET', '/api/caches/default/key?key=victim', {
        ...site,
        Cookie: cookie,
      })
      const revision = JSON.parse(read.text).revision
      const write = await send(
        loopback.url,
        'PUT',
        '/api/caches/default/key?key=victim',
        {
          ...site,
          Cookie: cookie,
          'X-CSRF-Token': csrf,
          'Sec-Fetch-Site': 'same-origin',
          'Content-Type': 'application/json',
        },
        JSON.stringify({ revision, value: '"owned"' }),
      )
      console.log('rebinding', session.status, read.status, write.status)
      expect(await local.get('victim')).toBe('safe')
    } finally {
      await loopback.close()
      await closeAll(local)
    }
  })
})

describe('malformed requests', () => {
  it('answers 4xx to bad bodies and queries, with no crash and no unhandled rejection', async () => {
    const unhandled = trackUnhandledRejections()
    const client = new Client(admin.url, TOKEN)
    await cache.set('m', { a: 1 })
    const page = await client.get(keyPath('default', 'm'))
    const revision = page.json.revision
    const cases: Array<[string, string, unknown, Record<string, string>?]> = [
      ['PUT', keyPath('default', 'm'), '{'],
      ['PUT', keyPath('default', 'm'), '[]'],
      ['PUT', keyPath('default', 'm'), 'null'],
      ['PUT', keyPath('default', 'm'), '"x"'],
      ['PUT', keyPath('default', 'm'), { revision }],
      ['PUT', keyPath('default', 'm'), { revision, value: 1 }],
      ['PUT', keyPath('default', 'm'), { revision, value: '{' }],
      ['PUT', keyPath('default', 'm'), { revision, value: '1', ttl: 'x' }],
      ['PUT', keyPath('default', 'm'), { revision, value: '1', ttl: -1 }],
      ['PUT', keyPath('default', 'm'), { revision, value: '1', ttl: 1e300 }],
      ['PUT', keyPath('default', 'm'), { revision: 123, value: '1' }],
      ['PUT', keyPath('default', 'm'), { revision: 'string:zz', value: '1' }],
      ['PUT', keyPath('default', 'm'), { revision: { toString: 1 }, value: '1' }],
      ['PUT', keyPath('default', 'm'), { __proto__: { revision }, value: '1' }],
      ['PUT', keyPath('default', 'm', { version: 'x' }), { revision, value: '1' }],
      ['PUT', keyPath('default', 'm', { version: '99999999999' }), { revision, value: '1' }],
      ['PUT', keyPath('default', 'm'), { revision, value: '1' }, { 'Content-Type': 'text/plain' }],
      ['DELETE', keyPath('default', 'm', { revision: 'nope' }), undefined],
      ['GET', keyPath('default', 'm', { count: '0' }), undefined],
      ['GET', keyPath('default', 'm', { count: '1e3' }), undefined],
      ['GET', 'api/caches/default/key', undefined],
      ['GET', 'api/caches/default/key?key=%ZZ', undefined],
      ['GET', 'api/caches/default/keys?count=-5', undefined],
      ['GET', 'api/caches/default/keys?count=abc', undefined],
      ['GET', `api/caches/default/keys?pattern=${'*'.repeat(2000)}`, undefined],
      ['GET', 'api/caches/%ZZ/keys', undefined],
      ['GET', 'api/caches/__proto__/keys', undefined],
      ['GET', 'api/caches/constructor/keys', undefined],
      ['GET', 'api/caches/default/slowlog?count=100000', undefined],
      ['GET', 'api/caches/default/memory?samples=0', undefined],
      ['POST', 'api/caches/default/delete-pattern', { pattern: 5 }],
      ['POST', 'api/caches/default/delete-pattern', { pattern: '' }],
      ['POST', 'api/caches/default/delete-pattern', { pattern: '*', version: '1' }],
      ['POST', 'api/caches/default/delete-pattern', { pattern: '*', version: 1.5, dryRun: true }],
      ['POST', 'api/caches/default/delete-pattern', '{"pattern":"x", "pattern": 1}'],
      ['GET', 'api/jobs/%00', undefined],
      ['DELETE', 'api/jobs/nope', undefined],
      ['POST', 'api/login', '{"token":'],
      ['PATCH', 'api/caches', undefined],
      ['GET', 'api/nope', undefined],
    ]
    const wrong: string[] = []
    for (const [method, path, body, headers] of cases) {
      const answer = await client.request(method, path, body, headers)
      if (answer.status < 400 || answer.status >= 500 || typeof answer.json?.message !== 'string')
        wrong.push(`${method} ${path.slice(0, 80)} ${JSON.stringify(body)} -> ${answer.status} ${answer.text.slice(0, 200)}`)
    }
    expect(wrong).toEqual([])
    expect(await cache.get('m')).toEqual({ a: 1 })
    await new Promise((r) => setTimeout(r, 200))
    expect(unhandled()).toEqual([])
  })

  it('a huge body is refused at once (413), whatever its declared length', async () => {
    const client = new Client(admin.url, TOKEN)
    const big = `{"revision":"string:","value":"${'x'.repeat(5 * 1024 * 1024)}"}`
    const answer = await client.request('PUT', keyPath('default', 'm'), big)
    expect(answer.status).toBe(413)
    // Chunked, no Content-Length.
    const port = Number(new URL(admin.url).port)
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `/${keyPath('default', 'm')}`,
          headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', () => resolve(-1))
      let sent = 0
      const pump = () => {
        while (sent < 64 * 1024 * 1024) {
          sent += 1024 * 1024
          if (!req.write(Buffer.alloc(1024 * 1024, 0x20))) {
            req.once('drain', pump)
            return
          }
        }
        req.end()
      }
      pump()
      setTimeout(() => reject(new Error('no answer')), 20_000)
    })
    expect([413, -1]).toContain(status)
  })
})

describe('big containers and values stay bounded', () => {
  it('1e6 members: hash, list, set, zset, stream pages answer fast and small', {
    timeout: 120_000,
  }, async () => {
    const client = new Client(admin.url, TOKEN)
    const lua = `for i = tonumber(ARGV[1]), tonumber(ARGV[1]) + 99999 do
      redis.call('HSET', KEYS[1], 'f' .. i, i)
      redis.call('RPUSH', KEYS[2], i)
      redis.call('SADD', KEYS[3], 'm' .. i)
      redis.call('ZADD', KEYS[4], i, 'm' .. i)
      if i <= 200000 then redis.call('XADD', KEYS[5], '*', 'f', i) end
    end`
    const keys = ['bh', 'bl', 'bs', 'bz', 'bx'].map((k) => cache.makeKey(k))
    for (let from = 1; from < 1_000_000; from += 100_000) {
      await cache.connection.command(['EVAL', lua, '5', ...keys, String(from)], { key: keys[0] })
    }
    for (const k of ['bh', 'bl', 'bs', 'bz', 'bx']) {
      const started = performance.now()
      const answer = await client.get(`${keyPath('default', k)}&count=500`)
      const ms = performance.now() - started
      expect(answer.status, k).toBe(200)
      expect(answer.text.length, k).toBeLessThan(2_000_000)
      expect(ms, k).toBeLessThan(5000)
      // The last page of the list.
      if (k === 'bl') {
        const last = await client.get(`${keyPath('default', k, { cursor: '999900' })}&count=500`)
        expect(last.json.container.rows).toHaveLength(100)
        expect(last.json.container.cursor).toBeNull()
      }
    }
    // A dry run over them all.
    const job = await client.request('POST', 'api/caches/default/delete-pattern', {
      pattern: 'b*',
      dryRun: true,
    })
    expect((await waitForJob(client, job.json.id)).matched).toBeGreaterThanOrEqual(5)
  })

  it('deep values (JSON, pickle) are shown to 64 levels, not crash', async () => {
    const client = new Client(admin.url, TOKEN)
    await cache.connection.command(
      ['SET', cache.makeKey('deep'), `${'['.repeat(200_000)}${']'.repeat(200_000)}`],
      { key: cache.makeKey('deep') },
    )
    await cache.connection.command(
      ['SET', cache.makeKey('deepobj'), `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`],
      { key: cache.makeKey('deepobj') },
    )
    for (const k of ['deep', 'deepobj']) {
      const answer = await client.get(keyPath('default', k))
      expect(answer.status, k).toBe(200)
      expect(answer.text.length).toBeLessThan(2_000_000)
    }
  })
})
