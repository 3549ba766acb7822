// A user's code under `exactOptionalPropertyTypes` (what `tsc --init` turns on), compiled by
// published-types.test.ts with that option: every option whose docs say `undefined` means the
// default takes `undefined`, so a value that may be unset can be forwarded as it is. Each line
// failed with TS2379 or TS2322 while the option was declared `?: X` alone. Not run.
import type {
  CacheGlobals,
  CacheOptions,
  Connection,
  ConnectionFactory,
  ConnectionOptions,
  CreateCacheOptions,
  GetOrSetOptions,
  IncrOptions,
  LocalOptions,
  MoveOptions,
  ScanOptions,
  SetOptions,
  StoreOptions,
  TimeoutOption,
  VersionOption,
} from '../src/index.ts'
import { Cache, configureCaches, createCache, memory } from '../src/index.ts'

/** `T` with every property that may be absent given as `undefined` too: a forwarded value. */
type Forwarded<T> = { [K in keyof T]: T[K] | undefined }

declare const maybeVersion: number | undefined
declare const maybeTimeout: number | null | undefined

export async function forwarded(cache: Cache<false>): Promise<void> {
  // SetOptions.timeout: "`undefined` → the cache's default".
  await cache.set('k', 1, { timeout: maybeTimeout })
  await cache.set('k', 1, { timeout: undefined, nx: undefined, get: undefined })
  await cache.setMany({ a: 1 }, { timeout: undefined })
  await cache.getOrSet('k', 1, { timeout: undefined, waitTimeout: undefined })
  await cache.touch('k', { timeout: undefined })
  await cache.add('k', 1, { timeout: undefined, version: undefined })
  await cache.get('k', null, { version: maybeVersion })
  await cache.incr('n', 1, { version: maybeVersion, as: undefined })
  // password: "a string, or `null` for none".
  createCache({ location: 'memory://', password: null })
  createCache({ location: 'memory://', timeout: undefined, keyPrefix: undefined })
  // An alias's option set to `undefined` leaves the registry default in force.
  configureCaches(
    { default: { location: 'memory://', scanItersize: undefined } },
    {
      ignoreExceptions: undefined,
    },
  )
}

// Every option of these takes `undefined`.
export function every(
  set: Forwarded<SetOptions>,
  timeout: Forwarded<TimeoutOption>,
  version: Forwarded<VersionOption>,
  getOrSet: Forwarded<GetOrSetOptions>,
  scan: Forwarded<ScanOptions>,
  incr: Forwarded<IncrOptions>,
  move: Forwarded<MoveOptions>,
  store: Forwarded<StoreOptions>,
  local: Forwarded<LocalOptions>,
  connection: Forwarded<ConnectionOptions>,
  cache: Forwarded<Omit<CacheOptions<false>, 'connection'>>,
  create: Forwarded<
    Omit<
      CreateCacheOptions<false>,
      'readFromReplicas' | 'clusterOptions' | 'sentinels' | 'sentinelOptions' | 'memoryOptions'
    >
  >,
  globals: Forwarded<CacheGlobals>,
): unknown[] {
  const options: [
    SetOptions,
    TimeoutOption,
    VersionOption,
    GetOrSetOptions,
    ScanOptions,
    IncrOptions,
    MoveOptions,
    StoreOptions,
    LocalOptions,
    ConnectionOptions,
    Omit<CacheOptions<false>, 'connection'>,
    CreateCacheOptions<false>,
    CacheGlobals,
  ] = [
    set,
    timeout,
    version,
    getOrSet,
    scan,
    incr,
    move,
    store,
    local,
    connection,
    cache,
    create,
    globals,
  ]
  return options
}

// docs/extending.md: a wrapper copies the optional members of the connection it wraps.
export function counting(inner: ConnectionFactory): ConnectionFactory {
  return (options) => {
    const connection: Connection = inner(options)
    return {
      routesBySlot: connection.routesBySlot,
      generation: connection.generation,
      command: (args, route) => connection.command(args, route),
      batch: (commands, route) => connection.batch(commands, route),
      scan: (pattern, count) => connection.scan(pattern, count),
      flush: () => connection.flush(),
      client: (o) => connection.client(o),
      close: () => connection.close(),
    }
  }
}

export const made = new Cache({ connection: memory(), version: maybeVersion })
