// A client, pool, cluster or RedisSentinel of yours shared by many caches: each cache's listeners
// on it are taken off when the cache closes (they stayed: every closed cache was kept alive by
// the object, and Node printed MaxListenersExceededWarning from the 4th cache on), and many open
// at once print no warning. A cluster or sentinel handed in without `client` is used as one.
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import {
  type RedisServer,
  type SentinelDeployment,
  startCluster,
  startRedis,
  startSentinels,
  type TestCluster,
} from '@cachex/test-utils'
import { createClient, createClientPool, createCluster, createSentinel } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: RedisServer
let cluster: TestCluster
let deployment: SentinelDeployment

beforeAll(async () => {
  ;[server, cluster, deployment] = await Promise.all([
    startRedis(),
    startCluster({ primaries: 3, replicasPerPrimary: 0 }),
    startSentinels({ replicas: 0, sentinels: 1 }),
  ])
}, 120_000)

afterAll(async () => {
  await Promise.all([server?.stop(), cluster?.stop(), deployment?.stop()])
})

interface Emitter {
  listenerCount(event: string): number
  connect(): Promise<unknown>
  close(): Promise<unknown>
}

const EVENTS = ['error', 'end', 'ready', 'connect', 'client-error', 'topology-change']

function counts(emitter: Emitter): Record<string, number> {
  return Object.fromEntries(EVENTS.map((event) => [event, emitter.listenerCount(event)]))
}

/** The warnings the process prints while `body` runs. */
async function warningsOf(body: () => Promise<void>): Promise<string[]> {
  const warnings: string[] = []
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`)
  process.on('warning', onWarning)
  try {
    await body()
    await new Promise((resolve) => setTimeout(resolve, 100))
  } finally {
    process.off('warning', onWarning)
  }
  return warnings
}

const KINDS: Array<{ name: string; make(): Emitter; cache(given: Emitter, i: number): Cache }> = [
  {
    name: 'a client',
    make: () => createClient({ url: server.url }).on('error', () => {}),
    cache: (given, i) => createCache({ location: given as never, keyPrefix: `c${i}` }),
  },
  {
    name: 'a client pool',
    make: () => createClientPool({ url: server.url }).on('error', () => {}) as never,
    cache: (given, i) => createCache({ location: given as never, keyPrefix: `p${i}` }),
  },
  {
    name: 'a cluster (client unset)',
    make: () =>
      createCluster({ rootNodes: cluster.seeds.map((url) => ({ url })) }).on('error', () => {}),
    cache: (given, i) => createCache({ location: given as never, keyPrefix: `k${i}` }),
  },
  {
    name: 'a RedisSentinel (client unset)',
    make: () =>
      createSentinel({
        name: deployment.name,
        sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
      }).on('error', () => {}) as never,
    cache: (given, i) =>
      createCache({
        location: given as never,
        sentinels: deployment.addresses.map(([h, p]) => [h, p] as [string, number]),
        keyPrefix: `s${i}`,
      }),
  },
]

describe.each(KINDS)('$name shared by many caches', (kind) => {
  it('closed caches leave no listeners on it', async () => {
    const given = kind.make()
    await given.connect()
    const before = counts(given)
    try {
      const warnings = await warningsOf(async () => {
        for (let i = 0; i < 20; i++) {
          const cache = kind.cache(given, i)
          await cache.set('a', i)
          expect(await cache.get('a')).toBe(i)
          await cache.close()
        }
      })
      expect({ counts: counts(given), warnings }).toEqual({ counts: before, warnings: [] })
    } finally {
      await given.close()
    }
  })

  it('20 caches open on it at once print no warning', async () => {
    const given = kind.make()
    await given.connect()
    const caches = Array.from({ length: 20 }, (_, i) => kind.cache(given, i))
    try {
      const warnings = await warningsOf(async () => {
        await Promise.all(caches.map((cache, i) => cache.set('a', i)))
      })
      expect(warnings).toEqual([])
    } finally {
      await Promise.all(caches.map((cache) => cache.close()))
      await given.close()
    }
  })
})

it("a cluster handed in with client: 'default' is refused, saying what to pass", () => {
  const given = createCluster({ rootNodes: cluster.seeds.map((url) => ({ url })) })
  expect(() => createCache({ location: given as never, client: 'default' })).toThrow(
    InvalidArgumentError,
  )
  expect(() => createCache({ location: given as never, client: 'default' })).toThrow(
    /client: 'cluster'/,
  )
})
