// How a command's replies are read, as its route asks (`CommandRoute.text`, `.digits`): kept apart
// from `_options.ts` (node-redis's type mappings), so that the memory:// backend needs no node-redis.
import type { CommandRoute } from '@cachex/core'

/**
 * How a route reads its replies: `false`, bulk strings as bytes; `true`, as UTF-8 text (a `text`
 * route); `'digits'`, integers as their decimal digits and bulk strings as bytes (a `digits`
 * route, whatever its `text` says).
 */
export type ReplyForm = boolean | 'digits'

/** The `ReplyForm` a route asks for (`false` without one). */
export function replyForm(route: CommandRoute | undefined): ReplyForm {
  if (route === undefined) return false
  return route.digits === true ? 'digits' : route.text === true
}
