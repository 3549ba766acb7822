// Run by retry-loop-recovers.test.ts in a process of its own: a caller's loop that retries a call
// until it succeeds without ever yielding to the event loop (`while (…) try { await get } catch
// {}`) would starve its own process, so it runs here. Stops Redis, lets the cache see it down,
// starts Redis again, then loops for at most 20 s; prints one line of JSON: whether a call
// (a set, then a get of it) succeeded, after how many tries and milliseconds.
import { createCache } from '@cachex/redis'
import { delay, startRedis } from '@cachex/test-utils'

const server = await startRedis()
const cache = createCache({ location: server.url, socketTimeout: 1 })
await cache.set('k', 1)
await server.kill()
await delay(300)
await cache.get('k').catch(() => undefined)
await server.start()
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
await server.stop()
process.exit(0)
