// What one key listing or delete-by-pattern costs Redis, against a real redis-server: a SCAN
// matches its pattern against every key it visits, at a cost of about the name's length times
// the pattern's characters from its first `*` on, so keys with names of 60,000 characters and a
// crafted pattern held Redis for seconds in one SCAN … COUNT 500. The COUNT adapts to each call's
// time, and the pattern is bounded, so that no SCAN holds Redis past tens of milliseconds; a page
// can come back short, with a cursor. A short keyspace is still walked in few calls.
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AdminServer, Client, closeAll, startAdmin, TOKEN } from './helpers.ts'

let server: RedisServer
let cache: Cache
let app: Cache
let admin: AdminServer

/** Characters from the first `*` on that a pattern may have (see docs/admin.md). */
const STAR_TAIL = 128
const LONG = 'a'.repeat(60_000)

beforeAll(async () => {
  server = await startRedis()
  cache = createCache({ location: server.url, keyPrefix: 'p' })
  app = createCache({ location: server.url, keyPrefix: 'o' })
  admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
})
afterAll(async () => {
  await admin?.close()
  await closeAll(cache, app)
  await server?.stop()
})

/** `INFO commandstats`' count of SCAN calls so far. */
async function scanCalls(): Promise<number> {
  const info = String(await cache.connection.command(['INFO', 'commandstats'], { text: true }))
  return Number(/cmdstat_scan:calls=(\d+)/.exec(info)?.[1] ?? 0)
}

