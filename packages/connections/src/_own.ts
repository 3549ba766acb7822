import { readingOptions } from '@cachex/core/internal'

/**
 * `build()` of a connection from `options`, where what a Proxy among them that cannot be read
 * throws (revoked, or a trap that throws) is an `InvalidArgumentError` naming the option
 * (`readingOptions`).
 */
export function buildingFrom<T>(options: unknown, build: () => T): T {
  return readingOptions(
    options,
    (path) => (path.length === 0 ? 'the connection options' : path.join('.')),
    build,
  )
}

/**
 * The option objects (at any depth) whose settings cachex reads itself: copied own-only too.
 * Others (`clusterOptions`, `socket.tls`…) pass to node-redis or Node as given.
 */
const NESTED = new Set(['clientOptions', 'socket', 'sentinelOptions', 'memoryOptions'])

/**
 * A caller's options object as cachex reads it: its own enumerable properties only, in an object
 * without a prototype, and likewise for its `clientOptions`, `socket`, `sentinelOptions` and
 * `memoryOptions`. Another library's `Object.prototype.password = 'x'` (or `.clientOptions`,
 * `.socket`…) would otherwise be read as an option every caller gave. Anything but a plain object
 * (a node-redis client, a list, `undefined`) is returned as it is. Run once, when a connection is
 * made, never per call.
 */
export function ownConnectionOptions<T>(given: T): T {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return given
  const proto: unknown = Object.getPrototypeOf(given)
  if (proto !== Object.prototype && proto !== null) return given
  const copy: Record<string, unknown> = Object.assign(Object.create(null), given)
  for (const name of NESTED) {
    if (Object.hasOwn(copy, name)) copy[name] = ownConnectionOptions(copy[name])
  }
  return copy as T
}
