// The libraries `pnpm bench:peers` measures, each behind the same small interface. Each is loaded
// only in the child process that measures it (bench/_peers-child.ts), so that no library shares an
// event loop, a heap or a JIT with another.
//
// Values are handed over as JavaScript objects; each library stores them its own way (cachex JSON,
// Keyv and cache-manager their JSON envelope with an expiry, bentocache its envelope, unstorage
// JSON). The raw clients do what a careful user writes by hand: JSON.stringify / JSON.parse.

/** The names of the rows, in the order they are printed. */
export const LIBRARIES = [
  'raw node-redis (timeout 0)',
  'raw node-redis (defaults)',
  'cachex',
  'cachex (timeout: null)',
  'ioredis',
  'ioredis (auto-pipelining)',
  'Keyv + @keyv/redis',
  'cache-manager 7 (@keyv/redis)',
  'bentocache (Redis only)',
  'unstorage (redis driver)',
  'cachex, local tier',
  'bentocache, memory + Redis',
  'cache-manager 7, memory + Redis',
] as const
/** One row of the table. */
export type Library = (typeof LIBRARIES)[number]

/** Rows whose reads can be answered from process memory: compared with one another only. */
export const MEMORY_TIERS: readonly Library[] = [
  'cachex, local tier',
  'bentocache, memory + Redis',
  'cache-manager 7, memory + Redis',
]

/** What every library offers the workloads; an absent method is a workload it does not have. */
export interface Adapter {
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<unknown>
  /** Reads `keys` in one call; `found` counts the results that satisfy `ok`. */
  getMany?(keys: string[]): Promise<unknown>
  /** How many results of `getMany(keys)` satisfy `ok`. */
  found?(result: unknown, keys: string[], ok: (value: unknown) => boolean): number
  setMany?(entries: [string, unknown][]): Promise<unknown>
  /** Adds 1 to a stored integer and resolves the new value. */
  incr?(key: string): Promise<unknown>
  close(): Promise<void>
}

const parse = (text: string | null | undefined) =>
  text === null || text === undefined ? undefined : JSON.parse(text)

function arrayFound(result: unknown, _keys: string[], ok: (value: unknown) => boolean): number {
  let n = 0
  for (const value of result as unknown[]) if (ok(value)) n++
  return n
}

