// A step of the system clock (an NTP correction, a VM resumed, a manual change) moves `Date.now()`
// but not the time that passes: what cachex measures as elapsed time (how long the local tier holds
// a value, read-your-writes over replicas, once-a-minute logging) follows a monotonic clock
// (`performance.now()`). The step is simulated in-process by replacing `Date.now`.
import { type Cache, createCache } from '@cachex/redis'
import {
  delay,
  freePort,
  standaloneServer,
  startReplicaSet,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventually, openers } from './local-tier-helpers.ts'

const HOUR = 3_600_000
const realNow = Date.now
const realPerf = performance.now.bind(performance)
const { closers, raw, localCache } = openers('clockstep')

let server: { url: string; stop(): Promise<void> }
beforeAll(async () => {
  server = await standaloneServer()
})
afterEach(() => {
  Date.now = realNow
  performance.now = realPerf
})
afterAll(async () => {
  Date.now = realNow
  performance.now = realPerf
  await server?.stop()
})

/** The system clock steps by `ms` from now on (`performance.now()` does not move). */
function stepClock(ms: number): void {
  Date.now = () => realNow() + ms
}

/** A cache on the standalone server with a local tier (`local`) whose tracking is up. */
async function tracked(local: object = {}): Promise<Cache> {
  const cache = localCache({ location: server.url, local })
  await cache.get('warm-up')
  await eventually(() => cache.localStats()?.tracking === true)
  return cache
}

/** Calls `read` until one call is served by the tier. */
async function heldBy(cache: Cache, read: () => Promise<unknown>): Promise<void> {
  await eventually(async () => {
    const before = cache.localStats()?.hits ?? 0
    await read()
    return cache.localStats()?.hits === before + 1
  })
}

describe('local tier and a step of the system clock', () => {
  it('control: pttl() of a held key answers what Redis answers', async () => {
    const cache = await tracked()
    await cache.set('k', 'v', 100)
    await heldBy(cache, () => cache.get('k'))
    const answered = await cache.pttl('k')
    const redis = Number(await cache.connection.command(['PTTL', cache.makeKey('k')]))
    expect(Number.isInteger(answered)).toBe(true)
    expect(Math.abs((answered as number) - redis)).toBeLessThan(5_000)
  }, 60_000)

  it('pttl() of a held key answers what Redis answers after the clock steps back an hour', async () => {
    const cache = await tracked()
    await cache.set('k', 'v', 100)
    await heldBy(cache, () => cache.get('k'))
    stepClock(-HOUR)
    const answered = await cache.pttl('k')
    const redis = Number(await cache.connection.command(['PTTL', cache.makeKey('k')]))
    // Redis: about 100 s left. The tier must not add the hour the clock went back.
    expect(redis).toBeLessThanOrEqual(100_000)
    expect(Number.isInteger(answered)).toBe(true)
    expect(Math.abs((answered as number) - redis)).toBeLessThan(5_000)
  }, 60_000)

  it('ttl() of a held key answers what Redis answers after the clock steps forward an hour', async () => {
    const cache = await tracked()
    await cache.set('k', 'v', 7200)
    await heldBy(cache, () => cache.get('k'))
    stepClock(HOUR)
    const answered = await cache.ttl('k')
    const redis = Number(await cache.connection.command(['TTL', cache.makeKey('k')]))
    expect(Math.abs((answered as number) - redis)).toBeLessThan(5)
  }, 60_000)

  it('control: local.ttl (1 s) bounds how long a value is held', async () => {
    const cache = await tracked({ ttl: 1 })
    await cache.set('k', 'v', null)
    await heldBy(cache, () => cache.get('k'))
    await delay(1_500)
    const before = cache.localStats()?.hits ?? 0
    expect(await cache.get('k')).toBe('v')
    expect(cache.localStats()?.hits).toBe(before)
  }, 60_000)

  it('local.ttl (1 s) still bounds how long a value is held after the clock steps back an hour', async () => {
    const cache = await tracked({ ttl: 1 })
    await cache.set('k', 'v', null)
    await heldBy(cache, () => cache.get('k'))
    stepClock(-HOUR)
    await delay(1_500)
    // Held at most 1 s: this read goes to Redis (a miss of the tier), not served from memory.
    const before = cache.localStats()?.hits ?? 0
    expect(await cache.get('k')).toBe('v')
    expect(cache.localStats()?.hits).toBe(before)
  }, 60_000)

  for (const [name, step] of [
    ['control: a held value past its timeout is refreshed under grace', 0],
    [
      'a held value past its timeout is refreshed under grace after the clock steps back an hour',
      -HOUR,
    ],
  ] as const) {
    it(name, async () => {
      const cache = await tracked()
      let calls = 0
      const factory = () => `v${++calls}`
      const options = { timeout: 1, grace: 60 }
      expect(await cache.getOrSet('g', factory, options)).toBe('v1')
      await heldBy(cache, () => cache.getOrSet('g', factory, options))
      if (step !== 0) stepClock(step)
      await delay(1_500)
      // Past its 1 s timeout, within its grace: served stale, and refreshed in the background.
      expect(await cache.getOrSet('g', factory, options)).toBe('v1')
      await eventually(async () => (await cache.get('g')) === 'v2', 20_000)
      expect(calls).toBe(2)
    }, 60_000)
  }
})

