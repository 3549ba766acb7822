// distributed getOrSet: the processes waiting for a computation are woken by the holder's
// message (PUBLISH), not by polling. Counted with MONITOR, bounded only against hangs.
import { type Cache, createCache } from '@cachex/redis'
import { delay, type Monitor, monitor, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }
let watch: Monitor

beforeAll(async () => {
  server = await standaloneServer()
  watch = await monitor(Number(new URL(server.url).port))
})

afterAll(async () => {
  watch?.stop()
  await server?.stop()
})

describe('distributed: the wake-up', () => {
  it('waiters send a few GETs during a 5 s computation and get the value right after the PUBLISH', async () => {
    const keyPrefix = uniquePrefix('wake')
    // One holder and 5 waiters, each its own connection (as 6 processes would be).
    const [holder, ...waiters] = Array.from({ length: 6 }, () =>
      createCache({ location: server.url, keyPrefix }),
    ) as [Cache, ...Cache[]]
    // A long lock: once subscribed, a waiter polls only every lockTimeout (30 s), so a waiter
    // that has the value well before then was woken by the message.
    const options = { timeout: 300, distributed: true, lockTimeout: 30, waitTimeout: 120 }
    const rkey = holder.makeKey('slow')
    let calls = 0
    let computing!: () => void
    const started = new Promise<void>((resolve) => {
      computing = resolve
    })
    const factory = async () => {
      calls++
      computing()
      await delay(5000)
      return 'value'
    }
    const from = watch.commands.length
    const held = holder.getOrSet('slow', factory, options)
    await started
    const waitFrom = watch.commands.length
    const got: number[] = []
    const waiting = waiters.map((w) =>
      w.getOrSet('slow', factory, options).then((value) => {
        got.push(performance.now())
        return value
      }),
    )
    expect(await held).toBe('value')
    const settled = performance.now()
    expect(await Promise.all(waiting)).toEqual(Array(5).fill('value'))
    expect(calls).toBe(1)
    // Every waiter had the value soon after the holder's: not at its next poll, 30 s later.
    expect(Math.max(...got) - settled).toBeLessThan(10_000)
    const isGet = (c: string[]) => c[0]?.toUpperCase() === 'GET' && c[1] === rkey
    const seen = watch.commands.slice(from)
    const publish = seen.findIndex((c) => c[0]?.toUpperCase() === 'PUBLISH' && c[2] === rkey)
    expect(publish).toBeGreaterThan(waitFrom - from)
    // During the 5 s wait, per waiter: its first read (the miss), then one poll while its
    // subscriber connects (50 ms), a few more on a loaded machine; then none. Polling from
    // 50 ms to 1 s, as a waiter without the message must, is 9 or more (46 in all, measured).
    const during = seen.slice(waitFrom - from, publish).filter(isGet)
    expect(during.length).toBeLessThanOrEqual(5 * 5)
    // Then each waiter read the value once, after the PUBLISH.
    expect(seen.slice(publish).filter(isGet)).toHaveLength(5)
    await Promise.all([holder, ...waiters].map((c) => c.close()))
  }, 60_000)
})
