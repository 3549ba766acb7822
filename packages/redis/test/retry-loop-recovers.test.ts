// A caller that retries a call in a loop until it succeeds, with no delay between tries, while
// Redis is down: the calls reject at once, and settled in the same turn of the event loop they
// starved it, so the reconnection in the background (its timers, its socket) never ran and the
// loop spun on at 100 % CPU with the server back. The same with a call refused for the bytes in
// flight (`BackpressureError`): the replies that would free them were never read. They now
// reject on the loop's next turn.
import { expect, it } from 'vitest'
import { childJsonLine } from './helpers.ts'

it.each([
  ['standalone', 'set', 'down'],
  ['cluster', 'set', 'down'],
  ['cluster', 'transaction', 'down'],
  ['pool', 'set', 'down'],
  ['pool', 'transaction', 'down'],
  ['standalone', 'set', 'backpressure'],
  ['standalone', 'transaction', 'backpressure'],
  ['standalone', 'blpop', 'backpressure'],
  ['cluster', 'set', 'backpressure'],
])(
  'a retry loop that never waits gets through: %s, %s, %s',
  async (topology, call, obstacle) => {
    const line = await childJsonLine('_retry-loop-child.ts', [topology, call, obstacle])
    const result = JSON.parse(line) as { ok: boolean; tries: number; ms: number }
    expect(result.ok).toBe(true)
  },
  120_000,
)
