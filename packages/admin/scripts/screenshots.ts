// `pnpm --filter @cachex/admin screenshots`: a screenshot of each page of the admin, for the docs
// (docs/images/admin/*.png). Starts a redis-server, fills it (Node values, a value Django
// pickled, traffic for the hit-rate chart), serves the admin, and drives headless Chromium.
// Takes about a minute: the hit-rate chart needs a few 10-second buckets.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createCache } from '@cachex/redis'
import { startRedis } from '@cachex/test-utils'
import { launchChromium } from '../test/browser.ts'
import { djangoWrites } from '../test/django.ts'
import { startAdmin, TOKEN } from '../test/helpers.ts'

const out = fileURLToPath(new URL('../../../docs/images/admin/', import.meta.url))
mkdirSync(out, { recursive: true })

const server = await startRedis()
const root = createCache({ location: server.url })
await root.connection.command(['CONFIG', 'SET', 'slowlog-log-slower-than', '0'])
djangoWrites(`${server.url}/0`)
const cache = createCache({ location: server.url, keyPrefix: 'shop' })
const django = createCache({
  location: server.url,
  keyPrefix: 'dj',
  serializer: 'pickle',
  compressor: 'zlib',
})
const sessions = createCache({ location: `${server.url}/1`, keyPrefix: 'sess', timeout: 1800 })
const admin = await startAdmin({
  caches: { default: cache, django, sessions },
  auth: { token: TOKEN },
})
const browser = await launchChromium()

try {
  for (let i = 1; i <= 40; i++) {
    await cache.set(
      `product:${i}`,
      { id: i, name: `Product ${i}`, price: 9.5 + i, tags: ['new', 'sale'].slice(0, i % 3) },
      3600,
    )
  }
  for (let i = 1; i <= 12; i++)
    await cache.set(`user:${i}`, { name: `user ${i}`, visits: i * 7 }, null)
  await cache.set('page:/home', `<html>${'<p>home</p>'.repeat(300)}</html>`, 600)
  await cache.set('page:/about', `<html>${'<p>about</p>'.repeat(120)}</html>`, 600)
  await cache.hset('cart:42', {
    'product:3': 2,
    'product:7': 1,
    note: { gift: true, message: 'Happy birthday' },
  })
  await cache.rpush('queue:emails', 'welcome:ada', 'reset:grace', 'digest:linus')
  await cache.zadd('leaderboard', { ada: 3120, grace: 2890, linus: 1204 })
  await cache.sadd('tags', 'new', 'sale', 'gift')
  for (let i = 0; i < 500; i++)
    await sessions.set(`s:${i.toString(36)}`, { user: i % 40, cart: [] })

  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    deviceScaleFactor: 1,
  })
  const page = await context.newPage()
  const shot = async (name: string, fullPage = false) => {
    await page.waitForTimeout(150)
    await page.screenshot({ path: join(out, `${name}.png`), fullPage })
    console.log(`  ${name}.png`)
  }

  await page.goto(`${admin.url}/`)
  await page.getByLabel('token').waitFor()
  await shot('login')
  await page.getByLabel('token').fill(TOKEN)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('heading', { name: 'Caches' }).waitFor()
  await shot('caches')

  await page.goto(`${admin.url}/#/c/default/keys?pattern=product:*`)
  await page.getByText(/keys match|keys so far/).waitFor()
  await shot('keys')

  await page.goto(`${admin.url}/#/c/django/key?k=order:1`)
  await page.getByRole('heading', { name: 'order:1' }).waitFor()
  await shot('key-django', true)

  await page.goto(`${admin.url}/#/c/default/key?k=cart:42`)
  await page.getByRole('heading', { name: 'cart:42' }).waitFor()
  await shot('key-hash', true)

  await page.goto(`${admin.url}/#/c/default/key?k=user:3`)
  const editor = page.getByLabel('value as JSON')
  await editor.waitFor()
  await editor.fill('{\n  "name": "user 3",\n  "visits": 22\n}')
  await cache.set('user:3', { name: 'user 3', visits: 99 }, null)
  await page.getByRole('button', { name: 'Save' }).click()
  await page.getByText(/Conflict/).waitFor()
  await shot('key-conflict', true)

  await page.goto(`${admin.url}/#/c/default/info`)
  await page.getByRole('heading', { name: 'INFO' }).waitFor()
  await page.locator('.card').first().waitFor()
  await shot('info', true)

  await page.goto(`${admin.url}/#/c/default/slowlog`)
  await page.getByRole('heading', { name: 'Slow log' }).waitFor()
  await page.locator('table.grid').waitFor()
  await shot('slowlog')

  // Reads for the hit-rate chart: a few 10-second buckets with a ratio that climbs.
  const until = Date.now() + 35_000
  let round = 0
  while (Date.now() < until) {
    round++
    const hitShare = Math.min(0.95, 0.45 + round / 400)
    for (let i = 0; i < 40; i++) {
      const n = Math.random() < hitShare ? 1 + Math.floor(Math.random() * 40) : 1000 + i
      await cache.get(`product:${n}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 60))
  }
  await page.goto(`${admin.url}/#/c/default/stats`)
  await page.locator('svg.chart').nth(1).waitFor()
  await shot('charts', true)

  await page.goto(`${admin.url}/#/c/sessions/delete`)
  await page.getByLabel('pattern').fill('s:*')
  await page.getByRole('button', { name: 'Count matching keys' }).click()
  await page.getByText('500 keys match').waitFor()
  await shot('delete-pattern-count')
  await page.getByRole('button', { name: 'Delete 500 keys' }).click()
  await page.getByText(/Deleted 500 keys/).waitFor()
  await shot('delete-pattern-done')
  console.log(`screenshots written to ${out}`)
} finally {
  await browser.close()
  await admin.close()
  await Promise.all([cache.close(), django.close(), sessions.close()])
  await root.close()
  await server.stop()
}
