// docs/limits.md: an error message quotes a lock or semaphore name by its first 1,024
// characters, then `…`. A name of 200,000 characters must not make every message 200 KB.
import { type Connection, InvalidArgumentError } from '@cachex/core'
import { describe, expect, it } from 'vitest'
import { Lock, LockError, LockNotOwnedError, Semaphore } from '../src/index.ts'
import { BACKENDS, useBackend } from './helpers.ts'

/** Longer than any bounded message, far shorter than the name. */
const MAX_MESSAGE = 3_000

describe.each(BACKENDS)('%s', (backend) => {
  let connection: Connection
  let n = 0

  useBackend(backend, (_, connected) => {
    connection = connected
  })

  /** A fresh name of 200,000 characters. */
  function longName(): string {
    n++
    return `${backend}-${n}-${'n'.repeat(200_000)}`
  }

  async function errorOf(p: Promise<unknown>): Promise<Error> {
    const error = await p.then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    )
    return error
  }

  /** The message quotes the name's first 1,024 characters, then `…`, and is short. */
  function expectBounded(error: Error, name: string): void {
    expect(error.message.length).toBeLessThan(MAX_MESSAGE)
    expect(error.message).toContain(`${name.slice(0, 1024)}…`)
  }

  it('semaphore.withPermit() that gets no permit', async () => {
    const name = longName()
    const holder = new Semaphore(connection, name, { limit: 1 })
    expect(await holder.acquire()).toBe(true)
    const other = new Semaphore(connection, name, { limit: 1, blocking: false })
    const error = await errorOf(other.withPermit(() => 1))
    await holder.release()
    expect(error).toBeInstanceOf(LockError)
    expectBounded(error, name)
  })

  it('a second acquire() on a semaphore that holds permits', async () => {
    const name = longName()
    const s = new Semaphore(connection, name, { limit: 2 })
    expect(await s.acquire()).toBe(true)
    const error = await errorOf(s.acquire())
    await s.release()
    expect(error).toBeInstanceOf(LockError)
    expectBounded(error, name)
  })

  it('release() of permits dropped after their timeout', async () => {
    const name = longName()
    const s = new Semaphore(connection, name, { limit: 1, timeout: 0.05 })
    expect(await s.acquire()).toBe(true)
    // Dropped by another acquisition once their time is up.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const taker = new Semaphore(connection, name, { limit: 1, timeout: 5 })
    expect(await taker.acquire({ blocking: false })).toBe(true)
    const error = await errorOf(s.release())
    await taker.release()
    expect(error).toBeInstanceOf(LockNotOwnedError)
    expectBounded(error, name)
  })

  it('a sorted set that is not a semaphore: the script error names it bounded', async () => {
    const name = longName()
    await connection.command(['ZADD', name, '+inf', 'foreign'])
    const error = await errorOf(new Semaphore(connection, name, { limit: 1 }).acquire())
    await connection.command(['DEL', name])
    expect(error.message).toMatch(/not a cachex semaphore/)
    expectBounded(error, name)
  })

  it('lock.withLock() that gets no lock', async () => {
    const name = longName()
    const holder = new Lock(connection, name, { timeout: 10 })
    expect(await holder.acquire()).toBe(true)
    const error = await errorOf(new Lock(connection, name, { blocking: false }).withLock(() => 1))
    await holder.release()
    expect(error).toBeInstanceOf(LockError)
    expect(error.message).toMatch(/could not acquire/)
    expectBounded(error, name)
  })

  it('lock.extend() past the farthest expiry', async () => {
    const name = longName()
    const lock = new Lock(connection, name, { timeout: 5e12 })
    expect(await lock.acquire()).toBe(true)
    const error = await errorOf(lock.extend(5e12))
    await lock.release()
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expectBounded(error, name)
  })
})
