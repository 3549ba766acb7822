// Run by cluster-refused-close-exit.test.ts in a process of its own: a cluster cache has written
// to every primary; then one node starts to refuse the handshake (its password changed, cachex's
// clients to it killed). The calls to it must fail at once, and after close() the process must
// end by itself, at once.
import { createCache } from '@cachex/redis'
import { redisCall } from '@cachex/test-utils'

const [optsJson, victim] = process.argv.slice(2) as [string, string]
const cache = createCache({ socketTimeout: 1, socketConnectTimeout: 1, ...JSON.parse(optsJson) })
// Keys over all three primaries.
for (let i = 0; i < 30; i++) await cache.set(`k${i}`, i)
await redisCall(victim, ['CONFIG', 'SET', 'requirepass', 'changed-pw'])
await redisCall(victim.replace('redis://', 'redis://:changed-pw@'), [
  'CLIENT',
  'KILL',
  'TYPE',
  'normal',
  'SKIPME',
  'yes',
])
// node-redis reconnects to the node at once (100 ms), is refused, and would wait 10 s to retry.
await new Promise((resolve) => setTimeout(resolve, 1500))
const failures = new Set<string>()
const started = performance.now()
for (let i = 0; i < 30; i++) {
  await cache.get(`k${i}`).catch((error: Error) => failures.add(`${error.name}: ${error.message}`))
}
const callsMs = Math.round(performance.now() - started)
await cache.close()
process.stdout.write(`${JSON.stringify({ callsMs, failures: [...failures] })}\nclosed\n`)
