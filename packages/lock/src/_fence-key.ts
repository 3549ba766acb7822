// The key of the fencing-token counter of a lock: in the lock key's hash slot (one Lua script
// touches both, and a Redis Cluster runs a script only on keys of one slot), and shared by every
// lock name of that slot, so that there are at most 16,384 counter keys however many lock names
// come and go.

/** How many hash slots Redis Cluster has. */
const SLOT_COUNT = 16384

/** CRC16/XMODEM (poly 0x1021, init 0), the checksum Redis Cluster hashes keys with. */
const TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1
    table[i] = crc & 0xffff
  }
  return table
})()

/**
 * The hash slot of a Redis key, as Redis Cluster computes it (`CLUSTER KEYSLOT`): CRC16 of the
 * key's UTF-8 bytes, or of its hash tag — the part between its first `{` and the first `}` after
 * it, when that part is not empty.
 */
export function keySlot(key: string): number {
  let from = 0
  let to = key.length
  const open = key.indexOf('{')
  if (open !== -1) {
    const close = key.indexOf('}', open + 1)
    if (close > open + 1) {
      from = open + 1
      to = close
    }
  }
  let crc = 0
  for (let i = from; i < to; i++) {
    const code = key.charCodeAt(i)
    // Braces are ASCII and never occur inside a UTF-8 sequence, so the tag found on the string is
    // the tag of the bytes: only the hashing of a non-ASCII key needs its UTF-8 form.
    if (code > 0x7f) return crcBytes(Buffer.from(key.slice(from, to), 'utf8')) % SLOT_COUNT
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ code) & 0xff] as number)
  }
  return crc % SLOT_COUNT
}

function crcBytes(bytes: Uint8Array): number {
  let crc = 0
  for (let i = 0; i < bytes.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number)
  }
  return crc
}

/**
 * For each slot, the first number whose base-36 form (`0`, `1`, … `z`, `10`, …) hashes to it: the
 * same tag in every process. Built on first use: every slot is met by `1vkk` (87,573 short
 * strings, a few milliseconds); 64 KB.
 */
let tags: Uint32Array | undefined

function tagOf(slot: number): string {
  if (tags === undefined) {
    const table = new Uint32Array(SLOT_COUNT).fill(0xffffffff)
    let left = SLOT_COUNT
    for (let n = 0; left > 0; n++) {
      const s = keySlot(n.toString(36))
      if (table[s] === 0xffffffff) {
        table[s] = n
        left--
      }
    }
    tags = table
  }
  return (tags[slot] as number).toString(36)
}

/**
 * The counter key of the fencing tokens of the lock key `name`: `__cachex:fence:{<tag>}`, where
 * `<tag>` hashes to `name`'s slot. It lives outside the key function's keyspace (`__cachex` as the
 * prefix, `fence` as a version that is no integer), so `cache.clear()` and `deletePattern()` of a
 * prefixed cache never reset it. One counter serves every lock name of a slot: tokens still
 * strictly increase per name, with gaps.
 */
export function fenceKey(name: string): string {
  return `__cachex:fence:{${tagOf(keySlot(name))}}`
}
