// A Redis Cluster whose topology changes under the connection: slots migrating (TRYAGAIN, ASK to
// a primary that owns no slot yet), a replica that loses its link or restarts empty, a primary
// that freezes until its replica is promoted. One cluster for the file, with a 1 s node timeout
// so that failovers are quick; the tests run in order and leave it healthy.
import { type Connection, ConnectionError, ResponseError } from '@cachex/core'
import {
  type ClusterNode,
  delay,
  startCluster,
  type TestCluster,
  trackUnhandledRejections,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, keySlot, standalone } from '../src/index.ts'

let testCluster: TestCluster
const opened: Connection[] = []
let unhandled: () => unknown[]

function open(options: Parameters<typeof cluster>[0] = {}): Connection {
  const c = cluster({ location: [...testCluster.seeds], ...options })
  opened.push(c)
  return c
}

const text = (reply: unknown) => (reply === null ? null : String(reply))

/** Runs `args` on one node directly (a standalone connection), as an operator would. */
async function onNode(node: ClusterNode, ...args: string[]): Promise<unknown> {
  const direct = standalone({ location: node.url })
  try {
    return await direct.command(args)
  } finally {
    await direct.close()
  }
}

/**
 * Writes on `node` directly and waits (at most 3 s) for its replica to acknowledge: `WAIT` counts
 * the writes of its own connection.
 */
async function writeAndWait(node: ClusterNode, ...args: string[]): Promise<void> {
  const direct = standalone({ location: node.url })
  try {
    await direct.command(args)
    expect(await direct.command(['WAIT', '1', '3000'])).toBe(1)
  } finally {
    await direct.close()
  }
}

/** How many `command` calls `node` ran, from `INFO commandstats`. */
async function calls(node: ClusterNode, command: string): Promise<number> {
  const stats = String(await onNode(node, 'INFO', 'commandstats'))
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0)
}

/** Resolves once `check` holds, polling; rejects after `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms
  while (performance.now() < deadline) {
    if (await check()) return
    await delay(50)
  }
  throw new Error(`${what} within ${ms} ms`)
}

/** A primary other than `node`. */
async function otherPrimary(node: ClusterNode): Promise<ClusterNode> {
  const other = (await testCluster.primaries()).find((n) => n !== node)
  if (other === undefined) throw new Error('no other primary')
  return other
}

/** The `n`-th primary that has a live replica, and that replica. */
async function shard(n: number): Promise<[ClusterNode, ClusterNode]> {
  const found: Array<[ClusterNode, ClusterNode]> = []
  for (const primary of await testCluster.primaries()) {
    const replica = await testCluster.replicaOf(primary)
    if (replica !== undefined) found.push([primary, replica])
  }
  const pair = found[n % found.length]
  if (pair === undefined) throw new Error('no primary has a replica')
  return pair
}

/** A key served by `primary`, with a hash tag so that more keys can join its slot. */
async function tagOn(primary: ClusterNode): Promise<string> {
  for (let i = 0; ; i++) {
    const tag = `{rr${i}}`
    if ((await testCluster.primaryFor(tag)) === primary) return tag
  }
}

beforeAll(async () => {
  testCluster = await startCluster({ primaries: 3, replicasPerPrimary: 1, nodeTimeout: 1000 })
  unhandled = trackUnhandledRejections()
})

afterAll(async () => {
  for (const c of opened.splice(0)) await c.close()
  await testCluster?.stop()
  expect(unhandled()).toEqual([])
})

