// The admin's dry-run count (and delete job) when a migrating slot's keys move while the job walks
// its source: the cluster walk yields each key once, so each is counted once.
import { keySlot } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, expect, it } from 'vitest'
import {
  type AdminServer,
  Client,
  startAdmin,
  TOKEN,
  waitForJob,
} from '../../admin/test/helpers.ts'
import { cmd } from './_cluster-proxies.ts'
import { useHoldCluster } from './_hold-proxy.ts'

const env = useHoldCluster(0)
const admins: AdminServer[] = []
afterAll(async () => {
  for (const a of admins) await a.close().catch(() => undefined)
})

for (const dryRun of [true, false]) {
  it(`${dryRun ? 'dry-run count' : 'delete job'} while the slot's keys move mid-walk: each key counted once`, async () => {
    const cache = env.newCache({ keyPrefix: uniquePrefix('acm') })
    const tagged = Array.from({ length: 40 }, (_, i) => `{t}k${i}`)
    const filler = Array.from({ length: 60 }, (_, i) => `f${i}`)
    const all = [...tagged, ...filler]
    await cache.setMany(Object.fromEntries(all.map((k) => [k, 1])), null)
    const rkey = cache.makeKey(tagged[0] as string)
    const owner = await env.cluster.primaryFor(rkey)
    const to = (await env.cluster.primaries()).find((p) => p.port !== owner.port)
    if (to === undefined) throw new Error('one primary')
    const move = await env.cluster.beginSlotMove(keySlot(rkey), to)
    await move.migrate([rkey])
    const admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
    admins.push(admin)
    const client = new Client(admin.url, TOKEN)
    let migrated = false
    env.tamper = async (args, _r, node) => {
      if (cmd(args) === 'SCAN' && node === owner.port && !migrated) {
        migrated = true
        await move.migrate()
      }
      return undefined
    }
    let job: { matched: number; deleted: number; state: string }
    try {
      const started = await client.request('POST', 'api/caches/default/delete-pattern', {
        pattern: '*',
        dryRun,
      })
      job = await waitForJob(client, started.json.id)
    } finally {
      env.tamper = undefined
      await move.finish()
    }
    expect(migrated).toBe(true)
    expect({ state: job.state, matched: job.matched, deleted: job.deleted }).toEqual({
      state: 'done',
      matched: all.length,
      deleted: dryRun ? 0 : all.length,
    })
  }, 90_000)
}
