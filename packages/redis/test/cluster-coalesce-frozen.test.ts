// A cluster with one primary frozen (SIGSTOP; no replicas and a long node timeout, so no
// failover): the gets and hasKeys gathered in one tick are each answered by their own key's
// node, so a healthy node's callers get their values while the frozen node's time out.
import { type Cache, type CreateCacheOptions, createCache } from '@cachex/redis'
import { delay, startCluster, type TestCluster } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const { closeAfterTest } = useFailureHarness()
let cluster: TestCluster

beforeAll(async () => {
  cluster = await startCluster({ replicasPerPrimary: 0, nodeTimeout: 60_000 })
}, 120_000)

afterAll(async () => {
  for (const node of cluster?.nodes ?? []) cluster.resume(node)
  await cluster?.stop()
})

/** `fn`'s result, asked again every 100 ms while it fails, for at most `ms`. */
async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const until = performance.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (performance.now() > until) throw error
      await delay(100)
    }
  }
}

/** How each promise settled: its value, or the name of its error's class. */
function settled(promises: Promise<unknown>[]): Promise<unknown[]> {
  return Promise.all(
    promises.map((promise) =>
      promise.then(
        (value) => ({ value }),
        (error: Error) => ({ error: error.constructor.name }),
      ),
    ),
  )
}

/**
 * A cache on the cluster, the first primary (the one to freeze), and keys of the cache: two on
 * the frozen primary, one on each of the two others, and a pair sharing a slot (a hash tag) on a
 * healthy one, so that a batch holds both a command of several keys and commands of one.
 */
async function setUp(prefix: string, ignoreExceptions = false) {
  const cache: Cache = closeAfterTest(
    createCache({
      location: [...cluster.seeds],
      client: 'cluster',
      keyPrefix: prefix,
      socketConnectTimeout: 1,
      socketTimeout: 0.5,
      ignoreExceptions,
    } as CreateCacheOptions),
  )
  const frozen = (await cluster.primaries())[0]
  if (frozen === undefined) throw new Error('no primary')
  const onFrozen: string[] = []
  const healthy = new Map<number, string>()
  for (let i = 0; onFrozen.length < 2 || healthy.size < 2; i++) {
    const node = await cluster.primaryFor(cache.makeKey(`k${i}`))
    if (node.port === frozen.port) {
      if (onFrozen.length < 2) onFrozen.push(`k${i}`)
    } else if (!healthy.has(node.port)) healthy.set(node.port, `k${i}`)
  }
  let tagged = ''
  for (let i = 0; tagged === ''; i++) {
    const node = await cluster.primaryFor(cache.makeKey(`{t${i}}a`))
    if (node.port !== frozen.port) tagged = `{t${i}}`
  }
  const onHealthy = [...healthy.values()]
  // The whole cluster answers (a previous test's frozen node is back).
  await eventually(async () => {
    for (const key of [...onFrozen, ...onHealthy]) await cache.set(key, `v:${key}`, null)
    await cache.set(`${tagged}a`, 'tagged', null)
    await cache.delete(`${tagged}b`)
  }, 20_000)
  return { cache, frozen, onFrozen, onHealthy, tagged }
}

describe('cluster, one primary frozen: gathered reads', () => {
  it("gets of one tick: a healthy node's keys resolve, the frozen node's reject", async () => {
    const { cache, frozen, onFrozen, onHealthy, tagged } = await setUp('cf-get')
    cluster.pause(frozen)
    try {
      const [f0, f1] = onFrozen as [string, string]
      const [h0, h1] = onHealthy as [string, string]
      const answers = await settled([
        cache.get(f0),
        cache.get(h0),
        cache.get(`${tagged}a`),
        cache.get(`${tagged}b`, 'default'),
        cache.get(f1),
        cache.get(h1),
        cache.get(h1),
      ])
      expect(answers.map((a) => ('error' in (a as object) ? 'failed' : a))).toEqual([
        'failed',
        { value: `v:${h0}` },
        { value: 'tagged' },
        { value: 'default' },
        'failed',
        { value: `v:${h1}` },
        { value: `v:${h1}` },
      ])
      // getOrSet reads through the same gathering.
      const mixed = await settled([cache.getOrSet(f0, () => 'x', 10), cache.get(h0)])
      expect(mixed[1]).toEqual({ value: `v:${h0}` })
    } finally {
      cluster.resume(frozen)
    }
  }, 60_000)

  it("hasKeys of one tick: a healthy node's keys are answered, the frozen node's reject", async () => {
    const { cache, frozen, onFrozen, onHealthy, tagged } = await setUp('cf-has')
    cluster.pause(frozen)
    try {
      const [f0, f1] = onFrozen as [string, string]
      const [h0, h1] = onHealthy as [string, string]
      const answers = await settled([
        cache.hasKey(f0),
        cache.hasKey(h0),
        cache.hasKey(`${tagged}a`),
        cache.hasKey(`${tagged}b`),
        cache.hasKey(f1),
        cache.hasKey(h1),
      ])
      expect(answers.map((a) => ('error' in (a as object) ? 'failed' : a))).toEqual([
        'failed',
        { value: true },
        { value: true },
        { value: false },
        'failed',
        { value: true },
      ])
    } finally {
      cluster.resume(frozen)
    }
  }, 60_000)

  it("for the whole stall, a healthy node's gets gathered with the frozen node's resolve; under ignoreExceptions, no false miss", async () => {
    for (const ignoreExceptions of [false, true]) {
      const { cache, frozen, onFrozen, onHealthy } = await setUp(
        `cf-long-${ignoreExceptions}`,
        ignoreExceptions,
      )
      const [f0] = onFrozen as [string]
      const [h0] = onHealthy as [string]
      const seen = new Map<string, number>()
      cluster.pause(frozen)
      try {
        // First the timeouts (socketTimeout), then the node known down and its calls failing at
        // once: the healthy node's get answers through both.
        const end = performance.now() + 2500
        while (performance.now() < end) {
          const [, healthy] = await settled([cache.get(f0), cache.get(h0)])
          const [, has] = await settled([cache.hasKey(f0), cache.hasKey(h0)])
          for (const answer of [healthy, has]) {
            const text = JSON.stringify(answer)
            seen.set(text, (seen.get(text) ?? 0) + 1)
          }
          await delay(20)
        }
      } finally {
        cluster.resume(frozen)
      }
      expect([...seen.keys()].sort(), `ignoreExceptions: ${ignoreExceptions}`).toEqual(
        [JSON.stringify({ value: `v:${h0}` }), JSON.stringify({ value: true })].sort(),
      )
    }
  }, 60_000)
})
