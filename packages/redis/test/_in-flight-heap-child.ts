// Run by in-flight-heap.test.ts in a process of its own, with a small heap and `--expose-gc`: gets
// issued 5,000 a tick against a paused server until the first `BackpressureError`. argv: location,
// `on` or `off` (coalesceReads, gets), `set` (sets of one tick, gathered), `hot` (gets of one key:
// one `GET` answering them all) or `incr` (incrs over 1,000 keys, gathered). Prints one line of
// JSON: how many calls were issued, how many were in flight when the first was refused, and how
// much the heap grew (after a gc).
import { BackpressureError } from '@cachex/core'
import { createCache } from '@cachex/redis'
import { redisCall } from '@cachex/test-utils'

const [location, mode] = process.argv.slice(2) as [string, string]
const gc = (globalThis as { gc?: () => void }).gc as () => void
const tick = () => new Promise((resolve) => setImmediate(resolve))
const cache = createCache({ location, socketTimeout: 60, coalesceReads: mode !== 'off' })
const calls: Record<string, (n: number) => Promise<unknown>> = {
  set: (n) => cache.set(`k${n}`, 'v'),
  hot: () => cache.get('hot'),
  incr: (n) => cache.incr(`n${n % 1000}`),
  getmany: () => cache.getMany(['hot', 'hot2']),
}
const call = calls[mode] ?? ((n: number) => cache.get(`k${n}`))
// getManys of one key list share one MGET: 100,000 of them in one tick, which, shared without
// bound, were one MGET past the cap, let through on the idle connection.
const perTick = mode === 'getmany' ? 100_000 : 5000
await cache.get('warm')
if (mode === 'hot') await cache.set('hot', 1)
if (mode === 'incr') {
  await cache.setMany(
    Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`n${i}`, 0])),
    null,
  )
}
// Sets: until the cache knows it may run scripts, the sets of a tick go as a pipeline of SETs;
// after, as one script (or MSET) answering them all, the path whose callers must each count.
// Incrs likewise: gathered into one script per tick once scripts are known to run.
for (let i = 0; i < 3 && (mode === 'set' || mode === 'incr'); i++) {
  if (mode === 'incr') await Promise.all([cache.incr('n1'), cache.incr('n2'), cache.incr('n3')])
  else await Promise.all([cache.set('w1', 1), cache.set('w2', 2), cache.set('w3', 3)])
  await new Promise((resolve) => setTimeout(resolve, 50))
}
for (let i = 0; i < 3; i++) {
  gc()
  await tick()
}
const baseline = process.memoryUsage().heapUsed
await redisCall(location, ['CLIENT', 'PAUSE', '60000', 'ALL'])
let refused = -1
let other = ''
let issued = 0
const started = performance.now()
while (refused < 0 && other === '' && performance.now() - started < 30_000) {
  for (let j = 0; j < perTick; j++, issued++) {
    const n = issued
    call(n).catch((error: unknown) => {
      if (error instanceof BackpressureError) {
        if (refused < 0) refused = n
      } else if (other === '') {
        other = String(error)
      }
    })
  }
  await tick()
}
gc()
const grownMB = Math.round((process.memoryUsage().heapUsed - baseline) / 2 ** 20)
console.log(JSON.stringify({ issued, refused, other, grownMB }))
process.exit(0)
