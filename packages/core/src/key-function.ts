import { thrownText } from './_thrown.ts'
import { describe } from './_timeout.ts'
import { InvalidArgumentError } from './errors.ts'
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

/**
 * A custom `keyFunction` or `reverseKeyFunction` (`name`), its failures typed: what it throws, or
 * a key that is not a string, becomes an `InvalidArgumentError` (a plain error would be taken for
 * an outage, which `ignoreExceptions` hides behind defaults on every call).
 */
export function checkedKeyFunction<
  F extends (key: string, prefix: string, version: number) => string,
>(fn: unknown, name: string): F {
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(
      `${name} must be a function (key, prefix, version) => string, got ${describe(fn)}`,
    )
  }
  return ((key: string, prefix: string, version: number) => {
    let result: unknown
    try {
      result = fn(key, prefix, version)
    } catch (error) {
      throw new InvalidArgumentError(`${name} failed: ${thrownText(error)}`, { cause: error })
    }
    if (typeof result !== 'string') {
      throw new InvalidArgumentError(`${name} must return a string, got ${describe(result)}`)
    }
    return result
  }) as F
}
