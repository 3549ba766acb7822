// A lock's or semaphore's key overwritten with another type of value (a hash, a list written by
// another process at that key) rejects with the `ResponseError` the cache uses for WRONGTYPE,
// naming the lock (bounded), what its key holds and that something else wrote it: not with a
// bare "WRONGTYPE Operation against a key holding the wrong kind of value".
import { type Connection, ResponseError } from '@cachex/core'
import { uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { Lock, Semaphore } from '../src/index.ts'
import { BACKENDS, useBackend } from './helpers.ts'

/** Longer than any bounded message, far shorter than a long name. */
const MAX_MESSAGE = 3_000

const OVERWRITES = [
  { type: 'hash', words: 'a hash', write: (key: string) => ['HSET', key, 'field', 'value'] },
  { type: 'list', words: 'a list', write: (key: string) => ['RPUSH', key, 'a', 'b'] },
] as const

async function errorOf(p: Promise<unknown>): Promise<Error> {
  return p.then(
    (value) => new Error(`resolved with ${String(value)}`),
    (e: unknown) => e as Error,
  )
}

/** A named `ResponseError` that says what the key holds and that something else wrote it. */
function expectNamed(error: Error, what: string, name: string, words: string): void {
  expect(error).toBeInstanceOf(ResponseError)
  expect(error.message).toContain(`${what} '${name.slice(0, 1024)}`)
  expect(error.message).toContain(`holds ${words}`)
  expect(error.message).toMatch(/something else wrote/)
  expect(error.message).toContain('WRONGTYPE')
  expect(error.message.length).toBeLessThan(MAX_MESSAGE)
}

describe.each(BACKENDS)('%s', (backend) => {
  let connection: Connection

  useBackend(backend, (_, connected) => {
    connection = connected
  })

  /** The key `name`, deleted, then written as `write` says. */
  async function overwrite(name: string, write: (key: string) => readonly string[]): Promise<void> {
    await connection.command(['DEL', name], { key: name })
    await connection.command([...write(name)], { key: name })
  }

  describe.each(OVERWRITES)('a lock whose key holds a $type', ({ words, write }) => {
    it('a blocking acquire() rejects at once; a non-blocking one answers false, as when held', async () => {
      const name = uniquePrefix('lock-wt')
      await overwrite(name, write)
      const lock = new Lock(connection, name, { timeout: 10, blocking: false })
      // Asking the key's type would cost a refused try a second round trip: not asked.
      expect(await lock.acquire()).toBe(false)
      // No blockingTimeout: it would wait for ever for a key no release will delete.
      const started = performance.now()
      expectNamed(await errorOf(lock.acquire({ blocking: true })), 'lock', name, words)
      expect(performance.now() - started).toBeLessThan(10_000)
      expect(lock.token).toBeNull()
    })

    it('release(), extend(), reacquire() and owned() name the lock', async () => {
      const name = uniquePrefix('lock-wt')
      const lock = new Lock(connection, name, { timeout: 10 })
      expect(await lock.acquire()).toBe(true)
      await overwrite(name, write)
      expectNamed(await errorOf(lock.extend(5)), 'lock', name, words)
      expectNamed(await errorOf(lock.reacquire()), 'lock', name, words)
      expectNamed(await errorOf(lock.owned()), 'lock', name, words)
      expectNamed(await errorOf(lock.release()), 'lock', name, words)
      // The lock is no longer held, and the other writer's value is left alone.
      expect(lock.token).toBeNull()
      expect(await connection.command(['EXISTS', name], { key: name })).toBe(1)
    })

    it('a long name is quoted bounded', async () => {
      const name = `${uniquePrefix('lock-wt')}-${'n'.repeat(200_000)}`
      const lock = new Lock(connection, name, { timeout: 10 })
      expect(await lock.acquire()).toBe(true)
      await overwrite(name, write)
      const error = await errorOf(lock.release())
      expectNamed(error, 'lock', name, words)
      expect(error.message).toContain(`${name.slice(0, 1024)}…`)
    })
  })

  describe.each(OVERWRITES)('a semaphore whose key holds a $type', ({ words, write }) => {
    it('acquire() rejects at once', async () => {
      const name = uniquePrefix('sem-wt')
      await overwrite(name, write)
      const semaphore = new Semaphore(connection, name, { limit: 2, blocking: false })
      expectNamed(await errorOf(semaphore.acquire()), 'semaphore', name, words)
      expect(semaphore.token).toBeNull()
      // Not left "acquiring": once the key is usable again, it acquires.
      await connection.command(['DEL', name], { key: name })
      expect(await semaphore.acquire()).toBe(true)
      await semaphore.release()
    })

    it('release() names the semaphore; the other holders are left as they are', async () => {
      const name = uniquePrefix('sem-wt')
      const first = new Semaphore(connection, name, { limit: 2 })
      const second = new Semaphore(connection, name, { limit: 2 })
      expect(await first.acquire()).toBe(true)
      expect(await second.acquire()).toBe(true)
      await overwrite(name, write)
      expectNamed(await errorOf(first.release()), 'semaphore', name, words)
      expect(first.token).toBeNull()
      // The other holder is told the same when it releases; the other writer's value stays.
      expect(second.token).not.toBeNull()
      expectNamed(await errorOf(second.release()), 'semaphore', name, words)
      expect(await connection.command(['EXISTS', name], { key: name })).toBe(1)
    })
  })
})
