// Values read from a cache that another app shares (Django, say) may hold integers beyond 2^53:
// cachex returns them as `bigint`s, which `JSON.stringify` refuses ("Do not know how to serialize
// a BigInt"), and with it `res.json`, `c.json` and `Response.json`.

/** What a JSON answer can carry. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue }

/** A replacer for `JSON.stringify` that writes a `bigint` as its decimal string, exactly. */
export function bigintReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

/**
 * `value` as JSON carries it, with every `bigint` as its decimal string (`2n ** 64n` becomes
 * `'18446744073709551616'`): safe to hand to `res.json`, `c.json` or `Response.json`. `undefined`
 * becomes `null`.
 */
export function toJSONSafe(value: unknown): JsonValue {
  return JSON.parse(JSON.stringify(value, bigintReplacer) ?? 'null') as JsonValue
}
