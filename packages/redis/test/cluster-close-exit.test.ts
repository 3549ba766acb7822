import { fileURLToPath } from 'node:url'
import { startCluster, type TestCluster } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runChild } from './helpers.ts'

let testCluster: TestCluster

beforeAll(async () => {
  // No failover while the nodes are frozen: the test is about the seeds, not a new primary.
  testCluster = await startCluster({ primaries: 3, replicasPerPrimary: 0, nodeTimeout: 60_000 })
}, 240_000)

afterAll(async () => {
  for (const node of testCluster?.nodes ?? []) testCluster.resume(node)
  await testCluster?.stop()
})

const child = fileURLToPath(new URL('./_cluster-close-exit-child.ts', import.meta.url))

describe('a cluster cache closed while it discovers frozen seeds', () => {
  it('lets the process exit as soon as close() resolved', async () => {
    await testCluster.waitUntilHealthy(60_000)
    // Frozen (SIGSTOP), as behind a partition that drops packets: connections are accepted, never
    // answered. The discovery tries the seeds one after another, each for socketConnectTimeout.
    for (const node of testCluster.nodes) testCluster.pause(node)
    try {
      const proc = runChild(child, [testCluster.seeds.join(','), '15'])
      // close() may wait for the discovery: about socketConnectTimeout (15 s), and more on a busy
      // machine.
      await proc.waitFor('closed', 90_000)
      expect(proc.out + proc.err).toContain('closed')
      // It used to run on for up to one more socketConnectTimeout (about 14 s), a socket to the
      // next seed open: the discovery had moved on to it.
      const ended = await proc.exitsWithin(2_500)
      expect(ended, proc.out + proc.err).toBe(true)
    } finally {
      for (const node of testCluster.nodes) testCluster.resume(node)
    }
  }, 180_000)
})
