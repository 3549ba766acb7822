// The caches the admin shows: a plain object of caches, or a registry (`caches` of
// @cachex/redis). Each cache is looked up by alias per request, so aliases configured after the
// handler was created show up too; its hit-rate ring starts with the first look.
import type { Cache, Connection } from '@cachex/core'
import { InvalidArgumentError } from '@cachex/core'
import { type CacheInternals, cacheInternals } from '@cachex/core/internal'
import { clusterAddress } from './_cluster-info.ts'
import { HitRing } from './_hits.ts'
import { HttpError } from './_http.ts'
import type { AdminCacheRegistry, AdminCaches } from './options.ts'

/** One cache, with what the admin keeps of it. */
export interface AdminCache {
  alias: string
  cache: Cache
  internals: CacheInternals
  hits: HitRing
  /** `MEMORY USAGE` works (false after Redis refused it: an old server, an ACL). */
  memoryUsage: boolean
  /** The question under way of where it is, `host:port/db` (no user, no password): `addressOf`. */
  address: Promise<string | null> | undefined
}

function isRegistry(caches: AdminCaches): caches is AdminCacheRegistry {
  const registry = caches as Partial<AdminCacheRegistry>
  return typeof registry.get === 'function' && typeof registry.aliases === 'function'
}

function isCache(value: unknown): value is Cache {
  const cache = value as Partial<Cache> | null
  return (
    typeof cache === 'object' &&
    cache !== null &&
    typeof cache.makeKey === 'function' &&
    typeof cache.makePattern === 'function' &&
    typeof cache.connection === 'object'
  )
}

/** The caches of one handler. */
export class CacheSet {
  readonly #caches: AdminCaches
  readonly #known = new Map<string, AdminCache>()

  constructor(caches: unknown) {
    if (typeof caches !== 'object' || caches === null) {
      throw new InvalidArgumentError(
        'createAdminHandler() needs caches: the caches registry of @cachex/redis, or { alias: cache }',
      )
    }
    const set = caches as AdminCaches
    if (!isRegistry(set)) {
      for (const [alias, cache] of Object.entries(set)) {
        if (!isCache(cache)) {
          throw new InvalidArgumentError(`caches['${alias}'] is not a Cache`)
        }
      }
    }
    this.#caches = set
    // Start counting hits now, for the caches that exist already.
    for (const alias of this.aliases()) {
      try {
        this.get(alias)
      } catch {
        // A registry alias that cannot be created yet shows its error when it is opened.
      }
    }
  }

  /** The aliases, in their configured order. */
  aliases(): string[] {
    const caches = this.#caches
    return isRegistry(caches) ? caches.aliases() : Object.keys(caches)
  }

  /** The cache of `alias`; 404 when there is none. */
  get(alias: string): AdminCache {
    const known = this.#known.get(alias)
    if (known !== undefined) return known
    if (!this.aliases().includes(alias)) {
      throw new HttpError(404, `there is no cache '${alias}'`, 'not_found')
    }
    const caches = this.#caches
    const cache = isRegistry(caches) ? caches.get(alias) : (caches[alias] as Cache)
    if (!isCache(cache)) throw new HttpError(500, `the cache '${alias}' is not a Cache`)
    const entry: AdminCache = {
      alias,
      cache,
      internals: cacheInternals(cache),
      hits: new HitRing(cache),
      memoryUsage: true,
      address: undefined,
    }
    this.#known.set(alias, entry)
    return entry
  }

  /** Stops the hit counters. */
  close(): void {
    for (const entry of this.#known.values()) entry.hits.stop()
    this.#known.clear()
  }
}

/**
 * Where a cache's server is, as `host:port/db`, asked of the server itself (`CLIENT INFO`: the
 * address it accepted the connection on), so that no URL, user or password is ever shown;
 * `memory://name` for the in-process backend; for a cluster (a connection that routes by slot),
 * `cluster of 3 primaries: host:port, …` from its slot map; `null` when the server does not say.
 */
export function addressOf(entry: AdminCache): Promise<string | null> {
  // Asked each time (one short command), not kept: the server behind a connection changes (a
  // Sentinel failover, a server back after an outage), and the page must name the one it is now.
  // Pages asking at once share the answer under way.
  if (entry.address !== undefined) return entry.address
  const answer = findAddress(entry.cache.connection).finally(() => {
    if (entry.address === answer) entry.address = undefined
  })
  entry.address = answer
  return answer
}

async function findAddress(connection: Connection): Promise<string | null> {
  const store = (connection as { storeName?: unknown }).storeName
  if (typeof store === 'string') return `memory://${store}`
  try {
    // A key-less CLIENT INFO would name whichever node the cluster picked, one per request.
    if (connection.routesBySlot === true) return await clusterAddress(connection)
    const reply = await connection.command(['CLIENT', 'INFO'], { text: true })
    const text = Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply)
    const laddr = /(?:^|\s)laddr=(\S+)/.exec(text)?.[1]
    const db = /(?:^|\s)db=(\d+)/.exec(text)?.[1]
    if (laddr === undefined || !/^[\w.:[\]-]{1,100}$/.test(laddr)) return null
    return db === undefined ? laddr : `${laddr}/${db}`
  } catch {
    return null
  }
}
