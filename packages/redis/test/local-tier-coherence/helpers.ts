// Child processes of the local tier's coherence tests, and the check of a history of reads
// against the writes that made it.

import { fileURLToPath } from 'node:url'
import type { Cache } from '@cachex/redis'
import { delay, type ScriptChild, startScript } from '@cachex/test-utils'
import type { Op, Report } from './child.ts'

export type { Op, Report } from './child.ts'

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url))

/**
 * Waits until `check` holds (a check that throws, such as a read while the connection is still
 * reconnecting, does not hold yet); bounded only against hangs.
 */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  ms = 60_000,
): Promise<void> {
  const until = Date.now() + ms
  const holds = async () => {
    try {
      return await check()
    } catch {
      return false
    }
  }
  while (!(await holds())) {
    if (Date.now() > until) throw new Error('condition not met in time')
    await delay(10)
  }
}

/**
 * Reads `key` until it reads `expected` (compared as JSON); bounded only against hangs. When it
 * never does, the error says what the last reads returned and whether the tier served them.
 */
export async function readsBack(
  cache: Cache,
  key: string,
  expected: unknown,
  ms = 60_000,
): Promise<void> {
  const want = JSON.stringify(expected)
  try {
    await eventually(async () => JSON.stringify(await cache.get(key)) === want, ms)
  } catch {
    const last: string[] = []
    for (let i = 0; i < 3; i++) {
      const hits = cache.localStats()?.hits ?? 0
      const value = await cache.get(key).catch((error: Error) => `error ${error.message}`)
      const from = cache.localStats()?.hits === hits + 1 ? 'tier' : 'redis'
      last.push(`${JSON.stringify(value)} (${from})`)
    }
    const stats = JSON.stringify(cache.localStats())
    throw new Error(
      `${key} never read ${want} in ${ms} ms: last reads ${last.join(', ')}; ${stats}`,
    )
  }
}

/** Reads `key` until a read is served by the tier; the value. */
export async function held(cache: Cache, key: string): Promise<unknown> {
  let value: unknown
  await eventually(async () => {
    const before = cache.localStats()?.hits ?? 0
    value = await cache.get(key)
    return cache.localStats()?.hits === before + 1
  })
  return value
}

/** A running child.ts. */
export type Child = ScriptChild

/** Starts child.ts with `args` (its mode first). */
export function startChild(args: string[]): Child {
  return startScript(CHILD, args, ROOT)
}

/** The report a writer or reader printed (its last line, a JSON object). */
export async function report(child: Child): Promise<Report> {
  return JSON.parse(await child.line('{')) as Report
}

/** A read that returned a value not current at any instant of [start - allowance, end]. */
export interface StaleRead {
  read: Op
  /** The write of the value read (undefined: a value nobody wrote). */
  write: Op | undefined
  /** The latest instant the value read may still have been current. */
  currentUntil: number
}

/**
 * Checks reads against writes, key by key. A write is a [key, value, start, ack] interval; its
 * value may be current from its start until the ack of the first write that started after its
 * own ack (a write certainly ordered after it by the server), or for ever when there is none.
 * A read [key, value, start, end] is good when its value's write started before the read
 * ended and may still have been current at `start - allowance` or later: linearizable per key
 * modulo an invalidation delay of `allowance` ms. Values must be unique per key.
 */
export function staleReads(writes: readonly Op[], reads: readonly Op[], allowance: number) {
  const byKey = new Map<string, Op[]>()
  for (const write of writes) {
    const list = byKey.get(write[0]) ?? []
    list.push(write)
    byKey.set(write[0], list)
  }
  // For each write, the ack of the first write of its key certainly ordered after it.
  const currentUntil = new Map<string, number>()
  for (const [key, list] of byKey) {
    const byStart = [...list].sort((a, b) => a[2] - b[2])
    // Suffix minimum of acks, over writes sorted by start.
    const minAck: number[] = new Array(byStart.length + 1).fill(Number.POSITIVE_INFINITY)
    for (let i = byStart.length - 1; i >= 0; i--) {
      minAck[i] = Math.min(minAck[i + 1] as number, (byStart[i] as Op)[3])
    }
    for (const write of list) {
      // The first write starting strictly after this one's ack.
      let lo = 0
      let hi = byStart.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if ((byStart[mid] as Op)[2] > write[3]) hi = mid
        else lo = mid + 1
      }
      currentUntil.set(`${key}\0${write[1]}`, minAck[lo] as number)
    }
  }
  const stale: StaleRead[] = []
  const index = new Map(writes.map((w) => [`${w[0]}\0${w[1]}`, w]))
  for (const read of reads) {
    const id = `${read[0]}\0${read[1]}`
    const write = index.get(id)
    const until = currentUntil.get(id) ?? Number.NEGATIVE_INFINITY
    if (write === undefined || write[2] > read[3] || until < read[2] - allowance) {
      stale.push({ read, write, currentUntil: until })
    }
  }
  return stale
}
