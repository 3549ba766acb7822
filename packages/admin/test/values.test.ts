// What the admin shows of values it did not write: a value Django pickled (datetime, Decimal,
// tuple… marked with their Python types), read through an ACL user with a password that no
// answer ever contains; and hostile values (huge, invalid UTF-8, `__proto__` keys, deep
// nesting, shared references) that neither crash nor stall it.
import { type Cache, createCache } from '@cachex/redis'
import { pickleSerializer } from '@cachex/serializers'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { djangoWrites } from './django.ts'
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

const PASSWORD = 'acl-Secret-pw-42'

type Node = { type: string; value?: string; items?: Node[]; entries?: Array<[Node, Node]> }

function field(tree: Node, name: string): Node | undefined {
  return tree.entries?.find(([key]) => key.value === name)?.[1]
}

describe('a value Django pickled, read through an ACL user with a password', () => {
  let server: RedisServer
  let cache: Cache
  let admin: AdminServer

  beforeAll(async () => {
    server = await startRedis()
    const root = createCache({ location: server.url })
    await root.connection.command(['ACL', 'SETUSER', 'keeper', 'on', `>${PASSWORD}`, '~*', '+@all'])
    await root.connection.command(['ACL', 'SETUSER', 'default', 'off'])
    await root.close()
    const url = server.url.replace('redis://', `redis://keeper:${PASSWORD}@`)
    djangoWrites(`${url}/0`)
    cache = createCache({
      location: `${url}/0`,
      keyPrefix: 'dj',
      serializer: 'pickle',
      compressor: 'zlib',
    })
    admin = await startAdmin({ caches: { django: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await server?.stop()
  })

  it('decodes it with the cache’s codec and marks every Python type', async () => {
    const client = new Client(admin.url, TOKEN)
    const keys = await client.get('api/caches/django/keys?pattern=order:*')
    expect(keys.json.keys.map((k: { key: string }) => k.key)).toEqual(['order:1'])
    const answer = await client.get(keyPath('django', 'order:1'))
    expect(answer.status).toBe(200)
    expect(answer.json.string).toMatchObject({ serializer: 'pickle', compressor: 'zlib' })
    expect(answer.json.ttl).toBeGreaterThan(500)
    const tree = answer.json.string.tree as Node
    expect(tree.type).toBe('dict')
    expect(field(tree, 'when')).toEqual({
      type: 'datetime',
      value: '2024-05-17T13:45:30.123456+00:00',
    })
    expect(field(tree, 'day')).toEqual({ type: 'date', value: '2024-05-17' })
    expect(field(tree, 'price')).toEqual({ type: 'Decimal', value: '19.99' })
    const point = field(tree, 'point')
    expect(point?.type).toBe('tuple')
    expect(point?.items?.map((i) => [i.type, i.value])).toEqual([
      ['int', '1'],
      ['float', '2.5'],
      ['str', 'x'],
    ])
    expect(field(tree, 'tags')?.type).toBe('set')
    expect(field(tree, 'frozen')?.type).toBe('frozenset')
    expect(field(tree, 'id')).toEqual({
      type: 'UUID',
      value: '12345678-1234-5678-1234-567812345678',
    })
    expect(field(tree, 'raw')).toMatchObject({ type: 'bytes', value: '\\x00\\xffhi' })
    expect(field(tree, 'nothing')).toEqual({ type: 'none' })
    expect(field(tree, 'delta')?.type).toBe('timedelta')
    expect(field(tree, 'html')).toEqual({ type: 'str', value: '<script>alert(1)</script>' })
    // JSON cannot carry these types: the value is not offered for editing as JSON.
    expect(answer.json.string.json).toBeUndefined()
  })

  it('shows host:port/db at most: no user, no password, no URL in any answer', async () => {
    const client = new Client(admin.url, TOKEN)
    const caches = await client.get('api/caches')
    expect(caches.json.caches[0].address).toMatch(/^127\.0\.0\.1:\d+\/0$/)
    for (const path of [
      'api/caches/django/info',
      'api/caches/django/slowlog',
      'api/caches/django/memory',
      'api/caches/django/keys?pattern=*',
      keyPath('django', 'order:1'),
      keyPath('django', 'missing'),
      '',
      'assets/app.js',
    ]) {
      await client.get(path)
    }
    expect(client.bodies.length).toBeGreaterThan(8)
    for (const body of client.bodies) {
      expect(body).not.toContain(PASSWORD)
      expect(body).not.toMatch(/keeper:/)
      expect(body).not.toMatch(/redis:\/\//)
    }
  })
})

describe.each(BACKENDS)('hostile values (%s)', (backend) => {
  let stop: () => Promise<void>
  let cache: Cache
  let pickled: Cache
  let admin: AdminServer
  const client = () => new Client(admin.url, TOKEN)
  const raw = (...args: Array<string | Buffer>) => cache.connection.command(args, { key: args[1] })

  beforeAll(async () => {
    const server = await backendServer(backend)
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: 'h' })
    pickled = createCache({ location: server.url, keyPrefix: 'hp', serializer: 'pickle' })
    admin = await startAdmin({ caches: { default: cache, pickled }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache, pickled)
    await stop?.()
  })

  async function timedGet(key: string, alias = 'default') {
    const started = performance.now()
    const answer = await client().get(keyPath(alias, key))
    return { answer, ms: performance.now() - started }
  }

  it('a huge value is not fetched: its first bytes, and a revision Redis computed', async () => {
    await raw('SET', cache.makeKey('huge'), Buffer.alloc(17 * 1024 * 1024, 0x61))
    const { answer, ms } = await timedGet('huge')
    expect(answer.status).toBe(200)
    expect(answer.json.string.tooLarge).toBe(true)
    expect(answer.text.length).toBeLessThan(20_000)
    expect(answer.json.string.preview).toMatch(/^a+$/)
    expect(ms).toBeLessThan(10_000)
    // The revision is right: a TTL change with it applies.
    const ttl = await client().request('PUT', keyPath('default', 'huge'), {
      revision: answer.json.revision,
      ttl: 60,
    })
    expect(ttl.status).toBe(200)
    expect(await cache.ttl('huge')).toBeGreaterThan(50)
    await cache.delete('huge')
  })

  it('bytes no serializer reads are shown escaped, with the codec’s error', async () => {
    await raw(
      'SET',
      cache.makeKey('bad'),
      Buffer.from([0xff, 0xfe, 0x00, ...Buffer.from('<script>alert(1)</script>')]),
    )
    const { answer } = await timedGet('bad')
    expect(answer.status).toBe(200)
    expect(answer.json.string.error).toMatch(/cannot be read/)
    expect(answer.json.string.preview).toBe('\\xff\\xfe\\x00<script>alert(1)</script>')
    expect(answer.json.string.tree).toBeUndefined()
  })

  it('__proto__ keys stay data', async () => {
    await raw(
      'SET',
      cache.makeKey('proto'),
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}',
    )
    const { answer } = await timedGet('proto')
    expect(answer.status).toBe(200)
    const tree = answer.json.string.tree as Node
    expect(tree.entries?.map(([k]) => k.value)).toEqual(['__proto__', 'constructor'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    const edited = JSON.parse(answer.json.string.json)
    expect(Object.getOwnPropertyDescriptor(edited, '__proto__')?.value).toEqual({ polluted: true })
    expect(Object.getPrototypeOf(edited)).toBe(Object.prototype)
  })

  it('deep nesting is cut, not recursed into', async () => {
    await raw('SET', cache.makeKey('deep'), `${'['.repeat(3000)}${']'.repeat(3000)}`)
    await raw('SET', cache.makeKey('deeper'), `${'['.repeat(200_000)}${']'.repeat(200_000)}`)
    const deep = await timedGet('deep')
    expect(deep.answer.status).toBe(200)
    expect(deep.answer.text).toContain('"deep"')
    expect(deep.answer.json.string.json).toBeUndefined()
    const deeper = await timedGet('deeper')
    expect(deeper.answer.status).toBe(200)
    expect(deeper.answer.json.string.error).toMatch(/deep|nest/i)
    expect(deeper.ms).toBeLessThan(10_000)
  })

  it('shared references and many elements stay within bounds', async () => {
    const shared = [1, 2, { a: 'b' }]
    const bytes = pickleSerializer().serialize(Array.from({ length: 100_000 }, () => shared))
    await pickled.connection.command(['SET', pickled.makeKey('shared'), bytes])
    const { answer, ms } = await timedGet('shared', 'pickled')
    expect(answer.status).toBe(200)
    expect(answer.text.length).toBeLessThan(5_000_000)
    const tree = answer.json.string.tree as Node & { length: number }
    expect(tree.length).toBe(100_000)
    expect(tree.items?.[0]?.type).toBe('list')
    expect(tree.items?.[1]?.type).toBe('ref')
    expect(ms).toBeLessThan(10_000)
    await cache.rpush('wide', ...Array.from({ length: 2000 }, (_, i) => `item ${i}`))
    const wide = await client().get(`${keyPath('default', 'wide')}&count=500`)
    expect(wide.json.container.rows).toHaveLength(500)
    expect(wide.json.container.total).toBe(2000)
  })
})

describe('a string over the fetch limit (redis): its revision reads a bounded part of it', () => {
  let stop: () => Promise<void>
  let cache: Cache
  let admin: AdminServer
  const client = () => new Client(admin.url, TOKEN)
  const raw = (...args: Array<string | Buffer>) => cache.connection.command(args, { key: args[1] })
  /** Calls of `command` the server ran, scripts' calls included (`INFO commandstats`). */
  const calls = async (command: string) =>
    Number(
      new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(
        String(await cache.connection.command(['INFO', 'commandstats'], { text: true })),
      )?.[1] ?? 0,
    )
  const setTtl = (revision: string) =>
    client().request('PUT', keyPath('default', 'big'), { revision, ttl: 60 })

  beforeAll(async () => {
    const server = await backendServer('redis')
    stop = server.stop
    cache = createCache({ location: server.url, keyPrefix: 'b' })
    admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await stop?.()
  })

  it('opens, changes the TTL and deletes without reading the whole string', async () => {
    // 64 MiB: hashed whole (in Lua, while every other client waits), each page and each write
    // of it would stall the server for a tenth of a second.
    const length = 64 * 1024 * 1024
    await raw('SETRANGE', cache.makeKey('big'), String(length - 1), 'z')
    await raw('CONFIG', 'RESETSTAT')
    const page = await client().get(keyPath('default', 'big'))
    expect(page.status).toBe(200)
    expect(page.json.string).toMatchObject({ length, tooLarge: true })
    expect((await setTtl(page.json.revision)).status).toBe(200)
    expect(await cache.ttl('big')).toBeGreaterThan(50)
    // No GET of the whole value, by the admin or by its scripts.
    expect(await calls('get')).toBe(0)
    // The revision still sees a change of length, and one at the head or the tail.
    const changes: Array<Array<string>> = [
      ['APPEND', cache.makeKey('big'), 'y'],
      ['SETRANGE', cache.makeKey('big'), '0', 'x'],
      ['SETRANGE', cache.makeKey('big'), String(length), 'w'],
    ]
    let revision = page.json.revision as string
    for (const change of changes) {
      await raw(...change)
      expect((await setTtl(revision)).status, change[0]).toBe(409)
      const again = await client().get(keyPath('default', 'big'))
      expect(again.json.revision).not.toBe(revision)
      revision = again.json.revision
    }
    const del = await client().request(
      'DELETE',
      `${keyPath('default', 'big')}&${new URLSearchParams({ revision })}`,
    )
    expect(del.status).toBe(200)
    expect(await cache.hasKey('big')).toBe(false)
    expect(await calls('get')).toBe(0)
  })
})
