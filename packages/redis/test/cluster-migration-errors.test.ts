// A multi-key command in a slot half migrated: the old owner answers ASK (none of its keys is
// left there), the importing node TRYAGAIN (not all of them are there yet), again and again. The
// caller gets the TRYAGAIN ResponseError of docs/topologies.md once the retry budget (80 % of
// socketTimeout) is spent — not the raw ASK of the last redirection followed.
import { type Cache, createCache, ResponseError } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { halfMoved } from './helpers.ts'

/** 3 s: a budget of 2.4 s, longer than 16 ASK ⇄ TRYAGAIN rounds take (about 1.4 s). */
const SOCKET_TIMEOUT_S = 3
const BUDGET_MS = SOCKET_TIMEOUT_S * 1000 * 0.8

let cluster: TestCluster
const caches: Cache[] = []

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
}, 60_000)

afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  await cluster?.stop()
})

function open(): Cache {
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix('cme'),
    socketTimeout: SOCKET_TIMEOUT_S,
  })
  caches.push(cache)
  return cache
}

async function outcome(call: () => Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now()
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  )
  return { error, ms: performance.now() - started }
}

function expectTryAgain({ error, ms }: { error: unknown; ms: number }): void {
  expect(error).toBeInstanceOf(ResponseError)
  expect(String(error)).not.toMatch(/ASK \d+/)
  expect(String(error)).toMatch(/TRYAGAIN/)
  expect(ms).toBeLessThan(BUDGET_MS + 2000)
}

describe('a multi-key command in a slot half migrated (ASK then TRYAGAIN, in turn)', () => {
  it('setMany (one MSET) rejects with the TRYAGAIN ResponseError once the retry budget is spent', async () => {
    const cache = open()
    await cache.set('b{sm}', 'moved')
    const move = await halfMoved(cluster, cache, 'b{sm}')
    try {
      // a{sm} exists nowhere, b{sm} only on the importing node.
      expectTryAgain(await outcome(() => cache.setMany({ 'a{sm}': 1, 'b{sm}': 2 }, null)))
    } finally {
      await move.migrate()
      await move.finish()
    }
    // Nothing was written by the refused MSET; it goes through once the slot has moved.
    expect(await cache.get('b{sm}')).toBe('moved')
    await cache.setMany({ 'a{sm}': 1, 'b{sm}': 2 })
    expect(await cache.getMany(['a{sm}', 'b{sm}'])).toEqual(
      new Map([
        ['a{sm}', 1],
        ['b{sm}', 2],
      ]),
    )
  }, 60_000)

  it('a script over two keys (a lock and its fencing counter) rejects with TRYAGAIN', async () => {
    const cache = open()
    await cache.set('fence{lk}', 1)
    const move = await halfMoved(cluster, cache, 'fence{lk}')
    const lock = cache.makeKey('lock{lk}')
    const fence = cache.makeKey('fence{lk}')
    const script = "redis.call('SET', KEYS[1], 'me'); return redis.call('INCR', KEYS[2])"
    try {
      expectTryAgain(
        await outcome(() =>
          cache.connection.command(['EVAL', script, '2', lock, fence], { key: lock }),
        ),
      )
    } finally {
      await move.migrate()
      await move.finish()
    }
    expect(await cache.connection.command(['EVAL', script, '2', lock, fence], { key: lock })).toBe(
      2,
    )
  }, 60_000)
})
