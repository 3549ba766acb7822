import { execFileSync, spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

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
