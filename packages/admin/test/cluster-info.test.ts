// The INFO page and the server address of a cache on a Redis Cluster: every primary's INFO, each
// named by its address, the keyspace and the hits summed over them; one stable address for the
// cache; a frozen primary shown as failed (no password in its error) while the others are shown;
// the page in Chromium.
import { type Cache, createCache } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium } from './browser.ts'
import { type AdminServer, Client, closeAll, startAdmin, TOKEN } from './helpers.ts'

const PASSWORD = 'cluster-info-secret-pw-77'
let cluster: TestCluster
let cache: Cache
let admin: AdminServer
let client: Client
let browser: Browser | undefined

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0, password: PASSWORD })
  cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix('cinfo'),
    socketTimeout: 2,
  })
  admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  client = new Client(admin.url, TOKEN)
}, 120_000)

afterAll(async () => {
  for (const node of cluster?.nodes ?? []) cluster.resume(node)
  await browser?.close()
  await admin?.close()
  await closeAll(cache)
  await cluster?.stop()
}, 60_000)

interface Db {
  db: string
  keys: number
  expires: number
}

const sum = (dbs: Db[], field: 'keys' | 'expires') => dbs.reduce((n, db) => n + db[field], 0)

describe('INFO on a cluster', () => {
  it('shows every primary by its address and sums the keyspace and the hits', async () => {
    await cache.setMany(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k:${i}`, i])))
    await cache.set('forever', 1, { timeout: null })
    await cache.getMany(['k:1', 'k:2', 'absent:1'])
    const ports = (await cluster.primaries()).map((node) => node.port).sort()
    for (let i = 0; i < 6; i++) {
      const info = await client.get('api/caches/default/info')
      expect(info.status).toBe(200)
      expect(sum(info.json.keyspace, 'keys')).toBe(301)
      expect(sum(info.json.keyspace, 'expires')).toBe(300)
      const nodes = info.json.nodes as Array<{
        address: string
        keyspace: Db[]
        sections: Array<{ name: string; fields: Array<[string, string]> }>
        error?: string
      }>
      expect(nodes).toHaveLength(3)
      expect(nodes.map((n) => Number(n.address.split(':').pop())).sort()).toEqual(ports)
      for (const node of nodes) {
        expect(node.error).toBeUndefined()
        expect(node.sections.map((s) => s.name)).toContain('Memory')
      }
      // Each node's keys are its own: together, the whole cluster's.
      expect(nodes.reduce((n, node) => n + sum(node.keyspace, 'keys'), 0)).toBe(301)
      const field = (node: (typeof nodes)[number], name: string) =>
        Number(node.sections.flatMap((s) => s.fields).find(([k]) => k === name)?.[1] ?? 0)
      const hits = nodes.reduce((n, node) => n + field(node, 'keyspace_hits'), 0)
      const misses = nodes.reduce((n, node) => n + field(node, 'keyspace_misses'), 0)
      expect(hits).toBeGreaterThan(0)
      expect(info.json.hitRatio).toBeCloseTo(hits / (hits + misses), 2)
    }
  }, 60_000)

  it('names the cache by its primaries, the same on every request', async () => {
    const ports = (await cluster.primaries()).map((node) => node.port)
    const addresses = new Set<string>()
    for (let i = 0; i < 8; i++) {
      const answer = await client.get('api/caches')
      expect(answer.status).toBe(200)
      addresses.add(answer.json.caches[0].address)
    }
    expect(addresses.size).toBe(1)
    const [address] = addresses
    expect(address).toMatch(/^cluster of 3 primaries: /)
    for (const port of ports) expect(address).toContain(`:${port}`)
  })

  it('draws the sums and each primary on the INFO page, in Chromium', async () => {
    browser = await launchChromium()
    const page = await browser.newPage()
    await page.goto(`${admin.url}/`)
    await page.getByLabel('token').fill(TOKEN)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Caches' }).waitFor()
    await page.getByText(/^cluster of 3 primaries: /).waitFor()
    await page.goto(`${admin.url}/#/c/default/info`)
    await page.getByRole('heading', { name: 'Cluster totals' }).waitFor()
    expect(await page.getByText(/^Cluster hit ratio: /).count()).toBe(1)
    const total = page.locator('section', {
      has: page.getByRole('heading', { name: 'Keyspace (all primaries)' }),
    })
    expect(await total.locator('td').first().textContent()).toBe('301 keys, 300 with a TTL')
    const ports = (await cluster.primaries()).map((node) => node.port)
    for (const port of ports) {
      await page.getByRole('heading', { name: new RegExp(`^Primary .*:${port}$`) }).waitFor()
    }
    expect(await page.getByRole('heading', { name: 'Memory' }).count()).toBe(3)
    await page.close()
  }, 60_000)

  it('shows a frozen primary as failed, in bounded time, and the others still', async () => {
    const [frozen] = await cluster.primaries()
    if (frozen === undefined) throw new Error('no primary')
    cluster.pause(frozen)
    try {
      const started = Date.now()
      const info = await client.get('api/caches/default/info')
      // socketTimeout is 2 s: a wide margin for a loaded machine, far from a hang.
      expect(Date.now() - started).toBeLessThan(30_000)
      expect(info.status).toBe(200)
      const nodes = info.json.nodes as Array<{ address: string; error?: string; keyspace?: Db[] }>
      expect(nodes).toHaveLength(3)
      const failed = nodes.filter((n) => n.error !== undefined)
      expect(failed.map((n) => n.address)).toEqual([expect.stringContaining(`:${frozen.port}`)])
      expect(failed[0]?.keyspace).toBeUndefined()
      expect(nodes.filter((n) => n.error === undefined)).toHaveLength(2)
      expect(sum(info.json.keyspace, 'keys')).toBeLessThan(301)
      const list = await client.get('api/caches')
      expect(list.json.caches[0].address).toMatch(/^cluster of 3 primaries: /)
    } finally {
      cluster.resume(frozen)
    }
    for (const body of client.bodies) expect(body).not.toContain(PASSWORD)
  }, 90_000)
})
