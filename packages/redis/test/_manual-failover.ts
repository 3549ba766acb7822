// A manual failover of one cluster shard, for the failback tests (cluster-failback-*.test.ts).
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { type ClusterNode, delay, type TestCluster } from '@cachex/test-utils'

const run = promisify(execFile)

/** `redis-cli -p <node> ...args`, its output trimmed. */
export async function cli(node: ClusterNode, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(node.port), ...args])
  return stdout.trim()
}

/**
 * Makes `replica` the primary of its shard with `CLUSTER FAILOVER` (no data lost), and waits
 * until its old primary reports itself its replica. Sent once: sent again while the first one is
 * under way, it can stall the shard's writes. Only a manual failover that timed out (Redis gives
 * it 5 s) is asked again.
 */
export async function failOver(
  cluster: TestCluster,
  replica: ClusterNode,
  primary: ClusterNode,
): Promise<void> {
  await cluster.waitUntilHealthy(60_000)
  const started = performance.now()
  let sent = performance.now()
  await cli(replica, 'CLUSTER', 'FAILOVER')
  while (
    (await cluster.role(replica)).role !== 'master' ||
    (await cluster.role(primary)).role !== 'slave'
  ) {
    if (performance.now() - started > 60_000) throw new Error(`${replica.port} not promoted`)
    if ((await cluster.role(replica)).role !== 'master' && performance.now() - sent > 15_000) {
      await cli(replica, 'CLUSTER', 'FAILOVER')
      sent = performance.now()
    }
    await delay(10)
  }
}
