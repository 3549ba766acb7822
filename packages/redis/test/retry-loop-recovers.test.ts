// A caller that retries a call in a loop until it succeeds, with no delay between tries, while
// Redis is down: the calls reject at once, and settled in the same turn of the event loop they
// starved it, so the reconnection in the background (its timers, its socket) never ran and the
// loop spun on at 100 % CPU with the server back. They now reject on the loop's next turn: a
// standalone connection known down, and a cluster node known down.
import { expect, it } from 'vitest'
import { childJsonLine } from './helpers.ts'

it.each(['standalone', 'cluster'])(
  'a retry loop that never waits gets its call through once Redis is back (%s)',
  async (mode) => {
    const line = await childJsonLine('_retry-loop-child.ts', [mode])
    const result = JSON.parse(line) as { ok: boolean; tries: number; ms: number }
    expect(result.ok).toBe(true)
  },
  120_000,
)
