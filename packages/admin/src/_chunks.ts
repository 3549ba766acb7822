// Keys in chunks bounded in number and in the bytes of their names, for the commands the admin
// sends about many keys at once (a page's TYPE, PTTL and MEMORY USAGE, a job's UNLINKs): they
// share the cache's connection, whose maxInFlightBytes refuses a command that would take the
// bytes awaiting replies past it, the application's commands included.

/**
 * `keys` in consecutive chunks of at most `count` keys and `bytes` bytes of names; a key whose
 * name alone is longer makes a chunk of its own.
 */
export function* byNameBytes<T extends string | Buffer>(
  keys: readonly T[],
  count: number,
  bytes: number,
): Generator<T[]> {
  let chunk: T[] = []
  let size = 0
  for (const key of keys) {
    const length = typeof key === 'string' ? Buffer.byteLength(key) : key.length
    if (chunk.length > 0 && (chunk.length >= count || size + length > bytes)) {
      yield chunk
      chunk = []
      size = 0
    }
    chunk.push(key)
    size += length
  }
  if (chunk.length > 0) yield chunk
}
