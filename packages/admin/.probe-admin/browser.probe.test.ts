// Probe: hostile Redis content in the real browser (Debian's chromium via playwright-core), and a
// hostile page on another origin trying to read or write through the admin.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { launchChromium } from '../test/browser.ts'
import { type AdminServer, closeAll, startAdmin, TOKEN } from '../test/helpers.ts'

let server: RedisServer
let cache: Cache
let pickled: Cache
let admin: AdminServer
let browser: Browser
let context: BrowserContext
let page: Page
let evil: Server
let evilUrl: string
const dialogs: string[] = []
const consoleErrors: string[] = []
const PAYLOAD = '"><img src=x onerror=alert(1)></script><script>alert(2)</script>'

const raw = (...args: Array<string | Buffer>) =>
  cache.connection.command(args, { key: args[1] as string })

beforeAll(async () => {
  server = await startRedis()
  cache = createCache({ location: server.url, keyPrefix: 'web' })
  pickled = createCache({ location: server.url, keyPrefix: 'py', serializer: 'pickle' })
  admin = await startAdmin({ caches: { default: cache, pickled }, auth: { token: TOKEN } })
  browser = await launchChromium()
  // The hostile page: another origin (another port of the same host: same *site*).
  evil = createServer((req, res) => {
    res.setHeader('Content-Type', 'text/html')
    res.end(`<!doctype html><html><body><form id="f" method="POST" enctype="text/plain"></form>
<script>window.results = [];</script></body></html>`)
  })
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r))
  evilUrl = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`
})

afterAll(async () => {
  await browser?.close()
  await admin?.close()
  evil?.close()
  await closeAll(cache, pickled)
  await server?.stop()
})

beforeEach(async () => {
  await context?.close()
  context = await browser.newContext()
  page = await context.newPage()
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message())
    void dialog.dismiss()
  })
  page.on('pageerror', (error) => consoleErrors.push(String(error)))
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('401')) consoleErrors.push(m.text())
  })
})

async function logIn(hash = ''): Promise<void> {
  await page.goto(`${admin.url}/${hash}`)
  await page.getByLabel('token').fill(TOKEN)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.locator('header.top').waitFor()
}

async function noScriptRan(): Promise<void> {
  await page.waitForTimeout(300)
  expect(dialogs).toEqual([])
  expect(await page.locator('main img, main script, main iframe').count()).toBe(0)
}

describe('hostile content in the browser', () => {
  it('key names with HTML, javascript:, bidi, NUL and control characters', async () => {
    const names = [
      PAYLOAD,
      'javascript:alert(3)',
      'bidi:\u202Egnp.exe\u202C',
      'nul:\u0000<b>x</b>',
      'ctl:\u0007\u001b[31m\u0085\u2028\u2029',
      '__proto__',
      'constructor',
    ]
    for (const name of names) await cache.set(name, { html: PAYLOAD, [PAYLOAD]: name })
    // Not UTF-8, with HTML around the invalid byte.
    const bad = Buffer.concat([
      Buffer.from(cache.makeKey('<img src=x onerror=alert(4)>')),
      Buffer.from([0xff, 0xfe]),
    ])
    await raw('SET', bad, Buffer.from([0xff, 0x3c, 0x73, 0x63, 0x72, 0x69, 0x70, 0x74, 0x3e]))
    await logIn('#/c/default/keys')
    await page.getByText(/keys match \*/).waitFor()
    const links = await page.locator('table.keys a.key').allTextContents()
    for (const name of names) expect(links).toContain(name)
    await noScriptRan()
    for (const name of names) {
      await page.goto(
        `${admin.url}/#/c/default/key?${new URLSearchParams({ k: name }).toString()}`,
      )
      await page.locator('h1.key-title').waitFor()
      expect(await page.locator('h1.key-title').textContent()).toBe(name)
      expect(await page.getByLabel('value as JSON').inputValue()).toContain('onerror')
    }
    await noScriptRan()
    expect(consoleErrors).toEqual([])
  })

  it('containers and undecodable values with HTML', async () => {
    await raw('HSET', cache.makeKey('h'), PAYLOAD, PAYLOAD, 'ok', JSON.stringify(PAYLOAD))
    await raw('RPUSH', cache.makeKey('l'), PAYLOAD, Buffer.from([0xff, 0x00, 0x3c]))
    await raw('SADD', cache.makeKey('s'), PAYLOAD)
    await raw('ZADD', cache.makeKey('z'), '1', PAYLOAD)
    await raw('XADD', cache.makeKey('x'), '*', PAYLOAD, PAYLOAD)
    await raw('SET', cache.makeKey('bin'), Buffer.from(`\xff\xfe${PAYLOAD}`, 'latin1'))
    await raw('SET', cache.makeKey('deep'), `${'['.repeat(5000)}${']'.repeat(5000)}`)
    await raw('SET', pickled.makeKey('bad'), Buffer.from(`\x80\x04${PAYLOAD}`, 'latin1'))
    await logIn('#/c/default/keys')
    for (const [alias, key] of [
      ['default', 'h'],
      ['default', 'l'],
      ['default', 's'],
      ['default', 'z'],
      ['default', 'x'],
      ['default', 'bin'],
      ['default', 'deep'],
      ['pickled', 'bad'],
    ]) {
      await page.goto(`${admin.url}/#/c/${alias}/key?k=${key}`)
      await page.locator('section.value').waitFor()
      const text = await page.locator('section.value').textContent()
      expect(text, key).toMatch(/onerror|\[|\\x/)
    }
    await noScriptRan()
    expect(consoleErrors).toEqual([])
  })

  it('the slow log and the memory chart with HTML', async () => {
    await cache.connection.command(['CONFIG', 'SET', 'slowlog-log-slower-than', '0'], {})
    await raw('SET', cache.makeKey(`mem${PAYLOAD}:x`), PAYLOAD)
    await raw('GET', PAYLOAD)
    await logIn('#/c/default/slowlog')
    await page.getByText(/onerror/).first().waitFor()
    await page.goto(`${admin.url}/#/c/default/stats`)
    await page.getByText(/onerror/).first().waitFor()
    await noScriptRan()
    await cache.connection.command(['CONFIG', 'SET', 'slowlog-log-slower-than', '10000'], {})
  })
})

