// One `Lock` object shared by concurrent tasks — an app-wide `const lock = cache.lock('job')`,
// each request calling `lock.withLock(fn)`: the object holds the latest acquisition's token. A
// task whose hold was lost while its function ran (the key deleted, or expired) released through
// that token the hold the next task had taken through the same object, and a third holder could
// then take the lock while the second was still inside (redis-py keeps its token per thread for
// this). `withLock` releases the hold its own `acquire()` took, or says it was lost; and a
// release its `fn` made itself leaves it nothing to do (it rejected with "an unlocked lock").
import { standalone } from '@cachex/connections'
import type { Connection } from '@cachex/core'
import { type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Lock, LockNotOwnedError } from '../src/index.ts'
import { BACKENDS, useBackend } from './helpers.ts'

describe.each(BACKENDS)('a Lock shared by concurrent withLock() calls (%s)', (backend) => {
  let connection: Connection
  useBackend(backend, (_server, opened) => {
    connection = opened
  })

  it("a task whose hold was deleted while it ran leaves the next task's hold alone", async () => {
    const name = uniquePrefix('shared-lock')
    const lock = new Lock(connection, name, { timeout: 30, sleep: 0.01 })
    let secondIn!: () => void
    const secondInside = new Promise<void>((resolve) => {
      secondIn = resolve
    })
    // Task 1 holds the lock; the key is deleted under it (an operator's flush, a clear()); task 2,
    // waiting on the same object, takes it; only then does task 1's function end.
    const first = lock.withLock(async () => {
      await connection.command(['DEL', name], { key: name })
      await secondInside
    })
    const seen: Record<string, unknown> = {}
    const second = lock.withLock(async () => {
      secondIn()
      const token = lock.token
      seen.first = await first.then(
        () => 'resolved',
        (error: unknown) => error,
      )
      // Task 2 still holds the lock: its token is in the key, and no one else can take it.
      seen.stillHeld = String(await connection.command(['GET', name], { key: name })) === token
      const outsider = new Lock(connection, name, { timeout: 5 })
      seen.outsiderGotIn = await outsider.acquire({ blocking: false })
      if (seen.outsiderGotIn === true) await outsider.release()
      return token
    })
    const token = await second
    expect(seen.first).toBeInstanceOf(LockNotOwnedError)
    expect(seen).toMatchObject({ stillHeld: true, outsiderGotIn: false })
    expect(typeof token).toBe('string')
    // Task 2's own release went through: the lock is free.
    expect(await connection.command(['EXISTS', name], { key: name })).toBe(0)
    expect(lock.token).toBe(null)
  })

  it('tasks taking turns through one object each release their own hold', async () => {
    const name = uniquePrefix('shared-turns')
    const lock = new Lock(connection, name, { timeout: 30, sleep: 0.01 })
    let inside = 0
    let most = 0
    const tasks = Array.from({ length: 10 }, (_, i) =>
      lock.withLock(async () => {
        inside++
        most = Math.max(most, inside)
        await new Promise((resolve) => setImmediate(resolve))
        inside--
        return i
      }),
    )
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(most).toBe(1)
    expect(await connection.command(['EXISTS', name], { key: name })).toBe(0)
  })

  it('a release fn makes itself leaves withLock nothing to do', async () => {
    const name = uniquePrefix('released-inside')
    const lock = new Lock(connection, name, { timeout: 30 })
    const result = await lock.withLock(async () => {
      await lock.release()
      return 'done'
    })
    expect(result).toBe('done')
    expect(await connection.command(['EXISTS', name], { key: name })).toBe(0)
    // Released inside, then taken again through the same object before fn ends: that hold is
    // left alone.
    const second = new Lock(connection, name, { timeout: 30 })
    let other!: Promise<boolean>
    const first = second.withLock(async () => {
      await second.release()
      other = second.acquire()
      await other
    })
    await expect(first).resolves.toBe(undefined)
    expect(await other).toBe(true)
    expect(await second.owned()).toBe(true)
    await second.release()
  })

  it('a release fn makes itself leaves withLock nothing to do, whatever the object did since', async () => {
    const name = uniquePrefix('released-then-used')
    const lock = new Lock(connection, name, { timeout: 30 })
    // fn releases, then takes the lock again and lets it go itself.
    await expect(
      lock.withLock(async () => {
        await lock.release()
        expect(await lock.acquire()).toBe(true)
        await lock.release()
        return 'again'
      }),
    ).resolves.toBe('again')
    // fn releases, then another task takes the lock through the same object and lets it go.
    await expect(
      lock.withLock(async () => {
        await lock.release()
        await lock.withLock(async () => undefined)
        return 'other'
      }),
    ).resolves.toBe('other')
    expect(await connection.command(['EXISTS', name], { key: name })).toBe(0)
  })
})

describe('withLock when fn releases and the release is answered in the background', () => {
  let server: RedisServer
  let connection: Connection
  beforeAll(async () => {
    server = await startRedis()
    connection = standalone({ location: server.url, socketTimeout: 0.3 })
  })
  afterAll(async () => {
    await connection?.close()
    await server?.stop()
  })

  it("resolves when a retry of fn's release is answered by the background try", async () => {
    const name = uniquePrefix('released-behind')
    const lock = new Lock(connection, name, { timeout: 60 })
    const result = lock.withLock(async () => {
      // The release is sent into a pause and times out: handed to the background, which runs
      // once the server answers again and releases the lock.
      await redisCall(server.url, ['CLIENT', 'PAUSE', '800', 'ALL'])
      await expect(lock.release()).rejects.toThrow()
      await vi.waitFor(() => expect(lock.token).toBe(null), { timeout: 60_000, interval: 100 })
      // fn's retry is answered as the background try found: released.
      await lock.release()
      return 'done'
    })
    await expect(result).resolves.toBe('done')
    expect(await connection.command(['EXISTS', name], { key: name })).toBe(0)
  }, 90_000)
})
