// One process of the stampede tests: `concurrency` concurrent distributed getOrSet calls of one
// key, whose factory counts its calls (INCR on `calls`), says "computing" on stdout and takes
// `factoryMs`. Prints the values it got as one JSON line, then exits.
import { createCache } from '@cachex/redis'

const [url, keyPrefix, key, factoryMs, concurrency, lockTimeout] = process.argv.slice(2)
const cache = createCache({ location: url as string, keyPrefix })
const factory = async () => {
  const n = await cache.incr('calls')
  process.stdout.write(`computing ${process.pid}\n`)
  await new Promise((r) => setTimeout(r, Number(factoryMs)))
  return { by: process.pid, n }
}
// Connected and ready; the test starts every process at once with a line on stdin.
await cache.get('warm-up')
process.stdout.write('ready\n')
await new Promise((resolve) => process.stdin.once('data', resolve))
const results = await Promise.all(
  Array.from({ length: Number(concurrency) }, () =>
    cache.getOrSet(key as string, factory, {
      timeout: 300,
      distributed: true,
      waitTimeout: 60,
      lockTimeout: Number(lockTimeout),
    }),
  ),
)
process.stdout.write(`${JSON.stringify(results)}\n`)
await cache.close()
process.stdin.destroy()
