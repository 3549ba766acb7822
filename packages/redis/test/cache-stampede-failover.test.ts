// distributed getOrSet across a Sentinel failover: the calls in flight settle (a value or a typed
// error, never a hang), and after the failover a cold key is computed once across connections.
import { type Cache, CachexError, createCache } from '@cachex/redis'
import { delay, type SentinelDeployment, startSentinels, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** What a call settled with: its value, or the name of the typed error it rejected with. */
function outcome(call: Promise<unknown>): Promise<{ value?: unknown; error?: string }> {
  return call.then(
    (value) => ({ value }),
    (error: unknown) => ({
      error: error instanceof CachexError ? error.constructor.name : `untyped: ${String(error)}`,
    }),
  )
}

/** Waits until `check` holds; bounded only against hangs. */
async function eventually(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(10)
  }
}

// lockTimeout 1 s: the holder's lock expires before the replica is promoted (a failover takes more than
// down-after-milliseconds, 1 s). 30 s: the promoted replica still has it.
describe.each([
  { lockTimeout: 1, survives: false },
  { lockTimeout: 30, survives: true },
])(
  'distributed getOrSet across a Sentinel failover, lockTimeout $lockTimeout s',
  ({ lockTimeout, survives }) => {
    let d: SentinelDeployment
    let caches: Cache[]

    beforeAll(async () => {
      d = await startSentinels({ replicas: 1 })
      const keyPrefix = uniquePrefix('failover')
      // Two caches: two connections, as two processes would have.
      caches = [0, 1].map(() =>
        createCache({
          client: 'sentinel',
          location: d.location,
          sentinels: d.addresses,
          keyPrefix,
        }),
      )
    }, 120_000)

    afterAll(async () => {
      for (const c of caches ?? []) await c.close()
      await d?.stop()
    })

    it('every call in flight settles with a value or a typed error; then a cold key computes once', async () => {
      const [a, b] = caches as [Cache, Cache]
      const options = { timeout: 300, distributed: true, lockTimeout, waitTimeout: 60 }
      const rkey = a.makeKey('inflight')
      let calls = 0
      let computing!: () => void
      const started = new Promise<void>((resolve) => {
        computing = resolve
      })
      let failedOver!: () => void
      const promoted = new Promise<void>((resolve) => {
        failedOver = resolve
      })
      // The holder computes until the replica has been promoted, and a little after.
      const factory = async () => {
        calls++
        computing()
        await promoted
        await delay(500)
        return 'computed'
      }
      const inFlight = [a, b].flatMap((c) =>
        Array.from({ length: 10 }, () => outcome(c.getOrSet('inflight', factory, options))),
      )
      await started
      // The lock was taken on the primary; it reaches the replica (asynchronously) before the kill.
      const old = d.primary
      const lockKey = `__cachex:lock:${rkey}`
      const replica = createClient({ url: d.replicas[0]?.url })
      replica.on('error', () => undefined)
      await replica.connect()
      let token: unknown = null
      await eventually(async () => {
        token = await replica.sendCommand(['GET', lockKey])
        return token !== null
      })
      await old.kill()
      await d.waitForFailover(old, 120_000)
      // The holder's lock on the promoted replica (another caller may have taken a lock since).
      const lockAfter = (await replica.sendCommand(['GET', lockKey])) === token ? 1 : 0
      await replica.close()
      failedOver()
      const settled = await Promise.race([
        Promise.all(inFlight),
        delay(120_000).then(() => 'hung' as const),
      ])
      expect(settled).not.toBe('hung')
      const results = settled as Array<{ value?: unknown; error?: string }>
      for (const r of results) {
        if (r.error === undefined) expect(r.value).toBe('computed')
        else expect(r.error).not.toMatch(/^untyped/)
      }
      expect(lockAfter).toBe(survives ? 1 : 0)
      // At worst one extra computation (a waiter taking a lock lost with the primary).
      expect(calls).toBeLessThanOrEqual(2)
      console.info(
        `lockTimeout ${lockTimeout}: lock after the failover ${lockAfter}, factory calls ${calls},`,
        `outcomes ${JSON.stringify(results.map((r) => r.error ?? r.value))}`,
      )

      // After the failover (once both connections reach the new primary): a new cold key,
      // 2 connections × 10 callers, one computation (with the default 5 s lock, which a loaded
      // machine's pauses do not outlast).
      for (const c of [a, b]) {
        await eventually(() =>
          c.set('reached', 1).then(
            () => true,
            () => false,
          ),
        )
      }
      let cold = 0
      const coldFactory = async () => {
        cold++
        await delay(300)
        return 'cold'
      }
      const after = await Promise.all(
        [a, b].flatMap((c) =>
          Array.from({ length: 10 }, () =>
            c.getOrSet('cold', coldFactory, { timeout: 300, distributed: true }),
          ),
        ),
      )
      expect(new Set(after)).toEqual(new Set(['cold']))
      expect(cold).toBe(1)
    }, 300_000)
  },
)
