// Run by notifier-close.test.ts in a process of its own: a distributed getOrSet waits on a lock
// held elsewhere while its stampede subscriber connects to a server that does not answer; then
// the cache is closed, and the process must end by itself (nothing else keeps it alive).
import { createCache } from '@cachex/redis'

const [url, keyPrefix] = process.argv.slice(2) as [string, string]
// A long connect timeout: the process may only end because close() and unref let go of the
// subscriber, not because its connection attempt timed out.
const cache = createCache({ location: url, keyPrefix, socketConnectTimeout: 60 })
await cache.set('warm', 1)
const value = await cache.getOrSet('k', async () => 'computed', {
  distributed: true,
  waitTimeout: 1,
})
await cache.close()
process.stdout.write(`closed ${String(value)}\n`)
