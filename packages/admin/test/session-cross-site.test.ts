// With an `auth` function, a GET of api/session starts a session of the admin's own (it carries
// the CSRF token). A request another site makes (an `<img>` pointing there) must not: 50 of them
// pushed the user's own session out of the 50 kept, and the user's next write was refused.
import { type Cache, createCache } from '@cachex/redis'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AdminServer, Client, closeAll, startAdmin } from './helpers.ts'

let admin: AdminServer
let cache: Cache
beforeAll(async () => {
  cache = createCache({ location: 'memory://admin-session-cross-site', keyPrefix: 'p' })
  // An application whose auth lets in every request of this machine's loopback.
  admin = await startAdmin({
    caches: { default: cache },
    auth: (req) => (req.socket.remoteAddress === '127.0.0.1' ? 'ada' : false),
    audit: () => undefined,
  })
})
afterAll(async () => {
  await admin?.close()
  await closeAll(cache)
})

it('a cross-site GET of api/session starts no session, and the user keeps theirs', async () => {
  const user = new Client(admin.url)
  const session = await user.get('api/session')
  user.csrf = session.json.csrf
  await cache.set('k', 1)
  const crossSite = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' }
  for (let i = 0; i < 50; i++) {
    const other = await new Client(admin.url).request('GET', 'api/session', undefined, crossSite)
    expect(other.status).toBe(403)
  }
  const deleted = await user.request('DELETE', 'api/caches/default/key?key=k')
  expect(deleted.status).toBe(200)
  expect(await cache.get('k')).toBeNull()
})
