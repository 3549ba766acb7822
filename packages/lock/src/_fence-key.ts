// The key of the fencing-token counter of a lock: in the lock key's hash slot (one Lua script
// touches both, and a Redis Cluster runs a script only on keys of one slot), and shared by every
// lock name of that slot, so that there are at most 16,384 counter keys however many lock names
// come and go.
import { keySlot } from '@cachex/core'
import { SLOT_COUNT } from '@cachex/core/internal'

export { keySlot }

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
