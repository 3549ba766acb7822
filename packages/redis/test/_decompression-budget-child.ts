// Run by decompression-budget.test.ts in a process with a small heap (384 MB): reads, in one call
// each, a list, a hash and 64 keys whose every value is a small zlib value that decompresses to
// maxValueSize (8 MiB), 512 MiB in all. Each call must reject (the per-call decompression budget)
// and the process live on and read the same values one at a time.
import { createCache } from '@cachex/redis'

const [url, prefix] = process.argv.slice(2) as [string, string]
const cache = createCache({
  location: url,
  keyPrefix: prefix,
  compressor: 'zlib',
  maxValueSize: 8 * 1024 * 1024,
})
const keys = Array.from({ length: 64 }, (_, i) => `k${i}`)

function outcome(call: Promise<unknown>): Promise<string> {
  return call.then(
    (value) =>
      `read ${Array.isArray(value) ? value.length : value instanceof Map ? value.size : typeof value}`,
    (error: Error) => `rejected ${error.constructor.name}: ${error.message}`,
  )
}

for (const [name, call] of [
  ['lrange', () => cache.lrange('list', 0, -1)],
  ['getMany', () => cache.getMany(keys)],
  ['hgetall', () => cache.hgetall('hash')],
] as const) {
  process.stdout.write(`${name}: ${await outcome(call())}\n`)
}
// One value at a time is within maxValueSize: each reads.
const one = (await cache.get('k63')) as string
const item = (await cache.lindex('list', 63)) as string
process.stdout.write(`get: ${one.length} lindex: ${item.length}\n`)
await cache.close()
process.stdout.write('done\n')
