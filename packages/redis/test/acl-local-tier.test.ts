// The local tier for an ACL user who may not run `CLIENT` (so not `CLIENT TRACKING`): the tier
// stays off, as documented; its tracking connection, refused in its handshake, is not opened again
// every 2 s (it was, forever) but after 10 s, then less and less often; and that is said once.
import {
  delay,
  type RedisServer,
  startCluster,
  startRedis,
  type TestCluster,
  trackUnhandledRejections,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

const USER = ['ACL', 'SETUSER', 'noclient', 'on', '>pw-noclient', '~*', '&*', '+@all', '-client']

async function onEach<T>(
  urls: readonly string[],
  ask: (c: { sendCommand(args: string[]): Promise<unknown> }) => Promise<T>,
) {
  const out: T[] = []
  for (const url of urls) {
    const c = createClient({ url })
    await c.connect()
    out.push(await ask(c))
    await c.close()
  }
  return out
}

/** The connections the servers at `urls` accepted so far, but those made to ask them. */
async function connections(urls: readonly string[]): Promise<number> {
  const counts = await onEach(urls, async (c) => {
    const stats = String(await c.sendCommand(['INFO', 'stats']))
    return Number(/total_connections_received:(\d+)/.exec(stats)?.[1])
  })
  return counts.reduce((a, b) => a + b, 0) - asked++ * urls.length
}
let asked = 1

/** The warnings the cache gave, through its logger or Node's `process.emitWarning`. */
let warnings: string[] = []
const onWarning = (warning: Error) => warnings.push(warning.message)
const logger = {
  error: (message: string) => warnings.push(message),
  warn: (message: string) => warnings.push(message),
}
beforeEach(() => {
  warnings = []
  process.on('warning', onWarning)
})
afterEach(() => {
  process.off('warning', onWarning)
})

describe('local tier, one server, a user without CLIENT', () => {
  let server: RedisServer
  afterAll(async () => server?.stop())

  it('stays off, does not reconnect its tracking connection over and over, and says so once', async () => {
    server = await startRedis()
    await onEach([server.url], (c) => c.sendCommand(USER))
    const unhandled = trackUnhandledRejections()
    const cache = createCache({
      location: server.url.replace('redis://', 'redis://noclient:pw-noclient@'),
      keyPrefix: 'app',
      local: { maxEntries: 100 },
      logger,
    })
    try {
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
      await delay(500)
      asked = 1
      const before = await connections([server.url])
      await delay(4500)
      expect(await cache.get('k')).toBe(1)
      // Before: one new tracking connection every ~2 s, each refused in its handshake.
      expect((await connections([server.url])) - before).toBe(0)
      expect(cache.localStats()?.tracking).toBe(false)
      const said = warnings.filter((w) => /CLIENT TRACKING/.test(w))
      expect(said).toHaveLength(1)
      expect(said[0]).toMatch(/local tier/)
      // Granted meanwhile: the next try (10 s after the refusal) turns the tier on.
      await onEach([server.url], (c) =>
        c.sendCommand(['ACL', 'SETUSER', 'noclient', '+client|tracking']),
      )
      const until = performance.now() + 15_000
      while (cache.localStats()?.tracking !== true && performance.now() < until) await delay(100)
      expect(cache.localStats()?.tracking).toBe(true)
    } finally {
      await cache.close()
    }
    await delay(100)
    expect(unhandled()).toEqual([])
  }, 30_000)
})

describe('local tier, cluster, a user without CLIENT', () => {
  let cluster: TestCluster
  afterAll(async () => cluster?.stop())

  it('stays off, does not reconnect its tracking connections over and over, and says so once', async () => {
    cluster = await startCluster({ primaries: 3 })
    await cluster.waitUntilHealthy()
    const urls = cluster.nodes.map((n) => n.url)
    await onEach(urls, (c) => c.sendCommand(USER))
    const cache = createCache({
      location: cluster.seeds.map((u) => u.replace('redis://', 'redis://noclient:pw-noclient@')),
      client: 'cluster',
      keyPrefix: 'app',
      local: { maxEntries: 100 },
      logger,
    })
    try {
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
      await delay(1000)
      asked = 1
      const before = await connections(urls)
      await delay(4500)
      expect(await cache.get('k')).toBe(1)
      expect((await connections(urls)) - before).toBe(0)
      expect(cache.localStats()?.tracking).toBe(false)
      expect(warnings.filter((w) => /CLIENT TRACKING/.test(w))).toHaveLength(1)
    } finally {
      await cache.close()
    }
  }, 60_000)
})
