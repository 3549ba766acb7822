// `cache.on('operation', …)` on a cache that cannot take own properties (Object.freeze,
// Object.seal, Object.preventExtensions): the timing wrappers the first `operation` listener puts
// on the instance (docs/telemetry.md, "The cost") cannot be put there. It threw the engine's
// TypeError and left its listener registered, so the cache's self-timed `get` still called it.
// Now it throws InvalidArgumentError and registers nothing. On the in-memory backend.
import { createCache, InvalidArgumentError } from '@cachex/redis'
import { describe, expect, it } from 'vitest'

const LOCKS: Array<[string, (cache: object) => void]> = [
  ['frozen', (cache) => Object.freeze(cache)],
  ['sealed', (cache) => Object.seal(cache)],
  ['not extensible', (cache) => Object.preventExtensions(cache)],
]

describe("cache.on('operation') on a cache that takes no own properties", () => {
  it('an ordinary cache: the listener hears set and get', async () => {
    const cache = createCache({ location: 'memory://', coalesceReads: false })
    const heard: string[] = []
    const stop = cache.on('operation', ({ operation }) => heard.push(operation))
    await cache.set('k', 1)
    expect(await cache.get('k')).toBe(1)
    expect(heard).toEqual(['set', 'get'])
    stop()
    await cache.close()
  })

  for (const [name, lock] of LOCKS) {
    it(`${name}: throws InvalidArgumentError and registers nothing`, async () => {
      const cache = createCache({ location: 'memory://', coalesceReads: false })
      lock(cache)
      const heard: string[] = []
      const listener = ({ operation }: { operation: string }) => heard.push(operation)
      expect(() => cache.on('operation', listener)).toThrow(InvalidArgumentError)
      expect(() => cache.on('operation', listener)).toThrow(/operation/)
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
      expect(heard).toEqual([])
      // Other events still work.
      const hits: string[] = []
      const stop = cache.on('hit', ({ key }) => hits.push(key))
      expect(await cache.get('k')).toBe(1)
      expect(hits).toEqual(['k'])
      stop()
      // Nothing left half put on: every method is the prototype's.
      expect(Object.getOwnPropertyDescriptor(cache, 'set')).toBeUndefined()
      await cache.close()
    })
  }

  for (const [name, lock] of LOCKS) {
    it(`${name} while timed: a listener removed and another added hears the calls`, async () => {
      const cache = createCache({ location: 'memory://', coalesceReads: false })
      const first: string[] = []
      const stop = cache.on('operation', ({ operation }) => first.push(operation))
      lock(cache)
      await cache.set('k', 1)
      expect(first).toEqual(['set'])
      // The wrappers cannot be taken off a frozen or sealed cache: they stay, emit to no one,
      // and serve the next listener. A cache that is only not extensible lets them go, and
      // cannot take them again.
      stop()
      const second: string[] = []
      const listen = () => cache.on('operation', ({ operation }) => second.push(operation))
      if (name === 'not extensible') expect(listen).toThrow(InvalidArgumentError)
      else listen()
      await cache.set('k', 2)
      expect(await cache.get('k')).toBe(2)
      expect(second).toEqual(name === 'not extensible' ? [] : ['set', 'get'])
      expect(first).toEqual(['set'])
      await cache.close()
    })
  }
})
