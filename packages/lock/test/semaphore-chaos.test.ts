// Processes that are killed while they hold permits: 6 node processes loop try / hold / release
// on one semaphore (limit 3, weights 1 and 2, timeout 1 s), and the test SIGKILLs some of them
// in the middle of a hold. From what each process printed, with the machine's clock (which the
// Redis server on the same machine shares), it rebuilds every hold as an interval that lies
// inside the true one, counting a killed holder as inside until its permit's timeout, and checks
// that the weights inside never added up to more than the limit.
import { fileURLToPath } from 'node:url'
import {
  delay,
  type RedisServer,
  type ScriptChild,
  startRedis,
  startScript,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CHILD = fileURLToPath(new URL('./semaphore-chaos/child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
  await server?.stop()
})

/** One hold, as an interval of the machine's clock in ms, and the permits it took. */
interface Hold {
  from: number
  to: number
  weight: number
}

/**
 * The holds a process printed. Each recorded interval lies inside the true hold: `enter` is
 * stamped after the server admitted it, the end before the release was sent, and a hold that did
 * not end in a confirmed release (killed, or dropped while paused) ends at the latest when its
 * permits expire: `timeout` after the try was sent, which is before the server stamped it.
 */
function holdsOf(lines: readonly string[], weight: number, timeoutMs: number): Hold[] {
  const holds: Hold[] = []
  let open: { start: number; from: number; leaving?: number } | undefined
  const close = (ok: boolean) => {
    if (open === undefined) return
    const expiry = open.start + timeoutMs
    const to = ok ? (open.leaving as number) : Math.min(open.leaving ?? expiry, expiry)
    holds.push({ from: open.from, to, weight })
    open = undefined
  }
  for (const line of lines) {
    const [kind, a, b] = line.split(' ')
    if (kind === 'enter') {
      close(false)
      open = { start: Number(a), from: Number(b) }
    } else if (kind === 'leaving' && open !== undefined) {
      open.leaving = Number(a)
    } else if (kind === 'left') {
      close(a === 'ok')
    }
  }
  close(false)
  return holds
}

/**
 * The most permits held at one moment. At equal times an end counts before a start: a release
 * stamped in the same millisecond as an admission happened before it.
 */
function mostInside(holds: readonly Hold[]): number {
  const events = holds.flatMap((h) => [
    { at: h.from, delta: h.weight },
    { at: h.to, delta: -h.weight },
  ])
  events.sort((x, y) => x.at - y.at || x.delta - y.delta)
  let inside = 0
  let most = 0
  for (const e of events) {
    inside += e.delta
    most = Math.max(most, inside)
  }
  return most
}

describe('the checker', () => {
  it('finds an overlap beyond the limit, and counts a killed holder until its timeout', () => {
    expect(
      mostInside([
        { from: 0, to: 10, weight: 2 },
        { from: 10, to: 20, weight: 2 },
      ]),
    ).toBe(2)
    expect(
      mostInside([
        { from: 0, to: 11, weight: 2 },
        { from: 10, to: 20, weight: 2 },
      ]),
    ).toBe(4)
    // killed mid-hold: inside from its admission until 1000 ms after its try was sent
    const killed = holdsOf(['ready', 'enter 100 105'], 2, 1000)
    expect(killed).toEqual([{ from: 105, to: 1100, weight: 2 }])
    // killed while releasing: the release may have run, so it ends when it was sent
    expect(holdsOf(['enter 100 105', 'leaving 150'], 1, 1000)).toEqual([
      { from: 105, to: 150, weight: 1 },
    ])
    // a release that found the permits dropped: at most until the timeout
    expect(holdsOf(['enter 100 105', 'leaving 3000', 'left lost'], 1, 1000)).toEqual([
      { from: 105, to: 1100, weight: 1 },
    ])
    expect(holdsOf(['enter 100 105', 'leaving 3000', 'left ok'], 1, 1000)).toEqual([
      { from: 105, to: 3000, weight: 1 },
    ])
  })
})

describe('holders killed mid-hold', () => {
  it('never more than limit permits held, and dead holders’ permits come back', async () => {
    const name = uniquePrefix('chaos')
    const limit = 3
    const timeoutS = 1
    const timeoutMs = timeoutS * 1000
    // 4 processes of 2 holders each: 8 holders wanting 11 permits of 3
    const weights = [
      [1, 2],
      [1, 1],
      [2, 1],
      [1, 2],
    ]
    const children: ScriptChild[] = weights.map((w) =>
      startScript(
        CHILD,
        [server.url, name, String(limit), w.join(','), String(timeoutS), '15', '90'],
        ROOT,
      ),
    )
    const victims = new Set([0, 2])
    /** The holds each holder printed, by process then holder. */
    const linesOf = (child: ScriptChild, holder: number) =>
      child.lines.filter((l) => l.startsWith(`${holder} `)).map((l) => l.slice(2))
    const holdingNow = (child: ScriptChild) =>
      [0, 1].some((h) => linesOf(child, h).at(-1)?.startsWith('enter'))
    try {
      await Promise.all(children.map((c) => c.line('ready')))
      for (const c of children) c.process.stdin?.write('go\n')
      // Kill the victims one at a time, each the moment one of its holders is seen holding.
      const started = Date.now()
      for (const index of victims) {
        await delay(200 + Math.random() * 300)
        const child = children[index] as ScriptChild
        while (!holdingNow(child)) {
          if (Date.now() - started > 60_000) throw new Error(`child ${index} never held permits`)
          await delay(1)
        }
        child.process.kill('SIGKILL')
        await child.exited
      }
      // The survivors keep going past the dead holders' timeouts.
      await delay(timeoutMs + 1000)
      for (const [i, c] of children.entries()) if (!victims.has(i)) c.process.stdin?.write('stop\n')
      for (const [i, c] of children.entries()) if (!victims.has(i)) expect(await c.exited).toBe(0)
    } finally {
      for (const c of children) if (c.process.exitCode === null) c.process.kill('SIGKILL')
    }

    const holds = children.flatMap((c, i) =>
      [0, 1].flatMap((h) => holdsOf(linesOf(c, h), weights[i]?.[h] as number, timeoutMs)),
    )
    expect(mostInside(holds)).toBeLessThanOrEqual(limit)
    // The semaphore was contended: it was (nearly) full at some moment.
    expect(mostInside(holds)).toBeGreaterThanOrEqual(limit - 1)
    // A victim died holding permits. (Each was killed while its last line said it held them, but
    // it may have released them, and said so, between that look and the signal: a race of the
    // test, not of the semaphore. One dead holder is enough for the check below.)
    expect([...victims].some((i) => holdingNow(children[i] as ScriptChild))).toBe(true)
    // The dead holders' permits came back: had they been held for ever, the survivors' later
    // holds would have put more than the limit inside.
    const deadForever = children.flatMap((c, i) =>
      [0, 1].flatMap((h) => {
        const lines = linesOf(c, h)
        const all = holdsOf(lines, weights[i]?.[h] as number, timeoutMs)
        const died = victims.has(i) && lines.at(-1)?.startsWith('enter')
        return died
          ? all.map((hold, k) => (k === all.length - 1 ? { ...hold, to: Infinity } : hold))
          : all
      }),
    )
    expect(mostInside(deadForever)).toBeGreaterThan(limit)
  }, 120_000)
})
