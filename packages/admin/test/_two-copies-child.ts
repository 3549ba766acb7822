// An app that imports @cachex/redis (ESM) and requires @cachex/admin (CommonJS): two copies of
// @cachex/core in one process, as Node's dual packages give, or the App Router and Pages Router
// bundles of `next dev`. Prints the status and body of the admin's key listing of the cache.
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { createCache } from '@cachex/redis'

const require = createRequire(import.meta.url)
const { createAdminHandler } = require('@cachex/admin') as typeof import('@cachex/admin')
const token = 'x'.repeat(20)
const cache = createCache({ location: 'memory://two-copies', keyPrefix: 'p' })
await cache.set('k', 1)
const admin = createAdminHandler({ caches: { default: cache }, auth: { token } })
const server = createServer(admin)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const { port } = server.address() as AddressInfo
const response = await fetch(`http://127.0.0.1:${port}/api/caches/default/keys?pattern=*`, {
  headers: { Authorization: `Bearer ${token}` },
})
console.log(JSON.stringify({ status: response.status, body: await response.text() }))
admin.close()
server.close()
await cache.close()
