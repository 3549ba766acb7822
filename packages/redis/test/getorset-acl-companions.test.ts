// getOrSet's stampede control under an ACL user limited to its cache's keys (`~app:*`), without
// the `__cachex:*` companion keys: the delta companion of `earlyRecompute` is advice, so a write
// of it refused does not fail a call whose value was stored (a warning says it once), and the
// lock of `distributed`, which the call needs, is refused with a message that names what is
// missing.
import { delay, type RedisServer, redisCall, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, ResponseError } from '../src/index.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
  await redisCall(server.url, ['ACL', 'SETUSER', 'app', 'on', '>app-pw', '~app:*', '&*', '+@all'])
  await redisCall(server.url, [
    'ACL',
    'SETUSER',
    'full',
    'on',
    '>full-pw',
    '~app:*',
    '~__cachex:*',
    '&*',
    '+@all',
  ])
})

afterAll(async () => {
  await server?.stop()
})

/** A cache of `user`, and what its logger was told. */
function open(user: string) {
  const warned: string[] = []
  const errors: string[] = []
  const logger = {
    warn: (message: string) => warned.push(message),
    error: (message: string) => errors.push(message),
  }
  const location = server.url.replace('redis://', `redis://${user}:${user}-pw@`)
  const cache = createCache({ location, keyPrefix: 'app', logger })
  return { cache, warned, errors }
}

describe('earlyRecompute, the delta companion refused', () => {
  it('answers the value it computed and stored, and warns once per cache', async () => {
    const { cache, warned, errors } = open('app')
    try {
      let runs = 0
      const factory = async () => {
        runs++
        return 'computed'
      }
      expect(await cache.getOrSet('k', factory, 60, { earlyRecompute: 1 })).toBe('computed')
      expect(runs).toBe(1)
      expect(await cache.get('k')).toBe('computed')
      // A hit now (the delta read refused is no compute time).
      expect(await cache.getOrSet('k', factory, 60, { earlyRecompute: 1 })).toBe('computed')
      expect(await cache.getOrSet('k2', () => 'other', 60, { earlyRecompute: 1 })).toBe('other')
      expect(runs).toBe(1)
      expect(warned).toHaveLength(1)
      expect(warned[0]).toMatch(/__cachex:delta:app:1:k/)
      expect(warned[0]).toMatch(/~__cachex:\*/)
      expect(warned[0]).toMatch(/NOPERM/)
      expect(errors).toEqual([])
    } finally {
      await cache.close()
    }
  })

  it('a stale value refreshed within its grace is replaced, not reported as a failed refresh', async () => {
    const { cache, warned, errors } = open('app')
    try {
      const options = { grace: 30, earlyRecompute: 1 }
      expect(await cache.getOrSet('s', () => 'v1', 1, options)).toBe('v1')
      await delay(1300) // past its timeout, within its grace
      expect(await cache.getOrSet('s', () => 'v2', 1, options)).toBe('v1') // stale, refreshed
      let now: unknown
      for (let i = 0; i < 50 && now !== 'v2'; i++) {
        await delay(20)
        now = await cache.get('s')
      }
      expect(now).toBe('v2')
      expect(errors).toEqual([]) // was: "kept the current value: its recomputation failed"
      expect(warned).toHaveLength(1)
    } finally {
      await cache.close()
    }
  })

  it('allowed ~__cachex:*, the compute time is stored and nothing is said', async () => {
    const { cache, warned, errors } = open('full')
    try {
      expect(await cache.getOrSet('d', () => 'v', 60, { earlyRecompute: 1 })).toBe('v')
      const delta = await redisCall(server.url, ['GET', '__cachex:delta:app:1:d'])
      expect(Number(String(delta))).toBeGreaterThan(0)
      expect(warned).toEqual([])
      expect(errors).toEqual([])
    } finally {
      await cache.close()
    }
  })
})

describe('distributed, the lock refused', () => {
  it.each([
    ['distributed', { distributed: true }],
    ['distributed with earlyRecompute', { distributed: true, earlyRecompute: 1 }],
  ])(
    '%s: rejects naming the lock key and ~__cachex:*, Redis’s refusal as its cause',
    async (_, options) => {
      const { cache } = open('app')
      try {
        let runs = 0
        const error = await cache.getOrSet('g', () => ++runs, 60, options).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ResponseError)
        const message = (error as Error).message
        expect(message).toMatch(/__cachex:lock:app:1:g/)
        expect(message).toMatch(/~__cachex:\*/)
        expect(message).toMatch(/NOPERM/)
        const cause = (error as Error).cause
        expect(cause).toBeInstanceOf(ResponseError)
        expect((cause as Error).message).toMatch(/^NOPERM/)
        expect(runs).toBe(0)
      } finally {
        await cache.close()
      }
    },
  )

  it('under ignoreExceptions the value is computed and stored', async () => {
    const location = server.url.replace('redis://', 'redis://app:app-pw@')
    const cache = createCache({ location, keyPrefix: 'app', ignoreExceptions: true })
    try {
      expect(await cache.getOrSet('i', () => 'mine', 60, { distributed: true })).toBe('mine')
      expect(await cache.get('i')).toBe('mine')
    } finally {
      await cache.close()
    }
  })
})
