// A primary is killed (its replica promoted), restarted (a replica now), and takes its slots back
// with CLUSTER FAILOVER. Once every node reports healthy, the first walk must work: the node back
// in the map is up, not refused at once as down from before the kill.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { type Cache, createCache } from '@cachex/redis'
import { delay, startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

const run = promisify(execFile)

let cluster: TestCluster
const caches: Cache[] = []

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1 })
}, 90_000)

afterAll(async () => {
  for (const cache of caches) await cache.close().catch(() => undefined)
  await cluster?.stop()
})

async function settle<T>(p: Promise<T>): Promise<{ value?: T; error?: Error }> {
  try {
    return { value: await p }
  } catch (error) {
    return { error: error as Error }
  }
}

it('the first walk after a failover and a failback finds every key', async () => {
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix('failback-walk'),
  })
  caches.push(cache)
  const names = Array.from({ length: 300 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((k) => [k, 1])), null)
  expect((await cache.keys('*')).length).toBe(300)
  const victim = (await cluster.primaries())[0]
  if (victim === undefined) throw new Error('no primary')
  // Replication is asynchronous: killed before its replica has the keys, the primary would take
  // them with it (a loss no client can undo), and the walks below would miss them. (`WAIT` would
  // not tell: it counts the acks of its own connection's writes, and redis-cli's wrote nothing.)
  const replica = await cluster.replicaOf(victim)
  if (replica === undefined) throw new Error('no replica')
  const offset = (port: number, field: string) =>
    run('redis-cli', ['-p', String(port), 'INFO', 'replication']).then(({ stdout }) =>
      Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(stdout)?.[1] ?? -1),
    )
  const written = await offset(victim.port, 'master_repl_offset')
  expect(written).toBeGreaterThan(0)
  const synced = Date.now() + 10_000
  while ((await offset(replica.port, 'slave_repl_offset')) < written && Date.now() < synced) {
    await delay(50)
  }
  expect(await offset(replica.port, 'slave_repl_offset')).toBeGreaterThanOrEqual(written)
  await cluster.kill(victim)
  const promoted = Date.now() + 30_000
  let failedOver = false
  while (!failedOver && Date.now() < promoted) {
    const primaries = await cluster.primaries()
    failedOver = primaries.length === 3 && !primaries.some((p) => p.port === victim.port)
    if (!failedOver) await delay(200)
  }
  // Restarted before its replica took over, the node would serve its slots again, empty.
  expect(failedOver).toBe(true)
  await cluster.restart(victim)
  await cluster.waitUntilHealthy(30_000)
  // The cache follows the failover (its first calls may fail on the dead node).
  let followed: { value?: string[]; error?: Error } = {}
  const tries: string[] = []
  for (let i = 0; i < 40; i++) {
    followed = await settle(cache.keys('*'))
    tries.push(
      followed.error
        ? `error: ${followed.error.message.slice(0, 160)}`
        : String(followed.value?.length),
    )
    if (followed.value?.length === 300) break
    await delay(300)
  }
  if (followed.value?.length !== 300) {
    const views = await Promise.all(
      cluster.nodes.map(async (node) => {
        const ask = async (...args: string[]) =>
          (
            await run('redis-cli', ['-p', String(node.port), ...args]).catch((e) => ({
              stdout: String(e),
            }))
          ).stdout.trim()
        const own = (await ask('CLUSTER', 'NODES')).split('\n').find((l) => l.includes('myself'))
        return `${node.port}: role ${(await ask('ROLE')).split('\n')[0]}, dbsize ${await ask('DBSIZE')}, own ${own}`
      }),
    )
    throw new Error(`walks: ${tries.join(' | ')}\nnodes:\n${views.join('\n')}`)
  }
  // The failback: the restarted node (a replica now) takes its slots back.
  const { stdout: failover } = await run('redis-cli', [
    '-p',
    String(victim.port),
    'CLUSTER',
    'FAILOVER',
  ])
  expect(failover.trim()).toBe('OK')
  const back = Date.now() + 30_000
  while (Date.now() < back && (await cluster.role(victim)).role !== 'master') await delay(100)
  await cluster.waitUntilHealthy(30_000)
  const first = await settle(cache.keys('*'))
  expect(first.error?.message).toBeUndefined()
  expect(first.value?.length).toBe(300)
  expect(await cache.deletePattern('*')).toBe(300)
}, 120_000)
