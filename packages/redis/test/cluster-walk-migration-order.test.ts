// A slot migration already under way when a walk of the keys starts (MIGRATING on its owner,
// IMPORTING on its target, both primaries of the map), its keys moved while the walk runs. Walked
// in the map's order, the target could come first: keys moved after its walk, before the owner's
// SCAN reached them, were in neither walk, and deletePattern left them. Each migration's source is
// now walked before its target (as a walk pinned to the slot always did).
import { keySlot } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { cmd } from './_cluster-proxies.ts'
import { useHoldCluster } from './_hold-proxy.ts'

const env = useHoldCluster(0)

const TAGS = Array.from({ length: 12 }, (_, i) => `{g${i}}`)

it('deletePattern during a migration under way when it started: every key deleted', async () => {
  const cache = env.newCache({ keyPrefix: uniquePrefix('ip'), scanItersize: 10 })
  const filler = Array.from({ length: 150 }, (_, i) => `f${i}`)
  const tagged = TAGS.flatMap((t) => Array.from({ length: 6 }, (_, i) => `${t}${i}`))
  const all = [...filler, ...tagged]
  await cache.setMany(Object.fromEntries(all.map((k) => [k, 1])), null)
  // The order the walk visits the primaries in while no slot migrates (the map's).
  const order: number[] = []
  env.tamper = (args, _r, node) => {
    if (cmd(args) === 'SCAN' && !order.includes(node)) order.push(node)
    return undefined
  }
  await cache.keys('nothing-*')
  env.tamper = undefined
  expect(order.length).toBe(3)
  const first = env.cluster.nodes.find((n) => n.port === order[0])
  const last = order[2]
  let tag: string | undefined
  for (const t of TAGS) {
    if ((await env.cluster.primaryFor(cache.makeKey(`${t}0`))).port === last) {
      tag = t
      break
    }
  }
  if (first === undefined || tag === undefined) throw new Error('no tag on the last primary')
  // The last primary of the map migrates a slot to the first: under way, one key moved already.
  const move = await env.cluster.beginSlotMove(keySlot(cache.makeKey(`${tag}0`)), first)
  await move.migrate([cache.makeKey(`${tag}0`)])
  let migrated = false
  env.tamper = async (args, _r, node) => {
    if (cmd(args) === 'SCAN' && node === last && !migrated) {
      migrated = true
      await move.migrate() // the rest of the slot's keys, while the walk is on the owner
    }
    return undefined
  }
  let count: number
  try {
    count = await cache.deletePattern('*')
  } finally {
    env.tamper = undefined
    await move.finish()
  }
  expect(migrated).toBe(true)
  expect({ count, left: await cache.keys('*') }).toEqual({ count: all.length, left: [] })
}, 60_000)

it('clear() of a hash-tag prefix (a pinned walk) while its slot keeps migrating: every key deleted', async () => {
  const prefix = `{${uniquePrefix('pin')}}`
  const cache = env.newCache({ keyPrefix: prefix, scanItersize: 5 })
  const names = Array.from({ length: 60 }, (_, i) => `k${i}`)
  await cache.setMany(Object.fromEntries(names.map((k) => [k, 1])), null)
  const rkey = cache.makeKey('k0')
  const owner = await env.cluster.primaryFor(rkey)
  const to = (await env.cluster.primaries()).find((p) => p.port !== owner.port)
  if (to === undefined) throw new Error('one primary only')
  const move = await env.cluster.beginSlotMove(keySlot(rkey), to)
  await move.migrate([rkey])
  let migrated = false
  env.tamper = async (args, _r, node) => {
    if (cmd(args) === 'SCAN' && node === owner.port && !migrated) {
      migrated = true
      await move.migrate()
    }
    return undefined
  }
  try {
    await cache.clear()
  } finally {
    env.tamper = undefined
    await move.finish()
  }
  expect(migrated).toBe(true)
  expect((await cache.getMany(names)).size).toBe(0)
}, 60_000)
