// Run by cluster-close-exit.test.ts in a process of its own: a cluster cache whose every node is
// frozen is asked for a key, and closed a second later, while it still discovers the cluster; the
// process must then end by itself, at once.
import { createCache } from '@cachex/redis'

const seeds = (process.argv[2] as string).split(',')
const cache = createCache({
  client: 'cluster',
  location: seeds,
  socketConnectTimeout: Number(process.argv[3]),
  keyPrefix: 'exit',
})
const read = cache.get('a').catch(() => undefined)
await new Promise((resolve) => setTimeout(resolve, 1000))
await cache.close()
process.stdout.write('closed\n')
await read
