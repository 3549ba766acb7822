// Run by sentinel-refused-exit.test.ts in a process of its own: a sentinel cache one of whose
// sentinels refuses the handshake (it wants a password cachex does not have) is used, then
// closed; the process must then end by itself, at once.
import { createCache } from '@cachex/redis'

const cache = createCache(JSON.parse(process.argv[2] as string))
await cache.set('k', 1)
await cache.get('k')
// The refusing sentinel has been refused at least once by now (its connection is made at once).
await new Promise((resolve) => setTimeout(resolve, 500))
await cache.close()
process.stdout.write('closed\n')
