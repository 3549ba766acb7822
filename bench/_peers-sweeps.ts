// The three sweeps of `pnpm bench:peers`: how throughput grows with the work, for cachex beside
// raw node-redis (timeout 0) and ioredis. Each point is the median of PEERS_SWEEP_ROUNDS rounds,
// libraries interleaved; each sweep is written as an SVG chart and returned as a markdown table.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Order, Report, Workload } from './_peers-child.ts'
import type { Library } from './_peers-libs.ts'
import { lineChart, short } from './_svg.ts'

/** A child process running one library. */
export interface Peer {
  library: Library
  has: Workload[]
  /** False once the child failed, exited or did not answer: it is left out from then on. */
  readonly alive: boolean
  /** Runs `order`; resolves undefined (and says why) when the child failed. */
  ask(order: Order): Promise<Extract<Report, { kind: 'result' }> | undefined>
  exit(): Promise<void>
}

/** Median, min and max of `values`. */
export function stats(values: number[]): { median: number; min: number; max: number } {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  const median =
    s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
  return { median, min: s[0] as number, max: s[s.length - 1] as number }
}

/** 1,234,567 / 12.3 */
export const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1))

const ROUNDS = Number(process.env.PEERS_SWEEP_ROUNDS ?? 3)
const MS = Number(process.env.PEERS_SWEEP_MS ?? 300)
const LIBS: Library[] = ['cachex', 'raw node-redis (timeout 0)', 'ioredis']
/**
 * Minor page faults per call above which (and above 3× the fewest of any library at that point)
 * a point is flagged: the child was handing memory back
 * to the kernel and taking it again on every call (glibc trimming its heap after V8 freed the
 * reply buffers on another thread, or V8 mapping and unmapping heap pages; seen with `strace`).
 * A child in that state reads 100 KB values at a third to a half of its rate, whichever library
 * it runs; which child falls into it changes from run to run.
 */
const FAULTS_FLAGGED = 5
/** Operations in flight in the value-size and batch-size sweeps. */
const IN_FLIGHT = 10

interface Sweep {
  file: string
  title: string
  workload: Workload
  xLabel: string
  yLabel: string
  xs: number[]
  inFlight: (x: number) => number
  /** The plotted quantity from calls per second at x. */
  y: (callsPerSecond: number, x: number) => number
  xTick?: (x: number) => string
}

const bytes = (n: number) => (n >= 1e6 ? `${n / 1e6} MB` : n >= 1e3 ? `${n / 1e3} KB` : `${n} B`)

const SWEEPS: Sweep[] = [
  {
    file: 'peers-value-size.svg',
    title: `get: throughput against value size (${IN_FLIGHT} in flight)`,
    workload: 'size',
    xLabel: 'value size (bytes of JSON)',
    yLabel: 'MB/s of values read',
    xs: [100, 1e3, 1e4, 1e5, 1e6, 1e7],
    inFlight: () => IN_FLIGHT,
    y: (rate, x) => (rate * x) / 1e6,
    xTick: bytes,
  },
  {
    file: 'peers-batch-size.svg',
    title: `getMany: throughput against batch size (${IN_FLIGHT} in flight)`,
    workload: 'batch',
    xLabel: 'keys per call (~100 B each)',
    yLabel: 'keys/s',
    xs: [1, 10, 100, 1e3, 1e4],
    inFlight: () => IN_FLIGHT,
    y: (rate, x) => rate * x,
  },
  {
    file: 'peers-in-flight.svg',
    title: 'get ~100 B: throughput against operations in flight',
    workload: 'in flight',
    xLabel: 'operations in flight',
    yLabel: 'ops/s',
    xs: [1, 10, 100, 1e3],
    inFlight: (x) => x,
    y: (rate) => rate,
  },
]

/** Runs the sweeps on the peers among LIBS; writes the SVGs into `dir`; returns markdown. */
export async function sweeps(all: Peer[], dir: string): Promise<string> {
  const peers = all.filter((p) => LIBS.includes(p.library))
  const out: string[] = []
  for (const sweep of SWEEPS) {
    const runners = peers.filter((p) => p.alive && p.has.includes(sweep.workload))
    const ys = new Map<Library, number[]>()
    const flagged: string[] = []
    process.stdout.write(`sweep ${sweep.file}:`)
    for (const x of sweep.xs) {
      const rates = new Map<Library, number[]>()
      const faults = new Map<Library, number[]>()
      const inFlight = sweep.inFlight(x)
      for (const p of runners) {
        await p.ask({
          kind: 'run',
          workload: sweep.workload,
          ms: MS / 3,
          inFlight,
          param: x,
          prepare: true,
        })
      }
      for (let round = 0; round < ROUNDS; round++) {
        for (let i = 0; i < runners.length; i++) {
          const p = runners[(i + round) % runners.length] as Peer
          const r = await p.ask({
            kind: 'run',
            workload: sweep.workload,
            ms: MS,
            inFlight,
            param: x,
          })
          if (!r) continue
          if (r.invalid + r.errors > 0)
            console.log(
              `\n${p.library} at ${x}: ${r.invalid} wrong, ${r.errors} errors${r.firstError ? ` (${r.firstError})` : ''}`,
            )
          rates.set(p.library, [...(rates.get(p.library) ?? []), r.ok / r.seconds])
          faults.set(p.library, [...(faults.get(p.library) ?? []), r.faults / Math.max(1, r.ok)])
        }
      }
      for (const p of runners) {
        const y = sweep.y(stats(rates.get(p.library) ?? [0]).median, x)
        ys.set(p.library, [...(ys.get(p.library) ?? []), y])
      }
      // Values of 1 MB and more are mapped fresh for every library alike (hundreds of faults a
      // call each): a point is flagged only for a child that faults where another does not.
      const perCall = runners.map((p) => stats(faults.get(p.library) ?? [0]).median)
      const least = Math.min(...perCall)
      runners.forEach((p, i) => {
        const n = perCall[i] as number
        if (n > FAULTS_FLAGGED && n > 3 * least)
          flagged.push(
            `${p.library} at ${(sweep.xTick ?? short)(x)}: ${n.toFixed(1)} page faults a call (median of the rounds; the fewest at that point ${least.toFixed(1)})`,
          )
      })
      process.stdout.write(` ${short(x)}`)
    }
    process.stdout.write('\n')
    const svg = lineChart({
      title: sweep.title,
      xLabel: sweep.xLabel,
      yLabel: sweep.yLabel,
      xTick: sweep.xTick,
      series: runners.map((p) => ({
        name: p.library,
        points: sweep.xs.map((x, i) => [x, ys.get(p.library)?.[i] ?? 0] as [number, number]),
      })),
    })
    writeFileSync(join(dir, sweep.file), svg)
    out.push(
      `${sweep.title}, ${sweep.yLabel} (medians of ${ROUNDS} rounds × ${MS} ms): ${sweep.file}`,
      '',
      `| ${sweep.xLabel} | ${runners.map((p) => p.library).join(' | ')} |`,
      `|---:|${runners.map(() => '---:').join('|')}|`,
      ...sweep.xs.map(
        (x, i) =>
          `| ${(sweep.xTick ?? short)(x)} | ${runners.map((p) => fmt(ys.get(p.library)?.[i] ?? 0)).join(' | ')} |`,
      ),
      '',
      ...(flagged.length > 0
        ? [
            `Taken while the child was faulting in fresh memory on every call (more than ${FAULTS_FLAGGED} minor page faults a call, and 3× the fewest), which slows any library: ${flagged.join('; ')}.`,
            '',
          ]
        : []),
    )
  }
  return out.join('\n')
}
