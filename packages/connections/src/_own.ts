import { readableOptions } from '@cachex/core/internal'

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
 * (a node-redis client, a list, `undefined`) is returned as it is. A Proxy among them is read once
 * (`readableOptions`): one that is revoked, or whose traps throw, is an `InvalidArgumentError`
 * naming the option (`name`). Run once, when a connection is made, never per call.
 */
export function ownConnectionOptions<T>(options: T, name = 'the connection options'): T {
  const given = readableOptions(options, name)
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return given
  const proto: unknown = Object.getPrototypeOf(given)
  if (proto !== Object.prototype && proto !== null) return given
  const copy: Record<string, unknown> = Object.assign(Object.create(null), given)
  const within = name === 'the connection options' ? '' : `${name}.`
  for (const key of NESTED) {
    if (Object.hasOwn(copy, key)) copy[key] = ownConnectionOptions(copy[key], `${within}${key}`)
  }
  return copy as T
}
