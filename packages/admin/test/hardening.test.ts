// What the admin does with hostile clients and hostile data, against a real redis-server (and
// the memory:// backend where it applies): login bodies bounded in size and time, failed logins
// throttled per address, sessions per user, containers bounded in what a page fetches and
// decodes, shared strings that would expand when edited, cursors Redis would refuse, the memory
// page's SCAN calls, job errors scrubbed, keys whose names are not UTF-8, and keys with names of
// hundreds of KB (pages and jobs within the connection's maxInFlightBytes, names cut).
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { serverOf } from '@cachex/core/internal'
import { type Cache, createCache } from '@cachex/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Sessions } from '../src/_auth.ts'
import type { AdminAuditEntry } from '../src/index.ts'
import {
  type AdminServer,
  BACKENDS,
  backendServer,
  Client,
  closeAll,
  keyPath,
  startAdmin,
  TOKEN,
  waitForJob,
} from './helpers.ts'

/** A request from another loopback address (Linux routes all of 127/8 to lo). */
function from(
  local: string,
  base: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(`${base}/${path}`)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        headers,
        localAddress: local,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/** A raw HTTP exchange: sends `head` and `body`, then waits (up to `ms`) for the first reply. */
function rawExchange(port: number, head: string, body: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(head + body))
    let reply = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer in ${ms} ms`))
    }, ms)
    socket.setEncoding('utf8')
    socket.on('data', (chunk) => {
      reply += chunk
      if (reply.includes('\r\n\r\n')) {
        clearTimeout(timer)
        socket.destroy()
        resolve(reply)
      }
    })
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

describe('the login body (F3)', () => {
  let cache: Cache
  let admin: AdminServer

  beforeAll(async () => {
    cache = createCache({ location: 'memory://' })
    admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
  })

  it('refuses a login body over 8 KiB with 413, at once', async () => {
    const started = performance.now()
    const answer = await new Client(admin.url).request('POST', 'api/login', {
      token: 'x'.repeat(64 * 1024),
    })
    expect(answer.status).toBe(413)
    expect(answer.json.message).toMatch(/exceeds 8192 bytes/)
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('answers 408 to a body that stops arriving', { timeout: 90_000 }, async () => {
    const port = Number(new URL(admin.url).port)
    const head = `POST /api/login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`
    // Ten of the hundred bytes, then nothing: the server's idle limit (10 s) answers.
    const reply = await rawExchange(port, head, '{"token": ', 60_000)
    expect(reply).toMatch(/^HTTP\/1\.1 408/)
    expect(reply.toLowerCase()).toContain('connection: close')
  })
})

describe('failed logins are throttled per address (F7)', () => {
  let cache: Cache
  let admin: AdminServer

  beforeAll(async () => {
    cache = createCache({ location: 'memory://' })
    admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
  })

  const login = (local: string, token: string) =>
    from(
      local,
      admin.url,
      'POST',
      'api/login',
      { 'Content-Type': 'application/json' },
      JSON.stringify({ token }),
    )

  it('locks out the address that guesses, not the others', async () => {
    for (let i = 0; i < 10; i++)
      expect((await login('127.0.0.2', 'wrong-token-0123456')).status).toBe(401)
    expect((await login('127.0.0.2', TOKEN)).status).toBe(429)
    // Another address logs in.
    expect((await login('127.0.0.3', TOKEN)).status).toBe(200)
  })

  it('counts wrong bearer tokens as failed logins', async () => {
    const bearer = (token: string) =>
      from('127.0.0.4', admin.url, 'GET', 'api/caches', { Authorization: `Bearer ${token}` })
    for (let i = 0; i < 10; i++) expect((await bearer('wrong-token-0123456')).status).toBe(401)
    expect((await bearer('wrong-token-0123456')).status).toBe(429)
    expect((await bearer(TOKEN)).status).toBe(429)
    expect((await login('127.0.0.4', TOKEN)).status).toBe(429)
    expect(
      (
        await from('127.0.0.5', admin.url, 'GET', 'api/caches', {
          Authorization: `Bearer ${TOKEN}`,
        })
      ).status,
    ).toBe(200)
  })

  it('remembers a bounded number of addresses', () => {
    const sessions = new Sessions()
    for (let i = 0; i < 30_000; i++) {
      sessions.failed({
        socket: { remoteAddress: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}` },
      } as never)
    }
    expect(sessions.throttledAddresses).toBeLessThanOrEqual(10_000)
  })
})

