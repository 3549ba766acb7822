// Sentinel whose data nodes listen only on TLS, reached with a redis:// location (plain TCP): the
// nodes drop each connection unanswered, which is a configuration to fix ("use rediss://"), not an
// outage. Writes failed at once with that hint; reads waited the whole socketTimeout for a replica
// or a new primary that could never come, then failed with the same hint. They fail at once too.
// (An outage of a data node that was once ready still makes reads wait for the failover:
// sentinel-frozen-primary.test.ts and the Sentinel tests of packages/connections.)
import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import { startTlsSentinels, type TlsSentinelDeployment, timed } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const PASSWORD = 'Tls-Plain-Pw-42'
const HINT =
  /the server closed the connection before answering: if it serves TLS only, use rediss:\/\//
/** Well under the socketTimeout (10 s) reads waited; loose enough for a loaded machine. */
const FAST_MS = 3000

const opened: Cache[] = []
afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
})

describe('Sentinel with TLS-only data nodes and a redis:// location', () => {
  let dep: TlsSentinelDeployment
  beforeAll(async () => {
    dep = await startTlsSentinels({ password: PASSWORD })
  }, 60_000)
  afterAll(() => dep?.stop())

  it('reads fail at once, as writes do, saying to use rediss://', async () => {
    const cache = createCache({
      client: 'sentinel',
      location: `redis://:${PASSWORD}@${dep.name}/0`,
      sentinels: dep.addresses,
      sentinelOptions: { tls: true, socket: { ca: dep.certs.ca } },
      socketConnectTimeout: 2,
      socketTimeout: 10,
    })
    opened.push(cache)
    // The first calls wait for the first connections (not timed).
    await timed(cache.set('k', 1))
    await timed(cache.get('k'))
    for (const call of [
      () => cache.get('k'),
      () => cache.set('k', 1),
      () => cache.get('k'),
      () => cache.getMany(['a', 'b']),
      () => cache.hasKey('k'),
    ]) {
      const { error, ms } = await timed(call())
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(HINT)
      expect((error as Error).message).toMatch(/not waiting/)
      expect((error as Error).message).not.toContain(PASSWORD)
      // Reads waited the whole socketTimeout (10 s) each.
      expect(ms).toBeLessThan(FAST_MS)
    }
  }, 90_000)
})
