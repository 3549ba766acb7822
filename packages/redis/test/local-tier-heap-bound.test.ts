// The local tier's `maxBytes` bounds about the heap its entries take: each entry is counted with
// its bookkeeping (the map slot, the entry, the key, the eviction policy's node). Counted as 96
// bytes, 100,000 small numbers took 1.5–1.8× their count of heap. Measured in a child process (see
// _local-heap-child.ts), after a gc.
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { childJsonLine } from './helpers.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
  await server?.stop()
})

it('a local tier of 100,000 small numbers counts about the heap they take', async () => {
  const line = await childJsonLine('./_local-heap-child.ts', [server.url])
  const { entries, heap, counted } = JSON.parse(line) as {
    entries: number
    heap: number
    counted: number
  }
  expect(entries).toBeGreaterThan(90_000)
  // Measured: 0.81–0.83× (with 96 bytes of bookkeeping counted an entry: 1.46–1.77×).
  expect(heap / counted).toBeLessThan(1.2)
  expect(heap / counted).toBeGreaterThan(0.5)
})

it.each([
  ['after 100,000 sets', 'closed'],
  ['closed under 100,000 sets in flight', 'closing'],
  ['given 100,000 sets after close()', 'after'],
])('a closed cache holds nothing of the keys it wrote lately: %s', async (_, mode) => {
  // The keys written in the last 2 s (read-your-writes over replicas), up to 100,000: 12-16 MB
  // were held until the closed cache itself was dropped.
  const line = await childJsonLine('./_local-heap-child.ts', [server.url, mode])
  const { held } = JSON.parse(line) as { held: number }
  expect(held).toBeLessThan(4_000_000)
})