describe('sessions of one user (F8d)', () => {
  it('one user opening sessions without end does not end another’s', async () => {
    const cache = createCache({ location: 'memory://' })
    const admin = await startAdmin({
      caches: { default: cache },
      auth: (req) =>
        typeof req.headers['x-app-user'] === 'string' ? req.headers['x-app-user'] : false,
    })
    try {
      const ada = new Client(admin.url)
      const as = { 'X-App-User': 'ada' }
      ada.csrf = (await ada.request('GET', 'api/session', undefined, as)).json.csrf
      for (let i = 0; i < 1100; i++) {
        await new Client(admin.url).request('GET', 'api/session', undefined, {
          'X-App-User': 'mallory',
        })
      }
      await cache.set('mine', 1)
      const page = await ada.request('GET', keyPath('default', 'mine'), undefined, as)
      const write = await ada.request(
        'PUT',
        keyPath('default', 'mine'),
        { revision: page.json.revision, value: '2' },
        as,
      )
      expect(write.status).toBe(200)
      expect(await cache.get('mine')).toBe(2)
    } finally {
      await admin.close()
      await closeAll(cache)
    }
  })
})

describe.each(BACKENDS)('hostile data (%s)', (backend) => {
  let stop: () => Promise<void>
  let cache: Cache
  let pickled: Cache
  let admin: AdminServer
  const client = () => new Client(admin.url, TOKEN)
  const raw = (...args: Array<string | Buffer>) => cache.connection.command(args, { key: args[1] })
  const netOut = async () =>
    Number(
      /total_net_output_bytes:(\d+)/.exec(
        String(await cache.connection.command(['INFO', 'stats'], { text: true })),
      )?.[1],
    )

  beforeAll(async () => {
    const server = await backendServer(backend)
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: 'hd' })
    pickled = createCache({ location: server.url, keyPrefix: 'hdp', serializer: 'pickle' })
    admin = await startAdmin({ caches: { default: cache, pickled }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache, pickled)
    await stop?.()
  })

  it('a stream entry of 150,000 fields is cut at the page’s budget (F4)', async () => {
    const args = ['XADD', cache.makeKey('wide-stream'), '1-1']
    for (let i = 0; i < 150_000; i++) args.push(`f${i}`, 'v')
    await cache.connection.command(args, { key: args[1] })
    await raw('XADD', cache.makeKey('wide-stream'), '1-2', 'after', '"x"')
    const started = performance.now()
    const answer = await client().get(`${keyPath('default', 'wide-stream')}&count=2`)
    expect(answer.status).toBe(200)
    const rows = answer.json.container.rows
    expect(rows).toHaveLength(1)
    expect(rows[0][1].length).toBe(150_000)
    expect(rows[0][1].entries.length).toBeLessThanOrEqual(10_000)
    expect(answer.text.length).toBeLessThan(5_000_000)
    // The next page starts after the entry it cut.
    expect(answer.json.container.cursor).toBe('1-1')
    const next = await client().get(`${keyPath('default', 'wide-stream')}&count=2&cursor=1-1`)
    expect(next.json.container.rows[0][0].value).toBe('1-2')
    expect(performance.now() - started).toBeLessThan(20_000)
  })

  it('a hash past the budget keeps its rows, its values left undecoded (F4)', async () => {
    const big = JSON.stringify(Array.from({ length: 30_000 }, (_, i) => i))
    const fields: string[] = []
    for (let i = 0; i < 3; i++) fields.push(`f${i}`, big)
    await raw('HSET', cache.makeKey('wide-hash'), ...fields)
    const answer = await client().get(keyPath('default', 'wide-hash'))
    expect(answer.status).toBe(200)
    const values = answer.json.container.rows.map((r: Array<{ type: string }>) => r[1]?.type)
    expect(values).toHaveLength(3)
    expect(values.filter((t: string) => t === 'error')).toHaveLength(2)
  })

  it('container elements are not fetched past their bound (F6)', async () => {
    const big = Buffer.alloc(20 * 1024 * 1024, 0x61)
    for (let i = 0; i < 3; i++) await raw('RPUSH', cache.makeKey('big-list'), big)
    await raw('RPUSH', cache.makeKey('big-list'), '"small"')
    const before = backend === 'redis' ? await netOut() : 0
    const answer = await client().get(keyPath('default', 'big-list'))
    if (backend === 'redis') expect((await netOut()) - before).toBeLessThan(2 * 1024 * 1024)
    expect(answer.status).toBe(200)
    const rows = answer.json.container.rows
    expect(rows).toHaveLength(4)
    expect(rows[0][1]).toMatchObject({ type: 'error', length: 20 * 1024 * 1024 })
    expect(rows[0][1].message).toMatch(/too large/)
    expect(rows[0][1].preview).toMatch(/^a{256}$/)
    expect(rows[3][1]).toEqual({ type: 'str', value: 'small' })
    expect(answer.text.length).toBeLessThan(100_000)
    await cache.delete('big-list')
  })

  it('a string shared 99,000 times is not expanded for the editor (F5)', async () => {
    // A pickle of [s, s, …]: the string once (BINUNICODE, BINPUT 1), then 98,999 BINGET 1, about
    // 200 KB that JSON would write as 800 million characters (more than a string can hold).
    const text = Buffer.from('A'.repeat(8000))
    const length = Buffer.alloc(4)
    length.writeUInt32LE(text.length)
    const parts = [
      Buffer.from([0x80, 0x02, 0x5d, 0x28, 0x58]),
      length,
      text,
      Buffer.from([0x71, 0x01]),
    ]
    for (let i = 1; i < 99_000; i++) parts.push(Buffer.from([0x68, 0x01]))
    parts.push(Buffer.from([0x65, 0x2e]))
    await pickled.connection.command(['SET', pickled.makeKey('shared-str'), Buffer.concat(parts)], {
      key: pickled.makeKey('shared-str'),
    })
    const started = performance.now()
    const answer = await client().get(keyPath('pickled', 'shared-str'))
    expect(answer.status).toBe(200)
    expect(answer.json.string.error).toBeUndefined()
    expect(answer.json.string.tree.length).toBe(99_000)
    expect(answer.json.string.json).toBeUndefined()
    expect(answer.text.length).toBeLessThan(5_000_000)
    expect(performance.now() - started).toBeLessThan(20_000)
  })

  it('answers 400 to a cursor Redis would refuse (F8b)', async () => {
    await cache.hset('c-hash', 'a', 1)
    await cache.sadd('c-set', 'a')
    await cache.rpush('c-list', 'a')
    await cache.zadd('c-zset', { a: 1 })
    await cache.xadd('c-stream', { a: 1 }, { id: '1-1' })
    const huge = '99999999999999999999'
    for (const [key, cursor] of [
      ['c-hash', huge],
      ['c-set', huge],
      ['c-list', huge],
      ['c-list', '9007199254740991'],
      ['c-zset', huge],
      ['c-stream', `${huge}-0`],
      ['c-stream', `0-${huge}`],
    ] as const) {
      const answer = await client().get(keyPath('default', key, { cursor }))
      expect(answer.status, `${key} ${cursor}`).toBe(400)
      expect(answer.json.message).toMatch(/cursor/)
    }
    // The largest cursor Redis takes is still taken (memory:// has cursors of its own), with the
    // connection's count of its servers a page hands out with it (`<cursor>.<count>`).
    if (backend === 'redis') {
      const count = serverOf(cache.connection)()
      const largest = `18446744073709551615${count === undefined ? '' : `.${count}`}`
      expect((await client().get(keyPath('default', 'c-hash', { cursor: largest }))).status).toBe(
        200,
      )
      // Without the count, where pages hand it out: its server cannot be told, 410.
      if (count !== undefined) {
        const bare = await client().get(keyPath('default', 'c-hash', { cursor: '5' }))
        expect({ status: bare.status, error: bare.json.error }).toEqual({
          status: 410,
          error: 'server_changed',
        })
      }
    }
  })

  it('scrubs credentials from a failed job’s error (F8a)', async () => {
    const failing = createCache({ location: 'memory://', keyPrefix: 'f' })
    // The connection's SCAN fails with a message that names a URL with a password, as a
    // connection error from elsewhere may.
    const command = failing.connection.command.bind(failing.connection)
    Object.defineProperty(failing.connection, 'command', {
      value: (args: unknown[], route?: object) =>
        args[0] === 'SCAN'
          ? Promise.reject(new Error('lost redis://keeper:pw-Secret-9@10.0.0.1:6379'))
          : command(args as Parameters<typeof command>[0], route),
    })
    const other = await startAdmin({ caches: { default: failing }, auth: { token: TOKEN } })
    try {
      const c = new Client(other.url, TOKEN)
      const job = await c.request('POST', 'api/caches/default/delete-pattern', {
        pattern: '*',
        dryRun: true,
      })
      const done = await waitForJob(c, job.json.id)
      expect(done.state).toBe('failed')
      expect(done.error).toContain('redis://***@10.0.0.1')
      expect(JSON.stringify(done)).not.toContain('pw-Secret-9')
    } finally {
      await other.close()
      await closeAll(failing)
    }
  })
})

