// Edges of locks and semaphores: a retry with the caller's own token after a failed acquisition,
// close() while a try is in flight, per-call options, and an extension past the farthest expiry.
import { type Cache, ClosedError, ConnectionError, createCache } from '@cachex/redis'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { InvalidArgumentError, LockNotOwnedError } from '../src/index.ts'
import { BACKENDS, backendServer } from './helpers.ts'

const { server, closeAfterTest } = useFailureHarness()

/** The message of the `InvalidArgumentError` that `call` rejects with. */
async function refused(call: Promise<unknown>): Promise<string> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(InvalidArgumentError)
  return (error as Error).message
}

/** `attempt()`, tried again while the connection is still coming back (`ConnectionError`). */
async function onceBack<T>(attempt: () => Promise<T>): Promise<T> {
  const until = performance.now() + 10_000
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      if (!(error instanceof ConnectionError) || performance.now() > until) throw error
      await delay(20)
    }
  }
}

describe('a retry with the same token after an acquisition failed without an answer', () => {
  it('keeps its lock: the failed try is not released under it', async () => {
    const s = await server()
    const prefix = uniquePrefix('undo')
    const worker = closeAfterTest(createCache({ location: s.url, keyPrefix: prefix }))
    await worker.get('warm')
    await s.kill()
    const failedAt = performance.now()
    await expect(
      worker.acquireLock('job', { token: 'worker-1', timeout: 60 }),
    ).rejects.toBeInstanceOf(ConnectionError)
    await s.start()
    const held = await onceBack(() =>
      worker.acquireLock('job', { token: 'worker-1', timeout: 60, blockingTimeout: 1 }),
    )
    const other = closeAfterTest(createCache({ location: s.url, keyPrefix: prefix }))
    // The failed try's release goes 1 s after the failure, unless the token is held again then:
    // held, nothing is sent, so there is no event to wait for — only past the 1 s mark.
    await delay(Math.max(0, failedAt + 1_500 - performance.now()))
    expect(await held.owned()).toBe(true)
    expect(await other.lock('job', { timeout: 60 }).acquire({ blocking: false })).toBe(false)
    await held.release()
    expect(await other.lock('job').locked()).toBe(false)
  }, 30_000)

  it('keeps a lock whose try was in flight when the failed try was released', async () => {
    const s = await server()
    const prefix = uniquePrefix('undo')
    const worker = closeAfterTest(createCache({ location: s.url, keyPrefix: prefix }))
    await worker.get('warm')
    await s.kill()
    const failedAt = performance.now()
    await expect(
      worker.acquireLock('job', { token: 'worker-1', timeout: 60 }),
    ).rejects.toBeInstanceOf(ConnectionError)
    await s.start()
    await onceBack(() => worker.get('warm'))
    // The next background release of the failed try (1 or 5 s after it) comes while the retry
    // waits on the frozen server: sent then, it would go behind the retry and undo it.
    const next = [1_000, 5_000].find((ms) => failedAt + ms - performance.now() > 300)
    if (next === undefined) throw new Error('the server took over 4.7 s to restart')
    await delay(failedAt + next - 200 - performance.now())
    s.pause()
    const retry = worker.acquireLock('job', { token: 'worker-1', timeout: 60 })
    await delay(failedAt + next + 300 - performance.now())
    s.resume()
    const held = await retry
    expect(await held.owned()).toBe(true)
    const other = closeAfterTest(createCache({ location: s.url, keyPrefix: prefix }))
    expect(await other.lock('job').acquire({ blocking: false })).toBe(false)
    await held.release()
  }, 30_000)
})

