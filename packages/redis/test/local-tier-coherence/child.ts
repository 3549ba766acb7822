// One process of the local tier's coherence tests (local-tier-coherence.test.ts). Modes:
//   set <where> <prefix> <key> <json>        writes one value (no local tier), prints "done", exits
//   writer <where> <prefix> <id> <keys> <ms> <seed>
//   reader <where> <prefix> <id> <keys> <ms> <seed>
// <where> is a URL, or the JSON of createCache's connection options (`{"client":"cluster",...}`).
// A writer or a reader holds a local tier, prints "ready" once its tracking connection is up,
// waits for a line on stdin, then works for <ms> milliseconds and prints one JSON line of what
// it did (`Report`), then exits. A writer writes "<id>:<n>" (n increasing) to a random key in
// bursts separated by quiet spells, and reads each key back after writing it (read-after-write:
// it must never read a value of its own older than the one it wrote). A reader runs two tasks
// reading random keys, logging when each read started and ended (Date.now(), the clock every
// process shares).

import { setImmediate as tick } from 'node:timers/promises'
import { createCache } from '@cachex/redis'
import { seededRandom } from '@cachex/test-utils'

/** One write or read: key, value, start and end (ms since the epoch). */
export type Op = [key: string, value: string | null, start: number, end: number]

/** What a writer or a reader prints at the end. */
export interface Report {
  ops: Op[]
  /** Read-after-write violations: [key, written, read back]. */
  violations: Array<[string, string, string | null]>
  hits: number
  misses: number
  errors: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const [mode, where, keyPrefix, ...rest] = process.argv.slice(2)

/** Where this child is, for the watchdog's message. */
let stage = 'starting'
// A child that has not finished in 90 s (its work takes seconds) says where it stopped and exits,
// so that the test fails with that message instead of waiting for its own timeout.
setTimeout(() => {
  process.stderr.write(`coherence child (${process.argv.slice(2, 3).join(' ')}): stuck ${stage}\n`)
  process.exit(4)
}, 90_000).unref()
/** How to reach the topology: createCache's connection options. */
const connection = (where as string).startsWith('{')
  ? (JSON.parse(where as string) as object)
  : { location: where as string }

if (mode === 'set') {
  const [key, json] = rest as [string, string]
  const cache = createCache({ ...connection, keyPrefix })
  await cache.set(key, JSON.parse(json), 300)
  await cache.close()
  process.stdout.write('done\n')
} else if (mode === 'writer' || mode === 'reader') {
  const [id, keyList, ms, seed] = rest as [string, string, string, string]
  const keys = keyList.split(',')
  const rand = seededRandom(Number(seed))
  const pick = () => keys[Math.floor(rand() * keys.length)] as string
  const cache = createCache({ ...connection, keyPrefix, local: {} })
  // Open the tier and wait until its tracking connection is up.
  stage = 'at its first read'
  await cache.get('warm-up')
  stage = 'waiting for its tracking connection'
  while (cache.localStats()?.tracking !== true) await sleep(10)
  process.stdout.write('ready\n')
  stage = "waiting for the test's go"
  await new Promise((resolve) => process.stdin.once('data', resolve))
  stage = 'working'
  const report: Report = { ops: [], violations: [], hits: 0, misses: 0, errors: 0 }
  const until = Date.now() + Number(ms)
  if (mode === 'writer') {
    let n = 0
    while (Date.now() < until) {
      // A burst of writes, then a quiet spell long enough for a stale entry to be seen.
      const burst = 5 + Math.floor(rand() * 20)
      for (let i = 0; i < burst && Date.now() < until; i++) {
        const key = pick()
        const value = `${id}:${++n}`
        const start = Date.now()
        try {
          await cache.set(key, value, 300)
        } catch {
          report.errors++
          continue
        }
        report.ops.push([key, value, start, Date.now()])
        const back = (await cache.get(key)) as string | null
        const [who, m] = String(back).split(':')
        if (back === null || (who === id && Number(m) < n)) {
          report.violations.push([key, value, back])
        }
        await sleep(Math.floor(rand() * 15))
      }
      await sleep(2000 + Math.floor(rand() * 1000))
    }
  } else {
    // Two reading tasks sharing the process's tier, each with its own random sequence.
    const task = async (next: () => number) => {
      while (Date.now() < until) {
        const key = keys[Math.floor(next() * keys.length)] as string
        const start = Date.now()
        // Let the event loop read what is waiting on the sockets (invalidations that arrived
        // before `start`): a read is then judged against what the server had at `start`.
        await tick()
        try {
          const value = (await cache.get(key)) as string | null
          report.ops.push([key, value, start, Date.now()])
        } catch {
          report.errors++
        }
        if (next() < 0.5) await sleep(1)
      }
    }
    await Promise.all([task(rand), task(seededRandom(Number(seed) + 7919))])
  }
  const stats = cache.localStats()
  report.hits = stats?.hits ?? 0
  report.misses = stats?.misses ?? 0
  stage = `closing the cache (stats: ${JSON.stringify(stats)})`
  await cache.close()
  stage = 'closed, yet still running (a connection left open?)'
  process.stdout.write(`${JSON.stringify(report)}\n`)
  process.stdin.destroy()
} else {
  process.stderr.write(`unknown mode ${mode}\n`)
  process.exit(2)
}
