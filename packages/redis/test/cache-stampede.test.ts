import { fileURLToPath } from 'node:url'
import {
  type Cache,
  type CreateCacheOptions,
  createCache,
  InvalidArgumentError,
} from '@cachex/redis'
import {
  delay,
  type ScriptChild,
  standaloneServer,
  startCluster,
  startReplicaSet,
  startScript,
  startSentinels,
  timed,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw, rawGet } from './helpers.ts'

const CHILD = fileURLToPath(new URL('./stampede/child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('stampede') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  describe('distributed: one computation across connections of one process', () => {
    it('two caches (two connections) in one process share one computation', async () => {
      let calls = 0
      const factory = async () => {
        calls++
        await delay(100)
        return 'v'
      }
      const a = createCache({ location: server.url, keyPrefix: cache.keyPrefix })
      const [x, y] = await Promise.all([
        cache.getOrSet('wake', factory, { distributed: true }),
        a.getOrSet('wake', factory, { distributed: true }),
      ])
      expect([x, y]).toEqual(['v', 'v'])
      expect(calls).toBe(1)
      await a.close()
    })

    it('a lockTimeout of 100 days beats at most every 24.8 days, not every millisecond', async () => {
      const warnings: Error[] = []
      const onWarning = (warning: Error) => warnings.push(warning)
      process.on('warning', onWarning)
      try {
        const value = await cache.getOrSet(
          'long-lock',
          async () => {
            await delay(100)
            return 'v'
          },
          { distributed: true, lockTimeout: 100 * 86_400 },
        )
        expect(value).toBe('v')
        await delay(10) // warnings are emitted on the next tick
      } finally {
        process.off('warning', onWarning)
      }
      // Node turns an interval past 2^31 - 1 ms into 1 ms, and says so.
      expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([])
    })

    it('2 caches × 20 callers of a missing key run a 300 ms factory once', async () => {
      let calls = 0
      const factory = async () => {
        calls++
        await delay(300)
        return 'one'
      }
      // Two caches: two connections, as two processes would have.
      const keyPrefix = uniquePrefix('pair')
      const caches = [0, 1].map(() => createCache({ location: server.url, keyPrefix }))
      try {
        const all = await Promise.all(
          caches.flatMap((c) =>
            Array.from({ length: 20 }, () =>
              c.getOrSet('cold', factory, { distributed: true, waitTimeout: 60 }),
            ),
          ),
        )
        expect(new Set(all)).toEqual(new Set(['one']))
        expect(calls).toBe(1)
      } finally {
        await Promise.all(caches.map((c) => c.close()))
      }
    })

    it('a holder whose connection closed mid-computation: its lock expires, a waiter of another cache takes over', async () => {
      const holder = createCache({ location: server.url, keyPrefix: cache.keyPrefix })
      const lockKey = `__cachex:lock:${cache.makeKey('orphan')}`
      const options = { distributed: true, lockTimeout: 0.3, waitTimeout: 60 }
      let computing!: () => void
      const started = new Promise<void>((resolve) => {
        computing = resolve
      })
      // Its factory never ends; its heartbeat fails once the connection is closed.
      void holder.getOrSet(
        'orphan',
        () => {
          computing()
          return new Promise<string>(() => {})
        },
        options,
      )
      await started
      const orphaned = String(await raw(cache, 'GET', lockKey))
      await holder.close()
      let calls = 0
      let lockDuringFactory: string | null = null
      const taken = await timed(
        cache.getOrSet(
          'orphan',
          async () => {
            calls++
            const held = await raw(cache, 'GET', lockKey)
            lockDuringFactory = held === null ? null : String(held)
            return 'taken over'
          },
          options,
        ),
      )
      expect(taken.value).toBe('taken over')
      expect(calls).toBe(1)
      // The waiter computed under a lock of its own (not after giving up at waitTimeout).
      expect(lockDuringFactory).not.toBeNull()
      expect(lockDuringFactory).not.toBe(orphaned)
      expect(taken.ms).toBeLessThan(30_000)
      // It released its lock.
      expect(await raw(cache, 'EXISTS', lockKey)).toBe(0)
    })

    it('a factory error releases the lock: the next call computes', async () => {
      await expect(
        cache.getOrSet('boom', () => Promise.reject(new Error('down')), { distributed: true }),
      ).rejects.toThrow('down')
      expect(await cache.getOrSet('boom', () => 'ok', { distributed: true })).toBe('ok')
    })
  })

  describe('earlyRecompute: XFetch', () => {
    it('refreshes a hot key before it expires, one caller at a time; the key never goes missing', async () => {
      let calls = 0
      let running = 0
      let most = 0
      const factory = async () => {
        calls++
        running++
        most = Math.max(most, running)
        await delay(50)
        running--
        return calls
      }
      const options = { timeout: 3, earlyRecompute: 10 }
      const seen: number[] = []
      expect(await cache.getOrSet('hot', factory, options)).toBe(1)
      const end = Date.now() + 7000
      while (Date.now() < end) {
        const batch = await Promise.all(
          Array.from({ length: 10 }, () => cache.getOrSet('hot', factory, options)),
        )
        seen.push(...batch)
        // Every read found the key: a miss would show as a failed hasKey at some point.
        expect(await cache.hasKey('hot')).toBe(true)
        await delay(20)
      }
      // The TTL is 3 s over 7 s of reads: refreshed at least twice, never by two callers at once.
      expect(calls).toBeGreaterThanOrEqual(3)
      expect(most).toBe(1)
      expect(Math.max(...seen)).toBe(calls)
    })

    it('stores the compute time next to the value, expiring with it; the value is plain', async () => {
      await cache.getOrSet(
        'plain',
        async () => {
          await delay(30)
          return { a: 1 }
        },
        { timeout: 60, earlyRecompute: 1 },
      )
      const rkey = cache.makeKey('plain')
      expect(JSON.parse(String(await raw(cache, 'GET', rkey)))).toEqual({ a: 1 })
      const delta = Number(String(await raw(cache, 'GET', `__cachex:delta:${rkey}`)))
      expect(delta).toBeGreaterThanOrEqual(25)
      expect(Number(await raw(cache, 'PTTL', `__cachex:delta:${rkey}`))).toBeGreaterThan(0)
    })
  })

  describe('grace: stale-while-revalidate and fail-safe', () => {
    it('serves the stale value while one caller recomputes in the background', async () => {
      let calls = 0
      const factory = async () => {
        calls++
        await delay(300)
        return `v${calls}`
      }
      expect(await cache.getOrSet('swr', factory, { timeout: 1, grace: 60 })).toBe('v1')
      // The stored TTL is timeout + grace: readable by get() (and Django) all along.
      expect(await cache.ttl('swr')).toBeGreaterThan(55)
      await delay(1200)
      const stale = await Promise.all(
        Array.from({ length: 10 }, () => cache.getOrSet('swr', factory, { timeout: 1, grace: 60 })),
      )
      expect(stale).toEqual(Array(10).fill('v1'))
      await expect.poll(() => cache.get('swr'), { timeout: 10_000 }).toBe('v2')
      expect(calls).toBe(2)
      expect(await cache.getOrSet('swr', factory, { timeout: 1, grace: 60 })).toBe('v2')
    })

    it('serves the stale value and logs when the factory throws', async () => {
      const logged: unknown[][] = []
      const logging = createCache({
        location: server.url,
        keyPrefix: cache.keyPrefix,
        logger: { error: (...args: unknown[]) => logged.push(args) },
      })
      await logging.getOrSet('failsafe', () => 'old', { timeout: 1, grace: 60 })
      await delay(1200)
      const failing = () => Promise.reject(new Error('database down'))
      expect(await logging.getOrSet('failsafe', failing, { timeout: 1, grace: 60 })).toBe('old')
      await expect.poll(() => logged.length, { timeout: 10_000 }).toBe(1)
      expect(String(logged[0]?.[0])).toContain("getOrSet('failsafe')")
      expect(await logging.get('failsafe')).toBe('old')
      await logging.close()
    })
  })

  describe('options', () => {
    it('rejects bad stampede options with InvalidArgumentError', async () => {
      const bad = [
        { distributed: 'yes' },
        { earlyRecompute: '1' },
        { earlyRecompute: -1 },
        { earlyRecompute: Number.NaN },
        { grace: '5' },
        { grace: -1 },
        { lockTimeout: 0 },
      ]
      for (const options of bad) {
        await expect(cache.getOrSet('k', 1, options as never)).rejects.toThrow(InvalidArgumentError)
      }
    })
  })
})

