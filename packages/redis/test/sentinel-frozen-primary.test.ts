// A Sentinel primary frozen (SIGSTOP) with calls in flight, failed over by the sentinels, then
// woken before the calls' socketTimeout (5 s): it would answer them as it wakes, and the sentinels
// then make it a replica of the new primary, dropping what it took. A call in flight across the
// failover must reject (its outcome unknown), never resolve with the old primary's late reply.
import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import {
  delay,
  type RedisServer,
  type SentinelDeployment,
  startSentinels,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

/** One command on `node`, on a client of its own. */
async function rawOn(node: RedisServer, args: string[]): Promise<unknown> {
  const client = createClient({ url: node.url })
  client.on('error', () => undefined)
  await client.connect()
  try {
    return await client.sendCommand(args)
  } finally {
    client.destroy()
  }
}

/** Waits until `check` holds; bounded only against hangs. */
async function eventually(check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms
  for (;;) {
    try {
      if (await check()) return
    } catch {}
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(50)
  }
}

/** What a call settled with. */
function settled<T>(call: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  return call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
}

/** The old primary woke up and the sentinels made it a replica of the new one, in sync. */
async function rejoined(old: RedisServer): Promise<void> {
  await eventually(async () => {
    const info = String(await rawOn(old, ['INFO', 'replication']))
    return info.includes('role:slave') && info.includes('master_link_status:up')
  })
}

describe('Sentinel: a frozen primary that wakes after the failover', () => {
  let d: SentinelDeployment
  const caches: Cache[] = []
  const open = (keyPrefix: string) => {
    const cache = createCache({
      client: 'sentinel',
      location: d.location,
      sentinels: d.addresses,
      keyPrefix,
    })
    caches.push(cache)
    return cache
  }

  beforeEach(async () => {
    d = await startSentinels({ replicas: 1 })
  }, 120_000)

  afterEach(async () => {
    for (const node of [d?.primary, ...(d?.replicas ?? [])]) node?.resume()
    for (const cache of caches.splice(0)) await cache.close()
    await d?.stop()
  }, 60_000)

  it('writes in flight to it reject; every acknowledged write is on the new primary', async () => {
    const cache = open(uniquePrefix('frozen'))
    await cache.set('warm', 1)
    const old = await d.currentPrimary()
    old.pause()
    try {
      // Sent, waiting on the frozen server.
      const inFlight = [
        settled(cache.set('k1', 'in-flight')),
        settled(cache.setMany({ a: 1, b: 2, c: 3 })),
        settled(cache.incr('warm', 5)),
      ]
      const promoted = await d.waitForFailover(old, 60_000)
      // Writes go to the new primary once a sentinel announced it.
      await eventually(async () => {
        await cache.set('after', 'switch')
        return true
      })
      old.resume()
      const results = await Promise.all(inFlight)
      await rejoined(old)
      // Acknowledged after the switch: on the new primary, after the old one rejoined.
      expect(await rawOn(promoted, ['GET', cache.makeKey('after')])).not.toBeNull()
      expect(await cache.get('after')).toBe('switch')
      // In flight across the failover: rejected (outcome unknown), not acknowledged by the old
      // primary as it woke.
      for (const result of results) {
        expect(result.value).toBeUndefined()
        expect(result.error).toBeInstanceOf(ConnectionError)
      }
      expect(await rawOn(promoted, ['GET', cache.makeKey('warm')])).toBe('1')
    } finally {
      old.resume()
    }
  }, 120_000)

  it('a lock and blpops in flight to it: one holder, one delivery', async () => {
    const keyPrefix = uniquePrefix('frozen-lock')
    const a = open(keyPrefix)
    const b = open(keyPrefix)
    const c = open(keyPrefix)
    await a.rpush('q', 'job')
    // A's client for blocking commands is open already: its BLPOP is sent to the frozen server.
    // C opens one as it calls: its BLPOP waits for the frozen server's handshake.
    expect(await a.blpop(['empty'], 0.05)).toBeNull()
    const old = await d.currentPrimary()
    await eventually(
      async () => (await rawOn(d.replicas[0] as RedisServer, ['LLEN', a.makeKey('q')])) === 1,
    )
    old.pause()
    try {
      const tookA = settled(a.lock('the-lock', { timeout: 60, blocking: false }).acquire())
      const popA = settled(a.blpop(['q'], 10))
      const popC = settled(c.blpop(['q'], 10))
      await d.waitForFailover(old, 60_000)
      // B takes the lock on the new primary, and pops the job there.
      const lockB = b.lock('the-lock', { timeout: 60, blocking: false })
      let tookB = false
      await eventually(async () => {
        tookB = await lockB.acquire()
        return true
      })
      const popB = await b.lpop('q')
      old.resume()
      const [heldA, poppedA, poppedC] = await Promise.all([tookA, popA, popC])
      await rejoined(old)
      expect(tookB).toBe(true)
      expect(popB).toBe('job')
      // A's calls were in flight across the failover: they reject, not resolve with what the
      // old primary answered as it woke.
      expect(heldA.value).toBeUndefined()
      expect(heldA.error).toBeInstanceOf(ConnectionError)
      for (const popped of [poppedA, poppedC]) {
        expect(popped.value).toBeUndefined()
        expect(popped.error).toBeInstanceOf(ConnectionError)
      }
      expect(await b.llen('q')).toBe(0)
      // B still holds the lock.
      await expect(lockB.release()).resolves.toBeUndefined()
    } finally {
      old.resume()
    }
  }, 120_000)
})
