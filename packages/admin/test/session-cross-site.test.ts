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

it('a GET of api/session whose only sign is a Referer of another site starts no session', async () => {
  // An old browser's `<img>` sends neither Sec-Fetch-Site nor Origin, but names the page it was
  // on in Referer.
  const other = await new Client(admin.url).request('GET', 'api/session', undefined, {
    Referer: 'https://evil.example/page',
  })
  expect(other.status).toBe(403)
  expect(other.headers.get('set-cookie')).toBeNull()
  // A Referer of the admin's own host (a proxy that adds one), or none (curl), still gets in.
  const host = new URL(admin.url).host
  const own = await new Client(admin.url).request('GET', 'api/session', undefined, {
    Referer: `http://${host}/index.html`,
  })
  expect(own.status).toBe(200)
  expect((await new Client(admin.url).get('api/session')).status).toBe(200)
})

it("cross-site GETs of a cache's keys run no SCAN, and the user's listing cursor stays", async () => {
  for (let i = 0; i < 200; i++) await cache.set(`listed:${i}`, i)
  const user = new Client(admin.url)
  const listing = 'api/caches/default/keys?pattern=listed:*&count=10'
  const first = await user.get(listing)
  expect(first.status).toBe(200)
  expect(first.json.cursor).not.toBeNull()
  // Each listing started keeps a cursor; 70 from another site would push the user's out of the
  // 64 kept.
  const crossSite = { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' }
  for (let i = 0; i < 70; i++) {
    const other = await new Client(admin.url).request('GET', listing, undefined, crossSite)
    expect(other.status).toBe(403)
  }
  const next = await user.get(`${listing}&cursor=${encodeURIComponent(first.json.cursor)}`)
  expect(next.status, next.text).toBe(200)
})
