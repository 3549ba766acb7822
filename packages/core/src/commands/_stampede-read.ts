// getOrSet's read under `grace` / `earlyRecompute`: the value with its expiry and compute time,
// from the local tier when it holds all of them, else from Redis in one round trip.
import type { CacheContext } from '../_context.ts'
import { decodeSized } from '../_local-size.ts'
import { LocalTier, MISS } from '../_local-tier.ts'
import { readWithMeta } from './_stampede.ts'

/** A value found for getOrSet, with what its stampede options decide on. */
export interface Found {
  value: unknown
  /** Milliseconds to its Redis expiry; `null` when it never expires (or that is unknown). */
  pttl: number | null
  /** The factory's last compute time in ms, when stored. */
  delta: number | undefined
  /** Whether the local tier held it (no round trip). */
  local?: boolean
}

/**
 * The value at `rkey` with its expiry (and compute time when `withDelta`), or `undefined` when
 * it is missing. A local tier answers when it holds the value with that metadata (no round
 * trip); otherwise Redis does (GET + PTTL + the delta companion), and the tier holds the answer.
 */
export async function readForStampede(
  context: CacheContext,
  rkey: string,
  key: string,
  withDelta: boolean,
): Promise<Found | undefined> {
  const tier = context.store instanceof LocalTier ? context.store : undefined
  if (tier === undefined) {
    const read = await readWithMeta(context, rkey, withDelta)
    if (read.raw === null) return undefined
    return { value: context.decode(read.raw, key), pttl: read.pttl, delta: read.delta }
  }
  const held = tier.peekStampede(rkey, withDelta)
  if (held !== undefined) return { ...held, local: true }
  // A key this process wrote lately is read on the primary: a replica may not have the write.
  const readonly = !tier.wroteLately(rkey)
  const read = await tier.readStampede(rkey, async () => {
    const { raw, pttl, persistent, delta } = await readWithMeta(context, rkey, withDelta, readonly)
    if (raw === null) return { value: MISS, pttl, persistent, delta }
    // Measured, so that the tier counts the value as no less than the bytes it was read from.
    const { value, stored } = decodeSized(context, raw, key)
    return { value, pttl, persistent, delta, stored }
  })
  return read.value === MISS ? undefined : read
}
