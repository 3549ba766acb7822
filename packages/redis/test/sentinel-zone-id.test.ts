// A sentinel that reports its primary at an IPv6 address with a zone ID (`fe80::1%eth0` for a
// link-local address; here `::1%lo`, which the loopback interface answers): the primary is
// connected to (it was taken for no address: no URL form held a zone ID); so is a location
// naming one as RFC 6874 writes it (`redis://[::1%25lo]:6379`).
import { createCache } from '@cachex/redis'
import { type RedisServer, redisCall, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type FakeSentinel, masterFields, startFakeSentinel } from './_fake-sentinel.ts'

let redis: RedisServer
let fs: FakeSentinel

beforeAll(async () => {
  redis = await startRedis({ args: ['--bind', '127.0.0.1', '::1'] })
  fs = await startFakeSentinel()
  fs.answers = {
    master: masterFields('mymaster', '::1%lo', redis.port),
    replicas: [],
    sentinels: [],
  }
}, 60_000)

afterAll(async () => {
  await fs?.close()
  await redis?.stop()
})

it('a primary reported at ::1%lo is used', async () => {
  const cache = createCache({
    client: 'sentinel',
    location: 'redis://mymaster/0',
    sentinels: [['127.0.0.1', fs.port]],
    socketTimeout: 2,
    socketConnectTimeout: 2,
  })
  try {
    await cache.set('zoned', 'here')
    expect(await cache.get('zoned')).toBe('here')
    expect(await redisCall(redis.url, ['GET', ':1:zoned'])).toBe('"here"')
  } finally {
    await cache.close()
  }
}, 60_000)

it('a location with a zone ID, redis://[::1%25lo]:port (RFC 6874), is reached', async () => {
  const cache = createCache({ location: `redis://[::1%25lo]:${redis.port}/0`, socketTimeout: 2 })
  try {
    await cache.set('zoned-url', 'there')
    expect(await redisCall(redis.url, ['GET', ':1:zoned-url'])).toBe('"there"')
  } finally {
    await cache.close()
  }
}, 60_000)
