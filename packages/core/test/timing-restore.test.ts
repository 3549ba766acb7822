// Taking the `operation` timers off (the last listener removed, or instrument()'s stop) leaves
// alone a method the user put on the instance, spied on or restored while they were on: only a
// property that is still the timer is taken off. The cache here is a plain object with the
// cache's wiring (`onTiming` putting `timeMethods` on and off): no Redis needed.
import { describe, expect, it, vi } from 'vitest'
import type { CacheContext } from '../src/_context.ts'
import { CacheEvents } from '../src/_events.ts'
import { timeMethods } from '../src/_timing.ts'

class FakeCache {
  readonly #events: CacheEvents
  constructor(events: CacheEvents) {
    this.#events = events
  }
  async set(key: string, _value: unknown): Promise<string> {
    return `set ${key}`
  }
  async get(key: string): Promise<string> {
    return `get ${key}`
  }
  on(listener: () => void): () => void {
    return this.#events.on('operation', listener)
  }
}

/** A cache whose `set` and `get` are timed while it has an `operation` listener. */
function makeCache(): { cache: FakeCache; operations: string[]; listen(): () => void } {
  const events = new CacheEvents({ error() {} })
  const context = { events, recorder: undefined } as unknown as CacheContext
  const cache = new FakeCache(events)
  let untime: (() => void) | undefined
  events.onTiming = (on) => {
    untime?.()
    untime = on ? timeMethods(cache, context, ['set', 'get'], new Set()) : undefined
  }
  const operations: string[] = []
  return {
    cache,
    operations,
    listen: () => cache.on(() => operations.push('op')),
  }
}

describe('timing wrappers vs. methods replaced on the instance', () => {
  it('keeps a method the user set while timed, after the last listener goes', async () => {
    const { cache, listen } = makeCache()
    const off = listen()
    const calls: string[] = []
    const timedSet = cache.set
    cache.set = async (key, value) => {
      calls.push(key)
      return timedSet.call(cache, key, value)
    }
    off()
    expect(await cache.set('a', 1)).toBe('set a')
    expect(calls).toEqual(['a'])
    // The method nobody touched is the prototype's again.
    expect(Object.getOwnPropertyDescriptor(cache, 'get')).toBeUndefined()
  })

  it('a spy set while timed keeps seeing calls after the timers come off', async () => {
    const { cache, operations, listen } = makeCache()
    const off = listen()
    const spy = vi.spyOn(cache, 'set')
    off()
    expect(await cache.set('a', 1)).toBe('set a')
    expect(spy).toHaveBeenCalledTimes(1)
    expect(operations).toEqual([])
  })

  it('a spy restored while timed stays restored after the timers come off', async () => {
    const { cache, listen } = makeCache()
    const spy = vi.spyOn(cache, 'set')
    const off = listen()
    spy.mockRestore()
    off()
    expect(await cache.set('a', 1)).toBe('set a')
    expect(spy.mock.calls.length).toBe(0)
    expect(Object.getOwnPropertyDescriptor(cache, 'set')).toBeUndefined()
  })

  it('restores an own method that was there before and left untouched', async () => {
    const { cache, operations, listen } = makeCache()
    const own = async (key: string) => `own ${key}`
    cache.get = own
    const off = listen()
    expect(cache.get).not.toBe(own)
    expect(await cache.get('a')).toBe('own a')
    expect(operations).toEqual(['op'])
    off()
    expect(cache.get).toBe(own)
  })

  it('times a method set while timed when a listener comes back, once per call', async () => {
    const { cache, operations, listen } = makeCache()
    const off = listen()
    const spy = vi.spyOn(cache, 'set')
    off()
    const offAgain = listen()
    expect(await cache.set('a', 1)).toBe('set a')
    expect(spy).toHaveBeenCalledTimes(1)
    expect(operations).toEqual(['op'])
    offAgain()
    expect(cache.set).toBe(spy)
  })
})
