// The local tier while a slot moves to a node the slot map does not list yet: a new primary that
// owns no slot is reached only through ASK (while the slot migrates) or MOVED (right after, until
// the map is refreshed). What the tier holds from it must be dropped when another client writes
// there, within about a round trip (docs/local-tier.md), not when the slot map next changes.
import { type Cache, createCache, keySlot } from '@cachex/redis'
import { delay, startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

/** How long a write may take to reach the tier: generous, it only proves it does. */
const SEEN_WITHIN_MS = 5000

let cluster: TestCluster
let caches: Cache[] = []

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
}, 60_000)

afterEach(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  caches = []
})

afterAll(async () => {
  await cluster?.stop()
})

/** A: a cache with a local tier, tracking; B: another process's cache, without one. */
async function pair(): Promise<{ a: Cache; b: Cache }> {
  const keyPrefix = uniquePrefix('cmt')
  const location = [...cluster.seeds]
  const a = createCache({ client: 'cluster', location, keyPrefix, local: {} })
  const b = createCache({ client: 'cluster', location, keyPrefix })
  caches.push(a, b)
  await a.get('warm')
  await until(() => a.localStats()?.tracking === true, 'the tier is tracking')
  return { a, b }
}

async function until(check: () => boolean | Promise<boolean>, what: string, ms = 10_000) {
  const deadline = performance.now() + ms
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`)
    await delay(20)
  }
}

/** Reads `key` until the tier serves it (a hit); the value it holds. */
async function held(cache: Cache, key: string): Promise<unknown> {
  let value: unknown
  await until(async () => {
    const before = cache.localStats()?.hits ?? 0
    value = await cache.get(key)
    return cache.localStats()?.hits === before + 1
  }, `the tier holds ${key}`)
  return value
}

/** Polls `key` on `cache` until it reads `want`; whether it did within `SEEN_WITHIN_MS`. */
async function seen(cache: Cache, key: string, want: unknown): Promise<boolean> {
  const deadline = performance.now() + SEEN_WITHIN_MS
  while (performance.now() < deadline) {
    if ((await cache.get(key)) === want) return true
    await delay(50)
  }
  return false
}

describe('local tier and a slot moving to a new primary', () => {
  it('a value read through ASK from the importing node is dropped when written there', async () => {
    const { a, b } = await pair()
    const key = 'k{ask}'
    const rkey = a.makeKey(key)
    await b.set(key, 'one', 300)
    expect(await held(a, key)).toBe('one')

    const fresh = await cluster.addNode()
    const move = await cluster.beginSlotMove(keySlot(rkey), fresh)
    try {
      await move.migrate([rkey]) // the key is on the new node only: reads of it follow ASK
      // The tier holds it again, read from the importing node (which it now tracks).
      expect(await held(a, key)).toBe('one')
      await b.set(key, 'two', 300) // applied by the importing node (ASK)
      expect(await seen(a, key, 'two')).toBe(true)
      // And it keeps serving from memory once tracking is back.
      expect(await held(a, key)).toBe('two')
      await b.set(key, 'three', 300)
      expect(await seen(a, key, 'three')).toBe(true)
    } finally {
      await move.migrate()
      await move.finish()
    }
    expect(await seen(a, key, 'three')).toBe(true)
  }, 60_000)

  it('a value read after MOVED to the new primary is dropped when written there', async () => {
    const { a, b } = await pair()
    const key = 'k{moved}'
    const rkey = a.makeKey(key)
    await b.set(key, 'one', 300)
    expect(await held(a, key)).toBe('one')

    const fresh = await cluster.addNode()
    // The whole slot moves: A's map still names the old owner, which answers MOVED.
    await cluster.moveSlot(keySlot(rkey), fresh)
    expect(await held(a, key)).toBe('one')
    await b.set(key, 'two', 300)
    expect(await seen(a, key, 'two')).toBe(true)
    await delay(500) // a refresh of the map (which may find it unchanged) has come and gone
    expect(await held(a, key)).toBe('two')
    await b.set(key, 'three', 300)
    expect(await seen(a, key, 'three')).toBe(true)
  }, 60_000)

  it('a node an ASK named that then leaves (migration aborted, node dead) does not keep the tier off', async () => {
    const { a, b } = await pair()
    const rkey = a.makeKey('k{abort}')
    await b.set('k{abort}', 'one', 300)
    await b.set('o{other}', 'x', 300)
    expect(await held(a, 'o{other}')).toBe('x')
    const fresh = await cluster.addNode()
    const move = await cluster.beginSlotMove(keySlot(rkey), fresh)
    await move.migrate([rkey])
    // Through ASK: the importing node is tracked from now on.
    expect(await a.get('k{abort}')).toBe('one')
    await move.abort()
    await cluster.kill(fresh)
    // The slot map never changes for that: the node is dropped once no redirection names it
    // (5 s), and the tier serves again. Generous, for a busy machine.
    expect(await a.get('o{other}')).toBe('x')
    let hit = false
    const deadline = performance.now() + 30_000
    while (!hit && performance.now() < deadline) {
      const before = a.localStats()?.hits ?? 0
      await a.get('o{other}')
      hit = a.localStats()?.hits === before + 1
      if (!hit) await delay(100)
    }
    expect(hit).toBe(true)
  }, 90_000)
})
