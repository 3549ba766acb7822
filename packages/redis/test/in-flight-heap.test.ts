// `maxInFlightBytes` bounds the heap that calls awaiting replies hold, small ones too: against a
// paused server, gets issued without end are refused (`BackpressureError`) once the default cap
// (32 MiB) is reached, with the heap grown by about that much — not only once the process runs
// out of memory. Each get is weighed as what it holds (`COMMAND_OVERHEAD`), and each caller of a
// coalesced `MGET` counts (`CommandRoute.callers`), not just its key, as each `set` gathered into
// one `MSET` or script does. Run in a child process with
// a 256 MB heap (see _in-flight-heap-child.ts): without the cap on them, it dies.
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import { childJsonLine } from './helpers.ts'

let server: RedisServer | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

type Mode = 'on' | 'off' | 'set' | 'hot' | 'incr' | 'getmany'

/** The child's JSON line, or its output when it printed none (it ran out of memory). */
function run(location: string, mode: Mode): Promise<string> {
  return childJsonLine('./_in-flight-heap-child.ts', [location, mode], ['--max-old-space-size=256'])
}

describe('maxInFlightBytes against a paused server, 256 MB of heap', () => {
  const names: Record<Mode, string> = {
    on: 'coalesceReads on: gets',
    off: 'coalesceReads off: gets',
    set: 'sets of one tick (gathered)',
    hot: "gets of one hot key (one GET answers a tick's)",
    incr: 'incrs over 1,000 keys (gathered)',
    getmany: 'getManys of the same two keys (one MGET shared)',
  }
  for (const mode of ['on', 'off', 'set', 'hot', 'incr', 'getmany'] as const) {
    const calls = names[mode]
    it(`${calls} are refused with a BackpressureError before the heap grows past 80 MB`, async () => {
      server = await startRedis()
      const out = await run(server.url, mode)
      expect(out).not.toContain('out of memory')
      const { refused, other, grownMB } = JSON.parse(out) as {
        refused: number
        other: string
        grownMB: number
      }
      expect(other).toBe('')
      // Thousands of calls still fit under the default cap…
      expect(refused).toBeGreaterThan(10_000)
      // …and what they hold is about the cap, not the whole heap.
      expect(grownMB).toBeLessThan(80)
    }, 120_000)
  }
})
