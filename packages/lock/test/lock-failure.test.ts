import { standalone } from '@cachex/connections'
import { type Connection, ConnectionError, TimeoutError } from '@cachex/core'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'
import { Lock, LockNotOwnedError } from '../src/index.ts'

const { server, closeAfterTest } = useFailureHarness()

/** A connection whose calls give up after 0.3 s, so a paused server times them out quickly. */
function shortConnection(url: string) {
  return closeAfterTest(standalone({ location: url, socketTimeout: 0.3 }))
}

/**
 * Waits until `connection` answers again after the server resumed: a timeout resets the
 * connection, and calls fail fast until it has reconnected (a few milliseconds on loopback).
 */
async function back(connection: Connection): Promise<void> {
  const until = performance.now() + 5000
  for (;;) {
    try {
      await connection.command(['PING'])
      return
    } catch (error) {
      if (!(error instanceof ConnectionError) || performance.now() > until) throw error
      await delay(10)
    }
  }
}

describe('a release whose outcome is unknown keeps the token', () => {
  it('a release that timed out can be retried, and the retry removes the lock key', async () => {
    const s = await server()
    const connection = shortConnection(s.url)
    const observer = closeAfterTest(standalone({ location: s.url }))
    const name = uniquePrefix('lock')
    // No timeout: a lock orphaned here would stay forever.
    const lock = new Lock(connection, name)
    expect(await lock.acquire()).toBe(true)
    const token = lock.token
    s.pause()
    try {
      await expect(lock.release()).rejects.toBeInstanceOf(TimeoutError)
      // Not confirmed: the lock still knows its token, so a retry can release.
      expect(lock.token).toBe(token)
    } finally {
      s.resume()
    }
    await back(connection)
    await lock.release()
    expect(lock.token).toBeNull()
    expect(await observer.command(['EXISTS', name])).toBe(0)
  })

  it('a retry resolves when the lock key is gone, but a release that finds another holder rejects', async () => {
    const s = await server()
    const connection = shortConnection(s.url)
    const observer = closeAfterTest(standalone({ location: s.url }))
    const name = uniquePrefix('lock')
    const lock = new Lock(connection, name)
    expect(await lock.acquire()).toBe(true)
    s.pause()
    try {
      await expect(lock.release()).rejects.toBeInstanceOf(TimeoutError)
    } finally {
      s.resume()
    }
    await back(connection)
    // Whether or not the timed-out release ran once the server woke, another holder now has it.
    await observer.command(['SET', name, 'someone-else'])
    await expect(lock.release()).rejects.toBeInstanceOf(LockNotOwnedError)
    expect(lock.token).toBeNull()
    expect(String(await observer.command(['GET', name]))).toBe('someone-else')
  })

  it('extend and reacquire that time out keep the token too', async () => {
    const s = await server()
    const connection = shortConnection(s.url)
    const observer = closeAfterTest(standalone({ location: s.url }))
    const name = uniquePrefix('lock')
    const lock = new Lock(connection, name, { timeout: 60 })
    expect(await lock.acquire()).toBe(true)
    const token = lock.token
    s.pause()
    try {
      await expect(lock.extend(10)).rejects.toBeInstanceOf(TimeoutError)
      expect(lock.token).toBe(token)
      // the connection is known down now: a call fails at once, unsent, and keeps the token too
      await expect(lock.reacquire()).rejects.toBeInstanceOf(ConnectionError)
      expect(lock.token).toBe(token)
    } finally {
      s.resume()
    }
    await back(connection)
    s.pause()
    try {
      await expect(lock.reacquire()).rejects.toBeInstanceOf(TimeoutError)
      expect(lock.token).toBe(token)
    } finally {
      s.resume()
    }
    await back(connection)
    await lock.release()
    expect(await observer.command(['EXISTS', name])).toBe(0)
  })

  it('concurrent releases share one attempt', async () => {
    const s = await server()
    const connection = shortConnection(s.url)
    const lock = new Lock(connection, uniquePrefix('lock'))
    expect(await lock.acquire()).toBe(true)
    await Promise.all([lock.release(), lock.release()])
    expect(lock.token).toBeNull()
    await expect(lock.release()).rejects.toThrow(/unlocked/)
  })
})
