import { afterAll, afterEach, beforeEach, expect } from 'vitest'
import { delay, type RedisServer, startRedis, trackUnhandledRejections } from './index.ts'

/** What `useFailureHarness` gives a suite. */
export interface FailureHarness {
  /** Starts a `redis-server` that the harness resumes after each test and stops at the end. */
  server(): Promise<RedisServer>
  /** Closes `closable` (a cache, a connection) after the current test; returns it. */
  closeAfterTest<T extends { close(): Promise<unknown> }>(closable: T): T
}

/**
 * Hooks for suites that stop, pause and restart servers: after each test, paused servers are
 * resumed, what the test opened is closed, and the test fails if any promise rejection went
 * unhandled; after the suite, every server is stopped.
 */
export function useFailureHarness(): FailureHarness {
  const servers: RedisServer[] = []
  const closables: Array<{ close(): Promise<unknown> }> = []
  let unhandled: () => unknown[] = () => []
  beforeEach(() => {
    unhandled = trackUnhandledRejections()
  })
  afterEach(async () => {
    for (const server of servers) server.resume()
    for (const closable of closables.splice(0)) await closable.close()
    // Let pending rejections surface before looking.
    await delay(50)
    expect(unhandled()).toEqual([])
  })
  afterAll(async () => {
    for (const server of servers.splice(0)) {
      server.resume()
      await server.stop()
    }
  })
  return {
    async server() {
      const server = await startRedis()
      servers.push(server)
      return server
    },
    closeAfterTest(closable) {
      closables.push(closable)
      return closable
    },
  }
}
