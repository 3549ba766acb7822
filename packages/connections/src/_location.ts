import { InvalidArgumentError } from '@cachex/core'

/** Where a connection goes when `location` is not given: the local server, database 0. */
export const DEFAULT_URL = 'redis://127.0.0.1:6379/0'

/** A comma before a scheme (`redis://`, `unix://`…), blanks and more commas allowed, or the end. */
const URL_SEPARATOR = /,(?=[\s,]*(?:[a-z][a-z0-9+.-]*:\/\/|$))/i

/**
 * The URLs a `location` lists, the one parser every topology and `createCache` use: one URL, a
 * comma-separated string of them, or a list; each trimmed, blanks dropped (so `''` lists none).
 * A string splits only at a comma before the next URL's scheme (or at the end), so a raw comma
 * in a password stays in its URL (and out of error messages).
 * `undefined` when `location` is neither a string nor a list (a node-redis client or cluster you
 * handed in, or nothing); an `InvalidArgumentError` when a list holds something other than a
 * string. The URLs themselves are parsed by `parseRedisUrl`, by the topology that connects.
 */
export function parseLocation(location: unknown): string[] | undefined {
  const list =
    typeof location === 'string'
      ? location.split(URL_SEPARATOR)
      : Array.isArray(location)
        ? (location as readonly unknown[])
        : undefined
  if (list === undefined) return undefined
  const urls: string[] = []
  for (const item of list) {
    if (typeof item !== 'string') {
      throw new InvalidArgumentError(
        `location must list Redis URLs, got ${typeof item === 'object' ? 'an object' : typeof item}`,
      )
    }
    const url = item.trim()
    if (url !== '') urls.push(url)
  }
  return urls
}
