// Run by retry-loop-recovers.test.ts in a process of its own: a caller's loop that retries a call
// until it succeeds without ever yielding to the event loop (`while (…) try { await get } catch
// {}`) would starve its own process, so it runs here. argv: the topology, `standalone`, `pool`
// (a `connectionPool`) or `cluster` (the primary of the key, of three); the call, `set` (a set,
// then a get of it), `transaction` (the same in one) or `blpop` (of a list pushed to); and what
// stands in the way: `down` (that server killed, the cache let see it, then started again) or
// `backpressure` (200 sets of 4 KB left in flight over a `maxInFlightBytes` of 64 KiB). Loops for
// at most 20 s; prints one line of JSON: whether the call got through, after how many tries and
// milliseconds.
import { type Cache, createCache } from '@cachex/redis'
import { delay, startCluster, startRedis } from '@cachex/test-utils'

const [topology, call, obstacle] = process.argv.slice(2)
const options = { socketTimeout: 5, maxInFlightBytes: 64 * 1024 }
let cache: Cache
let down: () => Promise<void>
let up: () => Promise<void>
let stop: () => Promise<void>
if (topology === 'cluster') {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0, nodeTimeout: 60_000 })
  cache = createCache({ client: 'cluster', location: [...cluster.seeds], ...options })
  const node = await cluster.primaryFor(cache.makeKey('k'))
  down = () => cluster.kill(node)
  up = () => cluster.restart(node)
  stop = () => cluster.stop()
} else {
  const server = await startRedis()
  const pool = topology === 'pool' ? { connectionPool: { minimum: 1, maximum: 2 } } : {}
  cache = createCache({ location: server.url, ...options, ...pool })
  down = () => server.kill()
  up = () => server.start()
  stop = () => server.stop()
}
await cache.set('k', 1)
let pending: Array<Promise<unknown>> = []
if (obstacle === 'backpressure') {
  pending = Array.from({ length: 200 }, (_, i) =>
    cache.set(`filler${i}`, 'x'.repeat(4000)).catch((error: unknown) => error),
  )
} else {
  await down()
  await delay(300)
  await cache.get('k').catch(() => undefined)
  await up()
}
const started = Date.now()
let tries = 0
let ok = false
while (Date.now() - started < 20_000) {
  tries++
  try {
    if (call === 'transaction') {
      const [, got] = await cache.transaction().set('k', 2).get('k').exec()
      ok = got === 2
    } else if (call === 'blpop') {
      await cache.rpush('list', 1)
      ok = (await cache.blpop(['list'], 0.1)) !== null
    } else {
      await cache.set('k', 'y'.repeat(8000))
      ok = (await cache.get('k')) === 'y'.repeat(8000)
    }
    break
  } catch {
    // The caller's retry: at once, no delay.
  }
}
console.log(JSON.stringify({ ok, tries, ms: Date.now() - started }))
await Promise.all(pending)
await cache.close()
await stop()
process.exit(0)