/** Polls a job until it ends (a walk of long names at COUNT 1 takes seconds). */
async function finished(client: Client, id: string) {
  for (let i = 0; i < 1200; i++) {
    const answer = await client.get(`api/jobs/${id}`)
    if (answer.json.state !== 'running') return answer.json
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('the job did not end in 120 s')
}

describe('the pattern of a listing or a delete-by-pattern', () => {
  it(`is refused (400) past ${STAR_TAIL} characters from its first * on`, async () => {
    const client = new Client(admin.url, TOKEN)
    const keys = (pattern: string) =>
      client.get(`api/caches/default/keys?${new URLSearchParams({ pattern })}`)
    const job = (pattern: string) =>
      client.request('POST', 'api/caches/default/delete-pattern', { pattern, dryRun: true })
    const probe = `*${'?'.repeat(1000)}b` // the probe's 1,002 characters
    const over = `user:*${'?'.repeat(STAR_TAIL)}` // 129 from the `*` on
    for (const pattern of [probe, over, `*a*${'?'.repeat(200)}`]) {
      const page = await keys(pattern)
      expect(page.status, pattern.slice(0, 20)).toBe(400)
      expect(page.json).toMatchObject({ error: 'pattern_too_long' })
      expect(page.json.message).toMatch(/characters from its first \*/)
      expect((await job(pattern)).status).toBe(400)
    }
    // At the bound, and a long pattern with no `*` (matched in one pass over it): taken.
    const at = `user:*${'?'.repeat(STAR_TAIL - 2)}b`
    const plain = `user:${'?'.repeat(900)}`
    for (const pattern of [at, plain]) {
      expect((await keys(pattern)).status, pattern.slice(0, 20)).toBe(200)
      const started = await job(pattern)
      expect(started.status).toBe(202)
      expect(await finished(client, started.json.id)).toMatchObject({ state: 'done', matched: 0 })
    }
  })
})

describe('a listing and a delete-by-pattern over keys with names of 60,000 characters', () => {
  it('hold Redis tens of milliseconds a SCAN, and find what matches (the app’s reads go on)', {
    timeout: 240_000,
  }, async () => {
    for (let i = 0; i < 500; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => cache.set(`${LONG}${i + j}`, 1, { timeout: null })),
      )
    }
    const matching = [0, 1, 2].map((i) => `${LONG}${i}b`)
    for (const key of matching) await cache.set(key, 1, { timeout: null })
    // The longest pattern taken, as costly as it gets: each SCAN compares every key's 60,000
    // characters with its 127 characters after the `*`.
    const pattern = `*${'?'.repeat(STAR_TAIL - 2)}b`
    await cache.connection.command(['CONFIG', 'SET', 'slowlog-log-slower-than', '100000'])
    await cache.connection.command(['SLOWLOG', 'RESET'])

    let worst = 0
    const failures: string[] = []
    let done = false
    const pinger = (async () => {
      while (!done) {
        const t = performance.now()
        try {
          await app.get('anything')
        } catch (error) {
          failures.push((error as Error).message)
        }
        worst = Math.max(worst, performance.now() - t)
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    })()
    const client = new Client(admin.url, TOKEN)
    const found: string[] = []
    let pages = 0
    try {
      let cursor: string | null = null
      do {
        const query = new URLSearchParams({ pattern, count: '50' })
        if (cursor !== null) query.set('cursor', cursor)
        const page = await client.get(`api/caches/default/keys?${query}`)
        expect(page.status, page.text.slice(0, 200)).toBe(200)
        found.push(...page.json.keys.map((row: { key: string }) => row.key))
        cursor = page.json.cursor
        pages++
      } while (cursor !== null && pages < 1000)
      const job = await client.request('POST', 'api/caches/default/delete-pattern', { pattern })
      expect(job.status, job.text).toBe(202)
      expect(await finished(client, job.json.id)).toMatchObject({
        state: 'done',
        matched: 3,
        deleted: 3,
      })
    } finally {
      done = true
      await pinger
    }
    // Every SCAN over 100 ms (SLOWLOG's threshold, set above). On an idle machine there is none:
    // one key of 60,000 characters costs this pattern some 15 ms. Two busy cores shared with other
    // test files can stretch that past 100 ms — at a small COUNT (it doubles only after a call
    // under 5 ms, as one over short names is: a CI run saw COUNT 2 at 174 ms; one with every core
    // overloaded, COUNT 1 at 1,024 ms, Redis itself waiting for a core) — but never 2 s (before:
    // one SCAN at COUNT 500 held Redis for 3 to 4 s).
    const slow = (await cache.connection.command(['SLOWLOG', 'GET', '1000'], {
      text: true,
    })) as unknown[][]
    const slowScans = slow
      .filter((entry) => String((entry[3] as unknown[])[0]).toUpperCase() === 'SCAN')
      .map((entry) => ({ ms: Number(entry[2]) / 1000, count: String((entry[3] as unknown[])[5]) }))
    for (const scan of slowScans) {
      expect(Number(scan.count), JSON.stringify(slowScans)).toBeLessThanOrEqual(16)
      expect(scan.ms, JSON.stringify(slowScans)).toBeLessThan(2000)
    }
    expect(failures).toEqual([])
    expect(worst).toBeLessThan(2000)
    expect(found.sort()).toEqual(matching)
    // A sparse walk over such names answers short pages with a cursor rather than one long wait.
    expect(pages).toBeGreaterThan(1)
    for (const key of matching) expect(await cache.hasKey(key)).toBe(false)
    expect(await cache.hasKey(`${LONG}7`)).toBe(true)
    await cache.connection.command(['FLUSHALL'])
  })
})

describe('the COUNT of a walk over short names', () => {
  it('grows while the calls are fast: full pages, and a job in few SCAN calls', {
    timeout: 60_000,
  }, async () => {
    const entries: Record<string, number> = {}
    for (let i = 0; i < 20_000; i++) entries[`item:${i}`] = i
    await cache.setMany(entries, 600)
    const client = new Client(admin.url, TOKEN)
    const before = await scanCalls()
    const page = await client.get('api/caches/default/keys?pattern=item:*&count=500')
    expect(page.status).toBe(200)
    expect(page.json.keys).toHaveLength(500)
    expect(page.json.cursor).not.toBeNull()
    const job = await client.request('POST', 'api/caches/default/delete-pattern', {
      pattern: 'item:*',
    })
    expect(await finished(client, job.json.id)).toMatchObject({
      state: 'done',
      matched: 20_000,
      deleted: 20_000,
    })
    // COUNT 1, 2, 4 … up to 1,000: some 30 calls for 20,000 keys (it stayed at 1: 20,000).
    expect((await scanCalls()) - before).toBeLessThan(200)
  })
})
