// A cluster node that refuses the handshake (its password rotated) used to be retried by
// node-redis's client of it after 10 s (doubling to 5 minutes) on a timer that close() could not
// cancel: the process stayed alive that long after close(). node-redis's client now gives up on
// a refusal, and cachex tries the node again on its own schedule, which close() ends.
import { fileURLToPath } from 'node:url'
import { startCluster, type TestCluster } from '@cachex/test-utils'
import { afterAll, expect, it } from 'vitest'
import { runChild } from './helpers.ts'

let cluster: TestCluster | undefined

afterAll(async () => {
  await cluster?.stop()
})

const child = fileURLToPath(new URL('./_cluster-refused-exit-child.ts', import.meta.url))

it('lets the process exit at once after close() when a cluster node refuses the handshake', async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  const victim = (await cluster.primaries())[2] as { url: string }
  const options = { client: 'cluster', location: cluster.seeds.slice(0, 2) }
  const proc = runChild(child, [JSON.stringify(options), victim.url])
  await proc.waitFor('closed', 90_000)
  expect(proc.out + proc.err).toContain('closed')
  const { callsMs, failures } = JSON.parse(proc.out.split('\n')[0] as string) as {
    callsMs: number
    failures: string[]
  }
  // The calls to the refusing node fail at once, saying so: not one waits its 1 s timeout.
  expect(failures.length, proc.out + proc.err).toBeGreaterThan(0)
  for (const failure of failures) expect(failure).toMatch(/refuses the connection: .*NOAUTH/)
  expect(callsMs).toBeLessThan(5_000)
  // It used to run on until the refused node's next try, 8 to 10 s after the refusal (at least
  // 6 s after close()).
  const ended = await proc.exitsWithin(4_000)
  expect(ended, proc.out + proc.err).toBe(true)
}, 120_000)
