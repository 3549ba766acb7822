import type { KeyFunction, ReverseKeyFunction } from './types.ts'

/** Django's key function: `${keyPrefix}:${version}:${key}`, so `foo` becomes `:1:foo`. */
export const defaultKeyFunction: KeyFunction = (key, keyPrefix, version) =>
  `${keyPrefix}:${version}:${key}`

/**
 * Reverses `defaultKeyFunction`. It strips `${keyPrefix}:` and then everything up to the next
 * colon (the version), so prefixes containing colons work — django-redis's `split(':', 2)` does not.
 */
export const defaultReverseKeyFunction: ReverseKeyFunction = (redisKey, keyPrefix) => {
  const rest = redisKey.startsWith(`${keyPrefix}:`)
    ? redisKey.slice(keyPrefix.length + 1)
    : redisKey
  const colon = rest.indexOf(':')
  return colon === -1 ? rest : rest.slice(colon + 1)
}

const GLOB_SPECIAL = /[*?[\]\\]/g

/** Escapes Redis glob metacharacters (`*`, `?`, `[`, `]`, `\`) so that `text` matches only itself. */
export function globEscape(text: string): string {
  return text.replace(GLOB_SPECIAL, '\\$&')
}