type Child = ScriptChild

function startChild(args: string[]): Child {
  return startScript(CHILD, args, ROOT)
}

/** Starts `n` processes, waits until every one is connected, then lets them all go at once. */
async function stampede(n: number, args: string[]): Promise<Child[]> {
  const children = Array.from({ length: n }, () => startChild(args))
  await Promise.all(children.map((c) => c.line('ready')))
  for (const c of children) c.process.stdin?.write('go\n')
  return children
}

function results(child: Child): Array<{ by: number; n: number }> {
  const last = child.lines.find((l) => l.startsWith('['))
  if (last === undefined) throw new Error(`no results from child ${child.process.pid}`)
  return JSON.parse(last)
}

// Several processes on one server: redis only (a memory:// store lives in one process).
describe('distributed: one computation across processes', () => {
  let server: { url: string; stop(): Promise<void> }

  beforeAll(async () => {
    server = await standaloneServer()
  })

  afterAll(async () => {
    await server?.stop()
  })

  it('4 processes × 50 concurrent calls of a missing key run the 200 ms factory once', async () => {
    const prefix = uniquePrefix('fleet')
    const counter = createCache({ location: server.url, keyPrefix: prefix })
    await counter.set('calls', 0)
    const children = await stampede(4, [server.url, prefix, 'cold', '200', '50', '5'])
    expect(await Promise.all(children.map((c) => c.exited))).toEqual([0, 0, 0, 0])
    expect(await counter.get('calls')).toBe(1)
    const all = children.flatMap(results)
    expect(all).toHaveLength(200)
    expect(new Set(all.map((r) => JSON.stringify(r))).size).toBe(1)
    expect(await counter.get('cold')).toEqual(all[0])
    await counter.close()
  }, 120_000)

  it('when the holder is killed mid-computation, exactly one other process takes over', async () => {
    const prefix = uniquePrefix('takeover')
    const counter = createCache({ location: server.url, keyPrefix: prefix })
    await counter.set('calls', 0)
    // A 2 s factory and a 1 s lock: the holder is killed while it computes.
    const children = await stampede(4, [server.url, prefix, 'cold', '2000', '50', '1'])
    const holder = await Promise.any(children.map((c) => c.line('computing').then(() => c)))
    holder.process.kill('SIGKILL')
    const others = children.filter((c) => c !== holder)
    expect(await Promise.all(others.map((c) => c.exited))).toEqual([0, 0, 0])
    expect(await counter.get('calls')).toBe(2)
    const computed = others.filter((c) => c.lines.some((l) => l.startsWith('computing')))
    expect(computed).toHaveLength(1)
    const all = others.flatMap(results)
    expect(all).toHaveLength(150)
    expect(new Set(all.map((r) => r.by))).toEqual(new Set([computed[0]?.process.pid]))
    await counter.close()
  }, 120_000)
})

