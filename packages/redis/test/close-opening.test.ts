// close() right after calls made on a fresh cache, whose connection is still being opened: the
// calls made before close() are answered (the connection finishes opening for them, within
// socketConnectTimeout), as on a connection already open; calls made after close() — in the same
// tick too — reject with ClosedError. On each topology cachex opens itself, and on a node-redis
// sentinel handed in not open yet.
import {
  type Cache,
  ClosedError,
  type CreateCacheOptions,
  createCache,
  type GetOrSetOptions,
} from '@cachex/redis'
import { startSentinels, timed, uniquePrefix } from '@cachex/test-utils'
import { createSentinel } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEPLOYMENTS } from './helpers.ts'

const KEYS = Array.from({ length: 20 }, (_, i) => `k${i}`)

describe.each(DEPLOYMENTS.filter((d) => d.name !== 'cluster'))('$name', (deployment) => {
  let options: CreateCacheOptions
  let stop: () => Promise<void>
  const open: Cache[] = []
  beforeAll(async () => {
    ;({ options, stop } = await deployment.start())
  }, 60_000)
  afterAll(async () => {
    await Promise.all(open.map((cache) => cache.close()))
    await stop?.()
  })

  /** A cache under `keyPrefix` reading from the primary: a replica may not have the writes yet. */
  function checker(keyPrefix: string): Cache {
    const location = options.location
    const check = Array.isArray(location)
      ? createCache({ location: location[0] as string, keyPrefix })
      : createCache({ ...options, keyPrefix })
    open.push(check)
    return check
  }

  /** How many of `KEYS` Redis holds under `keyPrefix`. */
  async function stored(keyPrefix: string): Promise<number> {
    const check = checker(keyPrefix)
    let count = 0
    for (const key of KEYS) if ((await check.ttl(key)) !== 0) count++
    return count
  }

  it('calls made before close() on a connection still opening are answered and stored', async () => {
    const keyPrefix = uniquePrefix('cold')
    const cache = createCache({ ...options, keyPrefix })
    const sets = KEYS.map((key, i) => cache.set(key, i))
    const one = cache.set('one', 1, { timeout: 60 })
    const closing = timed(cache.close())
    const settled = await Promise.allSettled([...sets, one])
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([])
    const closed = await closing
    expect(closed.error).toBeUndefined()
    expect(closed.ms).toBeLessThan(10_000)
    expect(await stored(keyPrefix)).toBe(KEYS.length)
  }, 30_000)

  it('under ignoreExceptions they resolve true, not a silent false', async () => {
    const keyPrefix = uniquePrefix('coldie')
    const cache = createCache({ ...options, keyPrefix, ignoreExceptions: true })
    const sets = KEYS.map((key, i) => cache.set(key, i))
    await cache.close()
    expect(await Promise.all(sets)).toEqual(KEYS.map(() => true))
    expect(await stored(keyPrefix)).toBe(KEYS.length)
  }, 30_000)

  it('a call made right after close(), in the same tick, rejects with ClosedError', async () => {
    for (const warm of [true, false]) {
      const keyPrefix = uniquePrefix('later')
      const cache = createCache({ ...options, keyPrefix })
      if (warm) await cache.set('k0', 'before')
      const before = cache.set('k1', 'before')
      const closing = cache.close()
      const after = cache.set('k2', 'after').then(
        () => 'stored',
        (error: unknown) => error,
      )
      const read = cache.get('k0').then(
        () => 'read',
        (error: unknown) => error,
      )
      await closing
      expect(await before).toBe(true)
      expect(await after).toBeInstanceOf(ClosedError)
      expect(await read).toBeInstanceOf(ClosedError)
      expect(await checker(keyPrefix).ttl('k2')).toBe(0)
    }
  }, 30_000)

  it('a second close() made meanwhile resolves once the first has, not before', async () => {
    for (const warm of [false, true]) {
      const keyPrefix = uniquePrefix('twice')
      const cache = createCache({ ...options, keyPrefix })
      if (warm) await cache.get('warm')
      const order: string[] = []
      const sets = KEYS.map((key, i) => cache.set(key, i))
      const first = cache.close().then(() => order.push('close 1'))
      const second = cache.close().then(() => order.push('close 2'))
      await second
      // The second waits for the first's work — answering the calls made before it — rather
      // than resolving while the connection is still being opened, or still answering them.
      expect(order, `warm: ${warm}`).toEqual(['close 1', 'close 2'])
      await first
      expect((await Promise.allSettled(sets)).filter((s) => s.status === 'rejected')).toEqual([])
      expect(await stored(keyPrefix)).toBe(KEYS.length)
    }
  }, 30_000)

  it('a getOrSet whose factory finishes after close() resolves its computed value, not stored', async () => {
    const variants: Array<[string, GetOrSetOptions]> = [
      ['plain', { timeout: 60 }],
      ['grace', { timeout: 60, grace: 10 }],
      ['earlyRecompute', { timeout: 60, earlyRecompute: 1 }],
      ['distributed', { timeout: 60, distributed: true }],
    ]
    for (const warm of [false, true]) {
      for (const [name, getOrSetOptions] of variants) {
        const keyPrefix = uniquePrefix('gos')
        const cache = createCache({ ...options, keyPrefix })
        if (warm) await cache.get('warm')
        let closing: Promise<void> | undefined
        // The factory runs after the read (and the lock); close() is called while it computes.
        const got = cache.getOrSet(
          'k',
          async () => {
            closing = cache.close()
            return 'computed'
          },
          getOrSetOptions,
        )
        const outcome = await got.then(
          (value) => value,
          (error: unknown) => String(error),
        )
        await closing
        expect(outcome, `${name}, warm: ${warm}`).toBe('computed')
        expect(await checker(keyPrefix).ttl('k'), `${name}, warm: ${warm}`).toBe(0)
      }
      // close() made in the same tick as the call: its read is answered, then its factory runs.
      const keyPrefix = uniquePrefix('gosnow')
      const cache = createCache({ ...options, keyPrefix })
      if (warm) await cache.get('warm')
      const got = cache
        .getOrSet('k', () => 'computed', 60)
        .then(
          (value) => value,
          (error: unknown) => String(error),
        )
      await cache.close()
      expect(await got, `same tick, warm: ${warm}`).toBe('computed')
      expect(await checker(keyPrefix).ttl('k')).toBe(0)
    }
  }, 30_000)
})

