// A Lock shared by concurrent withLock() tasks, one of whose holds was lost: the stale task's
// release of its own token must leave the current hold's state alone. Released through the
// object's own release path, it cancelled the current holder's background release (a hold without
// a timeout left for ever), made the current holder's lost hold count as released, and answered
// with the current holder's background outcome. And release() shared a release in flight only
// of its own token: the next task's withLock took the stale task's for its own (its hold left for
// ever); an outcome withLock answered is not answered again by the next release().
import {
  type Cache,
  type CacheLock,
  createCache,
  LockError,
  LockNotOwnedError,
  TimeoutError,
} from '@cachex/redis'
import { redisCall, timed, uniquePrefix } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'
import { eventually } from './local-tier-helpers.ts'

const { server, closeAfterTest } = useFailureHarness()

async function setUp() {
  const s = await server()
  const cache: Cache = closeAfterTest(
    createCache({
      location: s.url,
      keyPrefix: uniquePrefix('shared-handoff'),
      socketTimeout: 1,
      socketConnectTimeout: 1,
    }),
  )
  const pause = () => redisCall(s.url, ['CLIENT', 'PAUSE', '1500', 'WRITE'], 5000)
  // A write: answered once the pause is over.
  const afterPause = () => redisCall(s.url, ['SET', uniquePrefix('after-pause'), '1'], 5000)
  const exists = async (key: string) => (await redisCall(s.url, ['EXISTS', key], 5000)) === 1
  return { url: s.url, cache, pause, afterPause, exists }
}

function gate() {
  let open!: () => void
  const p = new Promise<void>((r) => (open = r))
  return { p, open }
}

/**
 * A withLock task on `lock` that is inside its fn once this resolves, until `end()` is called:
 * its result (`timed`), and `end`.
 */
async function holding(lock: CacheLock) {
  const inside = gate()
  const ends = gate()
  const result = timed(
    lock.withLock(async () => {
      inside.open()
      await ends.p
    }),
  )
  await inside.p
  return { result, end: ends.open }
}

/**
 * A shared Lock without a timeout (a hold left behind stays), and task A inside its fn, its hold
 * deleted under it: the stale task.
 */
async function lostHold() {
  const harness = await setUp()
  const lock = harness.cache.lock('L', { timeout: null, sleep: 0.02 })
  const key = harness.cache.makeKey('L')
  const a = await holding(lock)
  await redisCall(harness.url, ['DEL', key])
  return { ...harness, lock, key, a }
}

describe("a stale task's own-token release on a shared Lock", () => {
  it("does not cancel the background release of the current holder's failed release (timeout: null hold left for ever)", async () => {
    const { lock, key, a, pause, afterPause, exists } = await lostHold()
    // B takes the lock through the same object; its release at the end is dropped by the pause.
    const rb = await timed(lock.withLock(async () => void (await pause())))
    expect(rb.error).toBeInstanceOf(TimeoutError)
    await afterPause()
    // A ends now: its hold was lost, so LockNotOwnedError is right...
    a.end()
    const ra = await a.result
    expect(ra.error).toBeInstanceOf(LockNotOwnedError)
    // ...but B's hold (no timeout) must still be freed in the background (1, 5, 30 s).
    await eventually(async () => !(await exists(key)), 40_000)
  }, 90_000)

  it("a stale task's release that timed out does not make the current holder's lost hold count as released", async () => {
    const { url, lock, key, a, pause, afterPause } = await lostHold()
    const b = await holding(lock) // B holds the current token
    await pause()
    a.end()
    const ra = await a.result // A's own-token release times out
    expect(ra.error).toBeInstanceOf(TimeoutError)
    await afterPause()
    await redisCall(url, ['DEL', key]) // B's hold lost too
    b.end()
    const rb = await b.result
    // B's hold was deleted under it; nothing of B's was released: expected LockNotOwnedError.
    expect(rb.error).toBeInstanceOf(LockNotOwnedError)
  }, 90_000)

  it("a stale task does not answer with the current holder's background-release outcome", async () => {
    const { lock, key, a, pause, exists } = await lostHold()
    const rb = await timed(lock.withLock(async () => void (await pause())))
    expect(rb.error).toBeInstanceOf(TimeoutError)
    await eventually(async () => !(await exists(key)), 40_000) // B's freed in the background
    a.end()
    const ra = await a.result
    // A's hold was deleted under it: expected LockNotOwnedError, not a resolve.
    expect(ra.error).toBeInstanceOf(LockNotOwnedError)
  }, 90_000)

  it("the next task's release does not share the stale task's release in flight", async () => {
    const { url, cache } = await setUp()
    const outcomes = []
    // The stale task's fn ends 0 to 5 event-loop turns after the next task started (its
    // acquisition in flight, or answered): at one of them, both releases were in flight at once.
    for (let turns = 0; turns < 6; turns++) {
      const name = `race-${turns}`
      const key = cache.makeKey(name)
      const lock = cache.lock(name, { timeout: null, sleep: 0.01 })
      const a = await holding(lock)
      await redisCall(url, ['DEL', key])
      const b = timed(lock.withLock(() => undefined))
      for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve))
      a.end()
      const [ra, rb] = await Promise.all([a.result, b])
      outcomes.push({
        turns,
        a: (ra.error as Error | undefined)?.name ?? 'resolved',
        b: (rb.error as Error | undefined)?.name ?? 'resolved',
        left: await redisCall(url, ['EXISTS', key], 5000),
      })
    }
    expect(outcomes).toEqual(
      [0, 1, 2, 3, 4, 5].map((turns) => ({
        turns,
        a: 'LockNotOwnedError',
        b: 'resolved',
        left: 0,
      })),
    )
  }, 90_000)

  it("an outcome withLock answered is not the next release()'s", async () => {
    const { url, cache, exists } = await setUp()
    const lock = cache.lock('L', { timeout: null, sleep: 0.02 })
    const key = cache.makeKey('L')
    let inside: unknown
    await lock.withLock(async () => {
      await redisCall(url, ['CLIENT', 'PAUSE', '1500', 'WRITE'], 5000)
      inside = await lock.release().catch((error: unknown) => error)
      await eventually(async () => lock.token === null, 40_000) // the background try ran
    })
    expect(inside).toBeInstanceOf(TimeoutError)
    expect(await exists(key)).toBe(false)
    // The lock is simply not held now.
    await expect(lock.release()).rejects.toThrow(LockError)
    await expect(lock.release()).rejects.toThrow('cannot release an unlocked lock')
  }, 90_000)
})