describe('close() while a try is in flight (redis)', () => {
  it("a blocked waiter's retry: rejects with ClosedError, and leaves the lock free", async () => {
    const s = await server()
    const prefix = uniquePrefix('retry')
    const holder = closeAfterTest(createCache({ location: s.url, keyPrefix: prefix }))
    const observer = closeAfterTest(createCache({ location: s.url, keyPrefix: prefix }))
    const waiter = createCache({ location: s.url, keyPrefix: prefix })
    await waiter.get('warm')
    await holder.acquireLock('job', { timeout: 0.3 })
    // The waiter's commands, counted while in flight (passed through to the connection).
    const command = waiter.connection.command.bind(waiter.connection)
    let inFlight = 0
    vi.spyOn(waiter.connection, 'command').mockImplementation((args, route) => {
      inFlight++
      const reply = command(args, route)
      reply.then(
        () => inFlight--,
        () => inFlight--,
      )
      return reply
    })
    const heldUntil = performance.now() + 300
    // No timeout: a lock taken as the cache closes would be held by no one for ever.
    const waiting = waiter.acquireLock('job', { sleep: 0.02 }).catch((e: unknown) => e)
    // With the server frozen, a try is sent and waits there while the holder's lock runs out
    // (the server's clock runs on): once it wakes, that try takes the lock.
    s.pause()
    await delay(Math.max(0, heldUntil + 200 - performance.now()))
    while (inFlight < 1) await delay(5)
    const closing = waiter.close()
    s.resume()
    // The retry took the expired lock once the server woke: the cache closed meanwhile.
    expect(await waiting).toBeInstanceOf(ClosedError)
    await closing
    expect(await observer.lock('job').locked()).toBe(false)
  }, 30_000)
})

