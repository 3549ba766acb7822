// A tracking connection gone silent — the server lost it, but no close reached this process (a
// NAT or conntrack entry expired, a laptop slept, a serverless freeze): no invalidation comes any
// more, and the local tier served an overwritten value for as long as TCP took to give up
// (minutes), `localStats().tracking` still true. Its keepalive `PING` now has a deadline: one
// unanswered within 5 s after it was due takes the tier down (emptied) and opens a new
// connection.
import { connect, createServer, type Server, type Socket } from 'node:net'
import { type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/index.ts'

let server: RedisServer
let proxy: Server
const pairs: Array<{ client: Socket; upstream: Socket; tracking: boolean; silent: boolean }> = []
let cache: Cache

beforeAll(async () => {
  server = await startRedis()
  // Passes bytes both ways; a pair made silent drops its upstream and tells the client nothing.
  proxy = createServer((client) => {
    const upstream = connect(server.port, '127.0.0.1')
    const pair = { client, upstream, tracking: false, silent: false }
    pairs.push(pair)
    client.on('data', (data: Buffer) => {
      if (data.toString('latin1').toUpperCase().includes('TRACKING')) pair.tracking = true
      if (!pair.silent) upstream.write(data)
    })
    upstream.on('data', (data: Buffer) => {
      if (!pair.silent) client.write(data)
    })
    client.on('error', () => undefined)
    upstream.on('error', () => undefined)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => {
      if (!pair.silent) client.destroy()
    })
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
}, 60_000)

afterAll(async () => {
  await cache?.close()
  for (const pair of pairs) {
    pair.client.destroy()
    pair.upstream.destroy()
  }
  await new Promise((resolve) => proxy?.close(resolve))
  await server?.stop()
})

it('a tracking connection gone silent is replaced: the tier stops serving what others overwrote', async () => {
  const port = (proxy.address() as { port: number }).port
  cache = createCache({
    location: `redis://127.0.0.1:${port}/0`,
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
  for (const pair of pairs) {
    if (pair.tracking) {
      pair.silent = true
      pair.upstream.destroy()
    }
  }
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
