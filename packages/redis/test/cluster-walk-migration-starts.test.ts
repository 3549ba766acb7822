// keys(), iterKeys() and deletePattern() while a slot's keys move from a primary the walk has not
// reached yet to one it has walked already (a resharding that starts mid-walk): the keys existed
// the whole walk, yet were in no node's walk. The walk now compares the slots each primary serves
// and migrates before and after it, and walks again the nodes keys may have moved to unseen.
import { keySlot } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { useHoldCluster } from './_hold-proxy.ts'

const env = useHoldCluster(0)

/**
 * A cache with 240 keys, and a tamper that, on the first SCAN reply of the second node walked,
 * moves a tag's slot from a node not walked yet to the first one walked, then lets the reply go.
 */
async function prepare(name: string) {
  // Tags of their own: a tag moved by another test stays on the node it was moved to.
  const TAGS = Array.from({ length: 8 }, (_, i) => `{${name}${i}}`)
  const cache = env.newCache({ keyPrefix: uniquePrefix('wmp'), scanItersize: 10 })
  const filler = Array.from({ length: 200 }, (_, i) => `f${i}`)
  const tagged = TAGS.flatMap((t) => Array.from({ length: 5 }, (_, i) => `${t}${i}`))
  const all = [...filler, ...tagged]
  await cache.setMany(Object.fromEntries(all.map((k) => [k, 1])), null)
  const order: number[] = []
  let movedTag: string | undefined
  env.tamper = async (args, _reply, node) => {
    if (args[0]?.toUpperCase() !== 'SCAN' || order.includes(node)) return undefined
    order.push(node)
    if (order.length !== 2 || movedTag !== undefined) return undefined
    for (const tag of TAGS) {
      const owner = await env.cluster.primaryFor(cache.makeKey(`${tag}0`))
      if (!order.includes(owner.port)) {
        movedTag = tag
        const first = env.cluster.nodes.find((n) => n.port === order[0])
        if (first !== undefined)
          await env.cluster.moveSlot(keySlot(cache.makeKey(`${tag}0`)), first)
        break
      }
    }
    return undefined
  }
  return { cache, all, moved: () => movedTag }
}

it('keys(): every key that existed the whole walk is listed', async () => {
  const { cache, all, moved } = await prepare('keys')
  let listed: string[]
  try {
    listed = await cache.keys('*')
  } finally {
    env.tamper = undefined
  }
  expect(moved()).toBeDefined()
  expect(all.filter((k) => !listed.includes(k))).toEqual([])
  expect(listed.length).toBe(all.length)
}, 60_000)

it('iterKeys(): every key that existed the whole walk is handed out (some maybe twice)', async () => {
  const { cache, all, moved } = await prepare('iter')
  const seen = new Set<string>()
  try {
    for await (const key of cache.iterKeys('*')) seen.add(key)
  } finally {
    env.tamper = undefined
  }
  expect(moved()).toBeDefined()
  expect(all.filter((k) => !seen.has(k))).toEqual([])
}, 60_000)

it('deletePattern(): every key that existed the whole walk is deleted, and counted once', async () => {
  const { cache, all, moved } = await prepare('del')
  let count: number
  try {
    count = await cache.deletePattern('*')
  } finally {
    env.tamper = undefined
  }
  expect(moved()).toBeDefined()
  expect({ count, left: await cache.keys('*') }).toEqual({ count: all.length, left: [] })
}, 60_000)
