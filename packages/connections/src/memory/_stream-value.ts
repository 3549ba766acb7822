// The value of a stream key, modelled on Redis 7.0's so that its replies match: entries live in
// macro nodes (a radix tree of listpacks on a server) that close at 100 entries or about 4 KiB
// of listpack, so that approximate trimming (`~`) removes the same whole nodes; a deleted entry
// stays as a tombstone until its node goes; consumer groups keep their pending entries lists
// (PEL) and consumers. Listpack sizes are computed as Redis encodes them, to close nodes where
// it does. A macro node and the searches within one are `./_stream-node.ts`.
import type { Call } from './_command.ts'
import { IdMap } from './_id-map.ts'
import { intSize, raxNodes, stringSize } from './_listpack.ts'
import type { Reply } from './_reply.ts'
import { formatId, MAX_ID, U64 } from './_stream-id.ts'
import {
  type Item,
  itemIndex,
  itemSize,
  NODE_MAX_BYTES,
  NODE_MAX_ENTRIES,
  type Node,
  upperIndex,
} from './_stream-node.ts'
import { ELEMENT_OVERHEAD, type Entry, type Store } from './store.ts'

export type { Item } from './_stream-node.ts'

/** A pending entry of a group: who it was delivered to, when, and how many times. */
export interface Nack {
  readonly id: bigint
  consumer: Consumer | null
  deliveryTime: number
  deliveryCount: number
}

/** A consumer of a group: its own pending entries and when it was last seen. */
export interface Consumer {
  readonly name: string
  readonly pel: IdMap<Nack>
  seenTime: number
}

/** A consumer group: the last ID delivered to it, its read counter, PEL and consumers. */
export interface Group {
  readonly name: string
  lastId: bigint
  /** The group's read counter; -1 when unknown (Redis's `SCG_INVALID_ENTRIES_READ`). */
  entriesRead: number
  readonly pel: IdMap<Nack>
  readonly consumers: Map<string, Consumer>
}

/** How `Stream.trim` trims: `MAXLEN` or `MINID`, `~`, and at most `limit` entries (0: any). */
export interface Trim {
  maxlen?: number
  minid?: bigint
  approx: boolean
  limit: number
}

/** A stream: its entries by macro node, the counters Redis keeps, its consumer groups. */
export class Stream {
  readonly nodes: Node[] = []
  /** Entries not deleted. */
  length = 0
  /** The last ID added (`last-generated-id`), or set by XSETID. */
  lastId = 0n
  /** The first entry's ID as Redis records it (`recorded-first-entry-id`). */
  firstId = 0n
  /** The highest ID deleted by XDEL (`max-deleted-entry-id`). */
  maxDeletedId = 0n
  /** Entries ever added (`entries-added`). */
  entriesAdded = 0
  readonly groups = new Map<string, Group>()
  /** Approximate bytes of the entries, groups, consumers and pending entries. */
  size = 0
  /** The part of `size` already counted in the store (see `settle`). */
  counted = 0

  /** Appends an entry (its ID above `lastId`, checked by the caller). */
  append(id: bigint, fields: string[]): void {
    let total = 0
    for (const f of fields) total += f.length
    let node = this.nodes.at(-1)
    if (
      node !== undefined &&
      (node.bytes + total >= NODE_MAX_BYTES || node.items.length >= NODE_MAX_ENTRIES)
    ) {
      node = undefined
    }
    let same = true
    if (node === undefined) {
      // The master entry: header and end (7 bytes), counts of entries and of deleted ones, the
      // field names, a terminating 0.
      const names = fields.filter((_, i) => i % 2 === 0)
      let bytes = 7 + 2 + 2 + intSize(names.length) + 2
      for (const name of names) bytes += stringSize(name)
      node = { master: id, masterFields: names, items: [], live: 0, bytes }
      this.nodes.push(node)
    } else {
      const names = node.masterFields
      same = names.length * 2 === fields.length && names.every((name, i) => fields[i * 2] === name)
    }
    // The entry: flags, ID as deltas from the node's, fields (names only when they differ from
    // the master entry's), values, and how many listpack elements it took.
    const n = fields.length / 2
    let bytes = 2 + intSize(BigInt.asIntN(64, (id >> 64n) - (node.master >> 64n)))
    bytes += intSize(BigInt.asIntN(64, (id & U64) - (node.master & U64)))
    if (!same) bytes += intSize(n)
    for (let i = 0; i < fields.length; i++) {
      if (same && i % 2 === 0) continue
      bytes += stringSize(fields[i] as string)
    }
    bytes += intSize(n + 3 + (same ? 0 : n + 1))
    node.items.push({ id, fields })
    node.live++
    node.bytes += bytes
    this.length++
    this.entriesAdded++
    this.lastId = id
    if (this.length === 1) this.firstId = id
    this.size += itemSize(fields)
  }

