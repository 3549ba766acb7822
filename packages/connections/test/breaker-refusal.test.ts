// The circuit breaker of a cluster's discovery: a failure the seeds refused (a wrong password)
// is tried again 10 s later, doubling up to 5 minutes, as on one server, while an unreachable
// cluster keeps the short steps (100 ms, doubling up to 2 s). Real-server behaviour is in
// packages/redis/test/auth-refused-topologies.test.ts; this pins the schedule.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Breaker } from '../src/_breaker.ts'

const REFUSED = new Error('WRONGPASS invalid username-password pair')
const UNREACHABLE = new Error('connect ECONNREFUSED 127.0.0.1:1')

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
})
afterEach(() => {
  vi.useRealTimers()
})

/** A breaker down for `first`, whose attempts fail with `next()`, counting them. */
function tripped(first: Error, next: () => Error) {
  const breaker = new Breaker()
  breaker.refusal = (cause) => cause === REFUSED
  const at: number[] = []
  const attempt = () => {
    at.push(performance.now())
    return Promise.reject(next())
  }
  breaker.down(first, attempt)
  return { breaker, at, attempt }
}

describe('Breaker', () => {
  it('an unreachable server: tried again within 100 ms, then up to every 2 s', async () => {
    const { breaker, at } = tripped(UNREACHABLE, () => UNREACHABLE)
    await vi.advanceTimersByTimeAsync(20_000)
    expect(at.length).toBeGreaterThanOrEqual(13)
    expect(at[0]).toBeLessThanOrEqual(100)
    expect(breaker.isDown).toBe(true)
    breaker.close()
  })

  it('a refused handshake: tried again after 8–10 s, then 16–20 s later, and so on', async () => {
    const { breaker, at } = tripped(REFUSED, () => REFUSED)
    await vi.advanceTimersByTimeAsync(7_900)
    expect(at).toEqual([])
    await vi.advanceTimersByTimeAsync(2_200)
    expect(at.length).toBe(1)
    // The first try came at 8–10 s, the second 16–20 s after it: at 24–30 s. By 23.1 s, for any
    // jitter, not yet (15 s here once let an 8 s + 16 s pair through); by 30.1 s, surely.
    await vi.advanceTimersByTimeAsync(13_000)
    expect(at.length).toBe(1)
    await vi.advanceTimersByTimeAsync(7_000)
    expect(at.length).toBe(2)
    // Past many steps: never closer than 4 minutes apart once at the cap.
    await vi.advanceTimersByTimeAsync(3_600_000)
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number))
    expect(Math.max(...gaps)).toBeLessThanOrEqual(300_000)
    expect(gaps.at(-1)).toBeGreaterThanOrEqual(240_000)
    breaker.close()
  })

  it('a refusal without `refusal` set (a sentinel discovery): the short steps', async () => {
    const breaker = new Breaker()
    let attempts = 0
    breaker.down(REFUSED, () => {
      attempts++
      return Promise.reject(REFUSED)
    })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(attempts).toBeGreaterThanOrEqual(4)
    breaker.close()
  })

  it('a refusal: calls fail at once, but one call per 10 s since the last failure tries itself', async () => {
    const { breaker } = tripped(REFUSED, () => REFUSED)
    expect(breaker.isDown).toBe(true)
    await vi.advanceTimersByTimeAsync(5_000)
    expect(breaker.isDown).toBe(true)
    // The background try failed at 8–10 s, the next is at 24–30 s: 10 s after the last failure,
    // one call goes through (to try once itself), and the next ones do not.
    await vi.advanceTimersByTimeAsync(15_500)
    let through = 0
    for (let i = 0; i < 5; i++) if (!breaker.isDown) through++
    expect(through).toBe(1)
    breaker.close()
  })

  it('an unreachable server never lets a call through on its own', async () => {
    const { breaker } = tripped(UNREACHABLE, () => UNREACHABLE)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(breaker.isDown).toBe(true)
    breaker.close()
  })

  it('refused, then unreachable (a call’s own try): the short steps start at once', async () => {
    const { breaker, at, attempt } = tripped(REFUSED, () => UNREACHABLE)
    await vi.advanceTimersByTimeAsync(1_000)
    expect(at).toEqual([])
    // A call's try met an outage.
    breaker.down(UNREACHABLE, attempt)
    await vi.advanceTimersByTimeAsync(3_000)
    expect(at.length).toBeGreaterThanOrEqual(3)
    breaker.close()
  })

  it('up(): the backoff starts over', async () => {
    const { breaker, at, attempt } = tripped(REFUSED, () => REFUSED)
    await vi.advanceTimersByTimeAsync(40_000)
    expect(at.length).toBe(2)
    breaker.up()
    breaker.down(REFUSED, attempt)
    await vi.advanceTimersByTimeAsync(10_100)
    expect(at.length).toBe(3)
    breaker.close()
  })
})
