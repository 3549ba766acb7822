// A key page reads its container in small steps on the server, and stops once the page's budget
// is spent: a list of large elements must not hold the server (other clients wait on a script)
// for seconds. And a key that changes type between its TYPE and the read is a 409 (reload), not
// a server error. Against a real redis-server and the memory:// backend.
import { type Cache, createCache } from '@cachex/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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

describe.each(BACKENDS)('a key page reads in steps (%s)', (backend) => {
  let stop: () => Promise<void>
  let cache: Cache
  let other: Cache
  let admin: AdminServer
  const client = () => new Client(admin.url, TOKEN)
  const raw = (...args: Array<string | Buffer>) => cache.connection.command(args, { key: args[1] })

  beforeAll(async () => {
    const server = await backendServer(backend)
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: 'ps' })
    // Another client of the same server, on its own connection.
    other = createCache({ location: server.url, keyPrefix: 'ps' })
    admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache, other)
    await stop?.()
  })

  it('a list of 40 × 4 MiB elements: the server answers others while a page is read', async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x61)
    for (let i = 0; i < 40; i++) await raw('RPUSH', cache.makeKey('big-list'), big)
    // The server's own time on each command (SLOWLOG, every command logged): a ping timed from
    // this process would count this process's event loop too, busy decoding the page (2.05 s
    // once, on a CI machine whose every core was busy).
    const server = (...args: string[]) => other.connection.command(args, {})
    if (backend === 'redis') {
      await server('CONFIG', 'SET', 'slowlog-log-slower-than', '0')
      await server('CONFIG', 'SET', 'slowlog-max-len', '100000')
      await server('SLOWLOG', 'RESET')
    }
    const answer = await client().get(keyPath('default', 'big-list'))
    expect(answer.status).toBe(200)
    if (backend === 'redis') {
      const log = (await server('SLOWLOG', 'GET', '-1')) as Array<[number, number, number]>
      await server('CONFIG', 'SET', 'slowlog-log-slower-than', '10000')
      const longestUs = Math.max(...log.map((entry) => Number(entry[2])))
      expect(log.length).toBeGreaterThan(0)
      // The old script read all 40 at once (6.5 s on an idle machine, other clients waiting).
      expect(longestUs).toBeLessThan(2_000_000)
    }
    const { rows, cursor, total } = answer.json.container
    expect(total).toBe(40)
    expect(rows.length).toBeGreaterThan(0)
    expect(rows.length).toBeLessThan(40)
    expect(rows[0][0]).toEqual({ type: 'int', value: '0' })
    expect(rows[0][1]).toMatchObject({ type: 'error', length: 4 * 1024 * 1024 })
    expect(rows[0][1].message).toMatch(/too large/)
    expect(cursor).toBe(String(rows.length))
    const next = await client().get(keyPath('default', 'big-list', { cursor }))
    expect(next.status).toBe(200)
    expect(next.json.container.rows[0][0]).toEqual({ type: 'int', value: cursor })
    await cache.delete('big-list')
  }, 120_000)

  it('a stream of wide entries: the page stops at its field pairs, and goes on after', async () => {
    const args = ['XADD', cache.makeKey('wide-stream'), '*']
    for (let i = 0; i < 20_000; i++) args.push(`f${i}`, 'v')
    for (let i = 0; i < 6; i++) await cache.connection.command(args, { key: args[1] })
    const answer = await client().get(keyPath('default', 'wide-stream'))
    expect(answer.status).toBe(200)
    const { rows, cursor } = answer.json.container
    expect(rows).toHaveLength(1)
    expect(rows[0][1].length).toBe(20_000)
    expect(cursor).toBe(rows[0][0].value)
    const next = await client().get(keyPath('default', 'wide-stream', { cursor }))
    expect(next.json.container.rows[0][0].value > cursor).toBe(true)
    await cache.delete('wide-stream')
  }, 120_000)

  it('small containers still come in one page', async () => {
    const members = Array.from({ length: 300 }, (_, i) => `"m${i}"`)
    await raw('RPUSH', cache.makeKey('small-list'), ...members)
    await raw('SADD', cache.makeKey('small-set'), ...members)
    await raw('HSET', cache.makeKey('small-hash'), ...members.flatMap((m) => [m, m]))
    await raw('ZADD', cache.makeKey('small-zset'), ...members.flatMap((m, i) => [String(i), m]))
    for (const key of ['small-list', 'small-zset']) {
      const answer = await client().get(keyPath('default', key, { count: '500' }))
      expect(answer.json.container.rows).toHaveLength(300)
      expect(answer.json.container.cursor).toBeNull()
    }
    for (const key of ['small-set', 'small-hash']) {
      const seen = new Set<string>()
      let cursor: string | null = null
      do {
        const extra: Record<string, string> = { count: '50' }
        if (cursor !== null) extra.cursor = cursor
        const answer = await client().get(keyPath('default', key, extra))
        for (const row of answer.json.container.rows) seen.add(row[0].value)
        cursor = answer.json.container.cursor
      } while (cursor !== null)
      expect(seen.size).toBe(300)
    }
  })

  describe('a key whose type changes after its TYPE was read', () => {
    // The flip happens right after the admin's TYPE is answered: deterministic, on the server.
    const flipAfterType = (key: string, flip: () => Promise<unknown>) => {
      const connection = cache.connection
      const command = connection.command.bind(connection)
      connection.command = (async (args: Parameters<typeof command>[0], route) => {
        const reply = await command(args, route)
        if (String(args[0]) === 'TYPE' && String(args[1]) === cache.makeKey(key)) await flip()
        return reply
      }) as typeof connection.command
      return () => {
        connection.command = command
      }
    }
    const flips: Array<[string, (key: string) => Promise<unknown>, (key: string) => unknown]> = [
      ['string to hash', (k) => cache.set(k, 'x'), (k) => ['HSET', k, 'f', '"v"']],
      ['hash to string', (k) => raw('HSET', cache.makeKey(k), 'f', '"v"'), (k) => ['SET', k, '1']],
      ['list to set', (k) => raw('RPUSH', cache.makeKey(k), '"v"'), (k) => ['SADD', k, '"v"']],
      [
        'stream to zset',
        (k) => raw('XADD', cache.makeKey(k), '*', 'f', '"v"'),
        (k) => ['ZADD', k, '1', '"v"'],
      ],
    ]
    it.each(flips)('%s: 409, reload', async (_, make, next) => {
      const key = `flip-${_.replaceAll(' ', '-')}`
      await make(key)
      const redisKey = cache.makeKey(key)
      const restore = flipAfterType(key, async () => {
        await other.connection.command(['DEL', redisKey], { key: redisKey })
        await other.connection.command(next(redisKey) as string[], { key: redisKey })
      })
      try {
        const answer = await client().get(keyPath('default', key))
        expect(answer.json).toEqual({
          error: 'conflict',
          message: `the key '${key}' changed while it was read: reload`,
        })
        expect(answer.status).toBe(409)
      } finally {
        restore()
      }
      // Reloaded: its new type.
      expect((await client().get(keyPath('default', key))).status).toBe(200)
    })
  })
})
