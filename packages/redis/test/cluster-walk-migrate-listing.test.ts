// The admin's key listing over a cluster while a slot migrates between its pages: the cluster walk
// yields each key once, though a key moved between the source's scan and the target's is on both.
import { type Cache, createCache, keySlot } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AdminServer, Client, startAdmin, TOKEN } from '../../admin/test/helpers.ts'

const PASSWORD = 'S3cretPw-walk-dupes'
let cluster: TestCluster
const opened: Cache[] = []
const admins: AdminServer[] = []

beforeAll(async () => {
  cluster = await startCluster({
    primaries: 3,
    replicasPerPrimary: 0,
    nodeTimeout: 60_000,
    password: PASSWORD,
  })
}, 120_000)
afterAll(async () => {
  for (const a of admins) await a.close().catch(() => undefined)
  for (const c of opened) await c.close().catch(() => undefined)
  await cluster?.stop()
}, 60_000)

function open(prefix: string, extra: Record<string, unknown> = {}): Cache {
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix(prefix),
    socketTimeout: 3,
    ...extra,
  } as never)
  opened.push(cache)
  return cache
}

async function adminOf(cache: Cache): Promise<Client> {
  const admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  admins.push(admin)
  return new Client(admin.url, TOKEN)
}

/** A tag whose slot is on some primary, a target primary, and the slot move begun with 1 key moved. */
async function halfMove(cache: Cache, names: string[]) {
  const rkey = cache.makeKey(names[0] as string)
  const owner = await cluster.primaryFor(rkey)
  const to = (await cluster.primaries()).find((p) => p.port !== owner.port)
  if (to === undefined) throw new Error('no target')
  const move = await cluster.beginSlotMove(keySlot(rkey), to)
  await move.migrate([rkey])
  return move
}

it('admin listing while a slot migrates between pages: each key listed once', async () => {
  const cache = open('aml')
  const tagged = Array.from({ length: 40 }, (_, i) => `{t}k${i}`)
  const filler = Array.from({ length: 60 }, (_, i) => `f${i}`)
  const all = [...tagged, ...filler]
  await cache.setMany(Object.fromEntries(all.map((k) => [k, 1])), null)
  const move = await halfMove(cache, tagged)
  const client = await adminOf(cache)
  const seen: string[] = []
  let cursor: string | null | undefined
  let migrated = false
  let last: unknown
  try {
    do {
      const q = new URLSearchParams({ pattern: '*', count: '3' })
      if (cursor) q.set('cursor', cursor)
      const page = await client.get(`api/caches/default/keys?${q}`)
      last = { status: page.status, json: page.json }
      if (page.status !== 200) break
      const keys = page.json.keys.map((k: { key: string }) => k.key) as string[]
      seen.push(...keys)
      cursor = page.json.cursor
      if (!migrated && keys.some((k) => k.startsWith('{t}') && k !== tagged[0])) {
        migrated = true
        await move.migrate() // the rest of the slot, mid-listing
      }
    } while (cursor !== null)
  } finally {
    await move.migrate()
    await move.finish()
  }
  const dupes = seen.filter((k, i) => seen.indexOf(k) !== i)
  expect({ last, migrated, dupes, missing: all.filter((k) => !seen.includes(k)) }).toMatchObject({
    migrated: true,
    dupes: [],
    missing: [],
  })
}, 120_000)
