// A lock taken by an ACL user that may not touch cachex's own keys: the error names the keys the
// lock needs, rather than Redis's bare `NOPERM … one of the keys used as arguments`.
import { type RedisServer, redisCall, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, ResponseError } from '../src/index.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
  await redisCall(server.url, ['ACL', 'SETUSER', 'app', 'on', '>app-pw', '~app:*', '+@all'])
  await redisCall(server.url, [
    'ACL',
    'SETUSER',
    'noscripts',
    'on',
    '>noscripts-pw',
    '~app:*',
    '~__cachex:*',
    '+@all',
    '-@scripting',
  ])
})

afterAll(async () => {
  await server?.stop()
})

const url = (user: string) => server.url.replace('redis://', `redis://${user}:${user}-pw@`)

describe("a lock under an ACL user without cachex's keys", () => {
  it('limited to ~app:*: the error names the lock key, the fencing counter and ~__cachex:*', async () => {
    const cache = createCache({ location: url('app'), keyPrefix: 'app' })
    try {
      const error = await cache
        .lock('job', { timeout: 5 })
        .acquire({ blocking: false })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ResponseError)
      const message = (error as Error).message
      // The server's own text, then what to allow.
      expect(message).toMatch(/NOPERM this user has no permissions to access one of the keys/)
      expect(message).toContain("'app:1:job'")
      expect(message).toMatch(/'__cachex:fence:\{[0-9a-z]+\}'/)
      expect(message).toContain('~__cachex:*')
      expect((error as Error).cause).toBeInstanceOf(ResponseError)
      expect(String(((error as Error).cause as Error).message)).toMatch(/^NOPERM/)
      expect(await cache.keys('*')).toEqual([])
    } finally {
      await cache.close()
    }
  })

  it('without @scripting: the error says a lock runs Lua scripts', async () => {
    const cache = createCache({ location: url('noscripts'), keyPrefix: 'app' })
    try {
      const error = await cache
        .lock('job', { timeout: 5 })
        .acquire({ blocking: false })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ResponseError)
      expect((error as Error).message).toMatch(/NOPERM/)
      expect((error as Error).message).toMatch(/Lua scripts.*@scripting/)
    } finally {
      await cache.close()
    }
  })
})
