// A release that failed with an error saying nothing ran — refused unsent (`BackpressureError`,
// the connection's refusal while Redis is known down) or answered with an error reply (`NOPERM`)
// — cannot have deleted the lock. A later release that finds the key gone must then reject with
// `LockNotOwnedError` (the lock expired under its holder, and another may have held it
// meanwhile), as it does with no failed release before it; only a release that may have run (a
// timeout, a dropped connection) lets a retry that finds the key gone resolve.
import { cluster, standalone } from '@cachex/connections'
import { BackpressureError, type Connection, ConnectionError, ResponseError } from '@cachex/core'
import { wasUnsent } from '@cachex/core/internal'
import {
  delay,
  freePort,
  redisCall,
  startCluster,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lock, LockNotOwnedError, Semaphore } from '../src/index.ts'

const { server, closeAfterTest } = useFailureHarness()

/** What `promise` rejects with (it must reject). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${String(value)}`)
    },
    (error: unknown) => error,
  )
}

/** Calls `fn` until it stops failing with a `ConnectionError` (Redis coming back), for 10 s. */
async function once<T>(fn: () => Promise<T>): Promise<T> {
  const until = performance.now() + 10_000
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (!(error instanceof ConnectionError) || performance.now() > until) throw error
      await delay(50)
    }
  }
}

/**
 * A connection with at most 4 KB awaiting replies, and a call to it that fills that budget
 * while the server is paused: the next call is refused unsent with `BackpressureError`.
 */
function filled(url: string): { connection: Connection; fill(): Promise<unknown> } {
  const connection = closeAfterTest(
    standalone({ location: url, maxInFlightBytes: 4096, socketTimeout: 10 }),
  )
  return {
    connection,
    fill: () => connection.command(['SET', uniquePrefix('big'), 'x'.repeat(3950)]),
  }
}

describe('a release refused with BackpressureError (nothing sent)', () => {
  it('lock: a later release after expiry rejects with LockNotOwnedError', async () => {
    const s = await server()
    const { connection, fill } = filled(s.url)
    const name = uniquePrefix('lock')
    const lock = new Lock(connection, name, { timeout: 0.1 })
    expect(await lock.acquire()).toBe(true)
    // The lock expires under its holder; another holder takes it. (Before the failed release:
    // its background retry, 1 s after it, finds the lock lost whenever it runs.)
    await delay(300)
    const other = new Lock(connection, name, { timeout: 10 })
    expect(await other.acquire({ blocking: false })).toBe(true)
    s.pause()
    let big: Promise<unknown>
    try {
      big = fill()
      expect(await rejection(lock.release())).toBeInstanceOf(BackpressureError)
    } finally {
      s.resume()
    }
    await big
    await other.release()
    expect(await rejection(lock.release())).toBeInstanceOf(LockNotOwnedError)
    expect(lock.token).toBeNull()
  })

  it('semaphore: a later release after expiry rejects with LockNotOwnedError', async () => {
    const s = await server()
    const { connection, fill } = filled(s.url)
    const name = uniquePrefix('sem')
    const sem = new Semaphore(connection, name, { limit: 1, timeout: 0.1 })
    expect(await sem.acquire()).toBe(true)
    // Its permit expires: another holder of the one permit gets in (and drops the expired
    // permit), before the failed release, whose background retry then finds it lost.
    await delay(300)
    const other = new Semaphore(connection, name, { limit: 1, timeout: 10 })
    expect(await other.acquire({ blocking: false })).toBe(true)
    s.pause()
    let big: Promise<unknown>
    try {
      big = fill()
      expect(await rejection(sem.release())).toBeInstanceOf(BackpressureError)
    } finally {
      s.resume()
    }
    await big
    expect(await rejection(sem.release())).toBeInstanceOf(LockNotOwnedError)
    await other.release()
  })
})

describe("a release refused at once while Redis is known down (the connection's refusal)", () => {
  it('after Redis restarts empty and another holder had the lock, the retry rejects', async () => {
    const s = await server()
    const connection = closeAfterTest(
      standalone({ location: s.url, socketTimeout: 2, socketConnectTimeout: 1 }),
    )
    const name = uniquePrefix('lock')
    const lock = new Lock(connection, name, { timeout: 30 })
    expect(await lock.acquire()).toBe(true)
    await s.kill()
    // Until the connection knows Redis is down: its calls are then refused at once, unsent.
    const until = performance.now() + 10_000
    let refused: unknown
    do {
      refused = await rejection(connection.command(['PING']))
    } while (
      !String((refused as Error).message).includes('not waiting') &&
      performance.now() < until
    )
    refused = await rejection(lock.release())
    expect(refused).toBeInstanceOf(ConnectionError)
    expect((refused as Error).message).toMatch(/not waiting \(reconnecting in the background\)/)
    expect(lock.token).not.toBeNull()
    // Redis comes back without the lock (no persistence); another holder takes it, releases it.
    await s.start()
    const other = new Lock(connection, name, { timeout: 30 })
    expect(await once(() => other.acquire({ blocking: false }))).toBe(true)
    await other.release()
    expect(await rejection(lock.release())).toBeInstanceOf(LockNotOwnedError)
  })
})

