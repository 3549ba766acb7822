// The admin in a real browser (headless Chromium, playwright-core): log in (and be refused
// without the token), browse and search keys, read a value Django pickled, edit a value while
// someone else changes it (the conflict is reported), delete by pattern with a progress bar,
// and show a hostile `<script>` value as text without running it.
import { MAX_INSPECT_ITEMS } from '@cachex/core/internal'
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { launchChromium } from './browser.ts'
import { djangoWrites } from './django.ts'
import { type AdminServer, closeAll, startAdmin, TOKEN } from './helpers.ts'

let server: RedisServer
let cache: Cache
let django: Cache
let admin: AdminServer
let browser: Browser
let context: BrowserContext
let page: Page
const dialogs: string[] = []

beforeAll(async () => {
  server = await startRedis()
  djangoWrites(`${server.url}/0`)
  cache = createCache({ location: server.url, keyPrefix: 'web' })
  django = createCache({
    location: server.url,
    keyPrefix: 'dj',
    serializer: 'pickle',
    compressor: 'zlib',
  })
  admin = await startAdmin({ caches: { default: cache, django }, auth: { token: TOKEN } })
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await admin?.close()
  await closeAll(cache, django)
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
})

async function logIn(hash = ''): Promise<void> {
  await page.goto(`${admin.url}/${hash}`)
  await page.getByLabel('token').fill(TOKEN)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.locator('header.top').waitFor()
}

