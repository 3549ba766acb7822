// ACL users and passwords are set per node in a Redis Cluster: a user known to one shard's nodes
// only is refused (WRONGPASS) in the handshake of every other node. A call to such a node fails at
// once and says so — not after socketTimeout as a TimeoutError ("may or may not have been
// applied"), then "the node is down (no reply …)" — and the node serves again once it accepts
// the user.
import { type Cache, ConnectionError, createCache } from '@cachex/redis'
import { startCluster, type TestCluster, trackUnhandledRejections } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, expect, it } from 'vitest'

/** The password of the user known to the first node only. */
const SECRET = 'S3cr3t-p@ss/w:rd?x=1'
const ADMIN = 'admin-Pw-42'
let cluster: TestCluster
const opened: Cache[] = []

/** Runs `args` as the admin user on the node at `port`. */
async function asAdmin(port: number, args: string[]): Promise<void> {
  const client = createClient({ socket: { port, host: '127.0.0.1' }, password: ADMIN })
  client.on('error', () => {})
  await client.connect()
  try {
    await client.sendCommand(args)
  } finally {
    await client.close()
  }
}

const createHalf = (port: number) =>
  asAdmin(port, ['ACL', 'SETUSER', 'half', 'on', `>${SECRET}`, '~*', '&*', '+@all'])

beforeAll(async () => {
  cluster = await startCluster({ password: ADMIN, replicasPerPrimary: 0 })
  await createHalf((cluster.nodes[0] as { port: number }).port)
}, 120_000)

afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
  await cluster?.stop()
})

/** A key of the cache served by another primary than the node at `port`. */
async function keyElsewhere(cache: Cache, port: number): Promise<string> {
  for (let i = 0; ; i++) {
    if ((await cluster.primaryFor(cache.makeKey(`k${i}`))).port !== port) return `k${i}`
  }
}

async function timed(call: () => Promise<unknown>): Promise<[unknown, number]> {
  const started = performance.now()
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  )
  return [error, performance.now() - started]
}

it('a node that refuses the user fails its calls at once with the refusal, then serves once it accepts', async () => {
  const unhandled = trackUnhandledRejections()
  const first = cluster.nodes[0] as { port: number }
  const cache = createCache({
    client: 'cluster',
    location: [`redis://half:${encodeURIComponent(SECRET)}@127.0.0.1:${first.port}`],
    socketTimeout: 3,
  })
  opened.push(cache)
  const key = await keyElsewhere(cache, first.port)

  // The first call (its node's connection opened for it) and the next ones.
  for (const attempt of [1, 2, 3]) {
    const [error, ms] = await timed(() => cache.set(key, attempt))
    expect(error, `attempt ${attempt}`).toBeInstanceOf(ConnectionError)
    const message = (error as Error).message
    expect(message).toMatch(/WRONGPASS/)
    expect(message).not.toMatch(/may or may not have been applied|no reply/)
    expect(message).not.toContain('S3cr3t')
    // Well under socketTimeout (3 s): nothing waited for a reply.
    expect(ms, `attempt ${attempt}`).toBeLessThan(1500)
  }
  // A read there too; the first node's keys are served meanwhile.
  const [readError] = await timed(() => cache.get(key))
  expect(readError).toBeInstanceOf(ConnectionError)
  for (let i = 0; i < 20; i++) {
    const own = `own${i}`
    if ((await cluster.primaryFor(cache.makeKey(own))).port !== first.port) continue
    expect(await cache.set(own, i)).toBe(true)
    expect(await cache.get(own)).toBe(i)
  }

  // The user set up on every node: the refused nodes serve again (within a generous bound).
  await Promise.all(cluster.nodes.slice(1).map((node) => createHalf(node.port)))
  const deadline = performance.now() + 20_000
  let stored: unknown
  while (performance.now() < deadline) {
    stored = await cache.set(key, 'back').catch((e: unknown) => e)
    if (stored === true) break
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  expect(stored).toBe(true)
  expect(await cache.get(key)).toBe('back')
  expect(unhandled()).toEqual([])
}, 60_000)
