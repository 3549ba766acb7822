// Run by owner-closed-client.test.ts in a process of its own: a cache on a client of the user's,
// which the user closes first (the usual shutdown order), a call in flight; the process must end.

import { createCache } from '@cachex/redis'
import { createClient } from '@redis/client'

const client = createClient({ url: process.argv[2] })
await client.connect()
const cache = createCache({ location: client, keyPrefix: 'owner' })
await cache.set('a', 1)
await client.close()
const after = await cache.get('a').then(
  () => 'answered',
  (error: Error) => error.name,
)
await cache.close()
process.stdout.write(`closed ${after} ${client.isOpen}\n`)
