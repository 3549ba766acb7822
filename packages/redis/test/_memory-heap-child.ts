// Run by memory-heap-bound.test.ts in a process of its own with `--expose-gc`: fills a `memory://`
// store with 100,000 small items of one kind (argv: `keys`, `expiring`, `fields`, or `streams` and
// `zsets` of one element each) and prints one line of JSON: the heap the items took (after a gc)
// and the bytes the store counts for them.
import { createCache } from '@cachex/redis'

const kind = process.argv[2]
const gc = (globalThis as { gc?: () => void }).gc as () => void
function heap(): number {
  for (let i = 0; i < 4; i++) gc()
  return process.memoryUsage().heapUsed
}
async function counted(): Promise<number> {
  const info = await cache.connection.command(['INFO', 'memory'], { key: undefined, text: true })
  return Number(/used_memory:(\d+)/.exec(String(info))?.[1])
}

const cache = createCache({
  location: `memory://heap-${process.pid}`,
  memoryOptions: { maxBytes: null },
})
await cache.set('warm', 1)
const heapBefore = heap()
const countedBefore = await counted()
for (let i = 0; i < 100_000; i += 1000) {
  const items: Record<string, number> = {}
  for (let j = i; j < i + 1000; j++) items[`${kind === 'fields' ? 'field' : 'key'}${j}`] = j
  if (kind === 'fields') await cache.hset('h', items)
  else if (kind === 'streams' || kind === 'zsets') {
    const command = (j: number) =>
      kind === 'streams' ? ['XADD', `s${j}`, '*', 'f', '1'] : ['ZADD', `z${j}`, '1', 'm']
    await Promise.all(
      Array.from({ length: 1000 }, (_, k) =>
        cache.connection.command(command(i + k), { key: command(i + k)[1] }),
      ),
    )
  } else await cache.setMany(items, kind === 'expiring' ? 3600 : null)
}
console.log(
  JSON.stringify({ heap: heap() - heapBefore, counted: (await counted()) - countedBefore }),
)
await cache.close()
