import { delay, startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import {
  type Cache,
  Cache as CacheClass,
  type CacheSemaphore,
  ClosedError,
  createCache,
  type HeldPermit,
  InvalidArgumentError,
  keySlot,
  LockError,
  LockNotOwnedError,
  Semaphore,
} from '../src/index.ts'
import { BACKENDS, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let prefix: string

  beforeAll(async () => {
    server = await backendServer(backend)
    prefix = uniquePrefix('sem')
    cache = createCache({ location: server.url, keyPrefix: prefix })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  describe('cache.semaphore()', () => {
    it('returns a Semaphore whose key goes through the key function', async () => {
      const s = cache.semaphore('pool', { limit: 2, timeout: 5 })
      expect(s).toBeInstanceOf(Semaphore)
      expect(s.name).toBe(`${prefix}:1:pool`)
      expect(cache.semaphore('pool', { limit: 2, version: 7 }).name).toBe(`${prefix}:7:pool`)
      expect(await s.acquire()).toBe(true)
      expect(await cache.connection.command(['ZCARD', s.name])).toBe(1)
      await s.release()
      expectTypeOf(s).toEqualTypeOf<CacheSemaphore>()
    })

    it('counts holders of every cache sharing the name, and keeps prefixes and versions apart', async () => {
      const twin = createCache({ location: server.url, keyPrefix: prefix })
      const stranger = createCache({ location: server.url, keyPrefix: `${prefix}-other` })
      try {
        const mine = cache.semaphore('shared', { limit: 1 })
        expect(await mine.acquire()).toBe(true)
        expect(await twin.semaphore('shared', { limit: 1 }).acquire({ blocking: false })).toBe(
          false,
        )
        const elsewhere = stranger.semaphore('shared', { limit: 1 })
        expect(await elsewhere.acquire({ blocking: false })).toBe(true)
        const v2 = cache.semaphore('shared', { limit: 1, version: 2 })
        expect(await v2.acquire({ blocking: false })).toBe(true)
        await Promise.all([mine.release(), elsewhere.release(), v2.release()])
      } finally {
        await Promise.all([twin.close(), stranger.close()])
      }
    })

    it('checks its options before anything is sent', () => {
      const bad: unknown[] = [
        undefined,
        {},
        { limit: 0 },
        { limit: 2, weight: 3 },
        { limit: 1.5 },
        { limit: 2, version: 1.5 },
        { limit: 2, timeout: -1 },
        { limit: 2, token: 'x' },
        { limit: 2, blockingTimout: 1 },
      ]
      for (const options of bad) {
        expect(
          () => cache.semaphore('x', options as { limit: number }),
          JSON.stringify(options),
        ).toThrow(InvalidArgumentError)
      }
      expect(() => cache.semaphore('', { limit: 1 })).toThrow(
        "semaphore() needs a non-empty semaphore name, got ''",
      )
      expect(() => cache.semaphore('x', { limit: 1, blockingTimout: 1 } as never)).toThrow(
        "semaphore() does not take the option 'blockingTimout'",
      )
    })

    it('needs a semaphore factory when the Cache is built by hand', () => {
      const bare = new CacheClass({ connection: cache.connection })
      expect(() => bare.semaphore('x', { limit: 1 })).toThrow(LockError)
      expect(() => bare.semaphore('x', { limit: 1 })).toThrow(/needs a semaphore factory/)
    })

    it('ignoreExceptions does not apply: a Redis error surfaces, as for locks', async () => {
      const ignoring = createCache({
        location: server.url,
        keyPrefix: prefix,
        ignoreExceptions: true,
      })
      try {
        await ignoring.set('not-a-semaphore', 'value')
        await expect(ignoring.semaphore('not-a-semaphore', { limit: 1 }).acquire()).rejects.toThrow(
          /WRONGTYPE/,
        )
      } finally {
        await ignoring.close()
      }
    })
  })

  describe('cache.acquirePermit()', () => {
    it('`await using` gives the permits back at the end of the block', async () => {
      let name = ''
      {
        await using permit = await cache.acquirePermit('block', { limit: 1, timeout: 10 })
        expectTypeOf(permit).toEqualTypeOf<HeldPermit>()
        name = permit.name
        expect(permit.token).toMatch(/^[0-9a-f]{32}$/)
        expect(permit.semaphore).toBeInstanceOf(Semaphore)
        expect(await cache.semaphore('block', { limit: 1 }).acquire({ blocking: false })).toBe(
          false,
        )
      }
      expect(await cache.connection.command(['EXISTS', name])).toBe(0)
    })

    it('gives them back when the block throws, and the block error is what surfaces', async () => {
      const run = async () => {
        await using _permit = await cache.acquirePermit('throws', { limit: 1 })
        throw new Error('block failed')
      }
      await expect(run()).rejects.toThrow('block failed')
      const again = cache.semaphore('throws', { limit: 1 })
      expect(await again.acquire({ blocking: false })).toBe(true)
      await again.release()
    })

    it('rejects with LockError naming the semaphore when no permit is free', async () => {
      await using _held = await cache.acquirePermit('full', { limit: 2, weight: 2 })
      await expect(cache.acquirePermit('full', { limit: 2, blocking: false })).rejects.toThrow(
        "could not acquire a permit of the semaphore 'full': every permit is held (blocking: false)",
      )
      await expect(
        cache.acquirePermit('full', { limit: 2, weight: 2, blockingTimeout: 0.1 }),
      ).rejects.toThrow(
        "could not acquire 2 permits of the semaphore 'full': not enough permits were free for the whole blockingTimeout (0.1 s)",
      )
    })

    it('a release inside the block leaves nothing for the disposal to do', async () => {
      await using permit = await cache.acquirePermit('early', { limit: 1 })
      await permit.release()
      expect(permit.token).toBeNull()
    })

    it('disposal after the permits were dropped and given away rejects with LockNotOwnedError', async () => {
      const run = async () => {
        await using _permit = await cache.acquirePermit('expired', { limit: 1, timeout: 0.1 })
        // another holder is admitted once our 100 ms are up
        const next = cache.semaphore('expired', { limit: 1, sleep: 0.02, blockingTimeout: 30 })
        expect(await next.acquire()).toBe(true)
      }
      await expect(run()).rejects.toBeInstanceOf(LockNotOwnedError)
    })

    it('a cache closed inside the block: the disposal does not throw', async () => {
      const closing = createCache({ location: server.url, keyPrefix: prefix })
      {
        await using permit = await closing.acquirePermit('closed', { limit: 1, timeout: 1 })
        await closing.close()
        await expect(permit.release()).rejects.toBeInstanceOf(ClosedError)
      }
    })

    it('close() ends an acquirePermit() waiting between tries at once, with ClosedError', async () => {
      await using _held = await cache.acquirePermit('waited', { limit: 1, timeout: 60 })
      const closing = createCache({ location: server.url, keyPrefix: prefix })
      try {
        // Connected first, so that the first try is refused well within the pause below and the
        // acquisition then sleeps (60 s) between tries when the cache closes.
        await closing.get('warm-up')
        const waiting = closing
          .acquirePermit('waited', { limit: 1, sleep: 60 })
          .catch((e: unknown) => e)
        const semaphore = closing.semaphore('waited', { limit: 1, sleep: 60 })
        const waitingToo = semaphore.acquire().catch((e: unknown) => e)
        await delay(300)
        const start = performance.now()
        await closing.close()
        expect(await waiting).toBeInstanceOf(ClosedError)
        expect(await waitingToo).toBeInstanceOf(ClosedError)
        expect(performance.now() - start).toBeLessThan(3000)
      } finally {
        await closing.close()
      }
    })

    it('cache.semaphore() is not disposable: `await using` on it does not compile', () => {
      expectTypeOf(cache.semaphore('x', { limit: 1 })).not.toMatchTypeOf<AsyncDisposable>()
      const misuse = async () => {
        // @ts-expect-error a semaphore from cache.semaphore() holds nothing: use `await cache.acquirePermit()`
        await using s = cache.semaphore('never-taken', { limit: 1 })
        void s
      }
      void misuse
    })
  })

  describe('lock.fencingToken through caches', () => {
    it('strictly increases across two caches taking the same lock', async () => {
      const twin = createCache({ location: server.url, keyPrefix: prefix })
      try {
        const tokens: number[] = []
        for (let i = 0; i < 6; i++) {
          const lock = (i % 2 === 0 ? cache : twin).lock('fenced', { timeout: 5 })
          expect(await lock.acquire()).toBe(true)
          tokens.push(lock.fencingToken as number)
          await lock.release()
          expect(lock.fencingToken).toBeNull()
        }
        for (let i = 1; i < tokens.length; i++) {
          expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number)
        }
        // the held lock of acquireLock() has it too; clear() of a prefixed cache keeps the count
        await cache.clear()
        await using held = await cache.acquireLock('fenced', { timeout: 5 })
        expect(held.fencingToken).toBeGreaterThan(tokens.at(-1) as number)
      } finally {
        await twin.close()
      }
    })
  })
})

// A cluster needs servers: redis only.
describe('on a cluster', () => {
  let cluster: TestCluster
  let onCluster: Cache

  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    onCluster = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('cl'),
    })
  }, 120_000)

  afterAll(async () => {
    await onCluster?.close()
    await cluster?.stop()
  })

  it('semaphores of names in every shard work: one key, no cross-slot script', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `pool-${i}`)
    const shards = new Set(
      await Promise.all(
        names.map(async (n) => (await cluster.primaryFor(onCluster.makeKey(n))).port),
      ),
    )
    expect(shards.size).toBeGreaterThan(1)
    for (const n of names) {
      const a = onCluster.semaphore(n, { limit: 1, timeout: 5 })
      const b = onCluster.semaphore(n, { limit: 1 })
      expect(await a.acquire()).toBe(true)
      expect(await b.acquire({ blocking: false })).toBe(false)
      await a.release()
      await using _permit = await onCluster.acquirePermit(n, { limit: 1, blocking: false })
    }
  })

  it('locks take fencing tokens on every shard: the counter is in the lock key’s slot', async () => {
    // plain names, a hash tag, an empty tag, a stray brace: the script's two keys share a slot
    const names = ['job-a', 'job-b', 'job-c', 'user:{42}:job', 'odd:{}:job', 'odd:}:job', 'é{ü']
    for (const n of names) {
      const first = onCluster.lock(n, { timeout: 5 })
      expect(await first.acquire()).toBe(true)
      const token = first.fencingToken as number
      expect(token).toBeGreaterThan(0)
      await first.release()
      const second = onCluster.lock(n, { timeout: 5 })
      expect(await second.acquire()).toBe(true)
      expect(second.fencingToken).toBeGreaterThan(token)
      // the counter key lives on the lock key's node
      const rkey = onCluster.makeKey(n)
      const counters = (await onCluster.connection.command(['KEYS', '__cachex:fence:*'], {
        key: rkey,
      })) as unknown[]
      expect(counters.map(String).some((k) => keySlot(k) === keySlot(rkey))).toBe(true)
      await second.release()
    }
  })
})
