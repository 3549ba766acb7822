import { RESP_TYPES } from '@redis/client'

const FLAT = { [RESP_TYPES.MAP]: Array, [RESP_TYPES.SET]: Array }

/**
 * How cachex's commands run on node-redis: replies as raw bytes and flat arrays, whatever the
 * client's own type mapping; `timeout: 0` turns off node-redis's per-command AbortSignal timer
 * (`Deadlines` bounds every call instead, with one timer per connection).
 */
export const COMMAND_OPTIONS = {
  typeMapping: { ...FLAT, [RESP_TYPES.BLOB_STRING]: Buffer },
  timeout: 0,
}

/** The same, with bulk strings as UTF-8 text: for `text` routes (a cache whose codec reads text). */
export const TEXT_COMMAND_OPTIONS = { typeMapping: FLAT, timeout: 0 }

/**
 * `target` seen through its `withCommandOptions(options)`: the options are set once, not passed
 * with every call, which costs node-redis about half its throughput. `fallback()` where the
 * target has no such method.
 */
export function withOptions<T>(target: object, options: object, fallback: () => T): T {
  const method = (target as { withCommandOptions?: (options: object) => unknown })
    .withCommandOptions
  return typeof method === 'function' ? (method.call(target, options) as T) : fallback()
}
