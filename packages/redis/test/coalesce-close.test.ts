// close() with coalesced hasKeys and gets in flight: every call made before close() is answered,
// as a lone hasKey's EXISTS or get's GET would be, even where the batch's reply calls for another
// command (its keys asked one by one, its nils checked) after close() has begun.
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, ClosedError, createCache } from '../src/index.ts'
import { BACKENDS, backendServer } from './helpers.ts'

describe.each(BACKENDS)('%s: close() with coalesced hasKeys in flight', (backend) => {
  let server: { url: string; stop(): Promise<void> }

  beforeAll(async () => {
    server = await backendServer(backend)
  })

  afterAll(async () => {
    await server?.stop()
  })

  /** A cache on the server, connected (one call answered), with `present` set. */
  async function connected(present: string[]): Promise<Cache> {
    const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('cc') })
    await cache.setMany(Object.fromEntries(present.map((k) => [k, 1])))
    return cache
  }

  it('answers a present and a missing key asked in one tick, then close(): [true, false]', async () => {
    const cache = await connected(['there'])
    const answers = Promise.allSettled([cache.hasKey('there'), cache.hasKey('absent')])
    await cache.close()
    expect(await answers).toEqual([
      { status: 'fulfilled', value: true },
      { status: 'fulfilled', value: false },
    ])
  })

  it('answers 5 present and 5 missing keys asked in one tick, then close()', async () => {
    const present = Array.from({ length: 5 }, (_, i) => `p${i}`)
    const missing = Array.from({ length: 5 }, (_, i) => `m${i}`)
    const cache = await connected(present)
    // Interleaved, so that neither half is a batch of its own.
    const keys = present.flatMap((k, i) => [k, missing[i] as string])
    const answers = Promise.allSettled(keys.map((k) => cache.hasKey(k)))
    await cache.close()
    expect(await answers).toEqual(keys.map((_, i) => ({ status: 'fulfilled', value: i % 2 === 0 })))
  })

  it('answers the gets of one tick after a run of hits (MGET sent alone), then close()', async () => {
    const cache = await connected(['a', 'b'])
    // Batches without a nil: after a few of them, MGET goes without an EXISTS of its keys, and a
    // nil is checked with one sent after its reply.
    for (let i = 0; i < 40; i++) {
      expect(await Promise.all([cache.get('a'), cache.get('b')])).toEqual([1, 1])
    }
    const answers = Promise.allSettled([cache.get('a'), cache.get('absent', 'default')])
    await cache.close()
    expect(await answers).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 'default' },
    ])
  })

  it('answers the gets of a batch with a key of another type, then close(): null and WRONGTYPE', async () => {
    const cache = await connected(['there'])
    await cache.hset('h', 'f', 'v')
    const answers = Promise.allSettled([cache.get('missing'), cache.get('h'), cache.get('there')])
    await cache.close()
    const [missing, hash, there] = await answers
    expect(missing).toEqual({ status: 'fulfilled', value: null })
    expect(there).toEqual({ status: 'fulfilled', value: 1 })
    expect(hash?.status).toBe('rejected')
    expect(String((hash as PromiseRejectedResult).reason)).toMatch(/WRONGTYPE/)
  })

  it('answers the hasKeys of one tick when close() comes while their EXISTS is in flight', async () => {
    const cache = await connected(['a', 'c'])
    const answers = Promise.allSettled(['a', 'b', 'c', 'd'].map((k) => cache.hasKey(k)))
    // The batch's EXISTS is sent when the microtask queue runs: close() comes after it left.
    await Promise.resolve()
    await cache.close()
    expect(await answers).toEqual(
      [true, false, true, false].map((value) => ({ status: 'fulfilled', value })),
    )
  })

  it('settles hasKeys of a cache closed before it connected at once: answered or ClosedError', async () => {
    const setup = await connected(['there'])
    await setup.close()
    const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('cc') })
    const answers = Promise.allSettled([cache.hasKey('there'), cache.hasKey('absent')])
    const started = Date.now()
    await cache.close()
    expect(Date.now() - started).toBeLessThan(2_000)
    for (const result of await answers) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ClosedError)
      else expect(result.value).toBe(false) // another prefix: nothing there
    }
  })

  it('rejects a hasKey made after close() resolved with ClosedError, alone or in a tick of several', async () => {
    const cache = await connected(['there'])
    const answers = Promise.all([cache.hasKey('there'), cache.hasKey('absent')])
    await cache.close()
    expect(await answers).toEqual([true, false])
    await expect(cache.hasKey('there')).rejects.toBeInstanceOf(ClosedError)
    const late = await Promise.allSettled([cache.hasKey('there'), cache.hasKey('absent')])
    for (const result of late) {
      expect(result.status).toBe('rejected')
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(ClosedError)
    }
  })
})

describe('cluster: close() with coalesced hasKeys in flight', () => {
  let cluster: TestCluster | undefined

  afterAll(async () => {
    await cluster?.stop()
  })

  it('answers hasKeys of one tick over many slots, some there, then close()', async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
    const cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('cc'),
    })
    const present = Array.from({ length: 20 }, (_, i) => `p${i}`)
    // Pairs in one slot (a hash tag), one there and one not: every slot's count is in between.
    const keys = present.flatMap((k) => [`{${k}}`, `{${k}}:gone`])
    await cache.setMany(Object.fromEntries(present.map((k) => [`{${k}}`, 1])))
    const answers = Promise.allSettled(keys.map((k) => cache.hasKey(k)))
    await cache.close()
    expect(await answers).toEqual(keys.map((_, i) => ({ status: 'fulfilled', value: i % 2 === 0 })))
  })
})
