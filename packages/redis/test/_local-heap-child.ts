// Run by local-tier-heap-bound.test.ts in a process of its own with `--expose-gc`: reads 100,000
// small numbers into a local tier (argv: the Redis URL) and prints one line of JSON: the heap the
// tier's entries took (after a gc) and the bytes `localStats()` counts for them. With `closed`
// after the URL: the heap a cache still holds once closed, after 100,000 sets.
import { createCache } from '@cachex/redis'

const [location, mode] = process.argv.slice(2) as [string, string | undefined]
const gc = (globalThis as { gc?: () => void }).gc as () => void
function heap(): number {
  for (let i = 0; i < 4; i++) gc()
  return process.memoryUsage().heapUsed
}

if (mode !== undefined && mode !== '') {
  // 100,000 sets of a cache with a small tier, then close() (`closed`), or 100,000 sets in flight
  // when close() is called (`closing`), or 100,000 sets after it (`after`): what the closed cache
  // still holds.
  const closing = createCache({ location, keyPrefix: 'c', local: { maxEntries: 100 } })
  await closing.get('warm')
  const heapBefore = heap()
  const sets = (from: number) =>
    Promise.all(
      Array.from({ length: 1000 }, (_, k) => closing.set(`key${from + k}`, 1).catch(() => false)),
    )
  if (mode === 'closing') {
    const all: Promise<unknown>[] = []
    for (let i = 0; i < 100_000; i += 1000) all.push(sets(i))
    await Promise.all([closing.close(), ...all])
  } else {
    if (mode === 'after') await closing.close()
    for (let i = 0; i < 100_000; i += 1000) await sets(i)
    await closing.close()
  }
  console.log(JSON.stringify({ held: heap() - heapBefore }))
  process.exit(0)
}

const cache = createCache({
  location,
  keyPrefix: 'p',
  local: { maxEntries: 1_000_000, maxBytes: 1 << 30 },
})
for (let i = 0; i < 100_000; i += 1000) {
  const items: Record<string, number> = {}
  for (let j = i; j < i + 1000; j++) items[`key${j}`] = j
  await cache.setMany(items, null)
}
await cache.get('warm')
const heapBefore = heap()
const before = cache.localStats() as { entries: number; bytes: number }
for (let i = 0; i < 100_000; i += 1000) {
  await Promise.all(Array.from({ length: 1000 }, (_, k) => cache.get(`key${i + k}`)))
}
const heapAfter = heap()
const after = cache.localStats() as { entries: number; bytes: number }
console.log(
  JSON.stringify({
    entries: after.entries - before.entries,
    heap: heapAfter - heapBefore,
    counted: after.bytes - before.bytes,
  }),
)
await cache.close()
