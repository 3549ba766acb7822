// What the in-memory store counts for a key, an element and a collection besides their data
// (`maxBytes` bounds the count): what each holds in V8's heap, measured, so that the bound is
// about the heap the store takes.
import type { Kind } from './_expiries.ts'

/**
 * Bytes counted for a key besides its data: what this store holds for one in V8's heap, measured
 * (a string key of 13 characters and a 5-byte value: 199 bytes of heap, 286 with an expiry), so
 * that `maxBytes` bounds the heap the store takes, about (Redis's own overhead is smaller).
 */
export const KEY_OVERHEAD = 192
/**
 * Bytes counted per element of a hash, list, set, sorted set or stream besides its data, measured
 * as `KEY_OVERHEAD` (a hash field of 10 characters and a 6-byte value: 94 bytes of heap).
 */
export const ELEMENT_OVERHEAD = 64
/**
 * Bytes counted for a collection besides `KEY_OVERHEAD` and its elements: its own structures in
 * V8's heap, measured on 100,000 collections of one element (a stream: 1,204 bytes of heap each; a
 * sorted set 610; a list 401; a hash 345).
 */
export const CONTAINER_OVERHEAD: Readonly<Record<Kind, number>> = {
  string: 0,
  hash: 64,
  list: 128,
  set: 64,
  zset: 320,
  stream: 832,
}
