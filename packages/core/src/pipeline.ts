// The public types of `cache.pipeline()` and `cache.transaction()`; the implementation is
// `_pipeline.ts` (the families) and `_pipeline-standard.ts` (the standard API).

import type { CacheApi } from './_cache-api.ts'
import type { FAMILY_METHODS } from './_pipeline.ts'
import type { CachexError } from './errors.ts'

/**
 * The cache methods a pipeline queues. Left out, because they need more than one round trip or a
 * decision in the process between commands: `getOrSet`, locks and semaphores, `keys`, `iterKeys`,
 * `deletePattern`, `clear`, `clearAllVersions`, the scans (`hscan`, `sscan`, `zscan`), the
 * blocking commands (`blpop`, `brpop`, `blmove`; `xread`/`xreadgroup` with `block` fail their
 * entry), `incrVersion`/`decrVersion`, `info` and `slowlog*`.
 */
export type PipelineMethod =
  | 'get'
  | 'set'
  | 'add'
  | 'delete'
  | 'getMany'
  | 'setMany'
  | 'deleteMany'
  | 'hasKey'
  | 'incr'
  | 'decr'
  | 'touch'
  | 'ttl'
  | 'pttl'
  | 'expire'
  | 'pexpire'
  | 'expireAt'
  | 'pexpireAt'
  | 'persist'
  | 'rename'
  | 'renamenx'
  | (typeof FAMILY_METHODS)[number]

/** Each result of `exec()`: the method's result, or the error it would have rejected with. */
export type PipelineResults<Results extends readonly unknown[]> = {
  -readonly [K in keyof Results]: Results[K] | CachexError
}

/**
 * The method `F` (up to six overloads, `set`'s count) queueing its result onto `Results`. With
 * fewer, TypeScript infers the excess ones from the first overload: repeats, which change nothing.
 */
type Queue<F, IgnoreErrors extends boolean, Results extends unknown[]> = F extends {
  (...args: infer A1): Promise<infer R1>
  (...args: infer A2): Promise<infer R2>
  (...args: infer A3): Promise<infer R3>
  (...args: infer A4): Promise<infer R4>
  (...args: infer A5): Promise<infer R5>
  (...args: infer A6): Promise<infer R6>
}
  ? ((...args: A1) => Pipeline<IgnoreErrors, [...Results, R1]>) &
      ((...args: A2) => Pipeline<IgnoreErrors, [...Results, R2]>) &
      ((...args: A3) => Pipeline<IgnoreErrors, [...Results, R3]>) &
      ((...args: A4) => Pipeline<IgnoreErrors, [...Results, R4]>) &
      ((...args: A5) => Pipeline<IgnoreErrors, [...Results, R5]>) &
      ((...args: A6) => Pipeline<IgnoreErrors, [...Results, R6]>)
  : never

/**
 * Cache methods queued to be sent together: `cache.pipeline()` (one round trip; one per node on a
 * cluster, in parallel) or `cache.transaction()` (one `MULTI … EXEC`). Each method takes the
 * method's arguments, queues its commands (keys prefixed and versioned, values encoded, as the
 * method does) and returns the pipeline, for chaining. `exec()` sends them and resolves one
 * result per call, in order, typed from the calls: what the method would resolve, or the
 * `CachexError` it would reject with (under `ignoreExceptions`, the method's fallback where it
 * would resolve one). A method's generic type parameters (`get<T>`) are `unknown` here.
 *
 * ```ts
 * const [user, hits] = await cache.pipeline().get('user:42').incr('hits').exec()
 * ```
 */
export type Pipeline<IgnoreErrors extends boolean = boolean, Results extends unknown[] = []> = {
  [M in PipelineMethod]: Queue<CacheApi<IgnoreErrors>[M], IgnoreErrors, Results>
} & {
  /** Whether this is a transaction (`cache.transaction()`). */
  readonly transaction: boolean
  /** How many calls are queued. */
  readonly length: number
  /**
   * Sends the queued commands and resolves one result per call, in order. Rejects only when
   * nothing ran: the connection is down or closed (under `ignoreExceptions` every call resolves
   * its fallback instead), or a transaction was refused as a whole (a command Redis refused while
   * queueing, keys in several cluster slots). A pipeline is sent once.
   */
  exec(): Promise<PipelineResults<Results>>
}
