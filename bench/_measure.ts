/** Operations kept in flight by `throughput`, as a busy service would. */
export const IN_FLIGHT = 100

/** Runs `ops` operations keeping `IN_FLIGHT` in flight; returns operations per second. */
export async function throughput(ops: number, fn: () => Promise<unknown>): Promise<number> {
  let started = 0
  const t0 = performance.now()
  const worker = async () => {
    while (started < ops) {
      started++
      await fn()
    }
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  return ops / ((performance.now() - t0) / 1000)
}