describe('a hostile page on another origin (same site: another port)', () => {
  it('cannot read, write, delete or log in through the admin', async () => {
    await cache.set('victim', 'safe')
    await logIn()
    const evilPage = await context.newPage()
    evilPage.on('dialog', (d) => void d.dismiss())
    await evilPage.goto(evilUrl)
    const results = await evilPage.evaluate(
      async ({ base }) => {
        const out: Record<string, string> = {}
        const tryIt = async (name: string, f: () => Promise<Response>) => {
          try {
            const r = await f()
            out[name] = `${r.status} ${r.type} ${await r.text().catch(() => '?')}`
          } catch (e) {
            out[name] = `threw ${String(e)}`
          }
        }
        await tryIt('read caches', () => fetch(`${base}/api/caches`, { credentials: 'include' }))
        await tryIt('read session', () => fetch(`${base}/api/session`, { credentials: 'include' }))
        await tryIt('no-cors read', () =>
          fetch(`${base}/api/caches`, { credentials: 'include', mode: 'no-cors' }),
        )
        await tryIt('delete no-cors', () =>
          fetch(`${base}/api/caches/default/key?key=victim`, {
            method: 'DELETE',
            credentials: 'include',
            mode: 'no-cors',
          }),
        )
        await tryIt('pattern text/plain', () =>
          fetch(`${base}/api/caches/default/delete-pattern`, {
            method: 'POST',
            credentials: 'include',
            mode: 'no-cors',
            headers: { 'Content-Type': 'text/plain' },
            body: '{"pattern":"*"}',
          }),
        )
        await tryIt('pattern json', () =>
          fetch(`${base}/api/caches/default/delete-pattern`, {
            method: 'POST',
            credentials: 'include',
            headers: { 'Content-Type': 'application/json' },
            body: '{"pattern":"*"}',
          }),
        )
        await tryIt('logout', () =>
          fetch(`${base}/api/logout`, { method: 'POST', credentials: 'include', mode: 'no-cors' }),
        )
        return out
      },
      { base: admin.url },
    )
    console.log(results)
    await new Promise((r) => setTimeout(r, 500))
    expect(await cache.get('victim')).toBe('safe')
    for (const [name, result] of Object.entries(results)) {
      expect(result, name).not.toMatch(/"caches"|"csrf"|^200/)
    }
    // The admin's session still works (the logout from another origin did nothing).
    const status = await page.evaluate(async () => (await fetch('api/caches')).status)
    expect(status).toBe(200)
  })
})
