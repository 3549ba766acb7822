// A cluster connection opened while one primary is down (killed: refused) or frozen (SIGSTOP:
// accepted, never answered). node-redis's first discovery used to wait until it reached every
// primary, so such a connection served nothing — not the healthy primaries' slots, and not the
// dead one's after its replica was promoted — until the node came back.
import type { Connection } from '@cachex/core'
import { type ClusterNode, startCluster, type TestCluster } from '@cachex/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { cluster } from '../src/index.ts'

let testCluster: TestCluster
let opened: Connection[] = []

beforeEach(async () => {
  testCluster = await startCluster()
})

afterEach(async () => {
  await Promise.all(opened.map((c) => c.close()))
  opened = []
  for (const node of testCluster?.nodes ?? []) testCluster.resume(node)
  await testCluster?.stop()
})

/** A key tag whose slot `node` serves as primary, or does not, as asked. */
async function tagOf(node: ClusterNode, served: boolean): Promise<string> {
  for (let i = 0; i < 1000; i++) {
    const tag = `{t${i}}`
    if (((await testCluster.primaryFor(tag)) === node) === served) return tag
  }
  throw new Error('no such tag')
}

/** Runs `SET` until it succeeds (true) or `ms` pass (false). */
async function setsWithin(c: Connection, key: string, ms: number): Promise<boolean> {
  const until = performance.now() + ms
  while (performance.now() < until) {
    const ok = await c.command(['SET', key, 'v'], { key }).then(
      () => true,
      () => false,
    )
    if (ok) return true
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return false
}

describe('a cluster connection opened while a primary is out', () => {
  for (const outage of ['killed', 'frozen'] as const) {
    it(`serves the other primaries at once, and the ${outage} one's slots once failed over`, async () => {
      const [down] = await testCluster.primaries()
      const node = down as ClusterNode
      const healthy = await tagOf(node, false)
      const moved = await tagOf(node, true)
      if (outage === 'killed') await testCluster.kill(node)
      else testCluster.pause(node)
      const c = cluster({
        location: [...testCluster.seeds],
        socketConnectTimeout: 2,
        socketTimeout: 2,
      })
      opened.push(c)
      // Bounds that prove nothing waits for the node; a loaded machine fits in them.
      expect(await setsWithin(c, `${healthy}:k`, 20_000)).toBe(true)
      // The cluster promotes the replica within a few seconds (cluster-node-timeout 1 s).
      expect(await setsWithin(c, `${moved}:k`, 45_000)).toBe(true)
    }, 90_000)
  }
})
