// Blocking stream and list calls (xread, xreadgroup, blpop with a block) on a Redis Cluster whose
// slots move under them: a migration that splits their keys between two nodes (TRYAGAIN), a
// reshard that deletes a blocked xreadgroup's stream on the old owner (UNBLOCKED), and close()
// while a dedicated client is still being opened. One cluster for the file, without replicas;
// each test uses keys of its own prefix.
import { type Cache, ClosedError, createCache, keySlot, ResponseError } from '@cachex/redis'
import {
  type ClusterNode,
  delay,
  startCluster,
  type TestCluster,
  timed,
  trackUnhandledRejections,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

let cluster: TestCluster
const caches: Cache[] = []
let unhandled: () => unknown[]

beforeAll(async () => {
  // A long node timeout: the test that freezes a node must not get it failed.
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0, nodeTimeout: 5000 })
}, 90_000)
afterAll(async () => {
  for (const c of caches) await c.close().catch(() => undefined)
  await cluster?.stop()
})
beforeEach(() => {
  unhandled = trackUnhandledRejections()
})
afterEach(async () => {
  await delay(50)
  expect(unhandled()).toEqual([])
})

/**
 * Once a client is blocked on the primary serving `rawKey` (`INFO clients`): a blocking read sent
 * before is then waiting there, so what is written next comes after it. At most 20 s (the dedicated
 * client of a cache opens first, slower on a busy machine than any fixed wait).
 */
async function untilBlockedOn(rawKey: string): Promise<void> {
  const node = await cluster.primaryFor(rawKey)
  const client = createClient({ url: node.url })
  client.on('error', () => undefined)
  await client.connect()
  try {
    for (let i = 0; i < 2000; i++) {
      const info = String(await client.sendCommand(['INFO', 'clients']))
      if (Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? 0) >= 1) return
      await delay(10)
    }
    throw new Error(`no client blocked on the primary of ${rawKey} after 20 s`)
  } finally {
    await client.close()
  }
}

function open(keyPrefix: string, socketTimeout = 2): Cache {
  const c = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix,
    socketTimeout,
  })
  caches.push(c)
  return c
}

/** A primary other than the one that owns `rawKey`. */
async function otherPrimary(rawKey: string): Promise<ClusterNode> {
  const owner = await cluster.primaryFor(rawKey)
  return (await cluster.primaries()).find((p) => p.port !== owner.port) as ClusterNode
}

describe('TRYAGAIN: a blocking call over keys of one slot that a migration split', () => {
  for (const kind of ['xread', 'xreadgroup', 'blpop'] as const) {
    it(`${kind} over {t}a and {t}b, one of them migrated: retried until the move is done, then answered`, async () => {
      const c = open(uniquePrefix(`cbt-${kind}`))
      for (const key of ['{t}a', '{t}b']) {
        await c.xgroupCreate(key, 'g', { mkstream: true })
        await c.rpush(`${key}l`, 'x')
      }
      const id = await c.xadd('{t}b', { n: 1 })
      const rawA = c.makeKey('{t}a')
      const move = await cluster.beginSlotMove(keySlot(rawA), await otherPrimary(rawA))
      // Only {t}a's keys are on the importing node: the old owner answers ASK, the importing
      // node TRYAGAIN (it has some of the keys only), until the rest comes 600 ms later.
      await move.migrate([rawA, c.makeKey('{t}al')])
      const finishing = delay(600).then(async () => {
        await move.migrate()
        await move.finish()
      })
      const r = await timed<unknown>(
        kind === 'xread'
          ? c.xread({ '{t}a': '0', '{t}b': '0' }, { block: 1000 })
          : kind === 'xreadgroup'
            ? c.xreadgroup('g', 'c', { '{t}a': '>', '{t}b': '>' }, { block: 1000 })
            : c.blpop(['{t}al', '{t}bl'], 1),
      )
      await finishing
      expect(r.error).toBeUndefined()
      expect(r.ms).toBeGreaterThan(500)
      if (kind === 'blpop') expect(r.value).toEqual(['{t}al', 'x'])
      else expect(r.value).toEqual([{ key: '{t}b', entries: [{ id, fields: { n: 1 } }] }])
    }, 60_000)
  }

  it('still split after 80 % of socketTimeout: rejects with the TRYAGAIN, not later', async () => {
    const c = open(uniquePrefix('cbt-budget'), 0.5)
    await c.rpush('{u}al', 'x')
    await c.rpush('{u}bl', 'y')
    const rawA = c.makeKey('{u}al')
    const move = await cluster.beginSlotMove(keySlot(rawA), await otherPrimary(rawA))
    await move.migrate([rawA])
    try {
      const r = await timed(c.blpop(['{u}al', '{u}bl'], 5))
      expect(r.error).toBeInstanceOf(ResponseError)
      expect(String(r.error)).toMatch(/TRYAGAIN/)
      // The budget is 400 ms of waits, then the last TRYAGAIN.
      expect(r.ms).toBeGreaterThan(300)
      expect(r.ms).toBeLessThan(2000)
    } finally {
      await move.migrate()
      await move.finish()
    }
  }, 60_000)
})

