// The memory page with keys of long names: a key without `:` is its own group, and the groups
// were named by the whole key — 20 keys of 1 MiB names answered 15.7 MB of JSON (probe W) (each name then in
// an SVG title), and the sample kept up to 10,000 names of any length while it sized them, 200 at
// a time in one go (200 MiB of commands for names of 1 MiB). It now holds 4 Mi characters of
// names at most, sized 256 KiB of names at a time (a longer one alone).
import { type Cache, createCache } from '@cachex/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AdminServer,
  BACKENDS,
  backendServer,
  Client,
  closeAll,
  startAdmin,
  TOKEN,
} from './helpers.ts'

describe.each(BACKENDS)('the memory page with long key names (%s)', (backend) => {
  let stop: () => Promise<void>
  let huge: Cache
  let long: Cache
  let admin: AdminServer

  beforeAll(async () => {
    const server = await backendServer(backend)
    stop = server.stop
    huge = createCache({ location: server.url, keyPrefix: 'huge' })
    long = createCache({ location: server.url, keyPrefix: 'long' })
    admin = await startAdmin({ caches: { huge, long }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(huge, long)
    await stop?.()
  })

  it('samples names of 4 Mi characters at most, and answers in bounds', async () => {
    // 12 names of 1 MiB without a colon, each its own group.
    const mib = 1024 * 1024
    for (let i = 0; i < 12; i++)
      await huge.set(`${String(i).padStart(2, '0')}${'x'.repeat(mib)}`, i)
    const answer = await new Client(admin.url, TOKEN).get('api/caches/huge/memory')
    expect(answer.status).toBe(200)
    expect(answer.text.length).toBeLessThan(64 * 1024)
    const view = answer.json as { sampled: number; groups: Array<{ prefix: string; keys: number }> }
    expect(view.sampled).toBe(4)
    for (const group of view.groups) expect(group.prefix.length).toBe(1025)
  })

  it('names each group by at most 1,024 characters of its prefix', async () => {
    await long.set(`${'y'.repeat(2000)}a`, 1)
    await long.set(`${'y'.repeat(2000)}b`, 2)
    await long.set(`${'z'.repeat(1023)}`, 3)
    await long.set('user:1', 'short')
    const answer = await new Client(admin.url, TOKEN).get('api/caches/long/memory')
    expect(answer.status).toBe(200)
    const groups = (answer.json as { groups: Array<{ prefix: string; keys: number }> }).groups
    expect(
      groups.map((group) => [group.prefix.slice(0, 1) + group.prefix.length, group.keys]).sort(),
    ).toEqual([
      ['u5', 1],
      ['y1025', 2],
      ['z1023', 1],
    ])
    expect(groups.find((group) => group.prefix.startsWith('y'))?.prefix).toBe(
      `${'y'.repeat(1024)}…`,
    )
  })
})
