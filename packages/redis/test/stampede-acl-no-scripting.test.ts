// getOrSet({ distributed: true }) for an ACL user without `@scripting` (allowed the `__cachex:*`
// companion keys and the wake-up channel): its lock is released and kept alive without a script.
import { delay, type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

let server: RedisServer
let admin: ReturnType<typeof createClient>

beforeAll(async () => {
  server = await startRedis()
  admin = createClient({ url: server.url })
  await admin.connect()
  for (const [user, ...rules] of [
    ['noscript', '-@scripting'],
    ['full', '+@all'],
  ]) {
    await admin.sendCommand([
      'ACL',
      'SETUSER',
      user as string,
      'on',
      `>${user}-pw`,
      '~app-*',
      '~__cachex:*',
      'allchannels',
      '+@all',
      ...rules,
    ])
  }
})

afterAll(async () => {
  await admin?.close()
  await server?.stop()
})

const url = (user: string) => server.url.replace('redis://', `redis://${user}:${user}-pw@`)

/** How many EVALs the server refused so far (an ACL refusal counts as a rejected call). */
async function evalsRefused(): Promise<number> {
  const stats = String(await admin.sendCommand(['INFO', 'commandstats']))
  return Number(/cmdstat_eval:[^\r\n]*rejected_calls=(\d+)/.exec(stats)?.[1] ?? 0)
}

describe.each(['noscript', 'full'])('distributed getOrSet, user %s', (user) => {
  it('a miss right after a computation does not wait out the previous lock', async () => {
    const cache = createCache({ location: url(user), keyPrefix: `app-${user}` })
    try {
      expect(await cache.getOrSet('k', () => 1, 60, { distributed: true })).toBe(1)
      expect(await admin.exists(`__cachex:lock:app-${user}:1:k`)).toBe(0)
      await cache.delete('k') // invalidated after a database write
      const started = performance.now()
      expect(await cache.getOrSet('k', () => 2, 60, { distributed: true })).toBe(2)
      expect(performance.now() - started).toBeLessThan(1000) // was about lockTimeout (5 s)
    } finally {
      await cache.close()
    }
  })

  it('a factory longer than lockTimeout keeps its lock: it runs once', async () => {
    const a = createCache({ location: url(user), keyPrefix: `app-${user}` })
    const b = createCache({ location: url(user), keyPrefix: `app-${user}` })
    try {
      let calls = 0
      const factory = async () => {
        calls++
        await delay(2500)
        return 'v'
      }
      const first = a.getOrSet('slow', factory, 60, { distributed: true, lockTimeout: 1 })
      await delay(200)
      const second = b.getOrSet('slow', factory, 60, { distributed: true, lockTimeout: 1 })
      expect(await Promise.all([first, second])).toEqual(['v', 'v'])
      expect(calls).toBe(1)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it("a holder whose lock expired and was taken over does not release the other's lock", async () => {
    const cache = createCache({ location: url(user), keyPrefix: `app-${user}` })
    const lockKey = `__cachex:lock:app-${user}:1:taken`
    try {
      const done = cache.getOrSet(
        'taken',
        async () => {
          // Our lock is lost (as if it had expired) and another process holds it now.
          await admin.set(lockKey, 'another-token', { PX: 10_000 })
          return 'v'
        },
        60,
        { distributed: true, lockTimeout: 1 },
      )
      expect(await done).toBe('v')
      expect(await admin.get(lockKey)).toBe('another-token')
      expect(await admin.pTTL(lockKey)).toBeGreaterThan(8000) // not extended, not deleted
    } finally {
      await admin.del(lockKey)
      await cache.close()
    }
  })
})

describe('distributed getOrSet without scripting', () => {
  it('learns once that scripts are refused: later calls send none', async () => {
    const cache = createCache({ location: url('noscript'), keyPrefix: 'app-once' })
    try {
      const before = await evalsRefused()
      for (let i = 0; i < 5; i++) {
        expect(await cache.getOrSet(`once${i}`, () => i, 60, { distributed: true })).toBe(i)
      }
      expect(await evalsRefused()).toBe(before + 1)
    } finally {
      await cache.close()
    }
  })

  it('a release wakes the waiters of another process at once', async () => {
    const a = createCache({ location: url('noscript'), keyPrefix: 'app-wake' })
    const b = createCache({ location: url('noscript'), keyPrefix: 'app-wake' })
    try {
      await b.get('connected')
      const first = a.getOrSet(
        'w',
        async () => {
          await delay(300)
          return 'v'
        },
        60,
        { distributed: true, lockTimeout: 30 },
      )
      await delay(50)
      const started = performance.now()
      // Waits on the lock; the holder's message wakes it long before the 30 s lock would expire.
      const second = b.getOrSet('w', () => 'other', 60, { distributed: true, lockTimeout: 30 })
      expect(await Promise.all([first, second])).toEqual(['v', 'v'])
      expect(performance.now() - started).toBeLessThan(5000)
    } finally {
      await a.close()
      await b.close()
    }
  })
})

// A refresh (here XFetch's, with a beta no draw escapes) replaces the value only if nobody wrote
// the key while its factory ran: with the script, or for a user without `@scripting` with a read
// of the key right before its SET.
describe.each(['noscript', 'full'])('a refresh by user %s never replaces a newer write', (user) => {
  const options = { earlyRecompute: 1e12 }

  /** Stores `old` at `key`, then starts its refresh: its factory waits for `finish()`. */
  async function refreshing(cache: ReturnType<typeof createCache>, key: string) {
    expect(await cache.getOrSet(key, () => 'old', 60, options)).toBe('old')
    let finish!: () => void
    const gate = new Promise<void>((resolve) => {
      finish = resolve
    })
    let started!: () => void
    const running = new Promise<void>((resolve) => {
      started = resolve
    })
    const result = cache.getOrSet(
      key,
      async () => {
        started()
        await gate
        return 'refreshed'
      },
      60,
      options,
    )
    await running
    return { result, finish }
  }

  it('a set() made while the factory ran stays; the caller gets it', async () => {
    const cache = createCache({ location: url(user), keyPrefix: `app-r${user}` })
    try {
      const { result, finish } = await refreshing(cache, 'set')
      await cache.set('set', 'user', 60)
      finish()
      expect(await result).toBe('user')
      expect(await cache.get('set')).toBe('user')
    } finally {
      await cache.close()
    }
  })

  it('a key deleted while the factory ran stays deleted; the caller gets its value', async () => {
    const cache = createCache({ location: url(user), keyPrefix: `app-r${user}` })
    try {
      const { result, finish } = await refreshing(cache, 'deleted')
      await cache.delete('deleted')
      finish()
      expect(await result).toBe('refreshed')
      expect(await admin.exists(`app-r${user}:1:deleted`)).toBe(0)
    } finally {
      await cache.close()
    }
  })

  it('a touch() made while the factory ran stays: the value is not replaced', async () => {
    const cache = createCache({ location: url(user), keyPrefix: `app-r${user}` })
    try {
      const { result, finish } = await refreshing(cache, 'touched')
      await cache.touch('touched', 600)
      finish()
      expect(await result).toBe('old')
      expect(await cache.get('touched')).toBe('old')
      expect(await admin.pTTL(`app-r${user}:1:touched`)).toBeGreaterThan(120_000)
    } finally {
      await cache.close()
    }
  })

  it('with no write meanwhile, the refreshed value is stored', async () => {
    const cache = createCache({ location: url(user), keyPrefix: `app-r${user}` })
    try {
      const { result, finish } = await refreshing(cache, 'quiet')
      finish()
      expect(await result).toBe('refreshed')
      expect(await cache.get('quiet')).toBe('refreshed')
      expect(await admin.pTTL(`app-r${user}:1:quiet`)).toBeGreaterThan(50_000)
    } finally {
      await cache.close()
    }
  })
})

describe('a refresh without scripting', () => {
  it('learns once that scripts are refused: later refreshes send none', async () => {
    const cache = createCache({ location: url('noscript'), keyPrefix: 'app-refresh-once' })
    try {
      expect(await cache.getOrSet('k', () => 0, 60, { earlyRecompute: 1e12 })).toBe(0)
      const before = await evalsRefused()
      for (let i = 1; i <= 5; i++) {
        expect(await cache.getOrSet('k', () => i, 60, { earlyRecompute: 1e12 })).toBe(i)
      }
      expect(await evalsRefused()).toBe(before + 1)
    } finally {
      await cache.close()
    }
  })
})
