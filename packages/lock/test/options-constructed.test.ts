// `new Lock(connection, name, options)` and `new Semaphore(…)`, made without a `Cache`, check
// their options as `cache.lock()` and `cache.semaphore()` do: a misspelt option, or redis-py's
// `blocking_timeout`, was ignored (a lock that never expires, a wait with no end), and options
// that are not an object were taken for the defaults. And a semaphore's permits released after
// their key was deleted are not said to have expired when they cannot (no timeout). A misspelt
// option inherited from a defaults object (`Object.create(defaults)`) was ignored too, where a
// right one is read.
import { memory } from '@cachex/connections'
import { InvalidArgumentError } from '@cachex/core'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, describe, expect, it } from 'vitest'
import { Lock, LockNotOwnedError, Semaphore } from '../src/index.ts'

const connection = memory({ location: `memory://${uniquePrefix('options-constructed')}` })
afterAll(() => connection.close())

describe('options given to the constructors', () => {
  it.each([
    ['a misspelt timeout', { timout: 10 }, "did you mean 'timeout'"],
    ["redis-py's blocking_timeout", { blocking_timeout: 1 }, "'blocking_timeout'"],
    ['a cache option', { version: 2 }, "'version'"],
  ])('new Lock refuses %s', (_kind, options, said) => {
    expect(() => new Lock(connection, 'l', options as never)).toThrow(InvalidArgumentError)
    expect(() => new Lock(connection, 'l', options as never)).toThrow(said)
  })

  it('refuses a misspelt option inherited from a defaults object, and reads a right one', async () => {
    // `own()` reads inherited names: the check of names sees them too (as cache.lock()'s does).
    expect(new Lock(connection, 'l', Object.create({ timeout: 5 })).timeout).toBe(5)
    expect(() => new Lock(connection, 'l', Object.create({ timout: 5 }))).toThrow(
      "did you mean 'timeout'",
    )
    expect(
      () => new Semaphore(connection, 's', Object.create({ limit: 2, blockingTimout: 1 })),
    ).toThrow(InvalidArgumentError)
    const lock = new Lock(connection, 'inherited')
    await expect(lock.acquire(Object.create({ blockingTimout: 0.1 }))).rejects.toThrow(
      "did you mean 'blockingTimeout'",
    )
    expect(await connection.command(['EXISTS', 'inherited'])).toBe(0)
  })

  it.each([null, 'a', 5, new Date()])(
    'new Lock refuses options that are no object: %s',
    (options) => {
      expect(() => new Lock(connection, 'l', options as never)).toThrow(InvalidArgumentError)
    },
  )

  it.each([
    ["redis-py's blocking_timeout", { limit: 1, blocking_timeout: 1 }, "'blocking_timeout'"],
    ['a misspelt limit', { limit: 1, limt: 2 }, "'limt'"],
  ])('new Semaphore refuses %s', (_kind, options, said) => {
    expect(() => new Semaphore(connection, 's', options as never)).toThrow(InvalidArgumentError)
    expect(() => new Semaphore(connection, 's', options as never)).toThrow(said)
  })

  it('takes every option it documents, and an AbortSignal', () => {
    const signal = new AbortController().signal
    const lock = new Lock(connection, 'l', {
      timeout: 5,
      sleep: 0.05,
      blocking: false,
      blockingTimeout: 1,
      signal,
    } as never)
    expect(lock.timeout).toBe(5)
    const semaphore = new Semaphore(connection, 's', {
      limit: 3,
      weight: 2,
      timeout: 5,
      sleep: 0.05,
      blocking: true,
      blockingTimeout: 1,
      signal,
    } as never)
    expect(semaphore.limit).toBe(3)
  })
})

describe("a semaphore's release after its key was deleted", () => {
  it.each([
    [null, "the semaphore's key was deleted"],
    [60, "they expired after 60 s, or the semaphore's key was deleted"],
  ])('with timeout %s says why as it can be', async (timeout, said) => {
    const name = uniquePrefix('deleted-permits')
    const semaphore = new Semaphore(connection, name, { limit: 1, timeout })
    expect(await semaphore.acquire()).toBe(true)
    await connection.command(['DEL', name], { key: name })
    const released = semaphore.release()
    await expect(released).rejects.toThrow(LockNotOwnedError)
    await expect(released).rejects.toThrow(said)
  })
})
