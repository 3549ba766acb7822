import type { Cache } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { RESP_TYPES } from '@redis/client'

const BYTES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } }

interface RawClient {
  sendCommand(args: string[], options?: object): Promise<unknown>
}

/** Where a parametrized suite runs: a real `redis-server`, or the in-process `memory://`. */
export type Backend = 'redis' | 'memory'

/** Both backends, for `describe.each(BACKENDS)`: one suite body, run against each. */
export const BACKENDS: readonly Backend[] = ['redis', 'memory']

/**
 * A server for `backend`: a fresh `redis-server`, or a `memory://<name>` store of its own (every
 * cache created with its `url` shares it, as caches on one server share its keys).
 */
export async function backendServer(
  backend: Backend,
): Promise<{ url: string; stop(): Promise<void> }> {
  if (backend === 'redis') return standaloneServer()
  return { url: `memory://${uniquePrefix('suite')}`, stop: async () => undefined }
}

/** Whether `cache` runs on the in-process backend (which has no node-redis client). */
export function isMemory(cache: Cache): boolean {
  return typeof (cache.connection as { storeName?: unknown }).storeName === 'string'
}

/**
 * Runs a raw command on the cache's own node-redis client (on `memory://`, on its connection);
 * bulk strings come back as Buffers.
 */
export async function raw(cache: Cache, ...args: string[]): Promise<unknown> {
  if (isMemory(cache)) return cache.connection.command(args, { key: args[1] })
  const client = (await cache.connection.client()) as RawClient
  return client.sendCommand(args, BYTES)
}

/** The bytes stored at the Redis key of `key` (through the cache's key function), or `null`. */
export async function rawGet(cache: Cache, key: string, version?: number): Promise<Buffer | null> {
  return (await raw(cache, 'GET', cache.makeKey(key, version))) as Buffer | null
}

/** The PTTL of the Redis key of `key` at `version`, as Redis reports it (-2 missing, -1 no expiry). */
export async function rawPttl(cache: Cache, key: string, version?: number): Promise<number> {
  return Number(await raw(cache, 'PTTL', cache.makeKey(key, version)))
}
