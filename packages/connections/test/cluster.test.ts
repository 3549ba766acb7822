import { createServer, type Server, type Socket } from 'node:net'
import { inspect } from 'node:util'
import {
  ClosedError,
  type Connection,
  ConnectionError,
  InvalidArgumentError,
  ResponseError,
  TimeoutError,
} from '@cachex/core'
import {
  freePort,
  startCluster,
  type TestCluster,
  trackUnhandledRejections,
} from '@cachex/test-utils'
import { createCluster } from '@redis/client'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CrossSlotError, cluster, keySlot, standalone } from '../src/index.ts'

let testCluster: TestCluster
let conn: Connection
const opened: Connection[] = []
let unhandled: () => unknown[]

function open(options: Parameters<typeof cluster>[0] = {}): Connection {
  const c = cluster({ location: [...testCluster.seeds], ...options })
  opened.push(c)
  return c
}

/** A key per hash slot range: enough keys to land on every primary many times over. */
function spread(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}:${i}`)
}

const text = (reply: unknown) => (reply === null ? null : String(reply))

beforeAll(async () => {
  testCluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
  conn = open()
  unhandled = trackUnhandledRejections()
})

beforeEach(async () => {
  await conn.flush()
})

afterAll(async () => {
  for (const c of opened.splice(0)) await c.close()
  await testCluster?.stop()
  expect(unhandled()).toEqual([])
})

describe('keySlot', () => {
  it('agrees with CLUSTER KEYSLOT, hash tags included', async () => {
    const keys = [
      '123456789',
      'foo',
      ':1:foo',
      'user:{42}:name',
      '{user:42}',
      '{}',
      'a{}b',
      '{}{b}',
      'a{b',
      'a}b{c}',
      '{a}{b}',
      'a{b{c}d}',
      'ключ',
      'k{ключ}x',
      'emoji:😀',
      '',
    ]
    for (const key of keys) {
      const expected = Number(await conn.command(['CLUSTER', 'KEYSLOT', key]))
      expect(keySlot(key), key).toBe(expected)
      expect(keySlot(Buffer.from(key)), key).toBe(expected)
    }
    expect(keySlot('123456789')).toBe(0x31c3)
  })
})

describe('routing', () => {
  it('sends each command to the primary that serves its key', async () => {
    const keys = spread('route', 30)
    for (const key of keys) await conn.command(['SET', key, `v-${key}`], { key })
    // One direct connection per primary (not one per key: 30 connects took most of 30 s on a
    // machine whose every core was busy).
    const direct = new Map<number, ReturnType<typeof standalone>>()
    try {
      for (const key of keys) {
        const primary = await testCluster.primaryFor(key)
        let node = direct.get(primary.port)
        if (node === undefined) {
          node = standalone({ location: primary.url })
          direct.set(primary.port, node)
        }
        expect(text(await node.command(['GET', key]))).toBe(`v-${key}`)
        expect(text(await conn.command(['GET', key], { key, readonly: true }))).toBe(`v-${key}`)
      }
    } finally {
      for (const node of direct.values()) await node.close()
    }
    expect(direct.size).toBe(3)
  }, 90_000)

  it('gives replies as Buffers and flat arrays', async () => {
    await conn.command(['HSET', 'h', 'a', '1', 'b', '2'], { key: 'h' })
    const reply = (await conn.command(['HGETALL', 'h'], { key: 'h' })) as unknown[]
    expect(Array.isArray(reply)).toBe(true)
    expect(reply.map(String).sort()).toEqual(['1', '2', 'a', 'b'])
    expect(Buffer.isBuffer(await conn.command(['HGET', 'h', 'a'], { key: 'h' }))).toBe(true)
  })

  it('routes by the first argument when no route is given, and keyless commands to node-redis', async () => {
    await conn.command(['SET', 'noroute', 'x'])
    expect(text(await conn.command(['GET', 'noroute']))).toBe('x')
    expect(text(await conn.command(['PING']))).toBe('PONG')
    expect(await conn.command(['DBSIZE'])).toBe(1)
  })

  it('maps error replies to ResponseError', async () => {
    await conn.command(['SET', 'str', 'x'], { key: 'str' })
    await expect(conn.command(['LPUSH', 'str', 'a'], { key: 'str' })).rejects.toThrow(ResponseError)
  })
})

describe('multi-key commands across slots', () => {
  it('MSET and MGET over many slots, in the order of the keys', async () => {
    const keys = spread('mk', 200)
    const args = ['MSET']
    for (const key of keys) args.push(key, `v-${key}`)
    expect(text(await conn.command(args, { key: keys[0] }))).toBe('OK')
    const asked = ['missing:1', ...keys, 'missing:2', keys[5] as string, keys[0] as string]
    const reply = (await conn.command(['MGET', ...asked], { key: asked[0], readonly: true })) as
      | Buffer
      | null[]
    expect((reply as unknown[]).map(text)).toEqual(
      asked.map((key) => (key.startsWith('missing') ? null : `v-${key}`)),
    )
  })

  it('EXISTS, TOUCH, UNLINK and DEL sum their counts', async () => {
    const keys = spread('cnt', 50)
    const args = ['MSET']
    for (const key of keys) args.push(key, '1')
    await conn.command(args)
    const dup = keys[3] as string
    expect(await conn.command(['EXISTS', ...keys, 'nope', dup])).toBe(51)
    expect(await conn.command(['TOUCH', ...keys, 'nope'])).toBe(50)
    expect(await conn.command(['UNLINK', ...keys.slice(0, 20), 'nope'])).toBe(20)
    expect(await conn.command(['DEL', ...keys, 'nope'])).toBe(30)
    expect(await conn.command(['EXISTS', ...keys])).toBe(0)
  })

  it('keeps a same-slot command whole (hash tags)', async () => {
    const keys = ['{grp}:a', '{grp}:b', '{grp}:c']
    await conn.command(['MSET', '{grp}:a', '1', '{grp}:b', '2', '{grp}:c', '3'])
    expect(((await conn.command(['MGET', ...keys])) as unknown[]).map(text)).toEqual([
      '1',
      '2',
      '3',
    ])
    expect(await conn.command(['MSETNX', '{grp}:x', '1', '{grp}:y', '2'])).toBe(1)
    expect(await conn.command(['DEL', ...keys])).toBe(3)
  })

  it('runs RENAME, LMOVE and scripts whose keys share a slot', async () => {
    await conn.command(['SET', ':1:{v}k', 'val'])
    await conn.command(['RENAME', ':1:{v}k', ':2:{v}k'])
    expect(text(await conn.command(['GET', ':2:{v}k']))).toBe('val')
    await conn.command(['RPUSH', 'q:{jobs}:in', 'a', 'b'])
    expect(
      text(await conn.command(['LMOVE', 'q:{jobs}:in', 'q:{jobs}:out', 'LEFT', 'RIGHT'])),
    ).toBe('a')
    const script = "return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])"
    await conn.command(['MSET', 's:{t}:1', 'x', 's:{t}:2', 'y'])
    expect(text(await conn.command(['EVAL', script, '2', 's:{t}:1', 's:{t}:2']))).toBe('xy')
  })

  it('rejects cross-slot atomic commands with a CrossSlotError that explains hash tags', async () => {
    expect(keySlot(':1:a')).not.toBe(keySlot(':2:a'))
    const rename = conn.command(['RENAME', ':1:a', ':2:a'], { key: ':1:a' })
    await expect(rename).rejects.toThrow(CrossSlotError)
    await expect(rename).rejects.toThrow(ResponseError)
    await expect(rename).rejects.toThrow(
      /RENAME across hash slots \(a rename\).*':1:a'.*':2:a'.*hash tag/,
    )
    await expect(conn.command(['LMOVE', 'src', 'dst', 'LEFT', 'RIGHT'])).rejects.toThrow(
      /LMOVE across hash slots \(lmove\).*hash tag/,
    )
    await expect(conn.command(['EVALSHA', 'a'.repeat(40), '2', 'k1', 'k2'])).rejects.toThrow(
      /EVALSHA across hash slots.*hash tag/,
    )
    await expect(conn.command(['MSETNX', 'k1', '1', 'k2', '2'])).rejects.toThrow(CrossSlotError)
    // Nothing was written or moved by a refused command.
    expect(await conn.command(['EXISTS', 'k1', 'k2'])).toBe(0)
  })

  it('keeps a command it would split whole with route.atomic: one slot runs, several refuse', async () => {
    const route = { key: 'w1', atomic: true }
    const refused = conn.command(['MSET', 'w1', '1', 'w2', '2'], route)
    await expect(refused).rejects.toThrow(CrossSlotError)
    await expect(refused).rejects.toThrow(
      /MSET across hash slots \(asked to run as one command\).*'w1'.*'w2'/,
    )
    await expect(conn.command(['MGET', 'w1', 'w2'], route)).rejects.toThrow(CrossSlotError)
    expect(await conn.command(['EXISTS', 'w1', 'w2'])).toBe(0)
    await conn.command(['MSET', '{w}:1', '1', '{w}:2', '2'], { key: '{w}:1', atomic: true })
    const values = await conn.command(['MGET', '{w}:1', '{w}:2'], { key: '{w}:1', atomic: true })
    expect((values as unknown[]).map(text)).toEqual(['1', '2'])
  })

  it('adds the hash-tag hint to a CROSSSLOT reply of the server', async () => {
    const error = await conn
      .command(['ZUNIONSTORE', 'dst', '2', 'z1', 'z2'], { key: 'dst' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CrossSlotError)
    expect((error as Error).message).toMatch(/^CROSSSLOT.*hash tag/)
  })
})

describe('batch', () => {
  it('routes each command by its own key and keeps the order of the replies', async () => {
    const keys = spread('batch', 40)
    const replies = await conn.batch(
      keys.map((key) => ['SET', key, `v-${key}`, 'PX', '60000']),
      { key: keys[0] },
    )
    expect(replies.map(text)).toEqual(keys.map(() => 'OK'))
    await conn.command(['SET', 'notnum', 'x'])
    const mixed = await conn.batch([
      ['GET', keys[0] as string],
      ['INCR', 'notnum'],
      ['PTTL', keys[1] as string],
      ['MGET', keys[2] as string, keys[3] as string],
      ['GET', 'batch:missing'],
    ])
    expect(text(mixed[0])).toBe(`v-${keys[0]}`)
    expect(mixed[1]).toBeInstanceOf(ResponseError)
    expect(mixed[2]).toBeGreaterThan(50_000)
    expect((mixed[3] as unknown[]).map(text)).toEqual([`v-${keys[2]}`, `v-${keys[3]}`])
    expect(mixed[4]).toBeNull()
  })
})

describe('scan and flush', () => {
  it('walks the keys of every primary, batch by batch', async () => {
    const keys = spread('scan', 300)
    const args = ['MSET']
    for (const key of keys) args.push(key, '1')
    await conn.command(args)
    await conn.command(['SET', 'other', '1'])
    const seen: Array<string | Buffer> = []
    let batches = 0
    for await (const batch of conn.scan('scan:*', 50)) {
      batches++
      seen.push(...batch)
    }
    expect(seen.sort()).toEqual([...keys].sort())
    expect(batches).toBeGreaterThanOrEqual(3)
    const owners = new Set(
      await Promise.all(keys.slice(0, 30).map(async (k) => (await testCluster.primaryFor(k)).port)),
    )
    expect(owners.size).toBe(3)
  })

  it('scans only the slot of a pattern that pins a hash tag', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `:1:user:{7}:${i}`)
    await conn.command(['MSET', ...keys.flatMap((k) => [k, '1'])])
    await conn.command(['SET', ':1:user:{8}:0', '1'])
    const seen: Array<string | Buffer> = []
    let batches = 0
    for await (const batch of conn.scan(':1:user:{7}:*', 1000)) {
      batches++
      seen.push(...batch)
    }
    expect(seen.sort()).toEqual([...keys].sort())
    expect(batches).toBe(1)
  })

  it('flush empties every primary', async () => {
    const keys = spread('flush', 60)
    await conn.command(['MSET', ...keys.flatMap((k) => [k, '1'])])
    await conn.flush()
    for (const primary of await testCluster.primaries()) {
      const direct = standalone({ location: primary.url })
      try {
        expect(await direct.command(['DBSIZE'])).toBe(0)
      } finally {
        await direct.close()
      }
    }
  })
})

describe('options and lifecycle', () => {
  it('accepts a comma-separated string of seeds and refuses what a cluster cannot use', async () => {
    const c = open({ location: testCluster.seeds.join(', ') })
    expect(text(await c.command(['PING']))).toBe('PONG')
    expect(() => cluster({})).toThrow(InvalidArgumentError)
    expect(() => cluster({ location: [] })).toThrow(InvalidArgumentError)
    expect(() => cluster({ location: 'redis://127.0.0.1:7000/2' })).toThrow(/only database 0/)
    expect(() => cluster({ location: 'unix:///tmp/redis.sock' })).toThrow(/Unix socket/)
  })

  it('uses a node-redis cluster handed in, and leaves it open unless closeConnection', async () => {
    const given = createCluster({ rootNodes: [{ url: testCluster.seeds[0] as string }] })
    given.on('error', () => {})
    const c = cluster({ location: given })
    await c.command(['SET', 'given', 'yes'])
    expect(text(await c.command(['GET', 'given']))).toBe('yes')
    expect(await c.client()).toBe(given)
    await c.close()
    expect(given.isOpen).toBe(true)
    expect(await given.get('given')).toBe('yes')
    const owner = cluster({ location: given, closeConnection: true })
    await owner.close()
    expect(given.isOpen).toBe(false)
  })

  it('rejects with ConnectionError when no seed answers, and redacts the password', async () => {
    const port = await freePort()
    const c = open({ location: [`redis://:hunter2@127.0.0.1:${port}`], socketConnectTimeout: 2 })
    const error = (await c.command(['GET', 'x']).catch((e: unknown) => e)) as Error
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.message).not.toContain('hunter2')
  })

  it('names why the seeds refused it (WRONGPASS), not only that none answered', async () => {
    const c = open({
      location: testCluster.seeds.map((s) => s.replace('redis://', 'redis://nobody:Bad-pw-4821@')),
      socketConnectTimeout: 2,
    })
    for (const attempt of [1, 2]) {
      const error = (await c.command(['GET', 'x']).catch((e: unknown) => e)) as Error
      expect(error, `attempt ${attempt}`).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(/WRONGPASS/)
      expect(inspect(error, { depth: 10 })).not.toContain('Bad-pw-4821')
    }
  })

  it('after a failed discovery, calls fail at once; it is retried in the background, not once per call', async () => {
    // A seed that accepts connections and drops them at once, counting them.
    let connections = 0
    const dropping: Server = createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => dropping.listen(0, '127.0.0.1', resolve))
    const port = (dropping.address() as { port: number }).port
    try {
      const c = cluster({ location: [`redis://127.0.0.1:${port}`], socketConnectTimeout: 1 })
      opened.push(c)
      const first = await c.command(['GET', 'x']).catch((e: unknown) => e)
      expect(first).toBeInstanceOf(ConnectionError)
      const before = connections
      const started = performance.now()
      for (let i = 0; i < 200; i++) {
        const error = await c.command(['GET', 'x']).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ConnectionError)
      }
      expect(performance.now() - started).toBeLessThan(1000)
      // a few discoveries in the background (100, 200, 400 ms… apart), not one per call
      expect(connections - before).toBeLessThan(20)
    } finally {
      dropping.close()
    }
  })

  it('bounds the discovery by socketConnectTimeout when a seed never answers', async () => {
    const sockets: Socket[] = []
    const silent: Server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      const c = open({ location: [`redis://127.0.0.1:${port}`], socketConnectTimeout: 0.5 })
      const started = performance.now()
      const error = await c.command(['GET', 'x']).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConnectionError)
      expect(performance.now() - started).toBeLessThan(2000)
    } finally {
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })

  it('rejects later calls with ClosedError after close()', async () => {
    const c = cluster({ location: [...testCluster.seeds] })
    await c.command(['PING'])
    await c.close()
    await expect(c.command(['GET', 'x'])).rejects.toThrow(/closed/)
  })

  it('rejects a blocking call in flight with ClosedError at close()', async () => {
    const c = cluster({ location: [...testCluster.seeds] })
    await c.command(['PING'])
    const key = 'blocking-close'
    const call = c.command(['BLPOP', key, '20'], { key, blockMs: 20_000 }).catch((e: unknown) => e)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await c.close()
    expect(await call).toBeInstanceOf(ClosedError)
  })
})

