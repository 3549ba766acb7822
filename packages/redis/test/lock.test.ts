import { delay } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import {
  type Cache,
  type CacheLock,
  ClosedError,
  createCache,
  type HeldLock,
  InvalidArgumentError,
  Lock,
  LockError,
  LockNotOwnedError,
} from '../src/index.ts'
import { BACKENDS, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: 'p' })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  describe('cache.lock()', () => {
    it('returns a Lock whose key goes through the key function', async () => {
      const lock = cache.lock('k', { timeout: 5 })
      expect(lock).toBeInstanceOf(Lock)
      expect(lock.name).toBe('p:1:k')
      expect(await lock.acquire()).toBe(true)
      const client = cache.connection
      expect(String(await client.command(['GET', 'p:1:k']))).toBe(lock.token)
      const ttl = (await client.command(['PTTL', 'p:1:k'])) as number
      expect(ttl).toBeGreaterThan(4000)
      expect(ttl).toBeLessThanOrEqual(5000)
      // another lock on the same user key is the same Redis lock
      const other = cache.lock('k')
      expect(await other.acquire({ blocking: false })).toBe(false)
      await lock.release()
      expect(await client.command(['EXISTS', 'p:1:k'])).toBe(0)
      expect(await other.acquire({ blocking: false })).toBe(true)
      await other.release()
    })

    it('passes the options through', async () => {
      const lock = cache.lock('opts', {
        timeout: 2,
        sleep: 0.05,
        blocking: false,
        blockingTimeout: 1,
      })
      expect(lock).toMatchObject({ timeout: 2, sleep: 0.05, blocking: false, blockingTimeout: 1 })
    })

    it('keeps locks of different prefixes and versions apart', async () => {
      const other = createCache({ location: server.url, keyPrefix: 'q', version: 2 })
      try {
        const mine = cache.lock('shared')
        const theirs = other.lock('shared')
        expect(theirs.name).toBe('q:2:shared')
        expect(await mine.acquire({ blocking: false })).toBe(true)
        expect(await theirs.acquire({ blocking: false })).toBe(true)
        await mine.release()
        await theirs.release()
      } finally {
        await other.close()
      }
    })

    it('works with await using (acquireLock) and withLock', async () => {
      {
        await using lock = await cache.acquireLock('scoped')
        expect(await lock.owned()).toBe(true)
      }
      expect(await cache.connection.command(['EXISTS', 'p:1:scoped'])).toBe(0)
      expect(await cache.lock('scoped').withLock(() => 7)).toBe(7)
      const expiring = cache.lock('expiring', { timeout: 0.1 })
      await expiring.acquire()
      await new Promise((resolve) => setTimeout(resolve, 250))
      await expect(expiring.release()).rejects.toBeInstanceOf(LockNotOwnedError)
    })
  })

  describe('cache.acquireLock()', () => {
    const exists = async (key: string) => cache.connection.command(['EXISTS', key])

    it('resolves a held lock that `await using` releases at the end of the block', async () => {
      let token: string | null = null
      {
        await using lock = await cache.acquireLock('held', { timeout: 5 })
        expectTypeOf(lock).toEqualTypeOf<HeldLock>()
        expect(lock.name).toBe('p:1:held')
        token = lock.token
        expect(String(await cache.connection.command(['GET', 'p:1:held']))).toBe(token)
        expect(await lock.owned()).toBe(true)
        expect(await lock.locked()).toBe(true)
        expect(await lock.extend(5)).toBe(true)
        expect(await lock.reacquire()).toBe(true)
        // Another owner cannot take it meanwhile.
        expect(await cache.lock('held').acquire({ blocking: false })).toBe(false)
      }
      expect(token).toMatch(/^[0-9a-f]{32}$/)
      expect(await exists('p:1:held')).toBe(0)
    })

    it('releases when the block throws, and the block error is what surfaces', async () => {
      const boom = new Error('boom')
      const run = async () => {
        await using _lock = await cache.acquireLock('throwing', { timeout: 5 })
        throw boom
      }
      await expect(run()).rejects.toBe(boom)
      expect(await exists('p:1:throwing')).toBe(0)
    })

    it('rejects with LockError naming the lock when it cannot be had', async () => {
      const holder = await cache.acquireLock('busy', { timeout: 5 })
      await expect(cache.acquireLock('busy', { blocking: false })).rejects.toThrow(
        /could not acquire the lock 'busy': another owner holds it \(blocking: false\)/,
      )
      const started = performance.now()
      const error = await cache
        .acquireLock('busy', { blockingTimeout: 0.2, sleep: 0.05 })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LockError)
      expect((error as Error).message).toBe(
        "could not acquire the lock 'busy': another owner held it for the whole blockingTimeout (0.2 s)",
      )
      expect(performance.now() - started).toBeGreaterThanOrEqual(190)
      await holder.release()
    })

    it("waits for a held lock, as redis-py's `with lock:` does", async () => {
      const holder = await cache.acquireLock('queue', { timeout: 5 })
      setTimeout(() => void holder.release(), 150)
      await using next = await cache.acquireLock('queue', { timeout: 5, sleep: 0.02 })
      expect(await next.owned()).toBe(true)
      expect(next.token).not.toBe(holder.token)
    })

    it('a release inside the block leaves nothing for the disposal to do', async () => {
      {
        await using lock = await cache.acquireLock('early', { timeout: 5 })
        await lock.release()
        expect(lock.token).toBeNull()
        // Someone else takes it; our disposal must not touch theirs.
        expect(await cache.lock('early', { timeout: 5 }).acquire()).toBe(true)
      }
      expect(await exists('p:1:early')).toBe(1)
      await cache.connection.command(['DEL', 'p:1:early'])
    })

    it('disposal of a lock that expired and was taken over rejects with LockNotOwnedError', async () => {
      const run = async () => {
        await using _lock = await cache.acquireLock('short', { timeout: 0.1 })
        await new Promise((resolve) => setTimeout(resolve, 250))
        expect(await cache.lock('short', { timeout: 5 }).acquire()).toBe(true)
      }
      await expect(run()).rejects.toBeInstanceOf(LockNotOwnedError)
      await cache.connection.command(['DEL', 'p:1:short'])
    })

    it('takes { token } and { version }', async () => {
      await using lock = await cache.acquireLock('mine', { token: 'tok-1', version: 3, timeout: 5 })
      expect(lock.name).toBe('p:3:mine')
      expect(lock.token).toBe('tok-1')
      expect(String(await cache.connection.command(['GET', 'p:3:mine']))).toBe('tok-1')
    })

    it('refuses an empty name, like lock()', async () => {
      await expect(cache.acquireLock('')).rejects.toThrow(
        /acquireLock\(\) needs a non-empty lock name, got ''/,
      )
      expect(() => cache.lock('')).toThrow(InvalidArgumentError)
      expect(() => cache.lock('')).toThrow(/lock\(\) needs a non-empty lock name/)
      await expect(cache.acquireLock('x', { tiemout: 5 } as never)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    })
  })

  describe('await using: the cache and the lock', () => {
    it('`await using cache` declared first is closed after the lock is released', async () => {
      const probe = createCache({ location: server.url, keyPrefix: 'p' })
      try {
        {
          await using scoped = createCache({ location: server.url, keyPrefix: 'p' })
          await using lock = await scoped.acquireLock('nightly', { timeout: 10 })
          expect(await probe.connection.command(['GET', 'p:1:nightly'])).not.toBeNull()
          void lock
        }
        expect(await probe.connection.command(['EXISTS', 'p:1:nightly'])).toBe(0)
      } finally {
        await probe.close()
      }
    })

    it('Cache[Symbol.asyncDispose] closes the cache', async () => {
      const scoped = createCache({ location: server.url, keyPrefix: 'p' })
      await scoped.set('k', 1)
      await scoped[Symbol.asyncDispose]()
      await expect(scoped.get('k')).rejects.toBeInstanceOf(ClosedError)
    })

    it('a cache closed inside the block: the disposal does not throw, the lock expires by itself', async () => {
      const probe = createCache({ location: server.url, keyPrefix: 'p' })
      const scoped = createCache({ location: server.url, keyPrefix: 'p' })
      try {
        {
          await using _lock = await scoped.acquireLock('orphan', { timeout: 30 })
          await scoped.close()
        }
        // Not released (the connection was gone), but it has its timeout.
        const ttl = Number(await probe.connection.command(['PTTL', 'p:1:orphan']))
        expect(ttl).toBeGreaterThan(0)
        expect(ttl).toBeLessThanOrEqual(30_000)
        await probe.connection.command(['DEL', 'p:1:orphan'])
      } finally {
        await probe.close()
      }
    })
  })

  describe('argument checks', () => {
    it('blocking must be a boolean, in the options and per call', async () => {
      expect(() => cache.lock('typed', { blocking: 'no' as never })).toThrow(InvalidArgumentError)
      expect(() => cache.lock('typed', { blocking: 1 as never })).toThrow(/blocking must be/)
      const held = await cache.acquireLock('typed', { timeout: 10 })
      try {
        // 0 would count as non-blocking, 'yes' as blocking: both are refused before a try.
        for (const blocking of [0, 'yes']) {
          await expect(
            cache.lock('typed').acquire({ blocking: blocking as never }),
          ).rejects.toBeInstanceOf(InvalidArgumentError)
        }
        // null is redis-py's None: the lock's own setting (here: not blocking, so false at once).
        const own = cache.lock('typed', { blocking: false })
        expect(await own.acquire({ blocking: null as never })).toBe(false)
        expect(() => cache.lock('typed', { blocking: null as never })).not.toThrow()
        await expect(
          cache.acquireLock('typed', { blocking: 'no' as never }),
        ).rejects.toBeInstanceOf(InvalidArgumentError)
      } finally {
        await held.release()
      }
    })

    it('a given token must be a non-empty string, and nothing is stored otherwise', async () => {
      for (const token of [42, '', Buffer.from('t'), null]) {
        const error = await cache
          .acquireLock('tokened', { token: token as never })
          .catch((e: unknown) => e)
        expect(error, String(token)).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(/token must be a non-empty string/)
        await expect(
          cache.lock('tokened').acquire({ token: token as never }),
        ).rejects.toBeInstanceOf(InvalidArgumentError)
      }
      expect(await cache.connection.command(['EXISTS', 'p:1:tokened'])).toBe(0)
    })
  })

  describe('close() while an acquire() waits', () => {
    it('ends the wait between tries at once, with ClosedError', async () => {
      const held = await cache.acquireLock('waited', { timeout: 60 })
      const closing = createCache({ location: server.url, keyPrefix: 'p' })
      try {
        // Connected first, so that the first try is refused well within the pause below and the
        // acquire then sleeps (60 s) between tries when the cache closes.
        await closing.get('warm-up')
        const waiting = closing
          .lock('waited', { sleep: 60 })
          .acquire()
          .catch((e: unknown) => e)
        await delay(300)
        const start = performance.now()
        await closing.close()
        const outcome = await waiting
        expect(outcome).toBeInstanceOf(ClosedError)
        expect(performance.now() - start).toBeLessThan(3000)
        // A lock made after close() refuses at once as well.
        await expect(closing.lock('waited').acquire()).rejects.toBeInstanceOf(ClosedError)
      } finally {
        await closing.close()
        await held.release()
      }
    })
  })

  describe('cache.lock() is not disposable', () => {
    it('`await using` on it does not compile (it would never take the lock)', () => {
      expectTypeOf(cache.lock('x')).toEqualTypeOf<CacheLock>()
      expectTypeOf(cache.lock('x')).not.toMatchTypeOf<AsyncDisposable>()
      const misuse = async () => {
        // @ts-expect-error a lock from cache.lock() is not taken: use `await cache.acquireLock()`
        await using lock = cache.lock('never-taken')
        void lock
      }
      void misuse
    })
  })
})
