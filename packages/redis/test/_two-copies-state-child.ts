// Run by two-copies-state.test.ts in a process of its own, on the BUILT packages (no
// `@cachex/source` condition): the ESM build imported and the CommonJS build required, two copies
// of every module in one process (a CommonJS dependency, `next dev`). Prints one line of JSON.
import { createRequire } from 'node:module'
import * as esm from '@cachex/redis'

const cjs = createRequire(import.meta.url)('@cachex/redis') as typeof esm
const out: Record<string, unknown> = { twoCopies: cjs.createCache !== esm.createCache }

/** What `run` gives, or the error's name and message. */
async function attempt(name: string, run: () => unknown): Promise<void> {
  try {
    out[name] = await run()
  } catch (error) {
    out[name] = `${(error as Error).name}: ${String((error as Error).message).slice(0, 150)}`
  }
}

// A named memory store, written through one copy, read through the other, both ways.
const a = esm.createCache({ location: 'memory://two-copies', keyPrefix: 'm' })
const b = cjs.createCache({ location: 'memory://two-copies', keyPrefix: 'm' })
await a.set('x', 1)
await b.set('y', 2)
await attempt('memoryEsmToCjs', () => b.get('x', 'missing'))
await attempt('memoryCjsToEsm', () => a.get('y', 'missing'))
await a.close()
// The store outlives the first copy's connection: the other still uses it.
await attempt('memoryAfterOneClosed', () => b.get('x', 'missing'))
await b.close()
// The last user gone, the store and its data go with it, in either copy.
const c = esm.createCache({ location: 'memory://two-copies', keyPrefix: 'm' })
await attempt('memoryAfterBothClosed', () => c.get('x', 'missing'))
await c.close()

// The configureCaches() registry: configured by one copy, used and closed by the other.
esm.configureCaches({ default: { location: 'memory://registry', keyPrefix: 'r' } })
await attempt('registrySet', () => esm.caches.get().set('y', 2))
await attempt('registryGet', () => cjs.caches.get().get('y', 'missing'))
await attempt('sameCache', () => cjs.caches.get() === esm.caches.get())
await attempt('aliases', () => cjs.caches.aliases())
await attempt('close', () => cjs.caches.close().then(() => 'closed'))
await attempt('afterClose', () => {
  try {
    esm.caches.get()
    return 'opened'
  } catch (error) {
    return (error as Error).name
  }
})
process.stdout.write(`${JSON.stringify(out)}\n`)
process.exit(0)
