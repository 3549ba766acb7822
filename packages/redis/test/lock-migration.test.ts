// Locks and semaphores whose Redis Cluster slot is being migrated. A script that touches a key its
// node no longer has fails mid-way ("Script attempted to access a non local key"), after its
// earlier writes: the semaphore's scripts never touch the key after a write that may delete it.
// A lock's script names two keys (the lock and its fencing counter): the cluster refuses it
// (`TRYAGAIN`) until the slot's keys are all on one node, which the lock counts as "not taken".
import { type Cache, createCache, keySlot } from '@cachex/redis'
import {
  type ClusterNode,
  delay,
  startCluster,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let c: TestCluster
const closers: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  c = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
}, 60_000)
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined)
  await c?.stop()
})

// Other calls retry `TRYAGAIN` for 80 % of `socketTimeout`; a lock's acquire has it at once.
function open(socketTimeout = 2): Cache {
  const cache = createCache({
    client: 'cluster',
    location: [...c.seeds],
    keyPrefix: uniquePrefix('lkmig'),
    socketTimeout,
  })
  closers.push(() => cache.close())
  return cache
}

/** Starts moving the slot of `key` to another primary; the keys stay where they are. */
async function beginMove(cache: Cache, key: string): ReturnType<TestCluster['beginSlotMove']> {
  const rkey = cache.makeKey(key)
  const owner = await c.primaryFor(rkey)
  const target = (await c.primaries()).find((p) => p.port !== owner.port) as ClusterNode
  return c.beginSlotMove(keySlot(rkey), target)
}

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: Error) => `${error.name}: ${error.message}`,
  )
}

describe('a semaphore whose slot is being migrated', () => {
  it('the last holder releases: release() resolves and the permit is free', async () => {
    const cache = open()
    const sem = cache.semaphore('sem{last}', { limit: 2, timeout: 30 })
    expect(await sem.acquire()).toBe(true)
    const move = await beginMove(cache, 'sem{last}')
    try {
      expect(await outcome(sem.release())).toBe(undefined)
      const key = cache.makeKey('sem{last}')
      expect(await cache.connection.command(['ZCARD', key], { key })).toBe(0)
      expect(sem.token).toBe(null)
    } finally {
      await move.migrate()
      await move.finish()
    }
  }, 30_000)

  it('one of two holders releases: the other keeps its permit and the key its expiry', async () => {
    const cache = open()
    const first = cache.semaphore('sem{two}', { limit: 2, timeout: 30 })
    const second = cache.semaphore('sem{two}', { limit: 2, timeout: 30 })
    expect(await first.acquire()).toBe(true)
    expect(await second.acquire()).toBe(true)
    const move = await beginMove(cache, 'sem{two}')
    try {
      expect(await outcome(first.release())).toBe(undefined)
      const key = cache.makeKey('sem{two}')
      expect(await cache.connection.command(['ZCARD', key], { key })).toBe(1)
      const ttl = (await cache.connection.command(['PTTL', key], { key })) as number
      expect(ttl).toBeGreaterThan(25_000)
    } finally {
      await move.migrate()
      await move.finish()
    }
    expect(await outcome(second.release())).toBe(undefined)
  }, 30_000)

  it('an acquisition that drops the last expired holder admits the newcomer', async () => {
    const cache = open()
    const old = cache.semaphore('sem{stale}', { limit: 1, timeout: 0.05 })
    expect(await old.acquire()).toBe(true)
    // The key would expire 1 ms after its last holder: kept, its holder's time runs out in it.
    const key = cache.makeKey('sem{stale}')
    expect(await cache.connection.command(['PERSIST', key], { key })).toBe(1)
    await delay(120)
    const move = await beginMove(cache, 'sem{stale}')
    try {
      const next = cache.semaphore('sem{stale}', { limit: 1, timeout: 30 })
      expect(await outcome(next.acquire({ blocking: false }))).toBe(true)
      const members = (await cache.connection.command(['ZRANGE', key, '0', '-1'], {
        key,
        text: true,
      })) as string[]
      expect(members).toEqual([`1:${next.token}`])
      await next.release()
    } finally {
      await move.migrate()
      await move.finish()
    }
  }, 30_000)
})

describe('a lock whose slot is being migrated', () => {
  it('a non-blocking acquire resolves false, promptly, before and after its counter moves', async () => {
    // A connection that would retry `TRYAGAIN` for 16 s: the lock does not wait for it.
    const cache = open(20)
    const lock = cache.lock('lk{nb}', { timeout: 10 })
    expect(await lock.acquire()).toBe(true) // creates the fencing counter
    const before = lock.fencingToken as number
    await lock.release()
    const move = await beginMove(cache, 'lk{nb}')
    try {
      for (const step of ['counter on the source', 'counter on the target']) {
        const started = performance.now()
        const got = await outcome(
          cache.lock('lk{nb}', { timeout: 10 }).acquire({ blocking: false }),
        )
        const ms = performance.now() - started
        expect({ step, got }).toEqual({ step, got: false })
        // Retried by the connection, this took 80 % of socketTimeout: 16 s here.
        expect(ms).toBeLessThan(5_000)
        await move.migrate() // the fencing counter moves; the free lock key exists nowhere
      }
    } finally {
      await move.finish()
    }
    const after = cache.lock('lk{nb}', { timeout: 10 })
    expect(await after.acquire({ blocking: false })).toBe(true)
    expect(after.fencingToken as number).toBeGreaterThan(before)
    await after.release()
  }, 30_000)

  it('a blocking acquire gets the lock once the migration completes', async () => {
    const cache = open()
    const lock = cache.lock('lk{wait}', { timeout: 10 })
    expect(await lock.acquire()).toBe(true)
    const before = lock.fencingToken as number
    await lock.release()
    const move = await beginMove(cache, 'lk{wait}')
    const waiter = cache.lock('lk{wait}', { timeout: 10, blockingTimeout: 8, sleep: 0.05 })
    const waiting = outcome(waiter.acquire())
    await delay(1_000) // a score of refused tries
    await move.migrate()
    await move.finish()
    const started = performance.now()
    expect(await waiting).toBe(true)
    // After the move, one try and a sleep.
    expect(performance.now() - started).toBeLessThan(2_500)
    expect(waiter.fencingToken as number).toBeGreaterThan(before)
    expect(await cache.lock('lk{wait}', { timeout: 10 }).acquire({ blocking: false })).toBe(false)
    await waiter.release()
  }, 30_000)

  it('a blocking acquire resolves false at its blockingTimeout while the migration lasts', async () => {
    const cache = open(20)
    const lock = cache.lock('lk{long}', { timeout: 10 })
    expect(await lock.acquire()).toBe(true)
    await lock.release()
    const move = await beginMove(cache, 'lk{long}')
    try {
      const started = performance.now()
      const got = await outcome(
        cache.lock('lk{long}', { timeout: 10, blockingTimeout: 1, sleep: 0.05 }).acquire(),
      )
      const ms = performance.now() - started
      expect(got).toBe(false)
      // The timeout, not overrun by the connection's 16 s of retries.
      expect(ms).toBeGreaterThanOrEqual(900)
      expect(ms).toBeLessThan(5_000)
      // withLock says it could not have the lock, typed.
      const error = await cache
        .lock('lk{long}', { timeout: 10, blockingTimeout: 0.2 })
        .withLock(() => 'ran')
        .catch((e: Error) => e)
      expect((error as Error).name).toBe('LockError')
    } finally {
      await move.migrate()
      await move.finish()
    }
  }, 30_000)
})
