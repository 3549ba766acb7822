// A tracking connection gone silent — the server lost it, but no close reached this process (a
// NAT or conntrack entry expired, a laptop slept, a serverless freeze): no invalidation comes any
// more, and the local tier served an overwritten value for as long as TCP took to give up
// (minutes), `localStats().tracking` still true. Its keepalive `PING` now has a deadline: one
// unanswered within 5 s after it was due takes the tier down (emptied) and opens a new
// connection.
import { type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/index.ts'
import { type SilentProxy, silentProxy } from './_silent-proxy.ts'

let server: RedisServer
let proxy: SilentProxy
let cache: Cache

beforeAll(async () => {
  server = await startRedis()
  proxy = await silentProxy(server.port)
}, 60_000)

afterAll(async () => {
  await cache?.close()
  await proxy?.close()
  await server?.stop()
})

it('a tracking connection gone silent is replaced: the tier stops serving what others overwrote', async () => {
  cache = createCache({
    location: proxy.url,
    keyPrefix: uniquePrefix('silent'),
    local: {},
    clientOptions: { pingInterval: 300 },
  })
  await cache.set('k', 'v1')
  await cache.get('k') // opens the tier's tracking connection
  const deadline = Date.now() + 10_000
  while (cache.localStats()?.tracking !== true && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  expect(await cache.get('k')).toBe('v1')
  expect(await cache.get('k')).toBe('v1')
  expect(cache.localStats()?.hits).toBeGreaterThan(0)

  // The server loses the tracking connection; this process hears nothing of it.
  for (const pair of proxy.pairs) if (pair.tracking) proxy.mute(pair)
  await redisCall(server.url, ['SET', cache.makeKey('k'), '"v2"'])

  // Before: 'v1' for as long as TCP took to give up. Now: 'v2' within the PING's deadline (5 s
  // after it was due), with a generous margin for a loaded machine.
  const started = performance.now()
  let value = await cache.get('k')
  while (value !== 'v2' && performance.now() - started < 20_000) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    value = await cache.get('k')
  }
  expect(value).toBe('v2')
  console.info(`the tier read the new value after ${Math.round(performance.now() - started)} ms`)
  // And the tier is back on a new tracking connection, coherent again.
  while (cache.localStats()?.tracking !== true && performance.now() - started < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  expect(cache.localStats()?.tracking).toBe(true)
}, 60_000)
