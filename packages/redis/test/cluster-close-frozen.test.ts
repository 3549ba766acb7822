import { fileURLToPath } from 'node:url'
import { startCluster, type TestCluster } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runChild } from './helpers.ts'

let testCluster: TestCluster

beforeAll(async () => {
  testCluster = await startCluster()
})

afterAll(async () => {
  for (const node of testCluster?.nodes ?? []) testCluster.resume(node)
  await testCluster?.stop()
})

const child = fileURLToPath(new URL('./_cluster-close-child.ts', import.meta.url))

describe('a process that closed a cluster cache with a primary frozen exits by itself', () => {
  for (const seeds of ['the frozen node', 'every node'] as const) {
    it(`seeds: ${seeds}`, async () => {
      await testCluster.waitUntilHealthy(60_000)
      const [frozen] = await testCluster.primaries()
      if (frozen === undefined) throw new Error('no primary')
      testCluster.pause(frozen)
      try {
        const location = seeds === 'every node' ? testCluster.seeds.join(',') : frozen.url
        const proc = runChild(child, [location])
        // close() may wait for the discovery (socketConnectTimeout, 5 s) and for the calls in
        // flight: generous bounds, for a busy machine.
        await proc.waitFor('closed', 60_000)
        expect(proc.out + proc.err).toContain('closed')
        // It used to run on for good, a socket to the frozen node open.
        const ended = await proc.exitsWithin(30_000)
        expect(ended, proc.out + proc.err).toBe(true)
      } finally {
        testCluster.resume(frozen)
      }
    }, 150_000)
  }
})
