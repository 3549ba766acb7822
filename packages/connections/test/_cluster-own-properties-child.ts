// Run by cluster-own-properties.test.ts in a process of its own (never in the test worker): the
// cluster factory under an Object.prototype that another library polluted. argv: the seed URLs as
// JSON, the case's name. Prints one line of JSON.
import { cluster } from '../src/index.ts'

const [seeds = '[]', which = ''] = process.argv.slice(2)
const proto = Object.prototype as Record<string, unknown>
const out: Record<string, unknown> = {}

if (which === 'bounds') {
  // Read by cachex alone (node-redis reads its socket options through the prototype itself).
  proto.socketConnectTimeout = -1
  proto.maxInFlightBytes = -1
}
try {
  const connection = cluster({ location: JSON.parse(seeds) as string[] })
  try {
    out.set = String(await connection.command(['SET', 'own:k', 'v']))
    out.get = String(await connection.command(['GET', 'own:k'], { readonly: true }))
  } finally {
    await connection.close()
  }
} catch (error) {
  out.error = `${(error as Error).name}: ${String((error as Error).message).slice(0, 200)}`
}
delete proto.socketConnectTimeout
delete proto.maxInFlightBytes
console.log(JSON.stringify(out))