describe('the memory page’s walk (F8c)', () => {
  let stop: () => Promise<void>
  let cache: Cache
  let admin: AdminServer

  beforeAll(async () => {
    const server = await backendServer('redis')
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: 'sparse' })
    admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await stop?.()
  })

  it('makes at most 200 SCAN calls, however sparse the cache’s keys', {
    timeout: 120_000,
  }, async () => {
    // 300,000 other keys, written by the server in steps of 10,000: one EVAL of them all took
    // past the 5 s socketTimeout on a machine with every core busy.
    for (let from = 1; from <= 300_000; from += 10_000) {
      await cache.connection.command(
        [
          'EVAL',
          "for i = ARGV[1], ARGV[1] + 9999 do redis.call('SET', 'other:' .. i, '1') end",
          '0',
          String(from),
        ],
        {},
      )
    }
    await cache.set('only', 1)
    const scans = async () =>
      Number(
        /cmdstat_scan:calls=(\d+)/.exec(
          String(await cache.connection.command(['INFO', 'commandstats'], { text: true })),
        )?.[1] ?? 0,
      )
    const before = await scans()
    const answer = await new Client(admin.url, TOKEN).get('api/caches/default/memory?samples=8')
    expect(answer.status).toBe(200)
    expect((await scans()) - before).toBeLessThanOrEqual(200)
  })
})

