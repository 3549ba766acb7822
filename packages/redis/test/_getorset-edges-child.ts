// Run by getorset-edges.test.ts in a process of its own, under Node's default
// --unhandled-rejections=throw: getOrSet hits, handed promises that reject (one a hit does not
// need, one with an argument refused). The process must live on and exit 0.
import { createCache } from '@cachex/redis'

const [location, keyPrefix] = process.argv.slice(2) as [string, string]
const cache = createCache({ location, keyPrefix })
await cache.set('hit', 'held', 60)
const value = await cache.getOrSet('hit', Promise.reject(new Error('upstream failed')))
const refused = await cache
  .getOrSet('hit', Promise.reject(new Error('upstream failed')), { waitTimeout: -1 })
  .catch((error: Error) => error.name)
// A turn of the event loop: an unhandled rejection would end the process before it.
await new Promise<void>((resolve) => setImmediate(resolve))
await cache.close()
process.stdout.write(`got ${String(value)} ${String(refused)}\n`)
