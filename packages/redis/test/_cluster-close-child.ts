// Run by cluster-close-frozen.test.ts in a process of its own: a cluster cache is opened while a
// primary is frozen, used, and closed; the process must then end by itself.
import { createCache } from '@cachex/redis'

const seeds = (process.argv[2] as string).split(',')
const cache = createCache({ client: 'cluster', location: seeds, keyPrefix: 'frozen' })
const read = cache.get('a').catch(() => undefined)
await new Promise((resolve) => setTimeout(resolve, 500))
await cache.close()
await read
process.stdout.write('closed\n')
