// Probe: container contents Redis itself allows, shown as they are.
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from '../test/helpers.ts'

let server: RedisServer
let cache: Cache
let admin: AdminServer
const raw = (...args: Array<string | Buffer>) =>
  cache.connection.command(args, { key: args[1] as string })

beforeAll(async () => {
  server = await startRedis()
  cache = createCache({ location: server.url, keyPrefix: 'vp' })
  admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
})

afterAll(async () => {
  await admin?.close()
  await closeAll(cache)
  await server?.stop()
})

describe('sorted-set scores', () => {
  it('shows +inf and -inf scores as infinities, not NaN', async () => {
    await raw('ZADD', cache.makeKey('scores'), '+inf', '"top"', '-inf', '"bottom"', '1.5', '"mid"')
    const answer = await new Client(admin.url, TOKEN).get(keyPath('default', 'scores'))
    expect(answer.status).toBe(200)
    const scores = answer.json.container.rows.map((r: Array<{ value: string }>) => r[1]?.value)
    console.log(scores)
    expect(scores).not.toContain('NaN')
    expect(scores).toEqual(['-Infinity', '1.5', 'Infinity'])
  })
})

describe('stream cursors', () => {
  it('the largest stream id as a cursor is an empty last page, not a server error', async () => {
    await raw('XADD', cache.makeKey('st'), '1-1', 'a', '"1"')
    const max = '18446744073709551615-18446744073709551615'
    const answer = await new Client(admin.url, TOKEN).get(
      keyPath('default', 'st', { cursor: max }),
    )
    console.log(answer.status, answer.text.slice(0, 300))
    expect(answer.status).toBeLessThan(500)
  })
})

describe('a string of 500 MB', () => {
  it('opening its page does not block the server for other clients', { timeout: 120_000 }, async () => {
    const key = cache.makeKey('huge')
    await raw('SETRANGE', key, String(500 * 1024 * 1024 - 1), 'x')
    const other = createCache({ location: server.url, keyPrefix: 'other' })
    await other.set('ping', 1)
    let done = false
    let worst = 0
    const pinger = (async () => {
      while (!done) {
        const t = performance.now()
        try {
          await other.get('ping')
        } catch {
          // counted by the time
        }
        worst = Math.max(worst, performance.now() - t)
        await new Promise((r) => setTimeout(r, 5))
      }
    })()
    const started = performance.now()
    const answer = await new Client(admin.url, TOKEN).get(keyPath('default', 'huge'))
    const ms = performance.now() - started
    done = true
    await pinger
    console.log('page', answer.status, Math.round(ms), 'ms; worst other-client GET', Math.round(worst), 'ms', answer.text.slice(0, 200))
    const slow = (await cache.slowlogGet(5)).map((e) => `${e.command[0]} ${e.duration}us`)
    console.log('slowlog', slow)
    await other.close()
    await raw('DEL', key)
    expect(answer.status).toBe(200)
    expect(worst).toBeLessThan(500)
  })
})

describe('deeply nested pickle and msgpack', () => {
  it('answers 200, bounded, for 200,000 levels', { timeout: 60_000 }, async () => {
    const pickled = createCache({ location: server.url, keyPrefix: 'pk', serializer: 'pickle' })
    const packed = createCache({ location: server.url, keyPrefix: 'mp', serializer: 'msgpack' })
    const other = await startAdmin({ caches: { pickled, packed }, auth: { token: TOKEN } })
    try {
      const n = 200_000
      const pickle = Buffer.concat([
        Buffer.from([0x80, 0x02]),
        Buffer.alloc(n, 0x5d), // EMPTY_LIST
        Buffer.alloc(n - 1, 0x61), // APPEND
        Buffer.from([0x2e]),
      ])
      await pickled.connection.command(['SET', pickled.makeKey('deep'), pickle], {
        key: pickled.makeKey('deep'),
      })
      const msgpack = Buffer.concat([Buffer.alloc(n, 0x91), Buffer.from([0xc0])])
      await packed.connection.command(['SET', packed.makeKey('deep'), msgpack], {
        key: packed.makeKey('deep'),
      })
      const client = new Client(other.url, TOKEN)
      for (const alias of ['pickled', 'packed']) {
        const answer = await client.get(keyPath(alias, 'deep'))
        console.log(alias, answer.status, answer.text.length, answer.text.slice(0, 150))
        expect(answer.status).toBe(200)
        expect(answer.text.length).toBeLessThan(2_000_000)
      }
    } finally {
      await other.close()
      await closeAll(pickled, packed)
    }
  })
})

describe('a Python float that is whole (1.0)', () => {
  it('is shown as a float, and an edit of another field keeps it a float', async () => {
    const { execFileSync } = await import('node:child_process')
    const py = createCache({ location: server.url, keyPrefix: 'fl', serializer: 'pickle' })
    const other = await startAdmin({ caches: { py }, auth: { token: TOKEN } })
    try {
      // What Django stores for cache.set('price', {'price': 1.0, 'name': 'a'}) (pickle protocol 4).
      const stored = Buffer.from(
        '80049521000000000000007d94288c05707269636594473ff00000000000008c046e616d65948c016194752e',
        'hex',
      )
      await py.connection.command(['SET', py.makeKey('price'), stored], { key: py.makeKey('price') })
      const client = new Client(other.url, TOKEN)
      const page = await client.get(keyPath('py', 'price'))
      const entries = page.json.string.tree.entries as Array<[{ value: string }, { type: string }]>
      const priceType = entries.find(([k]) => k.value === 'price')?.[1].type
      console.log('tree type of 1.0:', priceType, '| editor JSON:', JSON.stringify(page.json.string.json))
      // The user changes the name only.
      const edited = (page.json.string.json as string).replace('"a"', '"b"')
      const put = await client.request('PUT', keyPath('py', 'price'), {
        revision: page.json.revision,
        value: edited,
      })
      expect(put.status).toBe(200)
      const after = (await py.connection.command(['GET', py.makeKey('price')], {
        key: py.makeKey('price'),
      })) as Buffer
      const python = execFileSync('python3', [
        '-c',
        'import pickle,sys; v = pickle.loads(bytes.fromhex(sys.argv[1])); print(type(v["price"]).__name__, repr(v))',
        after.toString('hex'),
      ]).toString().trim()
      console.log('Django reads after the edit:', python)
      expect(priceType).toBe('float')
      expect(python).toMatch(/^float /)
    } finally {
      await other.close()
      await closeAll(py)
    }
  })
})