describe('keys whose names are not UTF-8 (F1, F2)', () => {
  let stop: () => Promise<void>
  let cache: Cache
  let admin: AdminServer
  const exists = async (key: string | Buffer) =>
    Number(await cache.connection.command(['EXISTS', key], { key }))

  beforeAll(async () => {
    const server = await backendServer('redis')
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: 'u8' })
    admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await stop?.()
  })

  it('lists such a key flagged, refuses to act on its lossy name, and deletes it by pattern', async () => {
    const bad = Buffer.concat([Buffer.from(cache.makeKey('u:')), Buffer.from([0xff])])
    await cache.connection.command(['SET', bad, '"hostile"'], { key: bad })
    // The key the lossy name of `bad` spells: an innocent one.
    await cache.set('u:\uFFFD', 'innocent')
    const client = new Client(admin.url, TOKEN)
    const list = await client.get('api/caches/default/keys?pattern=u:*')
    const flagged = list.json.keys.filter((k: { notUtf8?: string }) => k.notUtf8 !== undefined)
    expect(flagged).toHaveLength(1)
    expect(flagged[0].notUtf8).toBe(bad.toString('hex'))
    expect(flagged[0].type).toBe('string')
    const name = flagged[0].key as string
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const body = method === 'PUT' ? { revision: 'string:', ttl: 5 } : undefined
      const answer = await client.request(method, keyPath('default', name), body)
      expect(answer.status, method).toBe(400)
      expect(answer.json.message).toMatch(/not UTF-8; cachex cannot name it/)
    }
    expect(await cache.get('u:\uFFFD')).toBe('innocent')
    // `u:?` matches the one byte 0xff, not the three bytes of U+FFFD.
    const job = await client.request('POST', 'api/caches/default/delete-pattern', {
      pattern: 'u:?',
    })
    const done = await waitForJob(client, job.json.id)
    expect(done).toMatchObject({ state: 'done', matched: 1, deleted: 1 })
    expect(await exists(bad)).toBe(0)
    expect(await cache.get('u:\uFFFD')).toBe('innocent')
    // The memory page skips such keys.
    await cache.connection.command(['SET', bad, '1'], { key: bad })
    const memory = await client.get('api/caches/default/memory')
    expect(memory.status).toBe(200)
    expect(memory.json.sampled).toBe(1)
  })
})

