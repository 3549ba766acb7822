// What `configureCaches()` checks of each alias before it configures anything: everything the
// alias's first `caches.get()` would refuse, found by building that cache as `caches.get()` will
// (over its built-in connection, which connects on its first command only) and closing it unused.
import {
  isNodeRedisClient,
  isNodeRedisCluster,
  isRedisSentinel,
} from '@cachex/connections/internal'
import { Cache, type Connection, InvalidArgumentError } from '@cachex/core'
import type { CreateCacheOptions } from './_options.ts'
import { cacheOptionsOf, planCache } from './create-cache.ts'

/**
 * Throws `InvalidArgumentError` (its message beginning `configureCaches(): the alias '…'`) when
 * `options` — an alias's options merged with the globals, as `caches.get()` builds them — would
 * be refused by `createCache`: a name or value of the wrong kind, an unknown serializer, a
 * timeout out of range, a URL cachex cannot read, a `socketTimeout` of 0, a `keyPrefix` of
 * `'__cachex'`…
 *
 * Nothing is opened, and nothing of the user's is called: the connection is made only by a
 * built-in factory, and never around a node-redis object handed in as `location` (which would get
 * listeners; a `connectionFactory` or `client` function, which may connect, is not called either),
 * and it connects on its first
 * command, which it never gets; its `close()` leaves no socket or timer. The options of a
 * connection of the user's are checked by it, on the first `caches.get()`; so is
 * `telemetry.instrument`, never called here.
 */
export function checkCache(options: CreateCacheOptions, alias: string): void {
  const what = `configureCaches(): the alias '${alias}'`
  let connection: Connection | undefined
  try {
    const plan = planCache(options, alias)
    connection = madeByCachex(plan.builtIn, plan.options.location)
      ? plan.factory(plan.options)
      : INERT
    const cache = new Cache(cacheOptionsOf(plan, connection))
    connection = undefined
    closeQuietly(cache)
  } catch (error) {
    if (connection !== undefined && connection !== INERT) closeQuietly(connection)
    // The checks of names and kinds name the alias already.
    if (!(error instanceof InvalidArgumentError) || error.message.startsWith(what)) throw error
    throw new InvalidArgumentError(`${what}: ${error.message}`, { cause: error })
  }
}

/**
 * Whether the connection is made by a built-in factory that touches nothing of the user's: not a
 * node-redis client, pool, cluster or sentinel handed in as `location`. A location of another
 * kind (a `URL` object, a port number, `{ host, port }`) is handed to the built-in factory, which
 * refuses it, as `createCache` does.
 */
function madeByCachex(builtIn: boolean, location: unknown): boolean {
  return (
    builtIn &&
    !isNodeRedisClient(location) &&
    !isNodeRedisCluster(location) &&
    !isRedisSentinel(location)
  )
}

/** Closes `closable` without waiting, its failure (none is expected: it never connected) dropped. */
function closeQuietly(closable: { close(): Promise<unknown> }): void {
  closable.close().catch(() => undefined)
}

/** Never called: the `Cache` built over it is closed unused. */
async function unused(): Promise<never> {
  throw new InvalidArgumentError('configureCaches(): a cache built to check its options is unused')
}

/**
 * The connection of a cache checked whose connection is the user's (made by their factory or
 * around their node-redis object), which is not made here. With `track`, as the user's may have:
 * the local tier is refused for want of it by the real one, on the first `caches.get()`.
 */
const INERT: Connection = {
  command: unused,
  batch: unused,
  scan: unused,
  flush: unused,
  client: unused,
  track: unused,
  close: async () => undefined,
} as unknown as Connection