describe('UNBLOCKED: a blocked xreadgroup whose stream the reshard deleted on the old owner', () => {
  it('the stream only moved: the call goes on blocking on its new owner and gets the entry added after', async () => {
    const prefix = uniquePrefix('cbu-moved')
    const c = open(prefix)
    const other = open(prefix)
    await c.xgroupCreate('s', 'g', { mkstream: true })
    const rawKey = c.makeKey('s')
    const reading = timed(c.xreadgroup('g', 'c', { s: '>' }, { block: 5000 }))
    await untilBlockedOn(rawKey)
    // MIGRATE deletes the key on the old owner: Redis 7 unblocks the reader with an error.
    await cluster.moveSlot(keySlot(rawKey), await otherPrimary(rawKey))
    await untilBlockedOn(rawKey)
    const id = await other.xadd('s', { n: 1 })
    const r = await reading
    expect(r.error).toBeUndefined()
    expect(r.value).toEqual([{ key: 's', entries: [{ id, fields: { n: 1 } }] }])
    // Within the call's block: the read sent again waits only for what is left of it.
    expect(r.ms).toBeLessThan(5000)
  }, 60_000)

  it('the stream only moved and nothing comes: the call resolves empty when its block runs out', async () => {
    const c = open(uniquePrefix('cbu-empty'))
    await c.xgroupCreate('s', 'g', { mkstream: true })
    const rawKey = c.makeKey('s')
    const reading = timed(c.xreadgroup('g', 'c', { s: '>' }, { block: 1500 }))
    await untilBlockedOn(rawKey)
    await cluster.moveSlot(keySlot(rawKey), await otherPrimary(rawKey))
    const r = await reading
    expect(r.error).toBeUndefined()
    expect(r.value).toEqual([])
    expect(r.ms).toBeGreaterThan(1400)
    expect(r.ms).toBeLessThan(2500)
  }, 60_000)

  it('the stream was really deleted: the call fails with the UNBLOCKED error', async () => {
    const prefix = uniquePrefix('cbu-deleted')
    const c = open(prefix)
    const other = open(prefix)
    await c.xgroupCreate('s', 'g', { mkstream: true })
    const reading = timed(c.xreadgroup('g', 'c', { s: '>' }, { block: 5000 }))
    await untilBlockedOn(c.makeKey('s'))
    await other.delete('s')
    const r = await reading
    expect(r.error).toBeInstanceOf(ResponseError)
    expect(String(r.error)).toMatch(/UNBLOCKED/)
    expect(r.ms).toBeLessThan(2000)
  }, 60_000)
})

