// Probe: the admin mounted on Node's HTTP/2 server (the compatibility API gives the same
// `(req, res)` shape as node:http; Fastify `http2: true` and Hono's node adapter use it). Browsers
// send `:authority`, not `Host`, over HTTP/2.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Cache, createCache } from '@cachex/redis'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM } from '../test/browser.ts'
import { createAdminHandler } from '../src/index.ts'
import { TOKEN } from '../test/helpers.ts'

let cache: Cache
let handler: ReturnType<typeof createAdminHandler>
let server: http2.Http2SecureServer
let url: string

beforeAll(async () => {
  cache = createCache({ location: 'memory://', keyPrefix: 'h2' })
  handler = createAdminHandler({ caches: { default: cache }, auth: { token: TOKEN } })
  const dir = mkdtempSync(join(tmpdir(), 'admin-h2-'))
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
  ], { stdio: 'ignore' })
  server = http2.createSecureServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    handler as never,
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  handler?.close()
  await new Promise((r) => server?.close(r))
  await cache?.close()
})

describe('the admin over HTTP/2', () => {
  it('a browser logs in and saves a value', { timeout: 60_000 }, async () => {
    await cache.set('doc', { a: 1 })
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    })
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true })
      const page = await context.newPage()
      const response = await page.goto(`${url}/`)
      console.log('protocol', await response?.request().headerValue(':authority'))
      await page.getByLabel('token').fill(TOKEN)
      await page.getByRole('button', { name: 'Log in' }).click()
      const outcome = await Promise.race([
        page.locator('header.top').waitFor().then(() => 'logged in'),
        page.locator('.notice.error').waitFor().then(async () =>
          String(await page.locator('.notice.error').textContent()),
        ),
      ])
      console.log('login outcome:', outcome)
      expect(outcome).toBe('logged in')
    } finally {
      await browser.close()
    }
  })
})