describe('a release answered with an error reply (it ran and refused: nothing changed)', () => {
  it('NOPERM, then the lock expires: the retry rejects with LockNotOwnedError', async () => {
    const s = await server()
    await redisCall(s.url, ['ACL', 'SETUSER', 'locker', 'on', '>locker-pw', '~*', '+@all'])
    const connection = closeAfterTest(
      standalone({ location: s.url.replace('redis://', 'redis://locker:locker-pw@') }),
    )
    const name = uniquePrefix('lock')
    const lock = new Lock(connection, name, { timeout: 1 })
    expect(await lock.acquire()).toBe(true)
    await redisCall(s.url, ['ACL', 'SETUSER', 'locker', '-@scripting'])
    const refused = await rejection(lock.release())
    expect(refused).toBeInstanceOf(ResponseError)
    expect((refused as Error).message).toMatch(/NOPERM/)
    await redisCall(s.url, ['ACL', 'SETUSER', 'locker', '+@scripting'])
    await delay(1200)
    const other = new Lock(connection, name, { timeout: 10 })
    expect(await other.acquire({ blocking: false })).toBe(true)
    await other.release()
    expect(await rejection(lock.release())).toBeInstanceOf(LockNotOwnedError)
  })
})

describe('a release that may have run still lets a retry that finds the key gone resolve', () => {
  it('a timeout, then the lock expires: the retry resolves', async () => {
    const s = await server()
    const connection = closeAfterTest(standalone({ location: s.url, socketTimeout: 0.3 }))
    const name = uniquePrefix('lock')
    const lock = new Lock(connection, name, { timeout: 1 })
    expect(await lock.acquire()).toBe(true)
    s.pause()
    try {
      expect(await rejection(lock.release())).toBeInstanceOf(ConnectionError)
    } finally {
      s.resume()
    }
    await delay(1200)
    // Refused unsent while the connection reconnects: still unknown from the timeout before.
    await once(() => lock.release())
    expect(lock.token).toBeNull()
  })
})

describe('the refusals of a circuit breaker are marked unsent', () => {
  it("a cluster whose seeds are unreachable: the breaker's refusal", async () => {
    const port = await freePort()
    const connection = closeAfterTest(
      cluster({ location: [`redis://127.0.0.1:${port}`], socketConnectTimeout: 0.5 }),
    )
    // The first call tries the discovery itself, and fails: not known unsent.
    const first = await rejection(connection.command(['GET', 'k'], { key: 'k' }))
    expect(first).toBeInstanceOf(ConnectionError)
    const second = await rejection(connection.command(['GET', 'k'], { key: 'k' }))
    expect((second as Error).message).toMatch(/not waiting \(retrying in the background\)/)
    expect(wasUnsent(second)).toBe(true)
  })
})

describe('the refusals of a cluster node known down are marked unsent', () => {
  // No replicas and a long node timeout: the frozen primary is not failed over, and cachex marks
  // it down once it went unanswered for socketTimeout; its calls are then refused at once.
  let testCluster: TestCluster
  beforeAll(async () => {
    testCluster = await startCluster({ replicasPerPrimary: 0, nodeTimeout: 60_000 })
  }, 120_000)
  afterAll(async () => {
    for (const node of testCluster?.nodes ?? []) testCluster.resume(node)
    await testCluster?.stop()
  })

  it('a release refused by a down node, then the lock expires: the retry rejects', async () => {
    const connection = closeAfterTest(
      cluster({ location: [...testCluster.seeds], socketTimeout: 1, socketConnectTimeout: 1 }),
    )
    const name = uniquePrefix('lock')
    // Expired before the release is refused (the frozen node expires it once resumed): the
    // release's background retry finds it lost whenever it runs.
    const lock = new Lock(connection, name, { timeout: 0.5 })
    expect(await lock.acquire()).toBe(true)
    const victim = await testCluster.primaryFor(name)
    testCluster.pause(victim)
    let refused: unknown
    try {
      // The first calls time out (they may have run); once the node is known down, refused.
      const until = performance.now() + 15_000
      do {
        refused = await rejection(connection.command(['GET', name], { key: name }))
      } while (!String((refused as Error).message).includes('is down') && performance.now() < until)
      expect((refused as Error).message).toMatch(/is down \(.*\); not waiting/)
      expect(wasUnsent(refused)).toBe(true)
      refused = await rejection(lock.release())
      expect(refused).toBeInstanceOf(ConnectionError)
      expect((refused as Error).message).toMatch(/is down \(.*\); not waiting/)
      expect(wasUnsent(refused)).toBe(true)
      expect(lock.token).not.toBeNull()
    } finally {
      testCluster.resume(victim)
    }
    // The node answers again, the lock has expired; another holder takes it and releases it.
    await delay(600)
    const other = new Lock(connection, name, { timeout: 10 })
    expect(await once(() => other.acquire({ blocking: false }))).toBe(true)
    await other.release()
    expect(await rejection(lock.release())).toBeInstanceOf(LockNotOwnedError)
  }, 60_000)
})
