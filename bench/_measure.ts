import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'

/**
 * Which cachex the bench measures, for its report: the packages as built (`dist/`, what npm
 * installs), as the `pnpm bench*` scripts run them after `turbo run build`. Run with
 * `--conditions=@cachex/source`, the TypeScript source goes through tsx instead, whose esbuild
 * transform keeps function names by calling a helper for every closure it creates: measured on
 * 2026-12-03, `hget` cost 2.6 µs of CPU a call that way against 1.6 µs built, so such a run
 * understates cachex.
 */
export function measuredBuild(): string {
  const entry = fileURLToPath(import.meta.resolve('@cachex/redis'))
  return entry.includes('/dist/')
    ? 'cachex as built (packages/*/dist, what npm installs)'
    : `cachex from its TypeScript source (${entry}) through tsx: slower than the built packages, not what users run`
}

/** Operations kept in flight by `throughput`, as a busy service would. */
export const IN_FLIGHT = 100

/** Runs `ops` operations keeping `inFlight` in flight; returns operations per second. */
export async function throughput(
  ops: number,
  fn: () => Promise<unknown>,
  inFlight = IN_FLIGHT,
): Promise<number> {
  let started = 0
  const t0 = performance.now()
  const worker = async () => {
    while (started < ops) {
      started++
      await fn()
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return ops / ((performance.now() - t0) / 1000)
}

/**
 * Pins redis-server (`serverPid`) to core 0 and this process to the other cores, so that the
 * client and the server do not take turns on one core (on a 2-core machine the ratios otherwise
 * move by ±30 % from run to run). Returns what it did, for the report, and a function that
 * unpins this process; does nothing with `BENCH_PIN=0`, one core, or no `taskset`.
 */
export function pinApart(serverPid: string | undefined): { note: string; unpin: () => void } {
  const cores = availableParallelism()
  const usable =
    process.env.BENCH_PIN !== '0' &&
    cores >= 2 &&
    serverPid !== undefined &&
    spawnSync('which', ['taskset']).status === 0
  if (!usable) return { note: 'not pinned', unpin: () => {} }
  const rest = cores === 2 ? '1' : `1-${cores - 1}`
  execFileSync('taskset', ['-a', '-p', '-c', '0', serverPid], { stdio: 'ignore' })
  execFileSync('taskset', ['-a', '-p', '-c', rest, String(process.pid)], { stdio: 'ignore' })
  return {
    note: `redis-server pinned to core 0, this process to core ${rest} (BENCH_PIN=0: not pinned)`,
    unpin: () =>
      execFileSync('taskset', ['-a', '-p', '-c', `0-${cores - 1}`, String(process.pid)], {
        stdio: 'ignore',
      }),
  }
}

/** Per-core CPU counters from /proc/stat: [steal, all] in clock ticks, or `undefined` off Linux. */
function cpuTicks(): Array<[number, number]> | undefined {
  let stat: string
  try {
    stat = readFileSync('/proc/stat', 'utf8')
  } catch {
    return undefined
  }
  const cores: Array<[number, number]> = []
  for (const line of stat.split('\n')) {
    if (!/^cpu\d+ /.test(line)) continue
    // user nice system idle iowait irq softirq steal (guest time is counted in user already)
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number)
    cores.push([ticks[7] ?? 0, ticks.reduce((sum, t) => sum + t, 0)])
  }
  return cores
}

/**
 * Starts watching the time the hypervisor took from this machine's cores (steal time, Linux
 * only). The returned function says how much was taken since, per core: on a shared virtual
 * machine a run with a few percent stolen moves its ratios by far more than the code does, so
 * the reports print it beside the results.
 */
export function watchSteal(): () => string {
  const before = cpuTicks()
  return () => {
    const after = cpuTicks()
    if (before === undefined || after === undefined || after.length !== before.length) {
      return 'steal time: not known (no /proc/stat)'
    }
    const shares = after.map(([steal, all], core) => {
      const [steal0, all0] = before[core] as [number, number]
      const share = all > all0 ? (100 * (steal - steal0)) / (all - all0) : 0
      return `core ${core} ${share.toFixed(1)} %`
    })
    return `steal time (CPU the hypervisor took) during the run: ${shares.join(', ')}`
  }
}
