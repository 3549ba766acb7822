// Read-your-writes with a local tier over replicas, for a write still in flight: a read called
// right after a write of this process (same tick, the write not awaited) went to a replica and
// returned the value before the write — the key was noted as written only once the write had
// settled. Reads of a key this process writes go to the primary from the moment the write is
// called (docs/local-tier.md), as on one server, where the read is answered after the write.

import { type ReplicaSet, startReplicaSet, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type Cache, createCache } from '../src/index.ts'

let set: ReplicaSet
let raw: ReturnType<typeof createClient>
let cache: Cache

beforeAll(async () => {
  set = await startReplicaSet({ replicas: 2 })
  raw = createClient({ url: set.primary.url })
  raw.on('error', () => undefined)
  await raw.connect()
  cache = createCache({
    location: [...set.urls],
    keyPrefix: uniquePrefix('ryw-in-flight'),
    local: { maxEntries: 100 },
  })
  await cache.get('warm')
}, 120_000)

afterAll(async () => {
  await cache?.close()
  await raw?.close().catch(() => undefined)
  await set?.stop()
}, 60_000)

/** `key` holds `value` on the primary and on both replicas, written by another client. */
async function seeded(key: string, value: string): Promise<void> {
  await raw.sendCommand(['SET', cache.makeKey(key), value])
  await raw.sendCommand(['WAIT', '2', '5000'])
}

it('a read called right after a write of this process sees the write (20 fresh keys each)', async () => {
  const wrong: string[] = []
  for (let i = 0; i < 20; i++) {
    await seeded(`s${i}`, '5')
    const stored = cache.set(`s${i}`, 6)
    const read = await cache.get(`s${i}`)
    await stored
    if (read !== 6) wrong.push(`set then get s${i}: ${JSON.stringify(read)}`)

    await seeded(`d${i}`, '5')
    const deleted = cache.delete(`d${i}`)
    const exists = await cache.hasKey(`d${i}`)
    await deleted
    if (exists) wrong.push(`delete then hasKey d${i}: true`)

    await seeded(`i${i}`, '5')
    const counted = cache.incr(`i${i}`)
    const after = await cache.get(`i${i}`)
    await counted
    if (after !== 6) wrong.push(`incr then get i${i}: ${JSON.stringify(after)}`)

    await seeded(`m${i}`, '5')
    const many = cache.setMany({ [`m${i}`]: 6 })
    const got = await cache.getMany([`m${i}`])
    await many
    if (got.get(`m${i}`) !== 6) wrong.push(`setMany then getMany m${i}: ${got.get(`m${i}`)}`)
  }
  expect(wrong).toEqual([])
}, 120_000)
