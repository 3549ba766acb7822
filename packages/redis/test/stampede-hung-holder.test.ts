// distributed getOrSet when the lock's holder is hung, slow, or gone without an expiry: other
// connections (as other processes would) wait a bounded time, and the callers of one connection
// that give up share one computation. Time bounds only prove that nothing waits out a bound it
// should not, with wide margins.
import { type Cache, createCache } from '@cachex/redis'
import { delay, timed, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let a: Cache // "process A"
  let b: Cache // "process B": another connection, with flights of its own

  beforeAll(async () => {
    server = await backendServer(backend)
    const keyPrefix = uniquePrefix('hung-holder')
    a = createCache({ location: server.url, keyPrefix })
    b = createCache({ location: server.url, keyPrefix })
    await a.get('warm')
    await b.get('warm')
  })

  afterAll(async () => {
    await a?.close()
    await b?.close()
    await server?.stop()
  })

  const lockOf = (key: string) => `__cachex:lock:${a.makeKey(key)}`

  it('a hung factory holds the lock for at most waitTimeout: later misses elsewhere compute at once', async () => {
    const o = { distributed: true, timeout: 1, lockTimeout: 1, waitTimeout: 4 }
    // A's factory never settles (a query without a timeout).
    void a.getOrSet('hung', () => new Promise<string>(() => {}), o).catch(() => {})
    await delay(100)
    // The first miss waits on A, at most its waitTimeout (A gives the lock up at its own).
    const first = await timed(b.getOrSet('hung', () => 'fresh', o))
    expect(first.value).toBe('fresh')
    expect(first.ms).toBeLessThan(10_000)
    // A no longer holds the lock: each later miss (the value expires after 1 s) takes it and
    // computes, instead of waiting waitTimeout (4 s) every time for ever.
    for (const value of ['second', 'third']) {
      await delay(1100)
      const miss = await timed(b.getOrSet('hung', () => value, o))
      expect(miss.value).toBe(value)
      expect(miss.ms).toBeLessThan(2500)
    }
    expect(Number(await raw(b, 'PTTL', lockOf('hung')))).toBe(-2)
  }, 30_000)

  it("a grace refresh whose factory hangs lets the lock go after waitTimeout, as a miss's holder does", async () => {
    const o = { distributed: true, timeout: 1, grace: 30, lockTimeout: 1, waitTimeout: 2 }
    expect(await a.getOrSet('hung-refresh', () => 'old', o)).toBe('old')
    await delay(1100)
    // Stale within its grace: served at once while A refreshes it with a factory that never settles.
    expect(await a.getOrSet('hung-refresh', () => new Promise<string>(() => {}), o)).toBe('old')
    await delay(200)
    expect(Number(await raw(b, 'PTTL', lockOf('hung-refresh')))).toBeGreaterThan(0)
    // Extended every third of lockTimeout, for at most waitTimeout (2 s), then released: B's
    // refresh is not kept from the key for ever.
    const deadline = Date.now() + 20_000
    while (Number(await raw(b, 'PTTL', lockOf('hung-refresh'))) !== -2 && Date.now() < deadline) {
      await delay(100)
    }
    expect(Number(await raw(b, 'PTTL', lockOf('hung-refresh')))).toBe(-2)
    expect(await b.getOrSet('hung-refresh', () => 'new', o)).toBe('old')
    await delay(200)
    expect(await b.get('hung-refresh')).toBe('new')
  }, 30_000)

  it('the callers of one connection that give up on a slow holder elsewhere share one computation', async () => {
    const o = { distributed: true, timeout: 60, lockTimeout: 5, waitTimeout: 1 }
    const holder = a.getOrSet('slow', () => delay(3000).then(() => 'holder'), o)
    await delay(100)
    let calls = 0
    const factory = async () => {
      calls++
      await delay(200)
      return 'fresh'
    }
    const values = await Promise.all(
      Array.from({ length: 50 }, () => b.getOrSet('slow', factory, o)),
    )
    expect(calls).toBe(1)
    expect(new Set(values)).toEqual(new Set(['fresh']))
    // The holder's value came later: its store (NX) lost to the one in Redis.
    expect(await holder).toBe('fresh')
  }, 30_000)

  it('callers that gave up share that computation for at most waitTimeout more: a hung one does not hang them', async () => {
    const o = { distributed: true, timeout: 60, lockTimeout: 30, waitTimeout: 1 }
    const gate = delay(8000).then(() => 'holder')
    const holder = a.getOrSet('slow-twice', () => gate, o)
    await delay(100)
    let calls = 0
    // The first call (the connection's shared computation) hangs; the others answer.
    const factory = () => (++calls === 1 ? new Promise<string>(() => {}) : Promise.resolve('own'))
    const callers = Array.from({ length: 10 }, () => timed(b.getOrSet('slow-twice', factory, o)))
    // The one whose own factory hangs never settles; the 9 others wait at most twice waitTimeout.
    const settled = await Promise.all(
      callers.map((c) => Promise.race([c, delay(7000).then(() => undefined)])),
    )
    const answered = settled.filter((r) => r !== undefined)
    expect(answered).toHaveLength(9)
    for (const r of answered) expect(r?.value).toBe('own')
    expect(calls).toBe(10)
    await holder
  }, 30_000)

  it('close() ends the waits of callers that joined a computation whose caller gave up waiting', async () => {
    const own = createCache({ location: server.url, keyPrefix: a.keyPrefix })
    await own.get('warm')
    const o = { distributed: true, timeout: 60, lockTimeout: 30 }
    // Held elsewhere for longer than the test.
    void a.getOrSet('closing', () => delay(20_000).then(() => 'holder'), { ...o, waitTimeout: 60 })
    await delay(100)
    // The first caller gives up after 1 s and computes its own value: its factory hangs.
    void own
      .getOrSet('closing', () => new Promise<string>(() => {}), { ...o, waitTimeout: 1 })
      .catch(() => {})
    await delay(50)
    const waiters = [null, 60].map((waitTimeout) =>
      own.getOrSet('closing', () => 'mine', { ...o, waitTimeout }).catch((error: Error) => error),
    )
    await delay(2000)
    await own.close()
    const outcomes = await Promise.race([
      Promise.all(waiters),
      delay(5000).then(() => 'still waiting'),
    ])
    expect(outcomes).not.toBe('still waiting')
    for (const outcome of outcomes as Error[]) expect(outcome.name).toBe('ClosedError')
  }, 30_000)

  it('a lock key left without an expiry is given one of lockTimeout, and then expires', async () => {
    // Left by another writer or tool: cachex always sets its locks with an expiry.
    await raw(a, 'SET', lockOf('no-expiry'), 'left-behind')
    // waitTimeout 0: the call computes its own value at once, and leaves the lock to expire.
    expect(
      await a.getOrSet('no-expiry', () => 'v', {
        distributed: true,
        lockTimeout: 2,
        waitTimeout: 0,
      }),
    ).toBe('v')
    const pttl = Number(await raw(a, 'PTTL', lockOf('no-expiry')))
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(2000)
    // A lock with an expiry (a live holder's) keeps it.
    await raw(a, 'SET', lockOf('held'), 'holder', 'PX', '60000')
    await a.getOrSet('held', () => 'v', { distributed: true, lockTimeout: 2, waitTimeout: 0 })
    expect(Number(await raw(a, 'PTTL', lockOf('held')))).toBeGreaterThan(50_000)
  })

  it('a miss that meets a lock without an expiry waits about lockTimeout, not waitTimeout', async () => {
    await raw(a, 'SET', lockOf('stuck'), 'left-behind')
    const o = { distributed: true, timeout: 1, lockTimeout: 1, waitTimeout: 6 }
    const first = await timed(a.getOrSet('stuck', () => 'v', o))
    expect(first.value).toBe('v')
    expect(first.ms).toBeLessThan(4500)
    await delay(1100)
    const next = await timed(a.getOrSet('stuck', () => 'w', o))
    expect(next.value).toBe('w')
    expect(next.ms).toBeLessThan(2500)
  }, 30_000)

  it('under ignoreExceptions, a key of another type answers the computed value, as without distributed', async () => {
    const ig = createCache({
      location: server.url,
      keyPrefix: a.keyPrefix,
      ignoreExceptions: true,
      logger: { error: () => {}, warn: () => {} },
    })
    await ig.hset('hash', 'field', 'x')
    expect(await ig.getOrSet('hash', () => 'v')).toBe('v')
    expect(await ig.getOrSet('hash', () => 'v', { distributed: true })).toBe('v')
    await ig.close()
    // Without it, both reject with the error that names the method and the key's type.
    const plain = await a.getOrSet('hash', () => 'v').catch((e: Error) => e)
    const distributed = await a
      .getOrSet('hash', () => 'v', { distributed: true })
      .catch((e: Error) => e)
    expect((plain as Error).message).toMatch(/getOrSet\(\) on key 'hash'/)
    expect((distributed as Error).name).toBe((plain as Error).name)
    expect((distributed as Error).message).toBe((plain as Error).message)
  })
})
