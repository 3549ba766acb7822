// Option objects that cannot be read — a revoked Proxy, a Proxy whose traps throw — met while a
// cache or a connection is built: what their reading throws becomes cachex's typed error, naming
// the option. Ordinary Proxies (a reactive store's options) are read as they are, untouched.
import { types } from 'node:util'
import { UNREADABLE } from './_own.ts'
import { isPlainObject } from './_plain.ts'
import { CachexError, InvalidArgumentError } from './errors.ts'

/** How deep `proxyPath` looks for a Proxy among option objects. */
const OPTION_DEPTH = 6

/** How many values `proxyPath` looks at in all (options shared or referring to themselves). */
const OPTION_VALUES = 10_000

/** Where `proxyPath` is: the objects it looked into, and how many values it may look at still. */
interface Search {
  readonly seen: WeakSet<object>
  left: number
  /** Option names to read from each Proxy, besides its own keys (`unreadable`). */
  readonly names: readonly string[]
}

/**
 * The keys that lead from `value` to the first Proxy in it that cannot be read (`[]`: `value` is
 * one; see `unreadable`), looking through plain objects, arrays and readable Proxies
 * `OPTION_DEPTH` levels down by their own enumerable keys (a `configureCaches()` alias's
 * `clusterOptions.defaults.socket` is 5 down), each object once and `OPTION_VALUES` values at
 * most; `undefined` when there is none. A getter of the caller's that throws is passed over.
 */
function proxyPath(value: unknown, search: Search, depth = OPTION_DEPTH): string[] | undefined {
  if (typeof value !== 'object' || value === null || search.seen.has(value)) return undefined
  search.seen.add(value)
  const proxy = types.isProxy(value)
  if (proxy && unreadable(value, search.names)) return []
  // Options are plain objects and lists: a client or another object of the caller's is not
  // looked into.
  if (depth === 0 || !(proxy || Array.isArray(value) || isPlainObject(value))) return undefined
  try {
    for (const key of Object.keys(value)) {
      if (--search.left < 0) return undefined
      const path = proxyPath((value as Record<string, unknown>)[key], search, depth - 1)
      if (path !== undefined) return [key, ...path]
    }
  } catch {
    // A getter of the caller's that throws: not a Proxy's, and not looked into.
  }
  return undefined
}

/**
 * Whether reading the Proxy `proxy` as options are read throws: revoked, or a trap that throws
 * (`getPrototypeOf`, `has`, `ownKeys`, `getOwnPropertyDescriptor`, or `get` of one of its keys or
 * of an option name in `names`, which a build reads whether the Proxy holds it or not). A
 * readable one (a reactive store's) did not throw what the build threw, which is then thrown as
 * it is.
 */
function unreadable(proxy: object, names: readonly string[]): boolean {
  try {
    Reflect.getPrototypeOf(proxy)
    Reflect.has(proxy, 'location')
    for (const key of Reflect.ownKeys(proxy)) {
      Reflect.getOwnPropertyDescriptor(proxy, key)
      Reflect.get(proxy, key)
    }
    for (const name of names) Reflect.get(proxy, name)
    return false
  } catch {
    return true
  }
}

/**
 * `build()`, where an error it throws that is not cachex's own, while `given` holds a Proxy that
 * cannot be read (a revoked one, one whose trap throws, reading its own keys or the option
 * `names` the build reads), is an `InvalidArgumentError` naming the option that is the Proxy:
 * `name(path)`, given the keys that lead to it (`[]` for `given` itself). Neither the value nor
 * what it threw is quoted: either may hold a password. Anything else is thrown as it is. For the
 * building of a cache or a connection: never on a hot path.
 */
export function readingOptions<T>(
  given: unknown,
  name: (path: readonly string[]) => string,
  build: () => T,
  names: readonly string[] = [],
): T {
  try {
    return build()
  } catch (error) {
    if (error instanceof CachexError && !UNREADABLE.has(error)) throw error
    const path = proxyPath(given, { seen: new WeakSet(), left: OPTION_VALUES, names })
    if (path === undefined) throw error
    throw new InvalidArgumentError(
      `${name(path)} could not be read: reading it threw (a revoked Proxy, or a Proxy whose trap throws); pass an ordinary object`,
    )
  }
}
