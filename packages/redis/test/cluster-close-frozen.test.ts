// A process that closes a cluster cache while a primary is frozen (SIGSTOP: connections accepted,
// nothing answered) must end by itself. Two clients used to keep a socket to the frozen node open
// for good: the discovery's, when the frozen node was the seed asked, and a node client still
// waiting for its handshake, which node-redis forgets as soon as its close() starts.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { delay, startCluster, type TestCluster } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let testCluster: TestCluster

beforeAll(async () => {
  testCluster = await startCluster()
})

afterAll(async () => {
  for (const node of testCluster?.nodes ?? []) testCluster.resume(node)
  await testCluster?.stop()
})

const child = fileURLToPath(new URL('./_cluster-close-child.ts', import.meta.url))
const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('a process that closed a cluster cache with a primary frozen exits by itself', () => {
  for (const seeds of ['the frozen node', 'every node'] as const) {
    it(`seeds: ${seeds}`, async () => {
      await testCluster.waitUntilHealthy(60_000)
      const [frozen] = await testCluster.primaries()
      if (frozen === undefined) throw new Error('no primary')
      testCluster.pause(frozen)
      try {
        const location = seeds === 'every node' ? testCluster.seeds.join(',') : frozen.url
        const proc = spawn(
          process.execPath,
          ['--conditions=@cachex/source', '--import', 'tsx', child, location],
          { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
        )
        let out = ''
        proc.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
        })
        proc.stderr.on('data', (chunk: Buffer) => {
          out += chunk.toString()
        })
        const exited = once(proc, 'exit')
        // close() may wait for the discovery (socketConnectTimeout, 5 s) and for the calls in
        // flight: generous bounds, for a busy machine.
        const until = performance.now() + 60_000
        while (!out.includes('closed') && proc.exitCode === null && performance.now() < until) {
          await delay(50)
        }
        expect(out).toContain('closed')
        // It used to run on for good, a socket to the frozen node open.
        const ended = await Promise.race([exited.then(() => true), delay(30_000).then(() => false)])
        if (!ended) proc.kill('SIGKILL')
        expect(ended, out).toBe(true)
      } finally {
        testCluster.resume(frozen)
      }
    }, 150_000)
  }
})
