import { afterEach, describe, expect, it, vi } from 'vitest'
import { RECENT_WRITE_MS, RecentWrites } from '../src/_recent-writes.ts'

describe('RecentWrites (read-your-writes over replicas)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('remembers a key for RECENT_WRITE_MS after its last write, then forgets it', () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date', 'performance'] })
    const recent = new RecentWrites()
    expect(recent.has('a')).toBe(false)
    recent.note('a')
    vi.advanceTimersByTime(RECENT_WRITE_MS - 1)
    expect(recent.has('a')).toBe(true)
    recent.note('a') // a second write restarts its window
    vi.advanceTimersByTime(RECENT_WRITE_MS - 1)
    expect(recent.hasAny(['b', 'a'])).toBe(true)
    vi.advanceTimersByTime(2)
    expect(recent.has('a')).toBe(false)
    expect(recent.hasAny(['a', 'b'])).toBe(false)
  })

  it('forgets expired keys as new ones are written, and holds at most 100,000', () => {
    vi.useFakeTimers({ now: 5_000_000, toFake: ['Date', 'performance'] })
    const recent = new RecentWrites()
    for (let i = 0; i < 100_010; i++) recent.note(`k${i}`)
    expect(recent.has('k0')).toBe(false) // the oldest, beyond the bound
    expect(recent.has('k9')).toBe(false)
    expect(recent.has('k10')).toBe(true)
    expect(recent.has('k100009')).toBe(true)
    vi.advanceTimersByTime(RECENT_WRITE_MS)
    recent.note('fresh')
    expect(recent.has('k100009')).toBe(false)
    expect(recent.has('fresh')).toBe(true)
  })

  it('measures its window as elapsed time: a step of the system clock neither ends nor stretches it', () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date', 'performance'] })
    const recent = new RecentWrites()
    recent.note('a')
    recent.noteAll()
    // An NTP correction steps the wall clock forward an hour: no time has passed.
    vi.setSystemTime(Date.now() + 3_600_000)
    expect(recent.has('a')).toBe(true)
    expect(recent.has('other')).toBe(true)
    // Then back two hours: the window still ends RECENT_WRITE_MS after the writes.
    vi.setSystemTime(Date.now() - 7_200_000)
    vi.advanceTimersByTime(RECENT_WRITE_MS)
    expect(recent.has('a')).toBe(false)
    expect(recent.has('other')).toBe(false)
  })
})
