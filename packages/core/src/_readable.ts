// Option objects that may be hostile (a revoked Proxy, a Proxy whose traps throw), read once when
// a cache or a connection is built: what their reading throws becomes cachex's typed error.
import { types } from 'node:util'
import { copyGiven } from './_own.ts'
import { InvalidArgumentError } from './errors.ts'

/**
 * An options object (the option `name`) where its reading may throw: a Proxy — which may be
 * revoked, or have traps that throw — is read once into a copy of what it gives (as `ownOptions`
 * copies a plain object), so that no trap of it runs again, and a trap that throws meanwhile is
 * an `InvalidArgumentError` naming `name` (quoting neither the value nor what it threw: either
 * may hold a password). A Proxy of an array stays as it is (it is refused as a list); anything
 * else is returned as it is, unread: an ordinary object costs one `isProxy`. Run once, when a
 * cache or a connection is built.
 */
export function readableOptions<T>(value: T, name: string): T {
  if (typeof value !== 'object' || value === null || !types.isProxy(value)) return value
  return readOption(name, () => (Array.isArray(value) ? value : (copyGiven(value) as T)))
}

/**
 * `read()`, or an `InvalidArgumentError` saying that the option `name` could not be read when it
 * throws anything but cachex's own `InvalidArgumentError` (a revoked Proxy, a trap): for the
 * reads of an option object that may be hostile, once, when a cache is built.
 */
export function readOption<T>(name: string, read: () => T): T {
  try {
    return read()
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error
    throw new InvalidArgumentError(
      `${name} could not be read: reading it threw (a revoked Proxy, or a Proxy whose trap throws); pass an ordinary object`,
    )
  }
}
