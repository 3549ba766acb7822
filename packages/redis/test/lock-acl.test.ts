// A lock under a Redis ACL user limited to its cache's keys: its fencing counter lives under
// `__cachex:`, which the user must be allowed too (docs/packages/lock.md).
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCache, ResponseError } from '../src/index.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
  const admin = createClient({ url: server.url })
  await admin.connect()
  await admin.sendCommand(['ACL', 'SETUSER', 'app', 'on', '>app-pw', '~app:*', '+@all'])
  await admin.sendCommand([
    'ACL',
    'SETUSER',
    'fenced',
    'on',
    '>fenced-pw',
    '~app:*',
    '~__cachex:*',
    '+@all',
  ])
  await admin.close()
})

afterAll(async () => {
  await server?.stop()
})

const url = (user: string) => server.url.replace('redis://', `redis://${user}:${user}-pw@`)

describe('a lock under an ACL user', () => {
  it('limited to ~app:*, acquire rejects with NOPERM and takes no lock', async () => {
    const cache = createCache({ location: url('app'), keyPrefix: 'app' })
    try {
      const error = await cache
        .lock('job', { timeout: 5 })
        .acquire({ blocking: false })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ResponseError)
      expect((error as Error).message).toMatch(/NOPERM/)
      expect(await cache.hasKey('job')).toBe(false)
      expect(await cache.keys('*')).toEqual([])
    } finally {
      await cache.close()
    }
  })

  it('allowed ~__cachex:* too, it locks with a fencing token', async () => {
    const cache = createCache({ location: url('fenced'), keyPrefix: 'app' })
    try {
      const lock = cache.lock('job', { timeout: 5 })
      expect(await lock.acquire({ blocking: false })).toBe(true)
      expect(lock.fencingToken).toBeGreaterThan(0)
      await lock.release()
    } finally {
      await cache.close()
    }
  })
})
