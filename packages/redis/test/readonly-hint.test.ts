// A write refused with READONLY because the server at a static location is a replica (given as
// the standalone location, or the first URL of a replicas location that a `FAILOVER` demoted):
// the error says that the server is a replica, that a static location does not follow failovers,
// and where writes should go. Still a `ResponseError` (`E_RESPONSE`), the server's text first, no
// password in it.
import { createCache, ResponseError } from '@cachex/redis'
import { type RedisServer, type ReplicaSet, startReplicaSet } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const HINT =
  /is a replica.*a static location does not follow failovers.*point the location at the primary, or use Sentinel \(client: 'sentinel'\)/

const closers: Array<() => Promise<unknown>> = []
afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined)
})

/** The error `p` rejects with (undefined if it resolves). */
const errorOf = (p: Promise<unknown>): Promise<Error | undefined> =>
  p.then(
    () => undefined,
    (error: Error) => error,
  )

describe('READONLY from a static location', () => {
  let set: ReplicaSet
  const replica = () => set.replicas[0] as RedisServer
  beforeAll(async () => {
    set = await startReplicaSet({ replicas: 1, password: 's3cr3t-pw' })
    closers.push(() => set.stop())
  })

  it('standalone location on a replica: the error says so, and where writes go', async () => {
    const cache = createCache({ location: replica().url })
    closers.push(() => cache.close())
    const error = await errorOf(cache.set('k', 1))
    expect(error).toBeInstanceOf(ResponseError)
    expect((error as ResponseError).code).toBe('E_RESPONSE')
    expect(error?.message).toMatch(/^READONLY You can't write against a read only replica\./)
    expect(error?.message).toMatch(HINT)
    expect(error?.message).toContain(`127.0.0.1:${replica().port}`)
    expect(error?.message).not.toContain('s3cr3t-pw')
  })

  it('a batch of writes with a timeout (setMany) gets the same hint', async () => {
    const cache = createCache({ location: replica().url })
    closers.push(() => cache.close())
    const error = await errorOf(cache.setMany({ a: 1, b: 2 }, 60))
    expect(error).toBeInstanceOf(ResponseError)
    expect(error?.message).toMatch(HINT)
  })

  it('replicas location whose first URL is a replica: the error says so', async () => {
    const cache = createCache({ location: [replica().url, set.primary.url] })
    closers.push(() => cache.close())
    const error = await errorOf(cache.set('k', 1))
    expect(error).toBeInstanceOf(ResponseError)
    expect((error as ResponseError).code).toBe('E_RESPONSE')
    expect(error?.message).toMatch(/^READONLY /)
    expect(error?.message).toMatch(HINT)
    expect(error?.message).not.toContain('s3cr3t-pw')
  })

  it('other error replies have no such hint', async () => {
    const cache = createCache({ location: set.primary.url })
    closers.push(() => cache.close())
    await cache.set('text', 'a string')
    const error = await errorOf(cache.hset('text', 'f', 1))
    expect(error).toBeInstanceOf(ResponseError)
    expect(error?.message).not.toMatch(/replica|sentinel/i)
  })
})
