// `maxInFlightBytes` never costs a write the connection could carry: a batch is weighed whole, as
// one command (on a cluster too), and one over the cap runs while nothing else is in flight
// (a fresh cache's first `setMany` with a timeout too, whose no-op script asking whether the user
// may run scripts goes after its writes), and a `setMany` off a cluster rejects rather than
// resolving keys that failed.
import { randomBytes } from 'node:crypto'
import { cluster } from '@cachex/connections'
import { BackpressureError, ResponseError } from '@cachex/core'
import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import {
  type RedisServer,
  replicated,
  startCluster,
  startRedis,
  startSentinels,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClient, createSentinel } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEPLOYMENTS, type Deployment } from './helpers.ts'

const KB = 1024
const MB = 1024 * KB

/** Whether `key` is stored, asked of the primary that holds it. */
async function stored(cache: Cache, key: string): Promise<number> {
  const rkey = cache.makeKey(key)
  return Number(await cache.connection.command(['EXISTS', rkey], { key: rkey }))
}

const TOPOLOGIES: Deployment[] = [
  ...DEPLOYMENTS,
  {
    name: 'a sentinel of yours',
    async start() {
      const deployment = await startSentinels({ replicas: 0, sentinels: 1 })
      const given = createSentinel({
        name: deployment.name,
        sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
      }).on('error', () => {})
      await given.connect()
      return {
        options: { location: given as never, sentinels: deployment.addresses },
        stop: async () => {
          given.destroy()
          await deployment.stop()
        },
      }
    },
  },
]

describe.each(TOPOLOGIES)(
  '$name: writes over maxInFlightBytes on an idle connection',
  (topology) => {
    let deployment: Awaited<ReturnType<Deployment['start']>>
    const opened: Cache[] = []

    beforeAll(async () => {
      deployment = await topology.start()
    }, 120_000)

    afterAll(async () => {
      await Promise.all(opened.map((cache) => cache.close()))
      await deployment?.stop()
    })

    /** Once the replicas reads may go to have every write made so far on `cache`. */
    async function settled(cache: Cache): Promise<void> {
      if (topology.replicas !== undefined) await replicated(cache.connection, topology.replicas)
    }

    /** A connected cache of its own prefix, with a cap of 64 KiB. */
    async function connected(options: CreateCacheOptions = {}): Promise<Cache> {
      const cache = createCache({
        ...deployment.options,
        keyPrefix: uniquePrefix('cap'),
        serializer: 'msgpack',
        maxInFlightBytes: 64 * KB,
        ...options,
      })
      opened.push(cache)
      await cache.get('connected')
      return cache
    }

    it("a fresh cache's first setMany with a timeout of one value over the cap stores it", async () => {
      const cache = await connected()
      const value = randomBytes(100 * KB)
      expect(await cache.setMany({ a: value }, 600)).toEqual([])
      expect(await stored(cache, 'a')).toBe(1)
      await settled(cache)
      expect(await cache.get('a')).toEqual(value)
    })

    it('setMany with a timeout, and a pipeline of sets, of 12 values three times the cap store all', async () => {
      const cache = await connected()
      const entries: Record<string, Buffer> = {}
      for (let i = 0; i < 12; i++) entries[`k${i}`] = randomBytes(20 * KB)
      const keys = Object.keys(entries)
      // Twice: a fresh cache's first batch goes as a pipeline, the next one as a script (off a
      // cluster), or a pipeline again (keys of several slots).
      for (const round of [1, 2]) {
        expect({ round, failed: await cache.setMany(entries, 600) }).toEqual({ round, failed: [] })
        await settled(cache)
        expect((await cache.getMany(keys)).size).toBe(12)
        await cache.deleteMany(keys)
      }
      const pipe = cache.pipeline()
      for (const key of keys) pipe.set(key, entries[key], 600)
      expect(await pipe.exec()).toEqual(keys.map(() => true))
      await settled(cache)
      const found = await cache.getMany<Buffer>(keys)
      expect(keys.map((key) => found.get(key)?.equals(entries[key] as Buffer))).toEqual(
        keys.map(() => true),
      )
    })

    it("a fresh cache's first sets, then a write over the cap: the script asking whether scripts run does not refuse it", async () => {
      for (const first of ['setMany', 'coalesced sets'] as const) {
        const cache = await connected()
        if (first === 'setMany') expect(await cache.setMany({ a: 1, b: 2 }, 60)).toEqual([])
        else
          expect(await Promise.all([cache.set('a', 1, 60), cache.set('b', 2, 60)])).toEqual([
            true,
            true,
          ])
        const big = randomBytes(100 * KB)
        expect({ first, stored: await cache.set('big', big, 60) }).toEqual({ first, stored: true })
        await settled(cache)
        expect((await cache.get<Buffer>('big'))?.equals(big)).toBe(true)
      }
    })

    it('a blocking call waiting on its own client leaves the connection idle for a pipeline over the cap', async () => {
      const cache = await connected()
      const waiting = cache.blpop('queue', 1)
      await new Promise((resolve) => setTimeout(resolve, 200))
      const value = randomBytes(10 * KB)
      const pipe = cache.pipeline()
      for (let i = 0; i < 20; i++) pipe.set(`w${i}`, value, 600)
      expect(await pipe.exec()).toEqual(Array.from({ length: 20 }, () => true))
      expect(await waiting).toBe(null)
    })

    it('a pipeline over the cap is sent whole, in its tick: a call after it never goes first; close() after it answers it all', async () => {
      const cache = await connected()
      const value = randomBytes(20 * KB)
      const keys = Array.from({ length: 12 }, (_, i) => `o${i}`)
      const pipe = cache.pipeline()
      for (const key of keys) pipe.set(key, value, 600)
      const written = pipe.exec()
      // Called after the pipeline, while all of it awaits its replies: refused, typed — not
      // sent ahead of a part of it, to be undone by it.
      const deleted = cache.delete('o11').catch((error: Error) => error)
      expect(await written).toEqual(keys.map(() => true))
      expect(await deleted).toBeInstanceOf(BackpressureError)
      expect(await stored(cache, 'o11')).toBe(1)
      // A fresh cache's first setMany with a timeout (a pipeline of SET … PX), then close().
      const closing = await connected()
      const entries = Object.fromEntries(keys.map((key) => [`c${key}`, value]))
      const setMany = closing.setMany(entries, 600)
      await closing.close()
      expect(await setMany).toEqual([])
      for (const key of Object.keys(entries)) {
        const rkey = closing.makeKey(key)
        expect(await cache.connection.command(['EXISTS', rkey], { key: rkey })).toBe(1)
      }
    })
  },
)