describe('a slot being migrated', () => {
  it('retries TRYAGAIN: a multi-key command on a half-moved slot succeeds, within its bound', async () => {
    const c = open({ socketTimeout: 3 })
    const keys = ['{mig}:a', '{mig}:b', '{mig}:c']
    await c.command(['MSET', '{mig}:a', '1', '{mig}:b', '2', '{mig}:c', '3'])
    const from = await testCluster.primaryFor(keys[0] as string)
    const move = await testCluster.beginSlotMove(keySlot('{mig}:a'), await otherPrimary(from))
    // One key on each side: Redis answers TRYAGAIN to any command that names keys of both.
    await move.migrate(['{mig}:a'])
    await expect(onNode(from, 'MGET', ...keys)).rejects.toThrow(/TRYAGAIN/)

    // A read and a delete go key by key after a few tries; a write stays whole and waits for
    // the end of the migration (here, 300 ms later).
    const finished = delay(300).then(async () => {
      await move.migrate()
      await move.finish()
    })
    const [read, count, written] = await Promise.all([
      c.command(['MGET', ...keys], { readonly: true }),
      c.command(['EXISTS', ...keys, '{mig}:none']),
      c.command(['MSET', '{mig}:a', 'x', '{mig}:b', 'y']),
    ])
    await finished
    expect((read as unknown[]).map(text)).toEqual(['1', '2', '3'])
    expect(count).toBe(3)
    expect(text(written)).toBe('OK')
    expect(((await c.command(['MGET', ...keys])) as unknown[]).map(text)).toEqual(['x', 'y', '3'])
  })

  it('gives up on a TRYAGAIN that lasts, within socketTimeout, with the server’s error', async () => {
    const c = open({ socketTimeout: 2 })
    await c.command(['MSET', '{stuck}:a', '1', '{stuck}:b', '2'])
    const from = await testCluster.primaryFor('{stuck}:a')
    const move = await testCluster.beginSlotMove(keySlot('{stuck}:a'), await otherPrimary(from))
    await move.migrate(['{stuck}:a'])
    try {
      const script = "return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])"
      const started = performance.now()
      const error = await c
        .command(['EVAL', script, '2', '{stuck}:a', '{stuck}:b'])
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ResponseError)
      expect((error as Error).message).toMatch(/TRYAGAIN/)
      // Nothing hangs: well within the bound, even on a busy machine.
      expect(performance.now() - started).toBeLessThan(2000 + 2000)
    } finally {
      await move.migrate()
      await move.finish()
    }
  })

  it('follows ASK to a primary that owns no slot yet, and MOVED to it once it does', async () => {
    const c = open()
    const key = 'ask:{slotless}'
    const others = ['ask:{other}:1', 'ask:{other}:2']
    await c.command(['MSET', key, 'v1', ...others.flatMap((k) => [k, k])])
    const added = await testCluster.addNode()
    const move = await testCluster.beginSlotMove(keySlot(key), added)
    await move.migrate([key])
    // The key lives on the new node, which serves no slot: its owner answers ASK.
    await expect(onNode(move.from, 'GET', key)).rejects.toThrow(/^ASK /)

    expect(text(await c.command(['GET', key], { key, readonly: true }))).toBe('v1')
    expect(text(await c.command(['SET', key, 'v2'], { key }))).toBe('OK')
    expect(((await c.command(['MGET', key, ...others])) as unknown[]).map(text)).toEqual([
      'v2',
      ...others,
    ])
    // A connection opened now, while the slot is importing, too.
    const fresh = open()
    expect(text(await fresh.command(['GET', key], { key }))).toBe('v2')

    await move.migrate()
    await move.finish()
    expect(text(await c.command(['GET', key], { key }))).toBe('v2')
    expect(text(await fresh.command(['SET', key, 'v3'], { key }))).toBe('OK')
    expect(text(await onNode(added, 'GET', key))).toBe('v3')
  })
})

