// Run by throwing-logger.test.ts in a process of its own (Node's defaults: an uncaught exception
// or an unhandled rejection ends it). A cache with the local tier, for a user the ACL refuses
// CLIENT, and a logger whose methods throw: the tier stays off and the process lives on.
import { createCache } from '@cachex/redis'

const [location] = process.argv.slice(2) as [string]
const boom = () => {
  throw new Error('logger is broken')
}
const cache = createCache({
  location,
  keyPrefix: 'app',
  local: { maxEntries: 100 },
  logger: { error: boom, warn: boom },
})
await cache.set('k', 1)
const got = await cache.get('k')
await new Promise((resolve) => setTimeout(resolve, 1500))
const again = await cache.get('k')
await cache.close()
process.stdout.write(`alive ${String(got)} ${String(again)}\n`)
