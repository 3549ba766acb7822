// Hit rate over time: the cache's `hit` and `miss` events counted in 10-second buckets, the last
// hour kept in a fixed ring (no timer: a bucket moves on when an event or a reader comes).
import type { Cache } from '@cachex/core'
import type { HitBucket } from './_api-types.ts'

/** Seconds per bucket. */
export const BUCKET_SECONDS = 10
/** Buckets kept: one hour. */
const BUCKETS = 360
const BUCKET_MS = BUCKET_SECONDS * 1000

type Listen = (event: string, listener: () => void) => unknown

/** The hits and misses of one cache. */
export class HitRing {
  readonly #hits = new Float64Array(BUCKETS)
  readonly #misses = new Float64Array(BUCKETS)
  /** The bucket number (ms / BUCKET_MS) of the newest slot, -1 before the first event. */
  #newest = -1
  readonly #stops: Array<() => void> = []
  /** Whether the cache emits `hit` / `miss` events (`cache.on`). */
  readonly available: boolean

  constructor(cache: Cache) {
    const on = (cache as unknown as { on?: Listen }).on
    const off = (cache as unknown as { off?: Listen }).off
    this.available = typeof on === 'function'
    if (typeof on !== 'function') return
    for (const event of ['hit', 'miss'] as const) {
      const listener =
        event === 'hit' ? () => this.#count(this.#hits) : () => this.#count(this.#misses)
      const stop = on.call(cache, event, listener)
      this.#stops.push(
        typeof stop === 'function'
          ? (stop as () => void)
          : () => {
              if (typeof off === 'function') off.call(cache, event, listener)
            },
      )
    }
  }

  #advance(now: number): number {
    const bucket = Math.floor(now / BUCKET_MS)
    if (this.#newest === -1) this.#newest = bucket
    if (bucket > this.#newest) {
      // Empty the slots of the buckets skipped over (all of them after an hour of silence).
      const steps = Math.min(bucket - this.#newest, BUCKETS)
      for (let i = 1; i <= steps; i++) {
        const slot = (this.#newest + i) % BUCKETS
        this.#hits[slot] = 0
        this.#misses[slot] = 0
      }
      this.#newest = bucket
    }
    return bucket
  }

  #count(series: Float64Array): void {
    const bucket = this.#advance(Date.now())
    const slot = bucket % BUCKETS
    series[slot] = (series[slot] as number) + 1
  }

  /** The buckets of the last hour, oldest first (empty before the first event). */
  series(now = Date.now()): HitBucket[] {
    if (this.#newest === -1) return []
    const newest = this.#advance(now)
    const out: HitBucket[] = []
    for (let b = newest - BUCKETS + 1; b <= newest; b++) {
      const slot = ((b % BUCKETS) + BUCKETS) % BUCKETS
      out.push({ t: b * BUCKET_MS, hits: this.#hits[slot] ?? 0, misses: this.#misses[slot] ?? 0 })
    }
    // Leading empty buckets say nothing: start at the first one with an event.
    const first = out.findIndex((b) => b.hits > 0 || b.misses > 0)
    return first === -1 ? out.slice(-1) : out.slice(first)
  }

  /** Stops listening. */
  stop(): void {
    for (const stop of this.#stops.splice(0)) stop()
  }
}
