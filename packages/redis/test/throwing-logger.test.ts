// A logger whose methods throw (a logger is user code: a transport that is down, a formatter
// that fails). The documented rule (docs/telemetry.md): a listener's error is "logged once
// through the cache's logger and the call goes on"; the codebase catches a throwing logger there
// and in the earlyRecompute advice ("A logger that throws has nowhere left to report to").
// Elsewhere it does not:
//  - under ignoreExceptions, the call whose ignored error is logged rejects with the LOGGER's
//    error (a plain Error, not the fallback) — _error-policy.ts #logOnce;
//  - the local tier's tracking connection, refused by the ACL, warns from a node-redis 'error'
//    listener: the logger's throw escapes it and ends the process — connections/src/_tracking.ts.
import { fileURLToPath } from 'node:url'
import { createCache } from '@cachex/redis'
import {
  type RedisServer,
  startRedis,
  trackUnhandledRejections,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runChild } from './helpers.ts'

const child = fileURLToPath(new URL('./_throwing-logger-child.ts', import.meta.url))

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
  const c = createClient({ url: server.url })
  await c.connect()
  await c.sendCommand([
    'ACL',
    'SETUSER',
    'noclient',
    'on',
    '>pw-noclient',
    '~*',
    '&*',
    '+@all',
    '-client',
  ])
  await c.close()
})
afterAll(async () => {
  await server?.stop()
})

const throwing = {
  error: () => {
    throw new Error('logger.error is broken')
  },
  warn: () => {
    throw new Error('logger.warn is broken')
  },
}

describe('ignoreExceptions with a logger that throws', () => {
  it('the first ignored failure still answers the fallback', async () => {
    // A port nothing listens on: every call fails with a ConnectionError, which is ignorable.
    const cache = createCache({
      location: 'redis://127.0.0.1:1',
      keyPrefix: uniquePrefix('ign'),
      ignoreExceptions: true,
      logIgnoredExceptions: true,
      socketConnectTimeout: 0.5,
      logger: throwing,
    })
    try {
      // Before: rejects with Error('logger.error is broken'); later calls (not logged for a
      // minute) answer their fallbacks.
      await expect(cache.get('a')).resolves.toBeNull()
      await expect(cache.set('a', 1)).resolves.toBe(false)
    } finally {
      await cache.close()
    }
  })
})

describe('getOrSet earlyRecompute: a refresh whose factory throws, with a logger that throws', () => {
  // With a logger that works, the caller gets the current value and the failure is logged
  // ("kept the current value: its recomputation failed"); with one that throws, the caller
  // rejected with the logger's own Error — _get-or-set-controlled.ts, the catch of the refresh.
  it.each(['redis', 'memory'])('%s: the caller still gets the current value', async (backend) => {
    const unhandled = trackUnhandledRejections()
    const cache = createCache({
      location: backend === 'redis' ? server.url : `memory://${uniquePrefix('er')}`,
      keyPrefix: uniquePrefix('er'),
      logger: throwing,
    })
    try {
      // A 200 ms compute time and a beta so large that the next read recomputes early, whatever
      // the draw (with 1000 it kept the value when the draw was above 0.975: 1 CI run failed).
      const options = { timeout: 5, earlyRecompute: 1e300 }
      const first = async () => {
        await new Promise((resolve) => setTimeout(resolve, 200))
        return 'v1'
      }
      expect(await cache.getOrSet('k', first, options)).toBe('v1')
      let calls = 0
      const failing = () => {
        calls++
        throw new Error('database down')
      }
      await expect(cache.getOrSet('k', failing, options)).resolves.toBe('v1')
      expect(calls).toBe(1)
      expect(await cache.get('k')).toBe('v1')
      expect(unhandled()).toEqual([])
    } finally {
      await cache.close()
    }
  })
})

describe('the local tier refused CLIENT by the ACL, with a logger that throws', () => {
  it('the process lives on, and the cache still answers from Redis', async () => {
    const unhandled = trackUnhandledRejections()
    const proc = runChild(child, [server.url.replace('redis://', 'redis://noclient:pw-noclient@')])
    const ended = await proc.exitsWithin(30_000)
    const out = proc.out + proc.err
    expect(ended, out).toBe(true)
    expect(proc.exitCode, out).toBe(0)
    expect(proc.out, out).toContain('alive 1 1')
    expect(unhandled()).toEqual([])
  }, 60_000)
})
