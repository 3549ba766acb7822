// The hash slot of a Redis key, as Redis Cluster computes it: shared by the cluster connection
// (routing) and the lock (its fencing counter sits in the lock key's slot).
import type { RedisArgument } from './types.ts'

/** How many hash slots a Redis Cluster has. */
export const SLOT_COUNT = 16384

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

const OPEN = 0x7b // {
const CLOSE = 0x7d // }

/** Whether `keys` lie in more than one hash slot. */
export function spansSlots(keys: readonly RedisArgument[]): boolean {
  if (keys.length < 2) return false
  const first = keySlot(keys[0] as RedisArgument)
  for (let i = 1; i < keys.length; i++) if (keySlot(keys[i] as RedisArgument) !== first) return true
  return false
}

/**
 * `items` grouped by the hash slot of their key (`keyOf`): the groups in the order of their first
 * item, each group's items in order; `undefined` when they all lie in one slot.
 */
export function groupBySlot<T>(
  items: readonly T[],
  keyOf: (item: T) => RedisArgument,
): T[][] | undefined {
  if (items.length < 2) return undefined
  const bySlot = new Map<number, T[]>()
  for (const item of items) {
    const slot = keySlot(keyOf(item))
    const group = bySlot.get(slot)
    if (group === undefined) bySlot.set(slot, [item])
    else group.push(item)
  }
  return bySlot.size > 1 ? [...bySlot.values()] : undefined
}

/**
 * The hash slot (0–16383) of a Redis key, as Redis Cluster computes it: CRC16/XMODEM of the key's
 * UTF-8 bytes, modulo 16384. When the key has a hash tag — the part between its first `{` and the
 * first `}` after it, when that part is not empty — only the tag is hashed, so `user:{42}:name`
 * and `user:{42}:email` share a slot.
 */
export function keySlot(key: RedisArgument): number {
  if (typeof key !== 'string') return bytesSlot(key)
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
    // Braces are ASCII and never occur inside a UTF-8 sequence, so the tag found on the string
    // is the tag of the bytes: only the hashing needs the UTF-8 form.
    if (code > 0x7f) return crcBytes(Buffer.from(key.slice(from, to), 'utf8')) & 0x3fff
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ code) & 0xff] as number)
  }
  return crc & 0x3fff
}

function bytesSlot(key: Buffer): number {
  let from = 0
  let to = key.length
  const open = key.indexOf(OPEN)
  if (open !== -1) {
    const close = key.indexOf(CLOSE, open + 1)
    if (close > open + 1) {
      from = open + 1
      to = close
    }
  }
  return crcBytes(key.subarray(from, to)) & 0x3fff
}

function crcBytes(bytes: Uint8Array): number {
  let crc = 0
  for (let i = 0; i < bytes.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ (TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number)
  }
  return crc
}
