// Blocking commands (`route.blockMs`: BLPOP, BRPOP, BLMOVE…) on a Redis Cluster whose slots move
// under the connection: they run on dedicated clients of the node cachex's map names, and follow
// `MOVED` (a slot moved) and `ASK` (a slot being migrated) as every other command does. One
// cluster for the file, without replicas; each test moves slots of its own hash tags.
import { type Connection, ResponseError } from '@cachex/core'
import {
  type ClusterNode,
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

const text = (reply: unknown): unknown =>
  reply === null ? null : Array.isArray(reply) ? reply.map(text) : String(reply)

/** Runs `args` on one node directly (a standalone connection), as an operator would. */
async function onNode(node: ClusterNode, ...args: string[]): Promise<unknown> {
  const direct = standalone({ location: node.url })
  try {
    return await direct.command(args)
  } finally {
    await direct.close()
  }
}

/** How many `code` error replies (`MOVED`, `ASK`) `node` sent, from `INFO errorstats`. */
async function errors(node: ClusterNode, code: string): Promise<number> {
  const stats = String(await onNode(node, 'INFO', 'errorstats'))
  return Number(new RegExp(`errorstat_${code}:count=(\\d+)`).exec(stats)?.[1] ?? 0)
}

/** A primary other than `node`. */
async function otherPrimary(node: ClusterNode): Promise<ClusterNode> {
  const other = (await testCluster.primaries()).find((n) => n !== node)
  if (other === undefined) throw new Error('no other primary')
  return other
}

/** A blocking call as the cache sends it: the key routes it, `blockMs` bounds it. */
function blocking(c: Connection, args: string[], blockMs = 1000): Promise<unknown> {
  return c.command(args, { key: args[1] as string, blockMs })
}

beforeAll(async () => {
  testCluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  unhandled = trackUnhandledRejections()
})

afterAll(async () => {
  for (const c of opened.splice(0)) await c.close()
  await testCluster?.stop()
  expect(unhandled()).toEqual([])
})

describe('blocking commands while slots move', () => {
  it('follow MOVED: BLPOP, BRPOP and BLMOVE answer the item on the first call after a move', async () => {
    const c = open({ socketTimeout: 2 })
    const [left, right, src, dst] = ['{bm1}:q', '{bm2}:q', '{bm3}:src', '{bm3}:dst']
    for (const key of [left, right, src]) await c.command(['RPUSH', key, 'a', 'b', 'c'])
    // The dedicated clients of the old owners are open and idle: the next calls go there.
    expect(text(await blocking(c, ['BLPOP', left, '1']))).toEqual([left, 'a'])
    expect(text(await blocking(c, ['BRPOP', right, '1']))).toEqual([right, 'c'])
    expect(text(await blocking(c, ['BLMOVE', src, dst, 'LEFT', 'RIGHT', '1']))).toBe('a')

    const owners = await Promise.all([left, right, src].map((k) => testCluster.primaryFor(k)))
    for (const [i, key] of [left, right, src].entries()) {
      const from = owners[i] as ClusterNode
      await testCluster.moveSlot(keySlot(key), await otherPrimary(from))
    }
    const movedBefore = await Promise.all(owners.map((node) => errors(node, 'MOVED')))

    // Sent together, before any refresh of the map: each meets MOVED from the old owner.
    const replies = await Promise.all([
      blocking(c, ['BLPOP', left, '1']),
      blocking(c, ['BRPOP', right, '1']),
      blocking(c, ['BLMOVE', src, dst, 'LEFT', 'RIGHT', '1']),
    ])
    expect(replies.map(text)).toEqual([[left, 'b'], [right, 'b'], 'b'])
    const movedAfter = await Promise.all(owners.map((node) => errors(node, 'MOVED')))
    for (const [i, count] of movedAfter.entries()) {
      expect(count, 'the old owner answered MOVED').toBeGreaterThan(movedBefore[i] as number)
    }
    expect(text(await c.command(['LRANGE', dst, '0', '-1'], { key: dst }))).toEqual(['a', 'b'])
  })

  it('follow ASK: BLPOP of a key already migrated answers the item, on every call', async () => {
    const c = open({ socketTimeout: 2 })
    const key = '{ba}:q'
    await c.command(['RPUSH', key, 'a', 'b', 'c'])
    expect(text(await blocking(c, ['BLPOP', key, '1']))).toEqual([key, 'a'])
    const from = await testCluster.primaryFor(key)
    const move = await testCluster.beginSlotMove(keySlot(key), await otherPrimary(from))
    try {
      await move.migrate([key])
      // The key lives on the importing node now: its owner answers ASK.
      await expect(onNode(from, 'LLEN', key)).rejects.toThrow(/^ASK /)
      const askedBefore = await errors(from, 'ASK')

      expect(text(await blocking(c, ['BLPOP', key, '1']))).toEqual([key, 'b'])
      // The slot map did not change: the next call meets ASK too, and follows it too.
      expect(text(await blocking(c, ['BLPOP', key, '1']))).toEqual([key, 'c'])
      expect(await errors(from, 'ASK')).toBe(askedBefore + 2)
      // Popped on the importing node: the list is empty there now.
      expect(await c.command(['LLEN', key], { key })).toBe(0)
    } finally {
      await move.migrate()
      await move.finish()
    }
  })

  it('still waits out its block on an empty list after a move, and answers null', async () => {
    const c = open({ socketTimeout: 2 })
    const key = '{be}:q'
    expect(await blocking(c, ['BLPOP', key, '0.2'], 200)).toBeNull()
    const from = await testCluster.primaryFor(key)
    await testCluster.moveSlot(keySlot(key), await otherPrimary(from))

    const started = performance.now()
    expect(await blocking(c, ['BLPOP', key, '1'])).toBeNull()
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(900)
    // Well within its bound (socketTimeout + blockMs), even on a busy machine.
    expect(elapsed).toBeLessThan(1000 + 2000)
  })

  it('a block whose slot moves midway (MOVED to the blocked client) waits again and answers null', async () => {
    const c = open({ socketTimeout: 0.5 })
    const key = '{bm}:q'
    expect(await blocking(c, ['BLPOP', key, '0.2'], 200)).toBeNull()
    const from = await testCluster.primaryFor(key)
    const to = await otherPrimary(from)
    const started = performance.now()
    const call = blocking(c, ['BLPOP', key, '3'], 3000)
    // Well into the block, past socketTimeout: the slot moves, Redis answers MOVED.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await testCluster.moveSlot(keySlot(key), to)
    expect(await call).toBeNull()
    expect(performance.now() - started).toBeGreaterThanOrEqual(1500)
  })

  it('follows at most maxCommandRedirections redirects, then rejects with the server’s error', async () => {
    const c = open({ socketTimeout: 2, clusterOptions: { maxCommandRedirections: 3 } })
    const key = '{bl}:q'
    await c.command(['RPUSH', key, 'a'])
    const from = await testCluster.primaryFor(key)
    const move = await testCluster.beginSlotMove(keySlot(key), await otherPrimary(from))
    try {
      await move.migrate([key])
      // A migration half undone: the owner sends the key to the other node (ASK), which no
      // longer imports the slot and sends it back (MOVED) — a loop only the bound ends.
      await onNode(move.to, 'CLUSTER', 'SETSLOT', String(move.slot), 'STABLE')
      const [asked, moved] = [await errors(from, 'ASK'), await errors(move.to, 'MOVED')]

      const started = performance.now()
      const error = await blocking(c, ['BLPOP', key, '1']).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ResponseError)
      expect((error as Error).message).toMatch(/^(ASK|MOVED) /)
      expect(performance.now() - started).toBeLessThan(5000) // nothing blocks: each send is answered at once
      // Sent 4 times: to the owner (ASK), the other node (MOVED), the owner (ASK), the other
      // node (MOVED): 3 redirects followed, the 4th refused.
      expect(await errors(from, 'ASK')).toBe(asked + 2)
      expect(await errors(move.to, 'MOVED')).toBe(moved + 2)
    } finally {
      await onNode(move.to, 'CLUSTER', 'SETSLOT', String(move.slot), 'IMPORTING', from.id)
      await move.migrate()
      await move.finish()
    }
  })
})
