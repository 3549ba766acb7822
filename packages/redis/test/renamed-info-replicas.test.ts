// Read replicas where INFO is renamed away (as managed services do: `--rename-command INFO ""`):
// cachex cannot check them (`INFO replication`), so reads stay on the primary — as for a user the
// ACL refuses INFO — and that is said once; the replicas are not asked INFO again on every read
// (they were: each of 500 reads asked them, each time refused with `ERR unknown command`).
import { delay, type RedisServer, redisCall, startRedis } from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'

/** INFO's new name on the replicas: the test still reads their stats. */
const RENAMED = 'SECRETINFO'

let primary: RedisServer
const replicas: RedisServer[] = []
beforeAll(async () => {
  primary = await startRedis()
  for (let i = 0; i < 2; i++) {
    replicas.push(
      await startRedis({
        args: [
          '--replicaof',
          '127.0.0.1',
          String(primary.port),
          '--rename-command',
          'INFO',
          RENAMED,
        ],
      }),
    )
  }
  const until = performance.now() + 30_000
  for (const replica of replicas) {
    while (performance.now() < until) {
      const role = (await redisCall(replica.url, ['ROLE'])) as unknown[]
      if (String(role[3]) === 'connected') break
      await delay(100)
    }
  }
}, 60_000)
afterAll(async () => {
  await Promise.all(replicas.map((r) => r.stop()))
  await primary?.stop()
})

/** The error replies each replica gave so far (an unknown command is one). */
const errorReplies = () =>
  Promise.all(
    replicas.map(async (replica) => {
      const stats = String(await redisCall(replica.url, [RENAMED, 'stats']))
      return Number(/total_error_replies:(\d+)/.exec(stats)?.[1] ?? 0)
    }),
  )

/** The warnings the cache gave, through its logger or Node's `process.emitWarning`. */
let warnings: string[] = []
const onWarning = (warning: Error) => warnings.push(warning.message)
beforeEach(() => {
  warnings = []
  process.on('warning', onWarning)
})
afterEach(() => {
  process.off('warning', onWarning)
})

describe('read replicas with INFO renamed away', () => {
  it('reads are served by the primary, INFO is not asked again, and that is said once', async () => {
    const cache = createCache({
      location: [primary.url, ...replicas.map((r) => r.url)],
      keyPrefix: 'app',
    })
    try {
      await cache.set('k', 'v')
      expect(await cache.get('k')).toBe('v')
      // Each replica refused its first check (polled: a busy machine checks them late).
      for (let i = 0; i < 200 && (await errorReplies()).some((n) => n === 0); i++) await delay(100)
      await delay(500)
      const before = await errorReplies()
      expect(before.every((n) => n > 0)).toBe(true)
      for (let i = 0; i < 500; i++) expect(await cache.get('k')).toBe('v')
      await delay(1500)
      for (let i = 0; i < 20; i++) expect(await cache.get('k')).toBe('v')
      const after = await errorReplies()
      // Before: 444–714 refused INFOs on each replica (one per read).
      expect(after).toEqual(before)
      const said = warnings.filter((w) => /\bINFO\b/.test(w))
      expect(said).toHaveLength(1)
      expect(said[0]).toMatch(/renamed or disabled/)
      expect(said[0]).toMatch(/primary/)
    } finally {
      await cache.close()
    }
  }, 90_000)
})
