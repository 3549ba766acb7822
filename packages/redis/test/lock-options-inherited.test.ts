// The options of cache.lock(), cache.acquireLock(), cache.semaphore() and cache.acquirePermit()
// are read as every other options object is: own, or inherited from an object of the caller's (a
// defaults object, a class's getter). The check took an inherited `timeout`, then a rest spread
// dropped it on the way to the lock: a lock that never expires. Own enumerable symbol keys still
// reach a custom factory, as the spread passed them.
import { createCache, type Lock, lockFactory } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, expect, it } from 'vitest'

const cache = createCache({ location: `memory://${uniquePrefix('lock-inherited')}` })
afterAll(() => cache.close())

class LockSettings {
  get timeout(): number {
    return 5
  }
}

for (const [kind, options] of [
  ['made from a defaults object', () => Object.create({ timeout: 5 })],
  ["a class's getter", () => new LockSettings()],
] as const) {
  it(`cache.lock() and cache.acquireLock() keep an inherited timeout (${kind})`, async () => {
    const name = uniquePrefix('inherited-lock')
    const lock = cache.lock(name, options()) as Lock
    expect(lock.timeout).toBe(5)
    expect(await lock.acquire()).toBe(true)
    expect(await cache.ttl(name)).toBe(5)
    await lock.release()
    {
      await using held = await cache.acquireLock(name, options())
      expect((held.lock as Lock).timeout).toBe(5)
      expect(await cache.ttl(name)).toBe(5)
    }
    expect(await cache.hasKey(name)).toBe(false)
  })
}

it('cache.semaphore() and cache.acquirePermit() keep inherited options', async () => {
  const name = uniquePrefix('inherited-semaphore')
  const options = () => Object.create({ limit: 2, weight: 2, timeout: 7 })
  const semaphore = cache.semaphore(name, options())
  expect([semaphore.limit, semaphore.weight, semaphore.timeout]).toEqual([2, 2, 7])
  await using permit = await cache.acquirePermit(name, options())
  expect(permit.semaphore.limit).toBe(2)
  // Its weight is the whole limit: no room for another.
  expect(await semaphore.acquire({ blocking: false })).toBe(false)
})

it('an own symbol-keyed option still reaches a custom lockFactory', async () => {
  const tag = Symbol('tag')
  let seen: Record<PropertyKey, unknown> | undefined
  const tagged = createCache({
    location: `memory://${uniquePrefix('lock-symbol')}`,
    lockFactory: (connection, name, options) => {
      seen = options as Record<PropertyKey, unknown>
      const { [tag]: _tag, ...rest } = options as Record<PropertyKey, unknown>
      return lockFactory(connection, name, rest)
    },
  })
  try {
    tagged.lock('x', { timeout: 5, [tag]: 'mine' } as never)
    expect(seen?.[tag]).toBe('mine')
    expect(seen?.timeout).toBe(5)
  } finally {
    await tagged.close()
  }
})
