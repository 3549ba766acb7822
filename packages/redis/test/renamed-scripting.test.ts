// Scripting commands renamed away on the server (`rename-command EVAL ""`, as some managed Redis
// services do): Redis answers `ERR unknown command 'EVAL'` where an ACL user without @scripting
// gets `NOPERM`, and cachex falls back to plain commands for both (docs/stampede.md). With only
// EVALSHA renamed away, scripts keep running with EVAL.
import { delay, type RedisServer, redisCall, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, ResponseError } from '../src/index.ts'

let noScripts: RedisServer
let noEvalsha: RedisServer
beforeAll(async () => {
  ;[noScripts, noEvalsha] = await Promise.all([
    startRedis({ args: ['--rename-command', 'EVAL', '', '--rename-command', 'EVALSHA', ''] }),
    startRedis({ args: ['--rename-command', 'EVALSHA', ''] }),
  ])
})
afterAll(async () => {
  await Promise.all([noScripts?.stop(), noEvalsha?.stop()])
})

/** How many calls of `command` the server got so far (`INFO commandstats`). */
async function calls(url: string, command: string): Promise<number> {
  const stats = String(await redisCall(url, ['INFO', 'commandstats']))
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
}

/** How many error replies the server sent so far (an unknown command's among them). */
async function errorReplies(url: string): Promise<number> {
  const stats = String(await redisCall(url, ['INFO', 'stats']))
  return Number(/total_error_replies:(\d+)/.exec(stats)?.[1] ?? 0)
}

describe('EVAL and EVALSHA renamed away', () => {
  for (const distributed of [false, true]) {
    it(`a stale value within its grace is replaced by its background refresh (distributed: ${distributed})`, async () => {
      const logs: string[] = []
      const logger = {
        error: (m: string) => logs.push(m),
        warn: (m: string) => logs.push(m),
      }
      const keyPrefix = `grace-${distributed}`
      const cache = createCache({ location: noScripts.url, keyPrefix, logger })
      try {
        let n = 0
        const factory = () => ++n
        const options = { grace: 60, distributed }
        expect(await cache.getOrSet('k', factory, 1, options)).toBe(1)
        await delay(1500)
        // Stale: served at once, refreshed in the background.
        expect(await cache.getOrSet('k', factory, 1, options)).toBe(1)
        let got: unknown = 1
        for (let i = 0; i < 100 && got === 1; i++) {
          await delay(100)
          got = await cache.get('k')
        }
        expect(got).toBe(2)
        expect(logs).toEqual([])
        // The refresh's lock is gone (released, not left to expire).
        if (distributed) {
          expect(await redisCall(noScripts.url, ['EXISTS', `__cachex:lock:${keyPrefix}:1:k`])).toBe(
            0,
          )
        }
      } finally {
        await cache.close()
      }
    }, 60_000)
  }

  it('distributed getOrSet releases its lock: a miss right after does not wait out the previous lock', async () => {
    const cache = createCache({ location: noScripts.url, keyPrefix: 'gs' })
    try {
      expect(await cache.getOrSet('k', () => 1, 60, { distributed: true })).toBe(1)
      // Released once the value is stored, as for a user without @scripting.
      expect(await redisCall(noScripts.url, ['EXISTS', '__cachex:lock:gs:1:k'])).toBe(0)
      await cache.delete('k')
      const started = performance.now()
      expect(await cache.getOrSet('k', () => 2, 60, { distributed: true })).toBe(2)
      // The lock left behind would be waited out: lockTimeout, 5 s.
      expect(performance.now() - started).toBeLessThan(4000)
    } finally {
      await cache.close()
    }
  }, 60_000)

  it("a lock's error says the scripts are renamed or disabled on the server", async () => {
    const cache = createCache({ location: noScripts.url, keyPrefix: 'lk' })
    try {
      const error = await cache
        .lock('job', { timeout: 5 })
        .acquire({ blocking: false })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ResponseError)
      const message = (error as Error).message
      expect(message).toMatch(/ERR unknown command 'eval(sha)?'/i)
      expect(message).toMatch(/renamed or disabled/)
      expect(message).toMatch(/locks need EVAL under its own name/)
    } finally {
      await cache.close()
    }
  }, 30_000)
})

describe('only EVALSHA renamed away', () => {
  it('incr works on every call, and EVALSHA is tried once per connection', async () => {
    const cache = createCache({ location: noEvalsha.url, keyPrefix: 'app' })
    try {
      await cache.set('n', 0)
      const before = await calls(noEvalsha.url, 'eval')
      const errors = await errorReplies(noEvalsha.url)
      const got: unknown[] = []
      for (let i = 0; i < 6; i++) {
        got.push(
          await cache.incr('n').then(
            (v) => v,
            (e: unknown) => String(e).slice(0, 100),
          ),
        )
      }
      expect(got).toEqual([1, 2, 3, 4, 5, 6])
      // Every incr ran with EVAL (the first, and each after EVALSHA was found missing).
      expect((await calls(noEvalsha.url, 'eval')) - before).toBe(6)
      // One EVALSHA refused at most: then the connection sends EVAL directly.
      expect((await errorReplies(noEvalsha.url)) - errors).toBeLessThanOrEqual(1)
    } finally {
      await cache.close()
    }
  }, 30_000)

  it('a lock can be taken and released more than once', async () => {
    const cache = createCache({ location: noEvalsha.url, keyPrefix: 'app' })
    try {
      const got: unknown[] = []
      for (let i = 0; i < 3; i++) {
        const lock = cache.lock('job', { timeout: 5 })
        got.push(
          await lock
            .acquire({ blocking: false })
            .then(async (ok) => {
              await lock.release()
              return ok
            })
            .catch((e: unknown) => String(e).slice(0, 100)),
        )
      }
      expect(got).toEqual([true, true, true])
      expect(await redisCall(noEvalsha.url, ['EXISTS', 'app:1:job'])).toBe(0)
    } finally {
      await cache.close()
    }
  }, 30_000)

  it('a grace refresh with distributed stores its value and releases its lock', async () => {
    const cache = createCache({ location: noEvalsha.url, keyPrefix: 'gr' })
    try {
      let n = 0
      const options = { grace: 60, distributed: true }
      expect(await cache.getOrSet('k', () => ++n, 1, options)).toBe(1)
      await delay(1500)
      expect(await cache.getOrSet('k', () => ++n, 1, options)).toBe(1)
      let got: unknown = 1
      for (let i = 0; i < 100 && got === 1; i++) {
        await delay(100)
        got = await cache.get('k')
      }
      expect(got).toBe(2)
      expect(await redisCall(noEvalsha.url, ['EXISTS', '__cachex:lock:gr:1:k'])).toBe(0)
    } finally {
      await cache.close()
    }
  }, 60_000)
})