describe('small commands and the cap, on one server', () => {
  let server: RedisServer
  beforeAll(async () => {
    server = await startRedis()
  }, 60_000)
  afterAll(async () => {
    server?.resume()
    await server?.stop()
  })

  it('a small cap (5,000 bytes) bounds small commands against a stalled server', async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('small'),
      maxInFlightBytes: 5000,
      socketTimeout: 3,
    })
    try {
      await cache.get('warm')
      server.pause()
      // Each SET of 30 bytes weighs about 2,100 (2,048 a command): a 5,000-byte cap admits 2.
      const calls = Array.from({ length: 20 }, (_, i) =>
        cache.connection.command(['SET', `k${i}`, 'x'.repeat(30)]).then(
          () => 'sent',
          (error: unknown) => (error instanceof BackpressureError ? 'refused' : 'sent'),
        ),
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      server.resume()
      const sent = (await Promise.all(calls)).filter((outcome) => outcome === 'sent')
      expect(sent.length).toBeLessThanOrEqual(2)
    } finally {
      server.resume()
      await cache.close()
    }
  }, 30_000)

  it('on a pool, blocked blpops (each on a client of the pool) leave the connection idle for a write over the cap', async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('pool'),
      maxInFlightBytes: 16 * KB,
      connectionPool: { minimum: 1, maximum: 30 },
      serializer: 'msgpack',
    })
    try {
      await cache.get('warm')
      const waiting = Array.from({ length: 16 }, (_, i) => cache.blpop(`queue${i}`, 1))
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await cache.set('big', randomBytes(64 * KB), 60)).toBe(true)
      expect(await Promise.all(waiting)).toEqual(waiting.map(() => null))
    } finally {
      await cache.close()
    }
  }, 30_000)
})

describe('the default cap (32 MiB)', () => {
  let server: RedisServer
  let made: TestCluster
  const opened: Cache[] = []

  beforeAll(async () => {
    ;[server, made] = await Promise.all([
      startRedis(),
      startCluster({ primaries: 3, replicasPerPrimary: 0 }),
    ])
  }, 120_000)

  afterAll(async () => {
    await Promise.all(opened.map((cache) => cache.close()))
    await Promise.all([server?.stop(), made?.stop()])
  })

  it("a fresh cache's first setMany({ a: 40 MB }, 600) on one server stores it", async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('cap'),
      serializer: 'msgpack',
      // As below: the cap is tested, not how fast a loaded machine writes 40 MB.
      socketTimeout: 60,
    })
    opened.push(cache)
    expect(await cache.setMany({ a: randomBytes(40 * MB) }, 600)).toEqual([])
    expect(await stored(cache, 'a')).toBe(1)
  }, 60_000)

  it('on a cluster, setMany with a timeout of 12 values of 10 MB stores all 12', async () => {
    const cache = createCache({
      client: 'cluster',
      location: [...made.seeds],
      keyPrefix: uniquePrefix('cap'),
      serializer: 'msgpack',
      // The default cap is what is tested: 120 MB written while every core is busy can take
      // longer than the default 5 s socketTimeout, which would fail a key for another reason.
      socketTimeout: 60,
    })
    opened.push(cache)
    await cache.set('warm', 1, 600)
    const entries: Record<string, Buffer> = {}
    for (let i = 0; i < 12; i++) entries[`k${i}`] = randomBytes(10 * MB)
    const keys = Object.keys(entries)
    expect(await cache.setMany(entries, 600)).toEqual([])
    expect((await cache.getMany(keys)).size).toBe(12)
  }, 120_000)
})