describe('the admin in Chromium', () => {
  it('refuses without the token, and logs in with it', async () => {
    const response = await page.goto(`${admin.url}/`)
    expect(response?.status()).toBe(401)
    await expect.poll(() => page.getByLabel('token').isVisible()).toBe(true)
    expect(await page.getByText('Caches').count()).toBe(0)
    await page.getByLabel('token').fill('wrong-token-0123456789')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByText('wrong token').waitFor()
    const api = await page.evaluate(async () => (await fetch('api/caches')).status)
    expect(api).toBe(401)
    await page.getByLabel('token').fill(TOKEN)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByRole('heading', { name: 'Caches' }).waitFor()
    expect(await page.getByRole('link', { name: 'django', exact: true }).isVisible()).toBe(true)
    // The session is an HttpOnly cookie: the page's script cannot read it.
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { document: { cookie: string } }).document.cookie,
      ),
    ).toBe('')
    const cookies = await context.cookies()
    expect(cookies.find((c) => c.name === 'cachex_admin')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    })
  })

  it('browses and searches keys, page by page', async () => {
    const entries: Record<string, string> = {}
    for (let i = 0; i < 60; i++) entries[`user:${i}`] = `name ${i}`
    await cache.setMany(entries, 300)
    await cache.set('other:1', 1)
    await logIn('#/c/default/keys')
    await page.getByLabel('pattern').fill('user:*')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.getByText(/50 keys so far/).waitFor()
    await page.getByRole('button', { name: 'Load more' }).click()
    await page.getByText('60 keys match user:*.').waitFor()
    expect(await page.locator('table.keys tbody tr').count()).toBe(60)
    expect(await page.getByRole('link', { name: 'other:1' }).count()).toBe(0)
    await page.getByRole('link', { name: 'user:7', exact: true }).click()
    await page.getByRole('heading', { name: 'user:7' }).waitFor()
    await page.getByText('"name 7"').waitFor()
  })

  it('lists a key whose name is too long for a URL without a link, and says why', async () => {
    const long = `long:${'n'.repeat(20_000)}`
    await cache.set(long, 1, 300)
    await cache.set('long:short', 1, 300)
    await logIn(`#/c/default/keys?pattern=${encodeURIComponent('long:*')}`)
    await page.getByText('2 keys match long:*.').waitFor()
    expect(await page.getByRole('link', { name: 'long:short', exact: true }).count()).toBe(1)
    const cell = page.locator('table.keys span.key', { hasText: 'long:nnnn' })
    expect(await cell.count()).toBe(1)
    expect(await cell.getAttribute('title')).toMatch(/too long for the admin to open/)
    await cell.getByText('too long to open: 20005 characters').waitFor()
    expect(await page.locator('table.keys a.key').count()).toBe(1)
    // Its page, reached by its address, says so instead of failing with the server's 431.
    await page.goto(`${admin.url}/#/c/default/key?${new URLSearchParams({ k: long })}`)
    await page.getByText(/too long for the admin to open/).waitFor()
  })

  it('marks the characters of a name that show as nothing (zero-width, bidi)', async () => {
    await cache.set('spoof:ab', 'plain', 300)
    await cache.set('spoof:a\u200bb', 'zero-width', 300)
    await cache.set('spoof:a\u202eb', 'bidi', 300)
    await logIn(`#/c/default/keys?pattern=${encodeURIComponent('spoof:*')}`)
    await page.getByText('3 keys match spoof:*.').waitFor()
    // Three names that would look alike: the two with a hidden character show it.
    expect(await page.locator('table.keys a.key .hidden-char').allTextContents()).toEqual(
      expect.arrayContaining(['U+200B', 'U+202E']),
    )
    expect(await page.locator('table.keys a.key', { hasText: 'U+' }).count()).toBe(2)
    await page.locator('table.keys a.key', { hasText: 'U+202E' }).click()
    await page.locator('h1.key-title .hidden-char', { hasText: 'U+202E' }).waitFor()
    await page.getByText('"bidi"').waitFor()
  })

  it('marks what tells names apart that look the same: fillers, selectors, spaces, accents', async () => {
    // Each of these looks like `look:ab`, `look:a b` or `look:café` written plainly.
    const marked: Array<[string, string]> = [
      ['look:a\ufe0fb', 'U+FE0F'],
      ['look:a\u{e0100}b', 'U+E0100'],
      ['look:a\u034fb', 'U+034F'],
      ['look:a\u3164b', 'U+3164'],
      ['look:a\u115fb', 'U+115F'],
      ['look:a\u2800b', 'U+2800'],
      ['look:a\u00a0b', 'U+00A0'],
      ['look:cafe\u0301', 'U+0301'],
    ]
    const plain = ['look:ab', 'look:a b', 'look:caf\u00e9']
    for (const name of [...plain, ...marked.map(([name]) => name)]) await cache.set(name, 1, 300)
    await logIn(`#/c/default/keys?pattern=${encodeURIComponent('look:*')}`)
    await page.getByText(`${plain.length + marked.length} keys match look:*.`).waitFor()
    const rows = await page.locator('table.keys a.key').evaluateAll((links) =>
      links.map((a) => ({
        text: a.textContent,
        marks: [...a.querySelectorAll('.hidden-char')].map((mark) => mark.textContent),
      })),
    )
    for (const [name, code] of marked) {
      const row = rows.find((r) => r.marks.includes(code))
      expect(row, name).toBeDefined()
    }
    // The plain ones (the composed é included) show as they are.
    expect(
      rows
        .filter((r) => r.marks.length === 0)
        .map((r) => r.text)
        .sort(),
    ).toEqual([...plain].sort())
  })

  it('shows correctly written names as they are: emoji sequences, joiners of a script, NFC text', async () => {
    // Each shows as written: no character of it is marked.
    const plain = [
      'write:like:\u2764\ufe0f', // ❤️: the heart with its emoji variation selector
      'write:flag:\u{1f3f3}\ufe0f\u200d\u{1f308}', // 🏳️‍🌈
      'write:family:\u{1f469}\u200d\u{1f469}\u200d\u{1f467}\u200d\u{1f466}', // 👩‍👩‍👧‍👦
      'write:skin:\u{1f44d}\u{1f3fd}', // 👍🏽
      'write:fa:\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645', // می‌خواهم, with its ZWNJ
      'write:hi:\u0915\u094d\u200d\u0937', // क्‍ष, a half form (ZWJ)
    ]
    // Each has what tells it apart marked, and only that.
    const marked: Array<[string, string[]]> = [
      ['write:zwj:a\u200db', ['U+200D']],
      ['write:zwnj:a\u200cb', ['U+200C']],
      ['write:mixed:a\u200d\u0915', ['U+200D']],
      ['write:dangling:\u{1f469}\u200d', ['U+200D']],
      ['write:vs:a\ufe0fb', ['U+FE0F']],
      // U+0958 (a composition exclusion) is not NFC; the NFC text after it is not marked.
      ['write:nukta:\u0958\u093f\u0932\u093e:\u0928\u092e\u0938\u094d\u0924\u0947', ['U+0958']],
      ['write:vi:Ti\u1ebfng Vi\u1ec7t / cafe\u0301', ['U+0301']],
    ]
    for (const name of [...plain, ...marked.map(([name]) => name)]) await cache.set(name, 1, 300)
    await logIn(`#/c/default/keys?pattern=${encodeURIComponent('write:*')}`)
    await page.getByText(`${plain.length + marked.length} keys match write:*.`).waitFor()
    const rows = await page.locator('table.keys a.key').evaluateAll((links) =>
      links.map((a) => ({
        text: a.textContent,
        marks: [...a.querySelectorAll('.hidden-char')].map((mark) => mark.textContent),
      })),
    )
    // A row by its name's first two parts (`write:like:`), which no mark changes.
    const row = (name: string) =>
      rows.find((r) => r.text?.startsWith(name.slice(0, name.indexOf(':', 'write:'.length) + 1)))
    for (const name of plain) expect(row(name), name).toEqual({ text: name, marks: [] })
    for (const [name, codes] of marked) expect(row(name)?.marks, name).toEqual(codes)
  })

  it('shows the value Django pickled, its Python types marked', async () => {
    await logIn('#/c/django/keys')
    await page.getByRole('link', { name: 'order:1' }).click()
    await page.getByRole('heading', { name: 'order:1' }).waitFor()
    const value = page.locator('section.value')
    for (const type of [
      'datetime',
      'date',
      'Decimal',
      'tuple',
      'set',
      'frozenset',
      'UUID',
      'bytes',
      'None',
    ]) {
      expect(
        await value.locator('.badge.py', { hasText: new RegExp(`^${type}$`) }).count(),
        type,
      ).toBeGreaterThan(0)
    }
    await value.getByText('19.99').waitFor()
    await value.getByText('2024-05-17T13:45:30.123456+00:00').waitFor()
    expect(await page.getByText('pickle + zlib').count()).toBe(1)
    // Django's `<script>` string is text.
    await value.getByText('"<script>alert(1)</script>"').waitFor()
    expect(dialogs).toEqual([])
  })

  it('reports a concurrent change instead of overwriting it', async () => {
    await cache.set('profile', { name: 'ada', visits: 1 }, 600)
    await logIn(`#/c/default/key?k=profile`)
    const editor = page.getByLabel('value as JSON')
    await editor.waitFor()
    await editor.fill('{"name": "ada", "visits": 2}')
    // Someone else writes after the page loaded.
    await cache.set('profile', { name: 'grace', visits: 9 }, 600)
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText(/Conflict/).waitFor()
    expect(await cache.get('profile')).toEqual({ name: 'grace', visits: 9 })
    await page.getByRole('button', { name: 'Reload the key' }).click()
    await page.getByText('"grace"').first().waitFor()
    await editor.fill('{"name": "grace", "visits": 10}')
    await page.getByLabel('TTL in seconds').fill('120')
    await page.getByRole('button', { name: 'Save' }).click()
    await expect.poll(() => cache.get('profile')).toEqual({ name: 'grace', visits: 10 })
    const ttl = (await cache.ttl('profile')) as number
    expect(ttl).toBeGreaterThan(100)
    expect(ttl).toBeLessThanOrEqual(120)
    await page.getByRole('button', { name: 'Delete key' }).click()
    await page.getByRole('button', { name: 'Yes, delete' }).click()
    await page.getByRole('heading', { name: 'Keys' }).waitFor()
    expect(await cache.hasKey('profile')).toBe(false)
  })

  it('deletes by pattern: a dry-run count, then a progress bar', async () => {
    const entries: Record<string, number> = {}
    for (let i = 0; i < 3000; i++) entries[`bulk:${i}`] = i
    await cache.setMany(entries)
    await logIn('#/c/default/delete')
    await page.getByLabel('pattern').fill('bulk:*')
    await page.getByRole('button', { name: 'Count matching keys' }).click()
    await page.getByText('3000 keys match').waitFor()
    expect(await cache.hasKey('bulk:1')).toBe(true)
    await page.getByRole('button', { name: 'Delete 3000 keys' }).click()
    await page.getByText('Deleted 3000 keys matching bulk:*.').waitFor({ timeout: 20_000 })
    const bar = await page.locator('progress').evaluate((p) => {
      const progress = p as unknown as { value: number; max: number }
      return [progress.value, progress.max]
    })
    expect(bar).toEqual([3000, 3000])
    expect(await cache.keys('bulk:*')).toEqual([])
  })

  it('shows a value of more items than a page builds as an error and its first bytes', async () => {
    await cache.set('many-items', new Array(MAX_INSPECT_ITEMS).fill(7))
    await logIn('#/c/default/keys?pattern=many-items')
    const link = page.getByRole('link', { name: 'many-items' })
    await link.waitFor()
    await link.click()
    const alert = page.locator('section.value [role=alert]')
    await alert.waitFor()
    expect(await alert.textContent()).toBe(
      `This value cannot be shown: json: the value holds more than ${MAX_INSPECT_ITEMS} items, too many to show`,
    )
    expect(await page.locator('section.value pre.preview').textContent()).toMatch(/^b'\[7,7,7,/)
    expect(await page.locator('section.value .tree-root').count()).toBe(0)
  })

  it('shows a hostile value and key as text, and runs nothing', async () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    await cache.set('<img src=x onerror=alert(3)>', hostile)
    await logIn('#/c/default/keys?pattern=%3Cimg*')
    const link = page.getByRole('link', { name: '<img src=x onerror=alert(3)>' })
    await link.waitFor()
    await link.click()
    await page.getByText(JSON.stringify(hostile)).first().waitFor()
    expect(await page.locator('section.value img, section.value script, main img').count()).toBe(0)
    await page.waitForTimeout(300)
    expect(dialogs).toEqual([])
  })
})
