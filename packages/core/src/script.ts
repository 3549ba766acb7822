import { createHash } from 'node:crypto'
import { ResponseError } from './errors.ts'
import type { CommandRoute, Connection, RedisArgument } from './types.ts'

/** A Lua script with its SHA1, run with `EVALSHA` and loaded on first use. */
export interface Script {
  /** The Lua source. */
  readonly source: string
  /** The SHA1 of the source, as Redis names the script. */
  readonly sha1: string
}

/** Prepares a Lua script for `runScript`. Call it once, at module level. */
export function defineScript(source: string): Script {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}

/**
 * Runs `script` with `EVALSHA`, falling back to `EVAL` (which also caches it on the server) when
 * the server answers `NOSCRIPT` — after a restart or on a node that has not seen it yet.
 */
export async function runScript(
  connection: Connection,
  script: Script,
  keys: readonly RedisArgument[],
  args: readonly RedisArgument[],
  route: CommandRoute = { key: keys[0] },
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args]
  try {
    return await connection.command(['EVALSHA', script.sha1, ...tail], route)
  } catch (error) {
    if (!(error instanceof ResponseError) || !error.message.startsWith('NOSCRIPT')) throw error
    return connection.command(['EVAL', script.source, ...tail], route)
  }
}