describe('read-your-writes over replicas and a step of the system clock', () => {
  async function readAfterDelete(stepMs: number): Promise<unknown> {
    const set = await startReplicaSet({ replicas: 1 })
    closers.push(() => set.stop())
    const primary = await raw(set.primary.url)
    const replica = await raw((set.replicas[0] as { url: string }).url)
    const cache = localCache({ location: [...set.urls] })
    await cache.get('warm-up')
    await eventually(() => cache.localStats()?.tracking === true)
    // Reads go to the replica once the cache found it in sync.
    let onReplica = 0
    await eventually(async () => {
      const info = await cache.connection.command(['INFO', 'replication'], { readonly: true })
      onReplica = /role:slave/.test(String(info)) ? onReplica + 1 : 0
      return onReplica >= 5
    })
    const rkey = cache.makeKey('k')
    await primary.sendCommand(['SET', rkey, '"old"'])
    await eventually(async () => (await replica.sendCommand(['GET', rkey])) === '"old"')
    // The replica applies none of its primary's writes for a while, and still serves reads.
    await replica.sendCommand(['CLIENT', 'PAUSE', '5000', 'WRITE'])
    try {
      expect(await cache.delete('k')).toBe(true)
      if (stepMs !== 0) stepClock(stepMs)
      return await cache.get('k')
    } finally {
      Date.now = realNow
      await replica.sendCommand(['CLIENT', 'UNPAUSE'])
    }
  }

  it('control: without a clock step, the read after a delete is on the primary (null)', async () => {
    expect(await readAfterDelete(0)).toBeNull()
  }, 120_000)

  it('a forward step right after a delete does not send the next read to a lagging replica', async () => {
    // The delete was 0 s ago by any monotonic clock: the read must still see it.
    expect(await readAfterDelete(HOUR)).toBeNull()
  }, 120_000)
})

describe('logIgnoredExceptions and a step of the system clock', () => {
  /** Lines logged for one kind of ignored error: at the first failure, then `after()` and another. */
  async function loggedTwice(after: () => void): Promise<number> {
    const port = await freePort()
    const logged: string[] = []
    const logger = { error: (message: string) => logged.push(message) }
    const cache = createCache({
      location: `redis://127.0.0.1:${port}`,
      keyPrefix: uniquePrefix('clocklog'),
      ignoreExceptions: true,
      logIgnoredExceptions: true,
      logger,
    })
    try {
      expect(await cache.get('k', 'fallback')).toBe('fallback')
      expect(logged).toHaveLength(1)
      const code = /\((E_[A-Z_]+)\)/.exec(logged[0] as string)?.[1]
      after()
      expect(await cache.get('k', 'fallback')).toBe('fallback')
      return logged.filter((line) => line.includes(`(${code})`)).length
    } finally {
      Date.now = realNow
      performance.now = realPerf
      await cache.close()
    }
  }

  it('control: 61 s later, the same kind of error is logged again', async () => {
    const lines = await loggedTwice(() => {
      Date.now = () => realNow() + 61_000
      performance.now = () => realPerf() + 61_000
    })
    expect(lines).toBe(2)
  }, 30_000)

  it('control: right after, the same kind of error is not logged again', async () => {
    expect(await loggedTwice(() => undefined)).toBe(1)
  }, 30_000)

  it('after the clock steps back an hour, an ignored error is logged again once a minute has passed', async () => {
    const lines = await loggedTwice(() => {
      Date.now = () => realNow() - HOUR + 61_000
      performance.now = () => realPerf() + 61_000
    })
    expect(lines).toBe(2)
  }, 30_000)
})
