import { createClient, RedisClient } from '@redis/client'

// node-redis's `createClient(options)` is `RedisClient.factory(options)(options)`: `factory` builds
// a new client class for its config (a method per command, and a `MULTI` class likewise) and keeps
// only the last one, found again by the JSON of the whole options — which hold each node's host
// and port, so every client of a new node builds its class anew (about 25 ms: a CLUSTER SLOTS
// reply naming a few hundred nodes blocked the process for seconds). The class depends only on
// the config's `RESP` (which reply transforms the commands use), `modules`, `functions` and
// `scripts`; without the last three, one factory per RESP version makes every client.

/** The client a node-redis `createClient` makes. */
export type NodeRedisClient = ReturnType<typeof createClient>

/** `RedisClient.factory` for each config without modules, functions or scripts, by its RESP. */
const FACTORIES = new Map<string, (options: never) => NodeRedisClient>()

/**
 * `createClient(options)` — the same client, of the same class for the same RESP version —
 * without building node-redis's client class anew: options that carry `modules`, `functions` or
 * `scripts` (whose commands the class holds) go to `createClient` itself.
 */
export function newClient(options: object): NodeRedisClient {
  const config = options as {
    RESP?: unknown
    unstableResp3?: unknown
    modules?: unknown
    functions?: unknown
    scripts?: unknown
  }
  if (
    config.modules !== undefined ||
    config.functions !== undefined ||
    config.scripts !== undefined
  ) {
    return createClient(options as never)
  }
  const key = `${String(config.RESP)}/${String(config.unstableResp3)}`
  let factory = FACTORIES.get(key)
  if (factory === undefined) {
    factory = RedisClient.factory({
      RESP: config.RESP,
      unstableResp3: config.unstableResp3,
    } as never) as unknown as (options: never) => NodeRedisClient
    FACTORIES.set(key, factory)
  }
  return factory(options as never)
}

/**
 * A client (`newClient`) with the node-redis client options `defaults`, its socket at `at` (a
 * cluster node's address) over theirs, and `extra` options over them all.
 */
export function clientAt(
  defaults: Record<string, unknown>,
  at: { host: string; port: number },
  extra: object = {},
): NodeRedisClient {
  return newClient({ ...defaults, socket: { ...(defaults.socket as object), ...at }, ...extra })
}
