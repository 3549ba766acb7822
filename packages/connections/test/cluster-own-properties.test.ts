// The cluster factory reads its options as its own properties only: a library that set
// `Object.prototype.socketConnectTimeout = -1` (or `.maxInFlightBytes`, `.readFromReplicas`…) must
// not get the connection refused, or change how it runs. Each case runs in a child process, so the
// pollution never touches this worker.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startCluster, type TestCluster } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const child = fileURLToPath(new URL('./_cluster-own-properties-child.ts', import.meta.url))
let cluster: TestCluster

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
}, 120_000)

afterAll(async () => {
  await cluster?.stop()
})

/** Runs one case of the child against the cluster: what it printed. */
async function run(which: string): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@cachex/source', '--import', 'tsx', child, JSON.stringify(cluster.seeds), which],
    { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1) as string)
}

describe('cluster() under a polluted Object.prototype', () => {
  it('.socketConnectTimeout = -1, .maxInFlightBytes = -1: options without them are not refused', async () => {
    expect(await run('bounds')).toEqual({ set: 'OK', get: 'v' })
  }, 90_000)
})