describe('replica reads', () => {
  it('reads from a replica only while its link to the primary is up', async () => {
    const [primary, replica] = await shard(0)
    const tag = await tagOn(primary)
    await writeAndWait(primary, 'SET', `${tag}:old`, 'old')
    // Connected once the replica has replicated something: Redis lists it in the slot map then.
    const c = open({ readFromReplicas: true })

    // Healthy: reads go to the replica too.
    await until(
      async () => {
        const before = await calls(replica, 'get')
        for (let i = 0; i < 20; i++) await c.command(['GET', `${tag}:old`], { readonly: true })
        return (await calls(replica, 'get')) > before
      },
      15_000,
      'reads did not reach the healthy replica',
    )

    // The replica loses its link (it cannot authenticate to its primary any more): its data
    // stops following, so it leaves the rotation.
    await onNode(replica, 'CONFIG', 'SET', 'masteruser', 'nobody', 'masterauth', 'wrong')
    try {
      await onNode(replica, 'CLIENT', 'KILL', 'TYPE', 'master')
      await testCluster.role(replica).then((r) => expect(r.role).toBe('slave'))
      await until(async () => !(await testCluster.role(replica)).linkUp, 10_000, 'link still up')
      await delay(2500)
      await c.command(['SET', `${tag}:new`, 'new'])
      const replicaGets = await calls(replica, 'get')
      for (let i = 0; i < 40; i++) {
        expect(text(await c.command(['GET', `${tag}:new`], { readonly: true }))).toBe('new')
      }
      expect(await calls(replica, 'get')).toBe(replicaGets)
    } finally {
      await onNode(replica, 'CONFIG', 'SET', 'masteruser', '', 'masterauth', '')
    }
    await until(async () => (await testCluster.role(replica)).linkUp, 15_000, 'link not back')
    // Back in the rotation once it reports its link up.
    await until(
      async () => {
        const before = await calls(replica, 'get')
        for (let i = 0; i < 20; i++) await c.command(['GET', `${tag}:new`], { readonly: true })
        return (await calls(replica, 'get')) > before
      },
      10_000,
      'reads did not come back to the replica',
    )
    await testCluster.waitUntilHealthy(30_000)
  }, 90_000)

  it('sends the reads of one batch to one node of their shard (GET and PTTL see one copy)', async () => {
    const [primary, replica] = await shard(0)
    const tag = await tagOn(primary)
    await writeAndWait(primary, 'SET', `${tag}:k`, 'v', 'PX', '600000')
    const c = open({ readFromReplicas: true })
    const counts = async () =>
      Promise.all([primary, replica].flatMap((n) => [calls(n, 'get'), calls(n, 'pttl')]))
    // Until the replica serves reads (it enters the rotation after its first health check).
    await until(
      async () => {
        const before = await calls(replica, 'get')
        for (let i = 0; i < 20; i++) await c.command(['GET', `${tag}:k`], { readonly: true })
        return (await calls(replica, 'get')) > before
      },
      15_000,
      'reads did not reach the replica',
    )
    const [pGet0, pTtl0, rGet0, rTtl0] = await counts()
    for (let i = 0; i < 30; i++) {
      const [value, ttl] = await c.batch(
        [
          ['GET', `${tag}:k`],
          ['PTTL', `${tag}:k`],
        ],
        { readonly: true },
      )
      expect(text(value)).toBe('v')
      expect(Number(ttl)).toBeGreaterThan(0)
    }
    const [pGet1, pTtl1, rGet1, rTtl1] = await counts()
    const onPrimary = [(pGet1 as number) - (pGet0 as number), (pTtl1 as number) - (pTtl0 as number)]
    const onReplica = [(rGet1 as number) - (rGet0 as number), (rTtl1 as number) - (rTtl0 as number)]
    // Each batch went to one node: as many GETs as PTTLs on each; both nodes still served some.
    expect(onPrimary[0]).toBe(onPrimary[1])
    expect(onReplica[0]).toBe(onReplica[1])
    expect((onPrimary[0] as number) + (onReplica[0] as number)).toBe(30)
    expect(onReplica[0]).toBeGreaterThan(0)
    expect(onPrimary[0]).toBeGreaterThan(0)
  }, 60_000)

  it('sends no read to a replica that restarted empty and has not resynchronised', async () => {
    const [primary, replica] = await shard(1)
    const tag = await tagOn(primary)
    const keys = Array.from({ length: 10 }, (_, i) => `${tag}:${i}`)
    await writeAndWait(primary, 'MSET', ...keys.flatMap((k) => [k, k]))
    const c = open({ readFromReplicas: true })
    // Reads reach the replica while it is healthy.
    await until(
      async () => {
        const before = await calls(replica, 'mget')
        for (let i = 0; i < 20; i++) await c.command(['MGET', ...keys], { readonly: true })
        return (await calls(replica, 'mget')) > before
      },
      15_000,
      'reads did not reach the healthy replica',
    )

    // The primary refuses to resynchronise it for now (a big data set would take this long).
    await onNode(primary, 'ACL', 'SETUSER', 'default', '-sync', '-psync')
    try {
      await testCluster.kill(replica)
      await testCluster.restart(replica)
      const role = await testCluster.role(replica)
      expect(role).toEqual({ role: 'slave', linkUp: false })
      expect(await onNode(replica, 'DBSIZE')).toBe(0)
      // Long enough for node-redis to have reconnected to it.
      await delay(1500)
      for (let i = 0; i < 40; i++) {
        const reply = (await c.command(['MGET', ...keys], { readonly: true })) as unknown[]
        expect(reply.map(text)).toEqual(keys)
      }
    } finally {
      await onNode(primary, 'ACL', 'SETUSER', 'default', '+sync', '+psync')
    }
    await testCluster.waitUntilHealthy(30_000)
  }, 90_000)
})

describe('a frozen primary', () => {
  it('is routed around once its replica is promoted, without waiting for it to wake', async () => {
    await testCluster.waitUntilHealthy(30_000)
    const [victim, replica] = await shard(2)
    const key = `frozen:${await tagOn(victim)}`
    await writeAndWait(victim, 'SET', key, 'v0')
    const c = open({ socketTimeout: 0.5 })
    expect(text(await c.command(['GET', key], { key }))).toBe('v0')

    testCluster.pause(victim)
    const errors: unknown[] = []
    let promotedAt: number | undefined
    let servedAt: number | undefined
    const started = performance.now()
    try {
      const promoted = until(
        async () => (await testCluster.role(replica)).role === 'master',
        30_000,
        'the replica was not promoted',
      ).then(() => {
        promotedAt = performance.now()
      })
      for (let i = 1; performance.now() - started < 40_000; i++) {
        const t0 = performance.now()
        try {
          expect(text(await c.command(['SET', key, `v${i}`], { key }))).toBe('OK')
          servedAt = performance.now()
          break
        } catch (error) {
          errors.push(error)
        }
        // Each call settles within its bound: nothing hangs on the frozen node.
        expect(performance.now() - t0).toBeLessThan(500 + 1500)
        await delay(20)
      }
      await promoted
    } finally {
      testCluster.resume(victim)
    }
    expect(servedAt).toBeDefined()
    expect(promotedAt).toBeDefined()
    console.log(
      `frozen primary: replica promoted after ${Math.round((promotedAt as number) - started)} ms, writes served again after ${Math.round((servedAt as number) - started)} ms`,
    )
    // Served by the promoted replica soon after the promotion (the old node never woke).
    expect((servedAt as number) - (promotedAt as number)).toBeLessThan(3000)
    // Before that, once the node was seen not answering, calls failed at once.
    expect(errors.some((e) => e instanceof ConnectionError && /is down/.test(String(e)))).toBe(true)
    expect(text(await onNode(replica, 'GET', key))).toMatch(/^v\d+$/)
    await testCluster.waitUntilHealthy(30_000)
  }, 60_000)
})
