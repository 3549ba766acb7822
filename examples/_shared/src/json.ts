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

/** Items (values and object members) `toJSONSafe` writes at most. */
export const MAX_JSON_ITEMS = 1_000_000

/** Characters of strings, member names and `bigint` digits `toJSONSafe` writes at most. */
export const MAX_JSON_CHARS = 64 * 1024 * 1024

/**
 * `value` as JSON carries it, with every `bigint` as its decimal string (`2n ** 64n` becomes
 * `'18446744073709551616'`): safe to hand to `res.json`, `c.json` or `Response.json`. `undefined`
 * becomes `null`. Throws a `RangeError` past `MAX_JSON_ITEMS` items or `MAX_JSON_CHARS`
 * characters: a value read from a pickle may share lists and strings (Python's memo), which JSON
 * writes out again at each place — a 146-byte pickle of 24 lists each holding the next twice is 16
 * million items, and a 1 MiB pickle of one 1 MiB string at 150 places is 150 MiB of JSON.
 */
export function toJSONSafe(value: unknown): JsonValue {
  let items = 0
  let chars = 0
  const text = JSON.stringify(value, (key, item) => {
    chars += key.length
    if (typeof item === 'string') chars += item.length
    const written = bigintReplacer(key, item)
    if (typeof item === 'bigint') chars += (written as string).length
    if (++items > MAX_JSON_ITEMS || chars > MAX_JSON_CHARS) {
      throw new RangeError(
        `a value of more than ${MAX_JSON_ITEMS} items or ${MAX_JSON_CHARS} characters is not answered as JSON`,
      )
    }
    return written
  })
  return JSON.parse(text ?? 'null') as JsonValue
}