/** Connects `library` to the server at `url` (keys under a prefix of its own). */
export async function connect(library: Library, url: string): Promise<Adapter> {
  const { hostname: host, port: portText } = new URL(url)
  const port = Number(portText)
  switch (library) {
    case 'raw node-redis (timeout 0)':
    case 'raw node-redis (defaults)': {
      const { createClient } = await import('@redis/client')
      const client =
        library === 'raw node-redis (defaults)'
          ? createClient({ url })
          : createClient({ url, commandOptions: { timeout: 0 } })
      client.on('error', () => {})
      await client.connect()
      const p = library === 'raw node-redis (defaults)' ? 'pn:' : 'pr:'
      return {
        get: (key) => client.get(p + key).then((r) => parse(r as string | null)),
        set: (key, value) => client.set(p + key, JSON.stringify(value)),
        getMany: (keys) =>
          client.mGet(keys.map((k) => p + k)).then((r) => r.map((x) => parse(x as string | null))),
        found: arrayFound,
        setMany: (entries) =>
          client.mSet(entries.map(([k, v]) => [p + k, JSON.stringify(v)] as [string, string])),
        incr: (key) => client.incr(p + key),
        close: async () => client.destroy(),
      }
    }
    case 'cachex':
    case 'cachex (timeout: null)':
    case 'cachex, local tier': {
      const { createCache } = await import('@cachex/redis')
      const local = library === 'cachex, local tier'
      // `timeout: null`: values stored with no expiry, as the raw clients and ioredis store them
      // (cachex's default is 300 s, Django's).
      const cache = local
        ? createCache({ location: url, keyPrefix: 'pl', local: {} })
        : library === 'cachex'
          ? createCache({ location: url, keyPrefix: 'px' })
          : createCache({ location: url, keyPrefix: 'pz', timeout: null })
      if (local) {
        // The tier serves hits once CLIENT TRACKING is on.
        await cache.get('warm-up')
        for (let i = 0; i < 1_000 && cache.localStats()?.tracking !== true; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10))
        }
      }
      return {
        get: (key) => cache.get(key),
        set: (key, value) => cache.set(key, value),
        getMany: (keys) => cache.getMany(keys),
        found: (result, keys, ok) => {
          const map = result as Map<string, unknown>
          let n = 0
          for (const key of keys) if (ok(map.get(key))) n++
          return n
        },
        setMany: (entries) => cache.setMany(new Map(entries)),
        incr: (key) => cache.incr(key),
        close: () => cache.close(),
      }
    }
    case 'ioredis':
    case 'ioredis (auto-pipelining)': {
      const { Redis } = await import('ioredis')
      const auto = library === 'ioredis (auto-pipelining)'
      const client = new Redis({ host, port, enableAutoPipelining: auto, lazyConnect: true })
      client.on('error', () => {})
      await client.connect()
      const p = auto ? 'pa:' : 'pi:'
      return {
        get: (key) => client.get(p + key).then(parse),
        set: (key, value) => client.set(p + key, JSON.stringify(value)),
        getMany: (keys) => client.mget(keys.map((k) => p + k)).then((r) => r.map(parse)),
        found: arrayFound,
        setMany: (entries) => client.mset(entries.flatMap(([k, v]) => [p + k, JSON.stringify(v)])),
        incr: (key) => client.incr(p + key),
        close: async () => {
          client.disconnect()
        },
      }
    }
    case 'Keyv + @keyv/redis': {
      const { default: KeyvRedis } = await import('@keyv/redis')
      const { Keyv } = await import('keyv')
      const keyv = new Keyv({ store: new KeyvRedis(url), namespace: 'pk' })
      keyv.on('error', () => {})
      return {
        get: (key) => keyv.get(key),
        set: (key, value) => keyv.set(key, value),
        getMany: (keys) => keyv.getMany(keys),
        found: arrayFound,
        setMany: (entries) => keyv.setMany(entries.map(([key, value]) => ({ key, value }))),
        close: () => keyv.disconnect(),
      }
    }
    case 'cache-manager 7 (@keyv/redis)':
    case 'cache-manager 7, memory + Redis': {
      const { default: KeyvRedis } = await import('@keyv/redis')
      const { Keyv } = await import('keyv')
      const { createCache } = await import('cache-manager')
      const memory = library === 'cache-manager 7, memory + Redis'
      const redis = new Keyv({ store: new KeyvRedis(url), namespace: memory ? 'pm' : 'pc' })
      const stores = memory ? [new Keyv(), redis] : [redis]
      const manager = createCache({ stores })
      return {
        get: (key) => manager.get(key),
        set: (key, value) => manager.set(key, value),
        getMany: (keys) => manager.mget(keys),
        found: arrayFound,
        setMany: (entries) => manager.mset(entries.map(([key, value]) => ({ key, value }))),
        close: () => manager.disconnect(),
      }
    }
    case 'bentocache (Redis only)':
    case 'bentocache, memory + Redis': {
      const { BentoCache, bentostore } = await import('bentocache')
      const { memoryDriver } = await import('bentocache/drivers/memory')
      const { redisDriver } = await import('bentocache/drivers/redis')
      const memory = library === 'bentocache, memory + Redis'
      const l2 = redisDriver({ connection: { host, port } })
      const store = memory
        ? bentostore()
            .useL1Layer(memoryDriver({ maxSize: '100mb' }))
            .useL2Layer(l2)
        : bentostore().useL2Layer(l2)
      const bento = new BentoCache({
        default: 'cache',
        prefix: memory ? 'pbm' : 'pb',
        stores: { cache: store },
      })
      return {
        get: (key) => bento.get({ key }),
        set: (key, value) => bento.set({ key, value }),
        close: () => bento.disconnect(),
      }
    }
    case 'unstorage (redis driver)': {
      const { createStorage } = await import('unstorage')
      const { default: redisDriver } = await import('unstorage/drivers/redis')
      const storage = createStorage({ driver: redisDriver({ host, port, base: 'pu' }) })
      return {
        get: (key) => storage.getItem(key),
        set: (key, value) => storage.setItem(key, value as never),
        getMany: (keys) => storage.getItems(keys),
        found: (result, _keys, ok) => {
          let n = 0
          for (const item of result as { value: unknown }[]) if (ok(item.value)) n++
          return n
        },
        setMany: (entries) =>
          storage.setItems(entries.map(([key, value]) => ({ key, value: value as never }))),
        close: () => storage.dispose(),
      }
    }
  }
}