// Replicas, Sentinel and Cluster need servers: redis only.
const TOPOLOGIES: Array<{
  name: string
  start(): Promise<{ options: CreateCacheOptions<false>; stop(): Promise<void> }>
}> = [
  {
    name: 'primary + 2 replicas',
    start: async () => {
      const set = await startReplicaSet({ replicas: 2 })
      return { options: { location: [...set.urls] }, stop: () => set.stop() }
    },
  },
  {
    name: 'sentinel',
    start: async () => {
      const d = await startSentinels({ replicas: 1 })
      return {
        options: { client: 'sentinel', location: d.location, sentinels: d.addresses },
        stop: () => d.stop(),
      }
    },
  },
  {
    name: 'cluster',
    start: async () => {
      const c = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
      return { options: { client: 'cluster', location: [...c.seeds] }, stop: () => c.stop() }
    },
  },
]

describe.each(TOPOLOGIES)('on $name', ({ start }) => {
  let deployment: Awaited<ReturnType<typeof start>>
  let caches: Cache[]

  beforeAll(async () => {
    deployment = await start()
    const keyPrefix = uniquePrefix('topo')
    // Two caches: two connections, as two processes would have.
    caches = [0, 1].map(() => createCache({ ...deployment.options, keyPrefix }))
  }, 120_000)

  afterAll(async () => {
    for (const c of caches ?? []) await c.close()
    await deployment?.stop()
  })

  it('distributed: one computation for 2 connections × 20 callers', async () => {
    let calls = 0
    const factory = async () => {
      calls++
      await delay(300)
      return 'one'
    }
    const all = await Promise.all(
      caches.flatMap((c) =>
        Array.from({ length: 20 }, () => c.getOrSet('cold', factory, { distributed: true })),
      ),
    )
    expect(new Set(all)).toEqual(new Set(['one']))
    expect(calls).toBe(1)
  })

  it('grace and earlyRecompute: read value + PTTL + delta, serve stale, refresh', async () => {
    let calls = 0
    const factory = async () => `v${++calls}`
    const options = { timeout: 1, grace: 60, earlyRecompute: 1, distributed: true }
    const [a] = caches as [Cache, Cache]
    expect(await a.getOrSet('swr', factory, options)).toBe('v1')
    await delay(1200)
    expect(await a.getOrSet('swr', factory, options)).toBe('v1')
    await expect.poll(() => a.getOrSet('swr', factory, options), { timeout: 10_000 }).toBe('v2')
    expect(calls).toBe(2)
  })
})