describe.each(BACKENDS)('%s', (backend) => {
  let url: string
  let stop: () => Promise<void>
  let cache: Cache

  beforeAll(async () => {
    const s = await backendServer(backend)
    url = s.url
    stop = () => s.stop()
    cache = createCache({ location: url, keyPrefix: uniquePrefix('edges') })
  })

  afterAll(async () => {
    await cache?.close()
    await stop?.()
  })

  describe('close() while an acquisition is in flight', () => {
    /** A cache on the suite's server, its connection open, and one more to look with. */
    async function pair(): Promise<[closing: Cache, observer: Cache]> {
      const keyPrefix = uniquePrefix('close')
      // The observer is opened first: on memory://, it keeps the store alive past the close.
      const observer = closeAfterTest(createCache({ location: url, keyPrefix }))
      const closing = createCache({ location: url, keyPrefix })
      await closing.get('warm')
      return [closing, observer]
    }

    it('acquireLock() rejects with ClosedError and leaves no lock behind', async () => {
      const [closing, observer] = await pair()
      // No timeout: a lock the closed cache took would never expire.
      const acquiring = closing.acquireLock('job').catch((e: unknown) => e)
      const closed = closing.close()
      expect(await acquiring).toBeInstanceOf(ClosedError)
      await closed
      expect(await observer.lock('job').locked()).toBe(false)
      expect(await observer.lock('job').acquire({ blocking: false })).toBe(true)
    })

    it('acquirePermit() rejects with ClosedError and leaves no permit behind', async () => {
      const [closing, observer] = await pair()
      const acquiring = closing
        .acquirePermit('pool', { limit: 1, timeout: null })
        .catch((e: unknown) => e)
      const closed = closing.close()
      expect(await acquiring).toBeInstanceOf(ClosedError)
      await closed
      expect(await observer.hasKey('pool')).toBe(false)
      const permit = await observer.acquirePermit('pool', { limit: 1, blocking: false })
      await permit.release()
    })

    it('a lock acquired before close() is left to its holder', async () => {
      const [closing, observer] = await pair()
      const held = await closing.acquireLock('kept', { timeout: 30 })
      await closing.close()
      expect(await observer.lock('kept').locked()).toBe(true)
      // Its holder can no longer release it: it expires by its timeout.
      await expect(held.release()).rejects.toBeInstanceOf(ClosedError)
      await observer.delete('kept')
    })
  })

  describe('per-call options', () => {
    it('lock.acquire() refuses an option it does not take, and null', async () => {
      const held = await cache.acquireLock('opt-acquire', { timeout: 30 })
      try {
        // Bounded, so that an option ignored makes the test fail rather than wait for ever.
        const lock = cache.lock('opt-acquire', { blockingTimeout: 2 })
        // redis-py's spelling: ignored, it would wait for ever.
        expect(await refused(lock.acquire({ blocking_timeout: 0 } as never))).toBe(
          "lock.acquire() does not take the option 'blocking_timeout': " +
            "did you mean 'blockingTimeout'?",
        )
        // The lock's own option, not a per-call one: ignored, the lock would never expire.
        const free = cache.lock('opt-free')
        await expect(free.acquire({ timeout: 5 } as never)).rejects.toThrow(
          /lock\.acquire\(\) does not take the option 'timeout'.*cache\.lock\(\)/,
        )
        expect(free.token).toBeNull()
        expect(await refused(free.acquire(null as never))).toBe(
          'lock.acquire() takes an options object { blocking, blockingTimeout, token }, got null',
        )
        expect(await cache.hasKey('opt-free')).toBe(false)
        // undefined stays the defaults.
        expect(await free.acquire(undefined)).toBe(true)
        await free.release()
      } finally {
        await held.release()
      }
    })

    it('lock.extend() refuses an unknown option, a non-boolean replaceTtl and null', async () => {
      const lock = cache.lock('opt-extend', { timeout: 100 })
      expect(await lock.acquire()).toBe(true)
      try {
        const before = (await cache.pttl('opt-extend')) as number
        await expect(lock.extend(10, { replace_ttl: true } as never)).rejects.toThrow(
          /lock\.extend\(\) does not take the option 'replace_ttl': did you mean 'replaceTtl'\?/,
        )
        await expect(lock.extend(10, { replaceTtl: 'no' as never })).rejects.toThrow(
          /replaceTtl must be a boolean, got the string 'no'/,
        )
        // A boxed boolean is named as one (it said `an object`).
        await expect(lock.extend(10, { replaceTtl: new Boolean(false) as never })).rejects.toThrow(
          /replaceTtl must be a boolean, got a Boolean object/,
        )
        const error = await lock.extend(10, null as never).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(/lock\.extend\(\) takes an options object/)
        // Nothing was sent: the remaining time only ran down.
        expect(await cache.pttl('opt-extend')).toBeLessThanOrEqual(before)
        expect(await lock.extend(10, undefined)).toBe(true)
        expect(await lock.extend(10, { replaceTtl: true })).toBe(true)
        expect(await cache.pttl('opt-extend')).toBeLessThanOrEqual(10_000)
      } finally {
        await lock.release()
      }
    })

    it('semaphore.acquire() refuses an option it does not take, and null', async () => {
      const s = cache.semaphore('opt-sem', { limit: 1 })
      expect(await refused(s.acquire({ blocking_timeout: 0 } as never))).toBe(
        "semaphore.acquire() does not take the option 'blocking_timeout': " +
          "did you mean 'blockingTimeout'?",
      )
      await expect(s.acquire({ token: 't' } as never)).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(s.acquire(null as never)).rejects.toThrow(
        /semaphore\.acquire\(\) takes an options object \{ blocking, blockingTimeout \}, got null/,
      )
      expect(s.token).toBeNull()
      expect(await cache.hasKey('opt-sem')).toBe(false)
      expect(await s.acquire(undefined)).toBe(true)
      await s.release()
    })
  })

  describe('extend() past the farthest expiry', () => {
    it('refuses, with the remaining time unchanged', async () => {
      const lock = cache.lock('ext-huge', { timeout: 8e12 })
      expect(await lock.acquire()).toBe(true)
      try {
        const before = (await cache.pttl('ext-huge')) as number
        const error = await lock.extend(8e12).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(
          /lock\.extend\(8000000000000\) would leave the lock '.*ext-huge' .* ms to live/,
        )
        const after = (await cache.pttl('ext-huge')) as number
        expect(Number.isSafeInteger(after)).toBe(true)
        expect(after).toBeLessThanOrEqual(before)
        expect(after).toBeGreaterThan(before - 60_000)
        // Within the bound, it adds as before; replacing is bounded by the argument check.
        expect(await lock.extend(1e9)).toBe(true)
        expect(await cache.pttl('ext-huge')).toBeGreaterThan(after + 1e12 - 60_000)
        expect(await lock.extend(10, { replaceTtl: true })).toBe(true)
        expect(await cache.pttl('ext-huge')).toBeLessThanOrEqual(10_000)
      } finally {
        await lock.release()
      }
    })

    it('of a lock no longer held still rejects with LockNotOwnedError', async () => {
      const lock = cache.lock('ext-gone', { timeout: 8e12 })
      expect(await lock.acquire()).toBe(true)
      await cache.delete('ext-gone')
      await expect(lock.extend(8e12)).rejects.toBeInstanceOf(LockNotOwnedError)
    })
  })
})
