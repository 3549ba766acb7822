// Two `withLock` calls through one `Lock` whose acquisitions are answered in the same tick: each
// read its token from the object after its acquire() resolved, by when the other had replaced it,
// so both recorded the same token — the lost one's — both rejected, and the other task's hold
// stayed in Redis until its timeout (for ever without one). Each now takes the lock with a token
// of its own. The connection passes every command to a real server; it only holds back the
// first successful acquisition's reply, deletes that hold (as if it expired), and lets that reply
// go with the next one's.
import { standalone } from '@cachex/connections'
import type { Connection } from '@cachex/core'
import { type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { Lock } from '../src/index.ts'

let server: RedisServer
let real: Connection
beforeAll(async () => {
  server = await startRedis()
  real = standalone({ location: server.url })
})
afterAll(async () => {
  await real?.close()
  await server?.stop()
})

it("a withLock whose hold was lost leaves the other task's hold alone (two acquisitions answered in one tick)", async () => {
  const name = uniquePrefix('taken-race')
  await redisCall(server.url, ['SET', name, 'someone-else'])
  // The connection: once armed, the first successful acquisition's reply is held back, its key
  // deleted (it expired, say), and released together with the next successful one.
  let armed = false
  let held: { resolve: () => void } | null = null
  const isAcquire = (args: readonly unknown[]) =>
    (args[0] === 'EVALSHA' || args[0] === 'EVAL') && args[2] === '2'
  const connection = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (prop !== 'command') return typeof value === 'function' ? value.bind(target) : value
      return async (args: readonly unknown[], route: unknown) => {
        const reply = await (value as (...a: unknown[]) => Promise<unknown>).call(
          target,
          args,
          route,
        )
        if (!armed || !isAcquire(args) || typeof reply !== 'number' || reply < 1) return reply
        if (held === null) {
          // first success: hold it, the key lost under it
          await redisCall(server.url, ['DEL', name])
          await new Promise<void>((resolve) => {
            held = { resolve }
          })
          return reply
        }
        // second success: let both go in the same tick
        held.resolve()
        return reply
      }
    },
  }) as Connection
  const lock = new Lock(connection, name, { timeout: 60, sleep: 0.02 })
  let releaseSecondFn!: () => void
  const secondFnGate = new Promise<void>((r) => (releaseSecondFn = r))
  let inside = 0
  const first = lock.withLock(async () => {
    inside++
    return 'first'
  })
  const second = lock.withLock(async () => {
    inside++
    await secondFnGate
    return 'second'
  })
  armed = true
  await redisCall(server.url, ['DEL', name])
  // the first settles (its fn does not wait)
  await Promise.race([first.catch(() => undefined), second.catch(() => undefined)])
  // The task still inside its fn must still hold the lock: its key holds a token.
  const stored = await redisCall(server.url, ['GET', name])
  releaseSecondFn()
  const settled = await Promise.allSettled([first, second])
  const after = await redisCall(server.url, ['GET', name])
  expect(inside).toBe(2)
  // While the other task was inside its fn, its hold was in place.
  expect(stored).not.toBe(null)
  // Expected: the task whose hold was lost rejects (LockNotOwnedError), the other releases its
  // own hold and resolves, and no hold is left behind. Actual: both record the same token (the
  // lost one's), both reject, and the other task's hold stays in Redis (until its timeout; for
  // ever without one).
  expect(settled.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected'])
  expect(after).toBe(null)
})
