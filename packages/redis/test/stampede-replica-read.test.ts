// getOrSet over a primary with replicas whose reads go to a replica: when its conditional store
// loses the race (the `add` of a miss finds the key taken, a refresh's compare-and-set finds the
// value changed), the caller gets the value the primary holds — not its own computed value, nor the
// value it started from, which a replica that has not applied the other write yet still serves.
import { type Cache, createCache, type GetOrSetOptions } from '@cachex/redis'
import { startReplicaSet, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gated } from './helpers.ts'
import { eventually, openers, type Raw } from './local-tier-helpers.ts'

/**
 * An ACL user that may not run scripts: the refresh's compare-and-set is then a read of the key
 * and a `SET`.
 */
const NO_SCRIPTS = ['--user', 'noscript', 'on', '>noscript-pw', '~*', '&*', '+@all', '-@scripting']

const { closers, raw } = openers('replica-read')

describe.each([
  { user: 'default', local: false },
  { user: 'noscript', local: false },
  { user: 'default', local: true },
])('primary + replica, user $user, local tier $local', ({ user, local }) => {
  let urls: string[]
  let replica: Raw
  let primary: Raw

  beforeAll(async () => {
    const set = await startReplicaSet({ replicas: 1, args: NO_SCRIPTS })
    closers.push(() => set.stop())
    urls = set.urls.map((url) =>
      user === 'noscript' ? url.replace('redis://', 'redis://noscript:noscript-pw@') : url,
    )
    primary = await raw(set.primary.url)
    replica = await raw(set.replicas[0]?.url as string)
  }, 60_000)

  afterAll(async () => {
    await replica?.sendCommand(['CLIENT', 'UNPAUSE']).catch(() => undefined)
  })

  /** A cache whose reads go to the replica (it found the replica in sync), and a second writer. */
  async function caches(): Promise<{ cache: Cache; writer: Cache }> {
    const keyPrefix = uniquePrefix('replica-read')
    const cache = createCache({ location: urls, keyPrefix, ...(local ? { local: {} } : {}) })
    const writer = createCache({ location: urls, keyPrefix })
    closers.push(
      () => cache.close(),
      () => writer.close(),
    )
    let onReplica = 0
    await eventually(async () => {
      const info = await cache.connection.command(['INFO', 'replication'], { readonly: true })
      onReplica = /role:slave/.test(String(info)) ? onReplica + 1 : 0
      return onReplica >= 5
    })
    return { cache, writer }
  }

  /** Waits until the replica applied every write made on the primary so far. */
  async function replicated(): Promise<void> {
    await eventually(async () => Number(await primary.sendCommand(['WAIT', '1', '200'])) >= 1)
  }

  /**
   * Runs `call` while the replica applies none of the primary's writes (and still serves reads):
   * every write made meanwhile — the other writer's — is on the primary only. Then lets the
   * replica catch up.
   */
  async function lagging<T>(call: () => Promise<T>): Promise<T> {
    await replicated()
    await replica.sendCommand(['CLIENT', 'PAUSE', '20000', 'WRITE'])
    try {
      return await call()
    } finally {
      await replica.sendCommand(['CLIENT', 'UNPAUSE'])
      await replicated()
    }
  }

  const misses: Array<[string, GetOrSetOptions]> = [
    ['no stampede options', { timeout: 60 }],
    ['grace', { timeout: 60, grace: 30 }],
    ['earlyRecompute', { timeout: 60, earlyRecompute: 1 }],
  ]
  for (const [name, options] of misses) {
    it(`a miss (${name}) whose add finds the key taken gets the other writer's value`, async () => {
      const { cache, writer } = await caches()
      const computed = gated(() => 'computed')
      const got = await lagging(async () => {
        const call = cache.getOrSet('k', computed.factory, options)
        await computed.started
        await writer.set('k', 'theirs', 60) // on the primary; the replica still lacks the key
        computed.open()
        return call
      })
      expect({ got, now: await writer.get('k') }).toEqual({ got: 'theirs', now: 'theirs' })
    })
  }

  it("a refresh whose compare-and-set finds a set() made meanwhile gets that set's value", async () => {
    const { cache, writer } = await caches()
    const early: GetOrSetOptions = { timeout: 60, earlyRecompute: 1e300 }
    expect(await cache.getOrSet('r', () => 'old', early)).toBe('old')
    const refresh = gated(() => 'refreshed')
    const got = await lagging(async () => {
      const call = cache.getOrSet('r', refresh.factory, early)
      await refresh.started
      await writer.set('r', 'theirs', 60) // on the primary; the replica still serves 'old'
      refresh.open()
      return call
    })
    expect({ got, now: await writer.get('r') }).toEqual({ got: 'theirs', now: 'theirs' })
  })
})