describe('topology changes', () => {
  it('follows a slot moved to another primary (MOVED), on the same connection', async () => {
    const c = open()
    const key = 'moving:key'
    const neighbours = ['moving:a', 'moving:b', 'moving:c']
    await c.command(['MSET', key, 'v', ...neighbours.flatMap((k) => [k, k])])
    const from = await testCluster.primaryFor(key)
    const to = (await testCluster.primaries()).find((n) => n.port !== from.port)
    if (to === undefined) throw new Error('no other primary')
    await testCluster.moveSlot(keySlot(key), to)
    expect((await testCluster.primaryFor(key)).port).toBe(to.port)
    // The connection's slot map still names the old owner: it is redirected, then rediscovers.
    expect(text(await c.command(['GET', key], { key, readonly: true }))).toBe('v')
    expect(((await c.command(['MGET', key, ...neighbours])) as unknown[]).map(text)).toEqual([
      'v',
      ...neighbours,
    ])
    expect(text(await c.command(['SET', key, 'w'], { key }))).toBe('OK')
    expect(await c.command(['UNLINK', key, ...neighbours])).toBe(4)
  })
})

describe('failures', () => {
  it('bounds a call to a frozen primary by socketTimeout', async () => {
    const c = open({ socketTimeout: 0.2 })
    const keys = spread('frozen', 30)
    await c.command(['MSET', ...keys.flatMap((k) => [k, '1'])])
    const frozen = await testCluster.primaryFor(keys[0] as string)
    frozen.pause()
    try {
      const started = performance.now()
      const [single, split] = await Promise.all([
        c.command(['GET', keys[0] as string]).catch((e: unknown) => e),
        c.command(['MGET', ...keys]).catch((e: unknown) => e),
      ])
      const elapsed = performance.now() - started
      expect(single).toBeInstanceOf(TimeoutError)
      expect(split).toBeInstanceOf(TimeoutError)
      expect(elapsed).toBeLessThan(700)
    } finally {
      // Thaw well within the 1 s node timeout, so that the cluster does not fail it over.
      frozen.resume()
    }
    await testCluster.waitUntilHealthy(10_000)
  })

  it('follows a failover: a killed primary is replaced by its replica, same connection', async () => {
    const c = open({ socketTimeout: 1, socketConnectTimeout: 1 })
    const keys = spread('fo', 60)
    await c.command(['MSET', ...keys.flatMap((k) => [k, `v-${k}`])])
    const key = keys[0] as string
    const victim = await testCluster.primaryFor(key)
    const replica = await testCluster.replicaOf(victim)
    expect(replica).toBeDefined()
    // The replica must hold the writes before the primary dies.
    expect(await c.command(['WAIT', '1', '2000'], { key })).toBe(1)
    const elsewhere = keys.find((k) => keySlot(k) !== keySlot(key)) as string
    await testCluster.kill(victim)

    const started = performance.now()
    let recovered = false
    let failures = 0
    while (performance.now() - started < 30_000) {
      const t0 = performance.now()
      try {
        expect(text(await c.command(['GET', key], { key, readonly: true }))).toBe(`v-${key}`)
        recovered = true
        break
      } catch (error) {
        failures++
        expect(error).toBeInstanceOf(ConnectionError)
      }
      // Nothing hangs while the slot has no primary: each call settles within socketTimeout.
      expect(performance.now() - t0).toBeLessThan(1000 + 500)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    const recoveryMs = performance.now() - started
    expect(recovered).toBe(true)
    console.log(
      `failover: served again after ${Math.round(recoveryMs)} ms (${failures} failed calls)`,
    )
    expect((await testCluster.primaryFor(key)).port).toBe(replica?.port)
    // Every slot answers again, through the same connection, splits included.
    expect(text(await c.command(['GET', elsewhere]))).toBe(`v-${elsewhere}`)
    expect(((await c.command(['MGET', ...keys])) as unknown[]).map(text)).toEqual(
      keys.map((k) => `v-${k}`),
    )
    expect(await c.command(['UNLINK', ...keys])).toBe(keys.length)
  }, 45_000)
})