describe('grace on replicas that lag behind the primary', () => {
  it('a stale value read on a replica is not recomputed when the primary holds a fresh one', async () => {
    const set = await startReplicaSet({ replicas: 2 })
    const keyPrefix = uniquePrefix('lag')
    const cache = createCache({ location: [...set.urls], keyPrefix })
    // Each replica holds a stale copy (written on it directly: replication brings no change of
    // this key until the primary writes it again), the primary a fresh one: a replica that has
    // not received the latest refresh yet.
    const onNodes = [set.primary, ...set.replicas].map((node) =>
      createCache({ location: node.url, keyPrefix }),
    )
    try {
      const [primary, ...replicas] = onNodes as [Cache, ...Cache[]]
      await primary.set('swr', 'fresh', 120)
      // Replicated before the replicas' own writes, or it would overwrite them.
      expect(await raw(primary, 'WAIT', '2', '60000')).toBe(2)
      for (const replica of replicas) {
        await raw(replica, 'CONFIG', 'SET', 'replica-read-only', 'no')
        await replica.set('swr', 'stale', 30)
      }
      let calls = 0
      const factory = async () => `computed ${++calls}`
      const options = { timeout: 60, grace: 60 }
      // Reads go to the primary until the replicas join the read rotation (once checked in
      // sync), then to them.
      await expect.poll(() => cache.get('swr'), { timeout: 60_000 }).toBe('stale')
      // Each stale value served starts a refresh, which finds the primary's fresh value.
      for (let i = 0; i < 5; i++) {
        expect(await cache.getOrSet('swr', factory, options)).toBe('stale')
        await delay(100)
      }
      await delay(500)
      expect(calls).toBe(0)
      expect(String(await rawGet(primary, 'swr'))).toContain('fresh')
    } finally {
      for (const c of onNodes) await c.close()
      await cache.close()
      await set.stop()
    }
  }, 120_000)
})