describe('memory://', () => {
  it('a call made right after close(), in the same tick, rejects with ClosedError', async () => {
    const keeper = createCache({ location: 'memory://close-opening' })
    await keeper.get('x')
    const cache = createCache({ location: 'memory://close-opening' })
    const before = cache.set('k1', 'before')
    const closing = cache.close()
    const after = cache.set('k2', 'after').then(
      () => 'stored',
      (error: unknown) => error,
    )
    await closing
    expect(await before).toBe(true)
    expect(await after).toBeInstanceOf(ClosedError)
    expect(await keeper.get('k1')).toBe('before')
    expect(await keeper.get('k2', 'missing')).toBe('missing')
    await keeper.close()
  })
})

describe('a node-redis sentinel handed in not open yet', () => {
  it('calls made before close() are answered as the cache opens it (or once open), then closes it', async () => {
    const deployment = await startSentinels({ replicas: 0, sentinels: 1 })
    try {
      for (const warm of [false, true]) {
        const given = createSentinel({
          name: deployment.name,
          sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
        })
        given.on('error', () => {})
        const keyPrefix = uniquePrefix('given')
        const cache = createCache({
          client: 'sentinel',
          location: given as never,
          sentinels: deployment.addresses,
          keyPrefix,
          closeConnection: true,
        })
        // Warm: node-redis's close() dropped the commands waiting for a client of its pool.
        if (warm) await cache.set('warm', 1)
        const sets = KEYS.map((key, i) => cache.set(key, i))
        await cache.close()
        expect((await Promise.allSettled(sets)).filter((s) => s.status === 'rejected')).toEqual([])
        expect(given.isOpen).toBe(false)
        const check = createCache({
          client: 'sentinel',
          location: deployment.location,
          sentinels: deployment.addresses,
          keyPrefix,
        })
        expect((await check.getMany(KEYS)).size).toBe(KEYS.length)
        await check.close()
      }
    } finally {
      await deployment.stop()
    }
  }, 60_000)
})
