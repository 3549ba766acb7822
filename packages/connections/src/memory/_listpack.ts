// Sizes Redis 7.0 gives a stream's macro nodes, computed rather than stored: the bytes of the
// listpack each node would be (where a node closes depends on them) and the nodes of the radix
// tree that indexes the nodes (`XINFO STREAM`'s `radix-tree-nodes`).

/** Bytes of an integer in a listpack: encoding and back-length. */
export function intSize(v: number | bigint): number {
  const n = typeof v === 'bigint' ? v : BigInt(v)
  if (n >= 0n && n <= 127n) return 2
  if (n >= -4096n && n <= 4095n) return 3
  if (n >= -32768n && n <= 32767n) return 4
  if (n >= -8388608n && n <= 8388607n) return 5
  if (n >= -2147483648n && n <= 2147483647n) return 6
  return 10
}

const LP_INTEGER = /^(0|-?[1-9][0-9]*)$/

/** Bytes of a string in a listpack: as an integer when it reads as one (`lpStringToInt64`). */
export function stringSize(s: string): number {
  if (s.length < 21 && LP_INTEGER.test(s)) {
    const n = BigInt(s)
    if (n >= -(1n << 63n) && n < 1n << 63n) return intSize(n)
  }
  const length = s.length
  const encoded = length < 64 ? 1 + length : length < 4096 ? 2 + length : 5 + length
  const back =
    encoded <= 127 ? 1 : encoded < 16383 ? 2 : encoded < 2097151 ? 3 : encoded < 268435455 ? 4 : 5
  return encoded + back
}

/**
 * Nodes of a compressed radix tree over the sorted 16-byte keys `keys[from, to)` below byte
 * `depth`: a chain of single-child bytes is one node, a branch one node, each key one leaf.
 */
export function raxNodes(keys: readonly bigint[], from: number, to: number, depth: number): number {
  if (to - from === 1) return depth === 16 ? 1 : 2
  let common = 0
  const first = keys[from] as bigint
  const last = keys[to - 1] as bigint
  while (byteAt(first, depth + common) === byteAt(last, depth + common)) common++
  let count = common > 0 ? 2 : 1
  const at = depth + common
  let start = from
  for (let i = from + 1; i <= to; i++) {
    if (i === to || byteAt(keys[i] as bigint, at) !== byteAt(keys[start] as bigint, at)) {
      count += raxNodes(keys, start, i, at + 1)
      start = i
    }
  }
  return count
}

function byteAt(key: bigint, depth: number): number {
  return Number((key >> BigInt((15 - depth) * 8)) & 0xffn)
}
