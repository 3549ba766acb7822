// Run by options-own-properties.test.ts in a process of its own (under _strip-types.mjs): one
// scenario of an app whose Object.prototype another library polluted (prototype pollution, or an
// old polyfill adding enumerable methods), which must not change what cachex does. argv:
// location, scenario. Prints the scenario's outcomes as one line of JSON.
import { createCache } from '@cachex/redis'

const [location, scenario] = process.argv.slice(2) as [string, string]
const proto = Object.prototype as Record<string, unknown>
const out: Record<string, unknown> = {}

/** Records what `fn` resolves, or the error it throws, under `name`. */
async function attempt(name: string, fn: () => unknown): Promise<void> {
  try {
    out[name] = await fn()
  } catch (error) {
    out[name] = `${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 200)}`
  }
}

const scenarios: Record<string, () => Promise<void>> = {
  /** `nx` / `xx` / `get` / `version` inherited by set()'s options object. */
  async setOptions() {
    const cache = createCache({ location, keyPrefix: 'own-set' })
    await cache.set('o', 'a')
    proto.nx = true
    await attempt('nx.set', () => cache.set('o', 'b', { timeout: 60 }))
    await attempt('nx.get', () => cache.get('o'))
    delete proto.nx
    proto.xx = true
    await attempt('xx.set', () => cache.set('f', 'x', { timeout: 60 }))
    await attempt('xx.get', () => cache.get('f'))
    delete proto.xx
    proto.version = 7
    await attempt('version.set', () => cache.set('v', 1, { timeout: 60 }))
    await attempt('version.ttl', () => cache.ttl('v', {}))
    delete proto.version
    await attempt('version.key', () => cache.get('v'))
    await cache.close()
  },
  /** Every `createCache` option inherited: the cache keeps its defaults. */
  async cacheOptions() {
    Object.assign(proto, {
      keyPrefix: 'evil',
      version: 7,
      // Not on a socket: Node's own streams then break (an event named 'timeout' inherited).
      ...(location.startsWith('memory:') ? { timeout: 1 } : {}),
      serializer: 'pickle',
      compressor: 'gzip',
      maxValueSize: 1,
      scanItersize: 0,
      ignoreExceptions: true,
      coalesceReads: 'no',
      keyFunction: () => 'evil',
    })
    const cache = createCache({ location, keyPrefix: 'own-cache' })
    await attempt('makeKey', () => cache.makeKey('k'))
    await attempt('set', () => cache.set('k', 'x'.repeat(100)))
    await attempt('ttl', () => cache.ttl('k'))
    await attempt('get', () => cache.get('k'))
    for (const name of Object.keys(proto)) delete proto[name]
    // A cache made without pollution reads what the first one wrote.
    const other = createCache({ location, keyPrefix: 'own-cache' })
    await attempt('readByDefaults', () => other.get('k'))
    await other.close()
    await cache.close()
  },
  /** An enumerable property of Object.prototype: options objects are still accepted. */
  async optionNames() {
    proto.polyfilled = 1
    const cache = createCache({ location, keyPrefix: 'own-names' })
    await attempt('set', () => cache.set('k', 1, { timeout: 60 }))
    await attempt('ttl', () => cache.ttl('k', { version: 1 }))
    await attempt('getMany', async () =>
      Object.fromEntries(await cache.getMany(['k'], { version: 1 })),
    )
    await attempt('lock', async () => {
      const lock = cache.lock('L', { timeout: 5 })
      const got = await lock.acquire()
      await lock.release()
      return got
    })
    await cache.close()
  },
  /**
   * `timeout` inherited: the default expiry, and a lock or semaphore without a timeout. On
   * memory:// only: Node's own sockets break under it.
   */
  async timeout() {
    const cache = createCache({ location, keyPrefix: 'own-timeout' })
    proto.timeout = 1
    await attempt('set', () => cache.set('k', 1))
    await attempt('ttl', () => cache.ttl('k'))
    await attempt('gos', () => cache.getOrSet('g', async () => 1))
    await attempt('gosTtl', () => cache.ttl('g'))
    const lock = cache.lock('L')
    await attempt('got', () => lock.acquire())
    const semaphore = cache.semaphore('S', { limit: 1 })
    await attempt('semaphoreGot', () => semaphore.acquire())
    await new Promise((resolve) => setTimeout(resolve, 1600))
    await attempt('secondGot', () => cache.lock('L').acquire({ blocking: false }))
    await attempt('secondSemaphoreGot', () =>
      cache.semaphore('S', { limit: 1 }).acquire({ blocking: false }),
    )
    delete proto.timeout
    await lock.release().catch(() => undefined)
    await semaphore.release().catch(() => undefined)
    await cache.close()
  },
  /** An enumerable method (an old polyfill) and an inherited value: objects store as their own. */
  async values() {
    // Written first with Object.prototype clean, so that the writes below run code already
    // compiled for plain objects: a polluted prototype is noticed at each write, not once.
    const warm = createCache({ location, keyPrefix: 'own-warm' })
    for (let i = 0; i < 200; i++) {
      await warm.setMany({ [`k${i % 10}`]: { a: i, b: { c: [i] } }, x: null })
    }
    await warm.close()
    proto.extend = function extend() {}
    proto.big = 2 ** 60
    for (const serializer of ['json', 'msgpack', 'pickle'] as const) {
      const cache = createCache({ location, keyPrefix: `own-${serializer}`, serializer })
      await attempt(`${serializer}.set`, () => cache.set('k', { a: 1, b: { c: [1] } }))
      await attempt(`${serializer}.get`, async () => JSON.stringify(await cache.get('k')))
      // The entries of a setMany are its own: an inherited `extend` or `big` is no key to write.
      await attempt(`${serializer}.setMany`, () => cache.setMany({ m: { a: 2 }, n: [3] }))
      await attempt(`${serializer}.getMany`, async () => {
        const found = await cache.getMany(['m', 'n', 'extend', 'big'])
        return JSON.stringify(Object.fromEntries(found))
      })
      await cache.close()
    }
  },
  /** `get` inherited: property descriptors stay descriptors of a value. */
  async descriptors() {
    proto.get = true
    proto.set = true
    await attempt('create', async () => {
      const cache = createCache({ location, keyPrefix: 'own-descriptors' })
      await cache.set('k', 1)
      const value = await cache.get('k')
      await cache.close()
      return value
    })
    await attempt('error', () => {
      const cache = createCache({ location, keyPrefix: 'own-descriptors' })
      void cache.close()
      return cache.set('k', 1, { bogus: 1 } as never)
    })
  },
}

await (scenarios[scenario] as () => Promise<void>)()
for (const name of Object.keys(proto)) delete proto[name]
process.stdout.write(`${JSON.stringify(out)}\n`)
process.exit(0)