describe("'$': a blocking xread that a slot move interrupts", () => {
  it('an entry added while the slot moved (after the call started) reaches the call sent again', async () => {
    const prefix = uniquePrefix('cbd')
    const c = open(prefix, 1)
    const other = open(prefix, 1)
    await c.xadd('s', { n: 0 })
    const rawKey = c.makeKey('s')
    const reading = timed(c.xread({ s: '$' }, { block: 30_000 }))
    await untilBlockedOn(rawKey)
    const move = await cluster.beginSlotMove(keySlot(rawKey), await otherPrimary(rawKey))
    await move.migrate([rawKey])
    // On the importing node (ASK): the reader, blocked on the old owner, is not woken.
    const id = await other.xadd('s', { n: 1 })
    // Done: Redis answers the blocked reader MOVED, and cachex sends it again to the new owner.
    await move.finish()
    const r = await reading
    expect(r.error).toBeUndefined()
    expect(r.value).toEqual([{ key: 's', entries: [{ id, fields: { n: 1 } }] }])
  }, 60_000)

  it("'$' still means only what is added after the call started, on a stream missing or empty", async () => {
    const prefix = uniquePrefix('cbd2')
    const c = open(prefix)
    const other = open(prefix)
    await c.xadd('{d}old', { n: 0 })
    const reading = timed(c.xread({ '{d}old': '$', '{d}fresh': '$' }, { block: 3000, count: 10 }))
    await untilBlockedOn(c.makeKey('{d}old'))
    const id = await other.xadd('{d}fresh', { n: 1 })
    const r = await reading
    expect(r.error).toBeUndefined()
    expect(r.value).toEqual([{ key: '{d}fresh', entries: [{ id, fields: { n: 1 } }] }])
  }, 60_000)

  it("a user the ACL refuses XREVRANGE reads '$' as sent, as on one server", async () => {
    const user = ['ACL', 'SETUSER', 'no-xrevrange', 'on', '>pw', '~*', '&*', '+@all', '-xrevrange']
    await Promise.all(
      cluster.nodes.map(async (node) => {
        const client = createClient({ url: node.url })
        await client.connect()
        await client.sendCommand(user)
        await client.close()
      }),
    )
    const prefix = uniquePrefix('cbd3')
    const reader = createCache({
      client: 'cluster',
      location: cluster.seeds.map((url) => url.replace('redis://', 'redis://no-xrevrange:pw@')),
      keyPrefix: prefix,
    })
    caches.push(reader)
    const writer = open(prefix)
    await writer.xadd('{d}s', { n: 0 })
    const reading = timed(reader.xread({ '{d}s': '$' }, { block: 3000 }))
    await untilBlockedOn(reader.makeKey('{d}s'))
    const id = await writer.xadd('{d}s', { n: 1 })
    const r = await reading
    expect(r.error).toBeUndefined()
    expect(r.value).toEqual([{ key: '{d}s', entries: [{ id, fields: { n: 1 } }] }])
  }, 60_000)
})

describe('close() while a blocking call opens its dedicated client on a frozen node', () => {
  for (const kind of ['xreadgroup', 'xread'] as const) {
    it(`${kind}: the call rejects with ClosedError at once, not after socketConnectTimeout`, async () => {
      const c = createCache({
        client: 'cluster',
        location: [...cluster.seeds],
        keyPrefix: uniquePrefix('cbc'),
        socketTimeout: 5,
        socketConnectTimeout: 5,
      })
      await c.xgroupCreate('s', 'g', { mkstream: true })
      const node = await cluster.primaryFor(c.makeKey('s'))
      cluster.pause(node)
      try {
        const call = timed<unknown>(
          kind === 'xread'
            ? c.xread({ s: '$' }, { block: 10_000 })
            : c.xreadgroup('g', 'c', { s: '>' }, { block: 10_000 }),
        )
        await delay(300)
        const closing = await timed(c.close())
        const r = await call
        expect(closing.ms).toBeLessThan(2000)
        expect(r.error).toBeInstanceOf(ClosedError)
        expect(r.ms).toBeLessThan(2000)
      } finally {
        cluster.resume(node)
      }
    }, 30_000)
  }
})
