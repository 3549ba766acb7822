// Reading raw RESP2/RESP3 replies the same way whatever the client's protocol or type mapping.

/** A value reply for the codec: a Buffer, or a string where the connection replied with text. */
export function toData(reply: unknown): Buffer | string {
  return Buffer.isBuffer(reply) || typeof reply === 'string' ? reply : Buffer.from(String(reply))
}

/** A reply as text (keys, hash fields). */
export function toText(reply: unknown): string {
  return Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply)
}

/** An integer reply as a number. */
export function toNumber(reply: unknown): number {
  return typeof reply === 'number' ? reply : Number(toText(reply))
}

/**
 * An integer, from an integer reply or from stored digits (which node-redis 6 cannot round: it
 * reads an integer reply as `n * 10 + d`, digit by digit, so replies near and above 2^53 come
 * back rounded). A safe integer as a `number`, a larger one as a `bigint`, as `incr` resolves
 * them.
 */
export function toInteger(reply: unknown): number | bigint {
  if (typeof reply === 'number') return reply
  const text = toText(reply)
  if (!/^-?\d{1,20}$/.test(text)) return Number(text)
  const n = BigInt(text)
  return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** A score: RESP3 doubles arrive as numbers, RESP2 ones as strings such as `"inf"` or `"-inf"`. */
export function toScore(reply: unknown): number {
  if (typeof reply === 'number') return reply
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

/** An integer reply of 1 (a boolean answer such as `HEXISTS`, `PEXPIRE`). */
export function isOne(reply: unknown): boolean {
  return reply === 1
}

/** An integer reply, or `null` for a nil reply. */
export function numberOrNull(reply: unknown): number | null {
  return reply === null || reply === undefined ? null : toNumber(reply)
}
