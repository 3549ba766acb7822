// Run by retry-loop-recovers.test.ts in a process of its own: a caller's loop that retries a call
// until it succeeds without ever yielding to the event loop (`while (…) try { await get } catch
// {}`) would starve its own process, so it runs here. argv: `standalone`, or `cluster` (the
// primary of the key, of three). Stops that server, lets the cache see it down, starts it again,
// then loops for at most 20 s; prints one line of JSON: whether a call (a set, then a get of it)
// succeeded, after how many tries and milliseconds.
import { type Cache, createCache } from '@cachex/redis'
import { delay, startCluster, startRedis } from '@cachex/test-utils'

const mode = process.argv[2]
let cache: Cache
let down: () => Promise<void>
let up: () => Promise<void>
let stop: () => Promise<void>
if (mode === 'cluster') {
  const cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0, nodeTimeout: 60_000 })
  cache = createCache({ client: 'cluster', location: [...cluster.seeds], socketTimeout: 1 })
  const node = await cluster.primaryFor(cache.makeKey('k'))
  down = () => cluster.kill(node)
  up = () => cluster.restart(node)
  stop = () => cluster.stop()
} else {
  const server = await startRedis()
  cache = createCache({ location: server.url, socketTimeout: 1 })
  down = () => server.kill()
  up = () => server.start()
  stop = () => server.stop()
}
await cache.set('k', 1)
await down()
await delay(300)
await cache.get('k').catch(() => undefined)
await up()
const started = Date.now()
let tries = 0
let ok = false
while (Date.now() - started < 20_000) {
  tries++
  try {
    await cache.set('k', 2)
    ok = (await cache.get('k')) === 2
    break
  } catch {
    // The caller's retry: at once, no delay.
  }
}
console.log(JSON.stringify({ ok, tries, ms: Date.now() - started }))
await cache.close()
await stop()
process.exit(0)
