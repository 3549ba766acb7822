// How the store's `setMany()` writes its entries: grouped by TTL, one cache `setMany` per distinct
// TTL and one `deleteMany` of the keys whose value is `undefined`, a bounded number of groups at
// a time, each settling on its own.
import { BackpressureError, type CacheLike } from '@cachex/core'
import { own } from '@cachex/core/internal'
import { isUndefinedEntry, toTimeout } from './_keyv-values.ts'

/**
 * Groups written at a time: each is a command or more, weighed against the cache's
 * `maxInFlightBytes` (as `_keyv-entries.ts`'s `PTTL`s are).
 */
const GROUPS_IN_FLIGHT = 64

/** The group of the entries whose value is `undefined`: their keys are deleted. */
export const DELETE: unique symbol = Symbol('delete')

/** The entries of a `setMany`, by TTL (`DELETE` for those deleted): each key in one group. */
export type Groups = Map<number | null | typeof DELETE, Map<string, unknown>>

/**
 * `entries` by TTL, each checked (`scoped(key)`, its TTL) and its value made what is stored
 * (`stored`) before anything is written, so a bad TTL or value writes nothing. A key given twice
 * is written once, with its last entry: the groups are written at once. Only an entry's own `ttl`
 * is read: one without does not take one from `Object.prototype`.
 */
export function groupEntries(
  entries: ReadonlyArray<{ key: string; value: unknown }>,
  scoped: (key: string) => void,
  stored: (value: unknown) => unknown,
): Groups {
  const groups: Groups = new Map()
  const groupOf = new Map<string, Map<string, unknown>>()
  for (const entry of entries) {
    const key = entry.key
    scoped(key)
    const value = entry.value
    const timeout = toTimeout(own(entry as { ttl?: number | null }, 'ttl'))
    const deletes = isUndefinedEntry(value)
    let group = groups.get(deletes ? DELETE : timeout)
    if (group === undefined) {
      group = new Map()
      groups.set(deletes ? DELETE : timeout, group)
    }
    groupOf.get(key)?.delete(key)
    groupOf.set(key, group)
    group.set(key, deletes ? undefined : stored(value))
  }
  for (const [timeout, group] of groups) if (group.size === 0) groups.delete(timeout)
  return groups
}

/**
 * Writes `groups` on `cache`, `GROUPS_IN_FLIGHT` at a time: entries of 20,000 distinct TTLs are
 * 20,000 writes, and all at once passed the cache's maxInFlightBytes (a fifth of them refused,
 * false). Each group settles on its own: one that fails must not hide that the others were
 * written. A group refused unsent for want of room (`BackpressureError`: the groups in flight
 * beside it held the cache's maxInFlightBytes, as 64 of 600 KB values do) is written again once
 * the others are done, one such group at a time. Resolves the keys not stored, and the errors of
 * the groups that failed.
 */
export async function writeGroups(
  cache: CacheLike,
  groups: Groups,
): Promise<{ failed: Set<string>; errors: unknown[] }> {
  const failed = new Set<string>()
  const errors: unknown[] = []
  const all = [...groups]
  type Group = (typeof all)[number]
  const refused: Group[] = []
  const write = async ([timeout, group]: Group, again = false) => {
    try {
      if (timeout === DELETE) await cache.deleteMany([...group.keys()])
      else for (const key of await cache.setMany(group, { timeout })) failed.add(key)
    } catch (error) {
      if (!again && error instanceof BackpressureError) {
        refused.push([timeout, group])
        return
      }
      for (const key of group.keys()) failed.add(key)
      errors.push(error)
    }
  }
  let next = 0
  const writer = async () => {
    while (next < all.length) await write(all[next++] as Group)
  }
  await Promise.all(Array.from({ length: Math.min(GROUPS_IN_FLIGHT, all.length) }, writer))
  for (const group of refused) await write(group, true)
  return { failed, errors }
}
