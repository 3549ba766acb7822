// The field names of replies, as the hash reads (`./hashes.ts`) and stream reads hand them out:
// bytes that are not UTF-8 are refused rather than read as another field's name, and a cache that
// reads text sends its reads again as bytes when a name looks damaged.
import { isUtf8 } from 'node:buffer'
import { bounded } from '../_bounded.ts'
import type { CacheContext } from '../_context.ts'
import { toPairs } from '../_replies.ts'
import { SerializationError } from '../errors.ts'
import type { RedisArgument } from '../types.ts'

/**
 * A field name of a reply as a string, for the reads that hand field names out (`hgetall`,
 * `hkeys`, `hscan`, stream entries). Bytes that are not UTF-8 are refused with a
 * `SerializationError` naming the call (`what`: `'hgetall()'`) and the user's key, not the bytes
 * (they may be anything): decoded,
 * every invalid byte becomes U+FFFD, so fields `66 FF` and `66 FE` would get one name — one
 * field silently lost from an object — and a name that is neither's (`hget` of it misses).
 * django-cachex's `.decode()` raises too. A name that arrives as text (the connection decoded
 * it: a text route) cannot be checked and is taken as it is.
 */
export function fieldText(field: unknown, what: string, key: string): string {
  if (!Buffer.isBuffer(field)) return String(field)
  if (!isUtf8(field)) {
    throw new SerializationError(
      `${what} on key '${bounded(key)}': a field name is not valid UTF-8, so no string names it (written as bytes by another client)`,
    )
  }
  return field.toString('utf8')
}

/**
 * A `CommandSpec.send` for a cache whose replies are text (its codec reads text), so that field
 * names that are not UTF-8 are caught: the connection decodes text leniently, each invalid byte
 * becoming U+FFFD. The reply is read as text, as every read of such a cache is; only when a field
 * name holds U+FFFD — invalid bytes, or (rarely) a real U+FFFD — is the command sent again with
 * its reply as bytes, for `fieldText` to tell. That reply stands alone (a snapshot a moment
 * later). `names` picks the field names of a reply: every item (`HKEYS`), or every other one
 * (`HGETALL`). `undefined` (send as usual) for a cache that reads bytes anyway. A pipeline sends
 * its commands itself: one that holds such a call (its spec says `bytes`) reads every reply as
 * bytes.
 */
export function checkedAsText(
  context: CacheContext,
  step: 1 | 2,
): ((args: RedisArgument[]) => Promise<unknown>) | undefined {
  if (!context.text) return undefined
  return async (args) => {
    const route = { key: String(args[1]), readonly: true, text: true }
    const reply = await context.connection.command(args, route)
    if (!hasReplacement(reply, step)) return reply
    return context.connection.command(args, { ...route, text: false })
  }
}

/**
 * Whether a field name of a reply holds U+FFFD: in a flat array, every `step`th item from the
 * first; else (a map reply as pairs or a `Map`) each pair's first.
 */
function hasReplacement(reply: unknown, step: 1 | 2): boolean {
  if (Array.isArray(reply) && (step === 1 || !Array.isArray(reply[0]))) {
    for (let i = 0; i < reply.length; i += step) {
      const name = reply[i]
      if (typeof name === 'string' && name.includes('\uFFFD')) return true
    }
    return false
  }
  for (const [name] of toPairs(reply)) {
    if (typeof name === 'string' && name.includes('\uFFFD')) return true
  }
  return false
}
