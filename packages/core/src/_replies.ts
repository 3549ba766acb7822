// Reading raw RESP2/RESP3 replies the same way whatever the client's protocol or type mapping.
// Nothing read from Redis is trusted: a reply of a type its command never gives (a proxy that
// rewrites or swaps replies, a server out of step) rejects with a `ResponseError`, never read
// as a value of another type.
import { ResponseError } from './errors.ts'

/**
 * A value reply for the codec: a Buffer, or a string where the connection replied with text (a
 * status reply is a string too). Anything else — an integer, a double, a boolean, an array — was
 * not the reply of the command that reads a value: `ResponseError`.
 */
export function toData(reply: unknown): Buffer | string {
  if (Buffer.isBuffer(reply) || typeof reply === 'string') return reply
  throw wrongReply('a string (bulk) reply', reply)
}

/**
 * The error for a reply of a type its command never gives: what was expected, and what came, by
 * its type only (never its content, which may be anything).
 */
export function wrongReply(expected: string, reply: unknown): ResponseError {
  return new ResponseError(
    `Redis replied ${replyType(reply)} where ${expected} was expected: not the command's reply (a proxy or server out of step?)`,
  )
}

/** What a reply is, for a message: its type, an array's length, never its content. */
export function replyType(reply: unknown): string {
  if (reply === null || reply === undefined) return 'nil'
  if (Buffer.isBuffer(reply) || typeof reply === 'string') return 'a string'
  if (typeof reply === 'number') return Number.isInteger(reply) ? 'an integer' : 'a double'
  if (typeof reply === 'bigint') return 'a big number'
  if (typeof reply === 'boolean') return 'a boolean'
  if (Array.isArray(reply)) return `an array of ${reply.length}`
  if (reply instanceof Error) return 'an error'
  if (reply instanceof Map) return 'a map'
  return `a ${typeof reply}`
}

/** A reply as text (keys, hash fields). */
export function toText(reply: unknown): string {
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply)
}

/**
 * An integer reply as a number. Lenient, for callers that must not throw (a `.then` callback
 * that answers others): the digits of a string reply too (`XPENDING`'s counts per consumer are
 * bulk strings) and a big number, `NaN` for a reply of any other type. Where a reply of the
 * wrong type must reject, `integerReply`.
 */
export function toNumber(reply: unknown): number {
  if (typeof reply === 'number') return reply
  if (Buffer.isBuffer(reply) || typeof reply === 'string') return Number(toText(reply))
  return typeof reply === 'bigint' ? Number(reply) : Number.NaN
}

/**
 * An integer reply (`TTL`, `EXISTS`, a count) as a number; a reply of another type (a string, a
 * double, an array, nil) rejects with `ResponseError` (`wrongReply`).
 */
export function integerReply(reply: unknown): number {
  if (typeof reply === 'number' && Number.isInteger(reply)) return reply
  throw wrongReply('an integer reply', reply)
}

/**
 * An integer, from an integer reply or from stored digits (which node-redis 6 cannot round: it
 * reads an integer reply as `n * 10 + d`, digit by digit, so replies near and above 2^53 come
 * back rounded). A safe integer as a `number`, a larger one as a `bigint`, as `incr` resolves
 * them.
 */
export function toInteger(reply: unknown): number | bigint {
  if (typeof reply === 'number' && Number.isInteger(reply)) return reply
  if (!Buffer.isBuffer(reply) && typeof reply !== 'string') throw wrongReply('an integer', reply)
  const text = toText(reply)
  if (!/^-?\d{1,20}$/.test(text)) throw wrongReply('an integer', reply)
  const n = BigInt(text)
  return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * A score: RESP3 doubles arrive as numbers, RESP2 ones as strings such as `"inf"` or `"-inf"`; a
 * reply of another type rejects (`wrongReply`).
 */
export function toScore(reply: unknown): number {
  if (typeof reply === 'number') return reply
  if (!Buffer.isBuffer(reply) && typeof reply !== 'string') throw wrongReply('a score', reply)
  const text = toText(reply).toLowerCase()
  if (text === 'inf' || text === '+inf') return Number.POSITIVE_INFINITY
  if (text === '-inf') return Number.NEGATIVE_INFINITY
  return Number(text)
}

/** A nullable score. */
export function toScoreOrNull(reply: unknown): number | null {
  return reply === null || reply === undefined ? null : toScore(reply)
}

/** A map reply (a flat `[k, v, …]` array, a `Map`, or an object) as `[key, value]` pairs. */
export function toPairs(reply: unknown): Array<[unknown, unknown]> {
  if (reply instanceof Map) return [...reply.entries()]
  if (Array.isArray(reply)) {
    const pairs: Array<[unknown, unknown]> = []
    // RESP3 with a Map→Array type mapping may already give [k, v] tuples.
    if (reply.length > 0 && Array.isArray(reply[0])) {
      for (const pair of reply as unknown[][]) pairs.push([pair[0], pair[1]])
      return pairs
    }
    for (let i = 0; i + 1 < reply.length; i += 2) pairs.push([reply[i], reply[i + 1]])
    return pairs
  }
  if (reply !== null && typeof reply === 'object') return Object.entries(reply)
  return []
}

/** An array reply; `null` (nil) becomes an empty array. */
export function toArray(reply: unknown): unknown[] {
  return Array.isArray(reply) ? reply : reply === null || reply === undefined ? [] : [reply]
}

/**
 * Whether an integer reply is 1 (a boolean answer such as `HEXISTS`, `PEXPIRE`); a reply of
 * another type rejects (`integerReply`).
 */
export function isOne(reply: unknown): boolean {
  return reply === 1 || integerReply(reply) === 1
}

/** An integer reply, or `null` for a nil reply; a reply of another type rejects. */
export function numberOrNull(reply: unknown): number | null {
  return reply === null || reply === undefined ? null : integerReply(reply)
}

/**
 * `MGET`'s reply to `keys` keys: an array of exactly one value per key, else `ResponseError`
 * (one length compare).
 */
export function mgetReplies(reply: unknown, keys: number): unknown[] {
  if (Array.isArray(reply) && reply.length === keys) return reply
  throw mgetMismatch(reply, keys)
}

/** The error of an `MGET` reply to `keys` keys that is not one value per key. */
export function mgetMismatch(reply: unknown, keys: number): ResponseError {
  return new ResponseError(
    `MGET of ${keys} keys replied ${Array.isArray(reply) ? `${reply.length} values` : replyType(reply)}`,
  )
}
