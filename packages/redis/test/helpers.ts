import type { Cache } from '@cachex/redis'
import { RESP_TYPES } from '@redis/client'

const BYTES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } }

interface RawClient {
  sendCommand(args: string[], options?: object): Promise<unknown>
}

/** Runs a raw command on the cache's own node-redis client; bulk strings come back as Buffers. */
export async function raw(cache: Cache, ...args: string[]): Promise<unknown> {
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
