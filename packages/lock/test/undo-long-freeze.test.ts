// An acquisition sent to a frozen server times out, and the server runs it when it wakes: the
// lock or permit is then held by a token no one has, for its whole timeout from the wake (for
// ever without one). Its undo (`releaseLater`) was tried 1, 5 and 30 s after the failure only: a
// server frozen past the last try woke up to a ghost lock (the examples' job route answered 409
// "already running" for the lock's whole timeout after Redis was back, no job running). Tries go
// on while none is answered.
import { standalone } from '@cachex/connections'
import type { Connection } from '@cachex/core'
import { delay, type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, expect, it } from 'vitest'
import { Lock, Semaphore } from '../src/index.ts'

const servers: RedisServer[] = []
const connections: Connection[] = []

afterAll(async () => {
  for (const c of connections) await c.close()
  for (const s of servers) {
    s.resume()
    await s.stop()
  }
})

/** A server and a connection whose calls give up after 0.5 s; the server frozen for `ms`. */
async function frozen(): Promise<{ server: RedisServer; connection: Connection }> {
  const server = await startRedis()
  servers.push(server)
  const connection = standalone({
    location: server.url,
    socketTimeout: 0.5,
    socketConnectTimeout: 0.5,
  })
  connections.push(connection)
  await connection.command(['PING'])
  return { server, connection }
}

/** Polls `done` every 250 ms for up to `ms`: whether it came true. */
async function within(ms: number, done: () => Promise<boolean>): Promise<boolean> {
  for (const until = performance.now() + ms; performance.now() < until; ) {
    if (await done()) return true
    await delay(250)
  }
  return done()
}

// Frozen 33 s: past the last planned try (30 s after the failure); the next, 30 s after that
// one failed, finds the server awake and the ghost there.
const FROZEN_MS = 33_000

it.concurrent('a lock taken by an acquisition a server ran when it woke, 33 s frozen, is released', async () => {
  const { server, connection } = await frozen()
  const name = uniquePrefix('ghost-lock')
  server.pause()
  // Sent, then timed out: the frozen server has it in its socket and runs it when it wakes.
  await expect(new Lock(connection, name).acquire({ blocking: false })).rejects.toThrow()
  await delay(FROZEN_MS)
  server.resume()
  const gone = () =>
    connection.command(['EXISTS', name], { key: name }).then(
      (n) => n === 0,
      () => false,
    )
  // The ghost: held with no timeout by a token no one has.
  expect(await within(5_000, async () => !(await gone()))).toBe(true)
  // Released by the next try, at most 30 s (plus the 0.5 s the last one took) later.
  expect(await within(40_000, gone)).toBe(true)
  expect(await new Lock(connection, name).acquire({ blocking: false })).toBe(true)
}, 120_000)

it.concurrent('a permit taken by an acquisition a server ran when it woke, 33 s frozen, is given back', async () => {
  const { server, connection } = await frozen()
  const name = uniquePrefix('ghost-permit')
  server.pause()
  const semaphore = new Semaphore(connection, name, { limit: 1, timeout: null })
  await expect(semaphore.acquire({ blocking: false })).rejects.toThrow()
  await delay(FROZEN_MS)
  server.resume()
  const free = () =>
    connection.command(['ZCARD', name], { key: name }).then(
      (n) => n === 0,
      () => false,
    )
  expect(await within(5_000, async () => !(await free()))).toBe(true)
  expect(await within(40_000, free)).toBe(true)
  const again = new Semaphore(connection, name, { limit: 1, timeout: null })
  expect(await again.acquire({ blocking: false })).toBe(true)
}, 120_000)