describe('keys with names of hundreds of KB (redis)', () => {
  let stop: () => Promise<void>
  let cache: Cache
  let admin: AdminServer
  const audit: AdminAuditEntry[] = []
  /** Sets the key whose Redis name is the cache's key of `head`, then `tail`. */
  const setNamed = async (head: string, tail: Buffer) => {
    const key = Buffer.concat([Buffer.from(cache.makeKey(head)), tail])
    await cache.connection.command(['SET', key, '1'], { key })
  }
  type Row = {
    key: string
    redisKey: string
    type: string
    truncated?: boolean
    keyLength?: number
    redisKeyLength?: number
    notUtf8?: string
  }

  beforeAll(async () => {
    const server = await backendServer('redis')
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: 'ln' })
    admin = await startAdmin({
      caches: { default: cache },
      auth: { token: TOKEN },
      audit: (entry) => audit.push(entry),
    })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await stop?.()
  })

  it('a page of 400 KB names answers 200, its names cut, while the application reads on', {
    timeout: 60_000,
  }, async () => {
    const tail = Buffer.alloc(400 * 1024, 0x61)
    for (let i = 0; i < 50; i++) await setNamed(`big:${i}:`, tail)
    await setNamed('big:x:', Buffer.concat([Buffer.from([0xff]), tail]))
    await cache.set('app-key', 'app-value')
    // The application reads its cache, over the same connection, while the page is read: the
    // page's TYPE, PTTL and MEMORY USAGE of 51 such names (60 MB) would take it past its
    // maxInFlightBytes (32 MiB) and refuse the application's commands too.
    // The SCAN calls adapt their COUNT to their time (replies of 400 KB names are slow), and a
    // page scans for a second at most: the keys may come in several pages.
    let done = false
    const client = new Client(admin.url, TOKEN)
    const pending = (async () => {
      const rows: Row[] = []
      let cursor: string | null = null
      do {
        const query: string = cursor === null ? '' : `&cursor=${cursor}`
        const answer = await client.get(`api/caches/default/keys?pattern=big:*&count=100${query}`)
        expect(answer.status, answer.text.slice(0, 300)).toBe(200)
        expect(answer.text.length).toBeLessThan(1_000_000)
        rows.push(...(answer.json.keys as Row[]))
        cursor = answer.json.cursor
      } while (cursor !== null)
      return rows
    })().finally(() => {
      done = true
    })
    const errors: string[] = []
    while (!done) {
      await cache.get('app-key').catch((error: Error) => errors.push(error.message))
    }
    const rows = await pending
    expect(errors).toEqual([])
    expect(rows).toHaveLength(51)
    for (const row of rows) {
      expect(row.type).toBe('string')
      expect(row.truncated).toBe(true)
      expect(row.keyLength).toBeGreaterThan(400 * 1024)
      expect(row.redisKeyLength).toBe((row.keyLength ?? 0) + cache.makeKey('').length)
      expect(row.key.length).toBeLessThanOrEqual(1024)
      expect(row.key).toMatch(/^big:(\d+|x):/)
      expect(row.redisKey).toBe(cache.makeKey(row.key).slice(0, row.redisKey.length))
    }
    const flagged = rows.filter((row) => row.notUtf8 !== undefined)
    expect(flagged).toHaveLength(1)
    expect(flagged[0]?.notUtf8?.length).toBeLessThanOrEqual(2048)
    await cache.connection.command(['FLUSHALL'], {})
  })

  it('a page of 500 names of 40 KB: the first whole, the others cut at the page’s budget', {
    timeout: 60_000,
  }, async () => {
    const tail = 'c'.repeat(40 * 1024)
    for (let i = 0; i < 500; i++) await setNamed(`mid:${i}:`, Buffer.from(tail))
    const answer = await new Client(admin.url, TOKEN).get(
      'api/caches/default/keys?pattern=mid:*&count=500',
    )
    expect(answer.status, answer.text.slice(0, 300)).toBe(200)
    expect(answer.text.length).toBeLessThan(5_000_000)
    const rows = answer.json.keys as Row[]
    expect(rows).toHaveLength(500)
    const whole = rows.filter((row) => row.truncated === undefined)
    expect(whole.length).toBeGreaterThan(5)
    for (const row of whole) {
      const [, index] = /^mid:(\d+):/.exec(row.key) ?? []
      expect(row.key === `mid:${index}:${tail}`).toBe(true)
      expect(row.redisKey).toBe(cache.makeKey(row.key))
      expect(row.keyLength).toBeUndefined()
    }
    for (const row of rows.filter((r) => r.truncated === true)) {
      const index = /^mid:(\d+):/.exec(row.key)?.[1] ?? ''
      expect(row.keyLength).toBe(`mid:${index}:`.length + tail.length)
    }
    await cache.connection.command(['FLUSHALL'], {})
  })

  it('deletes by pattern 200 keys with 200 KB names, and reports what it deleted', {
    timeout: 60_000,
  }, async () => {
    const tail = Buffer.alloc(200 * 1024, 0x62)
    for (let i = 0; i < 200; i++) await setNamed(`long:${i}:`, tail)
    await cache.set('keep', 1)
    const client = new Client(admin.url, TOKEN)
    const job = await client.request('POST', 'api/caches/default/delete-pattern', {
      pattern: 'long:*',
    })
    const done = await waitForJob(client, job.json.id)
    expect(done).toMatchObject({ state: 'done', matched: 200, deleted: 200 })
    expect(await cache.keys('long:*')).toEqual([])
    expect(await cache.hasKey('keep')).toBe(true)
    expect(audit.find((entry) => entry.action === 'deletePattern')).toMatchObject({
      pattern: 'long:*',
      count: 200,
      ok: true,
    })
  })
})