describe('a cluster batch and maxInFlightBytes', () => {
  let made: TestCluster

  beforeAll(async () => {
    made = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
  }, 120_000)

  afterAll(async () => {
    await made?.stop()
  })

  it('is admitted or refused whole while other calls fill the cap, never sent with gaps', async () => {
    const c = cluster({ location: [...made.seeds], maxInFlightBytes: 100_000 })
    try {
      const key = uniquePrefix('whole')
      await c.command(['SET', key, 'x'])
      // 90 KB in flight, not answered yet (sent in this tick).
      const filling = [0, 1, 2].map((i) =>
        c.command(['SET', `${key}:${i}`, Buffer.alloc(30_000, 'f')]),
      )
      const batch = await c.batch([
        ['SET', `${key}:other`, Buffer.alloc(20_000, 'o')],
        ['GET', key],
      ])
      expect(batch[0]).toBeInstanceOf(BackpressureError)
      expect(batch[1]).toBeInstanceOf(BackpressureError)
      await Promise.all(filling)
      expect(Number(await c.command(['EXISTS', `${key}:other`]))).toBe(0)
    } finally {
      await c.close()
    }
  })

  it('larger than the cap, on an idle connection, runs whole; its reads of a shard go to one node', async () => {
    const c = cluster({
      location: [...made.seeds],
      readFromReplicas: true,
      maxInFlightBytes: 64 * KB,
    })
    const tag = uniquePrefix('pin')
    // Keys of 10 KB in one slot: 20 GETs are three times the cap.
    const keys = Array.from({ length: 20 }, (_, i) => `{${tag}}:${i}:${'k'.repeat(10 * KB)}`)
    const counters = await Promise.all(
      made.nodes.map(async (node) => {
        const client = createClient({ url: node.url })
        client.on('error', () => {})
        await client.connect()
        return client
      }),
    )
    const gets = async (): Promise<number[]> =>
      Promise.all(
        counters.map(async (client) => {
          const info = String(await client.sendCommand(['INFO', 'commandstats']))
          return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0)
        }),
      )
    try {
      const written = await c.batch(keys.map((key) => ['SET', key, key.slice(-3)]))
      expect(written.filter((reply) => reply instanceof Error)).toEqual([])
      await made.waitUntilHealthy(10_000)
      for (let round = 0; round < 3; round++) {
        const before = await gets()
        const read = await c.batch(
          keys.map((key) => ['GET', key]),
          { readonly: true },
        )
        expect(read.map(String)).toEqual(keys.map((key) => key.slice(-3)))
        const after = await gets()
        const served = after.map((n, i) => n - (before[i] as number)).filter((n) => n > 0)
        expect(served).toEqual([20])
      }
    } finally {
      await c.close()
      await Promise.all(counters.map((client) => client.close()))
    }
  })
})

describe('setMany off a cluster: a write that fails rejects, as the script does', () => {
  let server: RedisServer
  const opened: Cache[] = []

  beforeAll(async () => {
    server = await startRedis()
    const admin = createClient({ url: server.url })
    await admin.connect()
    // Keys under `app:1:ok` only: a SET of another key is refused with NOPERM.
    for (const [user, scripting] of [
      ['scripter', '+@scripting'],
      ['plain', '-@scripting'],
    ]) {
      await admin.sendCommand([
        'ACL',
        'SETUSER',
        user as string,
        'on',
        '>pw',
        '~app:1:ok*',
        '+@all',
        scripting as string,
      ])
    }
    await admin.close()
  })

  afterAll(async () => {
    await Promise.all(opened.map((cache) => cache.close()))
    await server?.stop()
  })

  for (const user of ['scripter', 'plain']) {
    it(`${user}: the first and later batches reject with the refusal`, async () => {
      const cache = createCache({
        location: server.url.replace('redis://', `redis://${user}:pw@`),
        keyPrefix: 'app',
      })
      opened.push(cache)
      await cache.get('ok-connected')
      // A fresh cache's first batch (a pipeline of SET … PX), then one sent as a script (or a
      // pipeline again for a user without scripting).
      for (const round of [1, 2]) {
        const outcome = await cache.setMany({ ok1: 1, no: 2, ok2: 3 }, 60).then(
          (failed) => ({ round, failed }),
          (error: unknown) => ({ round, error }),
        )
        expect(outcome).toEqual({ round, error: expect.any(ResponseError) })
        expect(String((outcome as { error: Error }).error.message)).toMatch(/NOPERM/)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })
  }
})
