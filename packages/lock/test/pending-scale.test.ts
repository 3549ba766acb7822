// Many acquisitions pending at once — on a frozen server, or sleeping between tries — all listen
// to one close signal (the cache's). Each must cost the same to start however many are pending:
// an `abort` listener per pending call on the signal made each new one walk all the others
// (Node's EventTarget checks every listener for a duplicate), O(n²) of synchronous time in all.
// Per-call costs are compared, never absolute times: both are measured on the same busy machine.
import { getEventListeners } from 'node:events'
import { standalone } from '@cachex/connections'
import { uniquePrefix } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'
import { delay as sleep } from '../src/_seconds.ts'
import { Lock, Semaphore } from '../src/index.ts'

const { server, closeAfterTest } = useFailureHarness()

/** Pending calls already there when the second cost is measured. */
const MANY = 40_000
/** Calls per measured batch. */
const BATCH = 50
/** Batches measured at each level: the cheapest counts (load only ever makes one slower). */
const TRIES = 20
/** Calls run (and ended) before measuring, so that their code is compiled. */
const WARM = 1_000

/** Starts a call that is to stay pending: it resolves with its outcome, and never rejects. */
type Start = () => Promise<string>

/** How a call ended: `'true'`/`'false'`, or its error's message. */
function outcome(call: Promise<unknown>): Promise<string> {
  return call.then(String, (error: Error) => error.message)
}

/**
 * Starts `BATCH` more calls of `start`, `TRIES` times, and gives the least synchronous time one
 * of them took, in microseconds. The calls stay pending in `pending`.
 */
function cheapestMicros(start: Start, pending: Promise<string>[]): number {
  let best = Number.POSITIVE_INFINITY
  for (let t = 0; t < TRIES; t++) {
    const t0 = performance.now()
    for (let i = 0; i < BATCH; i++) pending.push(start())
    best = Math.min(best, ((performance.now() - t0) * 1000) / BATCH)
  }
  return best
}

/** Starts calls of `start` until `pending` holds `count`, a thousand per macrotask. */
async function fill(start: Start, pending: Promise<string>[], count: number) {
  while (pending.length < count) {
    for (let i = 0; i < 1_000 && pending.length < count; i++) pending.push(start())
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/**
 * The per-call cost of starting calls of `start` with none pending (once `warm` has run the same
 * code, so that it is compiled), and with `MANY` pending.
 */
async function costs(start: Start, pending: Promise<string>[], warm: () => Promise<unknown>) {
  await warm()
  const few = cheapestMicros(start, pending)
  await fill(start, pending, MANY)
  const many = cheapestMicros(start, pending)
  return { few, many }
}

/** The `abort` listeners on `signal`: one at most, however many calls wait on it. */
function listeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length
}

describe('acquisitions pending on one close signal', () => {
  for (const kind of ['lock', 'semaphore'] as const) {
    it(`${kind}: starting one more costs about the same with ${MANY} in flight`, async () => {
      const s = await server()
      // Calls stay in flight on the frozen server (no timeout within the test).
      // No cap on what awaits replies: the 40,000 tries in flight are the point (maxInFlightBytes
      // would refuse those past about 16,000 with a BackpressureError).
      const connection = closeAfterTest(
        standalone({ location: s.url, socketTimeout: 300, maxInFlightBytes: null }),
      )
      const closing = new AbortController()
      const signal = closing.signal
      // One hash slot for every key: `runScript` sends a script as EVAL once per slot, as
      // EVALSHA after, so that the tries measured all weigh the same.
      const name = `{${uniquePrefix(kind)}}`
      let n = 0
      const make = (): Lock | Semaphore =>
        kind === 'lock'
          ? new Lock(connection, `${name}:${n++}`, { timeout: 5, signal })
          : new Semaphore(connection, `${name}:${n++}`, { limit: 2, timeout: 5, signal })
      const start = (): Promise<string> => outcome(make().acquire({ blocking: false }))
      // Acquisitions answered and released, gone from the signal: the code is compiled, and
      // both scripts (the release is what `close()` sends for each try in flight) have run.
      const warm = async () => {
        for (let i = 0; i < WARM / 250; i++) {
          const made = Array.from({ length: 250 }, make)
          const taken = await Promise.all(made.map((one) => one.acquire({ blocking: false })))
          expect(new Set(taken)).toEqual(new Set([true]))
          await Promise.all(made.map((one) => one.release()))
        }
        s.pause()
      }
      const pending: Promise<string>[] = []
      let measured: { few: number; many: number }
      let listening: number
      try {
        measured = await costs(start, pending, warm)
        listening = listeners(signal)
      } finally {
        s.resume()
        // The cache closing: every try in flight is undone, and rejects with the reason.
        closing.abort(new Error('closed'))
      }
      expect(new Set(await Promise.all(pending))).toEqual(new Set(['closed']))
      console.log(
        kind,
        `µs per call, few pending: ${measured.few.toFixed(1)}, ${MANY}: ${measured.many.toFixed(1)}`,
      )
      expect(measured.many).toBeLessThan(measured.few * 4)
      expect(listening).toBeLessThanOrEqual(1)
    }, 180_000)
  }

  it(`a sleep between tries costs about the same with ${MANY} sleeping`, async () => {
    const closing = new AbortController()
    const pending: Promise<string>[] = []
    const sleeping = (signal: AbortSignal) => outcome(sleep(600_000, signal).then(() => 'woken'))
    const start = () => sleeping(closing.signal)
    // Sleeps on a signal of their own, woken: the code compiled.
    const warm = async () => {
      const other = new AbortController()
      const woken = Array.from({ length: WARM }, () => sleeping(other.signal))
      other.abort(new Error('closed'))
      await Promise.all(woken)
    }
    let measured: { few: number; many: number }
    let listening: number
    try {
      measured = await costs(start, pending, warm)
      listening = listeners(closing.signal)
    } finally {
      // The cache closing wakes every sleeper.
      closing.abort(new Error('closed'))
    }
    // Each sleeper rejected with the signal's reason, none woke by its timer.
    expect(new Set(await Promise.all(pending))).toEqual(new Set(['closed']))
    console.log(
      `sleep µs per call, few pending: ${measured.few.toFixed(1)}, ${MANY}: ${measured.many.toFixed(1)}`,
    )
    expect(measured.many).toBeLessThan(measured.few * 4)
    expect(listening).toBeLessThanOrEqual(1)
  }, 180_000)
})