  /** The live entry `id`. */
  find(id: bigint): Item | undefined {
    const node = this.nodes[this.#nodeAt(id)]
    if (node === undefined) return undefined
    const item = node.items[itemIndex(node.items, id)]
    return item !== undefined && item.id === id && item.fields !== null ? item : undefined
  }

  /** Deletes the live entry `id` (a tombstone; its node goes with its last live entry). */
  delete(id: bigint): boolean {
    const at = this.#nodeAt(id)
    const node = this.nodes[at]
    if (node === undefined) return false
    const item = node.items[itemIndex(node.items, id)]
    if (item === undefined || item.id !== id || item.fields === null) return false
    this.size -= itemSize(item.fields)
    item.fields = null
    if (node.live === 1) this.nodes.splice(at, 1)
    else node.live--
    this.length--
    return true
  }

  /**
   * The live entries from `start` to `end` (inclusive), at most `count` (0: all), ascending or
   * (`rev`) descending.
   */
  range(start: bigint, end: bigint, count: number, rev = false): Item[] {
    const out: Item[] = []
    if (start > end) return out
    const nodes = this.nodes
    if (!rev) {
      let at = Math.max(0, this.#nodeAt(start))
      let i = at < nodes.length ? itemIndex((nodes[at] as Node).items, start) : 0
      for (; at < nodes.length; at++, i = 0) {
        const items = (nodes[at] as Node).items
        for (; i < items.length; i++) {
          const item = items[i] as Item
          if (item.id > end) return out
          if (item.fields === null) continue
          out.push(item)
          if (out.length === count) return out
        }
      }
      return out
    }
    let at = this.#nodeAt(end)
    if (at < 0) return out
    let i = upperIndex((nodes[at] as Node).items, end) - 1
    for (; at >= 0; at--, i = (nodes[at]?.items.length ?? 0) - 1) {
      const items = (nodes[at] as Node).items
      for (; i >= 0; i--) {
        const item = items[i] as Item
        if (item.id < start) return out
        if (item.fields === null) continue
        out.push(item)
        if (out.length === count) return out
      }
    }
    return out
  }

  /** The first or last live entry's ID. */
  edge(first: boolean): bigint | undefined {
    return this.range(0n, MAX_ID, 1, !first)[0]?.id
  }

  /** Trims as Redis's `streamTrim` does (whole nodes first; `~` only whole nodes). */
  trim(trim: Trim): number {
    const { maxlen, minid, approx, limit } = trim
    const nodes = this.nodes
    let deleted = 0
    let removed = 0
    for (; removed < nodes.length; removed++) {
      if (maxlen !== undefined && this.length <= maxlen) break
      const node = nodes[removed] as Node
      if (limit > 0 && deleted + node.live > limit) break
      const whole =
        maxlen !== undefined
          ? this.length - node.live >= maxlen
          : (node.items.at(-1) as Item).id < (minid as bigint)
      if (whole) {
        for (const item of node.items) if (item.fields !== null) this.size -= itemSize(item.fields)
        this.length -= node.live
        deleted += node.live
        continue
      }
      if (approx) break
      for (const item of node.items) {
        if (maxlen !== undefined ? this.length <= maxlen : item.id >= (minid as bigint)) break
        if (item.fields === null) continue
        this.size -= itemSize(item.fields)
        item.fields = null
        node.live--
        this.length--
        deleted++
      }
      break
    }
    nodes.splice(0, removed)
    if (this.length === 0) this.firstId = 0n
    else if (deleted > 0) this.firstId = this.edge(true) ?? 0n
    return deleted
  }

  /** Whether a deleted entry may lie from `start` on (Redis's `streamRangeHasTombstones`). */
  tombstonesFrom(start: bigint): boolean {
    if (this.length === 0 || this.maxDeletedId === 0n) return false
    if (this.firstId > this.maxDeletedId) return false
    return start <= this.maxDeletedId
  }

  /** The read counter of `id`, or -1 when it cannot be known (`streamEstimateDistance…`). */
  entriesReadAt(id: bigint): number {
    if (this.entriesAdded === 0) return 0
    if (this.length === 0 && id <= this.lastId) return this.entriesAdded
    if (id === this.lastId) return this.entriesAdded
    if (id > this.lastId) return -1
    if (this.maxDeletedId === 0n || this.maxDeletedId < this.firstId) {
      if (id < this.firstId) return this.entriesAdded - this.length
      if (id === this.firstId) return this.entriesAdded - this.length + 1
    }
    return -1
  }

  /** The lag of `group` (entries not delivered to it yet), or `null` when unknown. */
  lag(group: Group): number | null {
    if (this.entriesAdded === 0) return 0
    if (group.entriesRead !== -1 && !this.tombstonesFrom(group.lastId)) {
      return this.entriesAdded - group.entriesRead
    }
    const read = this.entriesReadAt(group.lastId)
    return read === -1 ? null : this.entriesAdded - read
  }

  /** Creates group `name`; `undefined` when it exists. */
  createGroup(name: string, lastId: bigint, entriesRead: number): Group | undefined {
    if (this.groups.has(name)) return undefined
    const group: Group = { name, lastId, entriesRead, pel: new IdMap(), consumers: new Map() }
    this.groups.set(name, group)
    this.size += ELEMENT_OVERHEAD + name.length
    return group
  }

  destroyGroup(group: Group): void {
    this.groups.delete(group.name)
    this.size -= ELEMENT_OVERHEAD + group.name.length + group.pel.size * ELEMENT_OVERHEAD
    for (const consumer of group.consumers.values()) {
      this.size -= ELEMENT_OVERHEAD + consumer.name.length
    }
  }

  /** Consumer `name` of `group` (its seen time refreshed), made when missing and `create`. */
  consumer(group: Group, name: string, now: number, create = true): Consumer | undefined {
    let consumer = group.consumers.get(name)
    if (consumer !== undefined) {
      consumer.seenTime = now
      return consumer
    }
    if (!create) return undefined
    consumer = { name, pel: new IdMap(), seenTime: now }
    group.consumers.set(name, consumer)
    this.size += ELEMENT_OVERHEAD + name.length
    return consumer
  }

  /** Deletes a consumer and its pending entries; how many it had. */
  deleteConsumer(group: Group, consumer: Consumer): number {
    const pending = consumer.pel.size
    for (const nack of consumer.pel.values()) group.pel.delete(nack.id)
    group.consumers.delete(consumer.name)
    this.size -= ELEMENT_OVERHEAD + consumer.name.length + pending * ELEMENT_OVERHEAD
    return pending
  }

  /** Adds entry `id` to the group's PEL, or returns the pending entry it has. */
  pending(group: Group, id: bigint, now: number): Nack {
    let nack = group.pel.get(id)
    if (nack === undefined) {
      nack = { id, consumer: null, deliveryTime: now, deliveryCount: 1 }
      group.pel.set(id, nack)
      this.size += ELEMENT_OVERHEAD
    }
    return nack
  }

  /** Gives a pending entry to `consumer`. */
  assign(nack: Nack, consumer: Consumer): void {
    if (nack.consumer === consumer) return
    nack.consumer?.pel.delete(nack.id)
    consumer.pel.set(nack.id, nack)
    nack.consumer = consumer
  }

  /** Removes a pending entry from the group and its consumer. */
  acknowledge(group: Group, nack: Nack): void {
    group.pel.delete(nack.id)
    nack.consumer?.pel.delete(nack.id)
    this.size -= ELEMENT_OVERHEAD
  }

  /** Records entry `id` as delivered to `group`: its last ID and read counter move on. */
  delivered(group: Group, id: bigint): void {
    if (id <= group.lastId) return
    if (group.entriesRead !== -1 && !this.tombstonesFrom(id)) group.entriesRead++
    else if (this.entriesAdded > 0) group.entriesRead = this.entriesReadAt(id)
    group.lastId = id
  }

  /** Radix tree keys and nodes (`XINFO STREAM`): the nodes, and the tree Redis builds on them. */
  radixTree(): [keys: number, nodes: number] {
    const keys = this.nodes.map((node) => node.master)
    return [keys.length, keys.length === 0 ? 1 : raxNodes(keys, 0, keys.length, 0)]
  }

  /** The index of the node that would hold `id` (the last whose first ID is at most it), or -1. */
  #nodeAt(id: bigint): number {
    const nodes = this.nodes
    let lo = 0
    let hi = nodes.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((nodes[mid] as Node).master <= id) lo = mid + 1
      else hi = mid
    }
    return lo - 1
  }
}

/** The stream at `key`: `WRONGTYPE` for a key of another type. */
export function streamAt(call: Call, key: string): Entry | undefined {
  return call.store.typed(key, 'stream', call.now)
}

/** Entries as Redis replies them: `[id, [field, value, …]]` each, a deleted one `[id, nil]`. */
export function entries(items: readonly Item[]): Reply[] {
  return items.map((item) => [formatId(item.id), item.fields])
}

/** The stream at `entry`, after a change: its new size counted in the store. */
export function settle(store: Store, entry: Entry): void {
  const stream = entry.value as Stream
  store.grow(entry, stream.size - stream.counted)
  stream.counted = stream.size
}
