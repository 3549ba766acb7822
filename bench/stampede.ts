// `pnpm bench:stampede`: a cold key, 200 concurrent callers across 4 processes, a 200 ms factory.
// Counts how many times the factory ran and the callers' p99 latency, for:
// - cachex `getOrSet(key, factory, { distributed: true })` (one computation across processes),
// - cachex `getOrSet` without it (single flight per process: one computation per process),
// - cache-manager 7 `wrap` over a Redis Keyv store (cachex's own Keyv adapter, @cachex/keyv, on
//   the same redis-server; `pnpm bench:peers` measures cache-manager over @keyv/redis),
// - bentocache `getOrSet` with an L1 memory layer and an L2 Redis layer (its redis driver over
//   ioredis), no bus.
// Each round uses a fresh key; every process is started and connected before the round begins.
//
// STAMPEDE_ROUNDS (default 3), STAMPEDE_PROCESSES (4), STAMPEDE_CALLERS (50 per process),
// STAMPEDE_FACTORY_MS (200), BENCH_REDIS_URL=redis://… (else a redis-server of its own).
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const LIBRARIES = [
  'cachex distributed',
  'cachex (per process)',
  'cache-manager wrap',
  'bentocache',
] as const
type Library = (typeof LIBRARIES)[number]

const ROUNDS = Number(process.env.STAMPEDE_ROUNDS ?? 3)
const PROCESSES = Number(process.env.STAMPEDE_PROCESSES ?? 4)
const CALLERS = Number(process.env.STAMPEDE_CALLERS ?? 50)
const FACTORY_MS = Number(process.env.STAMPEDE_FACTORY_MS ?? 200)

/** Parent → child. */
type Order = { kind: 'round'; library: Library; key: string } | { kind: 'exit' }
/** Child → parent. */
type Report =
  | { kind: 'ready' }
  | { kind: 'done'; calls: number; latencies: number[]; errors: number }

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function child(url: string): Promise<void> {
  const { createCache } = await import('@cachex/redis')
  const { createKeyv } = await import('@cachex/keyv')
  const { createCache: createCacheManager } = await import('cache-manager')
  const { BentoCache, bentostore } = await import('bentocache')
  const { memoryDriver } = await import('bentocache/drivers/memory')
  const { redisDriver } = await import('bentocache/drivers/redis')

  const cache = createCache({ location: url, keyPrefix: 'stampede' })
  const keyvCache = createCache({ location: url, keyPrefix: 'stampede-cm' })
  const manager = createCacheManager({ stores: [createKeyv(keyvCache)] })
  const { hostname, port } = new URL(url)
  const bento = new BentoCache({
    default: 'cache',
    stores: {
      cache: bentostore()
        .useL1Layer(memoryDriver({ maxSize: '10mb' }))
        .useL2Layer(redisDriver({ connection: { host: hostname, port: Number(port) } })),
    },
  })
  // Connect everything before the first round.
  await cache.get('warm-up')
  await keyvCache.get('warm-up')
  await bento.get({ key: 'warm-up' })

  let calls = 0
  const factory = async () => {
    calls++
    await sleep(FACTORY_MS)
    return { computed: true, at: Date.now() }
  }
  const call: Record<Library, (key: string) => Promise<unknown>> = {
    'cachex distributed': (key) => cache.getOrSet(key, factory, { timeout: 60, distributed: true }),
    'cachex (per process)': (key) => cache.getOrSet(key, factory, { timeout: 60 }),
    'cache-manager wrap': (key) => manager.wrap(key, factory, 60_000),
    bentocache: (key) => bento.getOrSet({ key, factory, ttl: '1m' }),
  }

  const send = (report: Report) => process.send?.(report)
  process.on('message', async (order: Order) => {
    if (order.kind === 'exit') {
      await cache.close()
      await keyvCache.close()
      await bento.disconnect()
      process.disconnect()
      return
    }
    calls = 0
    let errors = 0
    const latencies = await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        const t0 = performance.now()
        try {
          await call[order.library](order.key)
        } catch {
          errors++
        }
        return performance.now() - t0
      }),
    )
    send({ kind: 'done', calls, latencies, errors })
  })
  send({ kind: 'ready' })
}

function next(worker: ChildProcess, kind: Report['kind']): Promise<Report> {
  return new Promise((resolve, reject) => {
    const onMessage = (report: Report) => {
      if (report.kind !== kind) return
      worker.off('message', onMessage)
      worker.off('exit', onExit)
      resolve(report)
    }
    const onExit = (code: number | null) => reject(new Error(`a stampede process exited (${code})`))
    worker.on('message', onMessage)
    worker.on('exit', onExit)
  })
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/** Runs the scenario on `url`; prints and returns the table. */
export async function runStampedeBench(url: string): Promise<string> {
  const file = fileURLToPath(import.meta.url)
  const workers = Array.from({ length: PROCESSES }, () =>
    fork(file, ['child', url], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  )
  try {
    await Promise.all(workers.map((w) => next(w, 'ready')))
    const lines = [
      `${PROCESSES} processes × ${CALLERS} concurrent callers of one cold key, a ${FACTORY_MS} ms factory; ${ROUNDS} rounds each, a fresh key a round`,
      '',
      '| library | factory calls per round | p50 | p99 | max | errors |',
      '|---|---:|---:|---:|---:|---:|',
    ]
    for (const library of LIBRARIES) {
      const callsPerRound: number[] = []
      const all: number[] = []
      let errors = 0
      for (let round = 0; round < ROUNDS; round++) {
        const key = `cold:${library.replace(/\W+/g, '-')}:${Date.now()}:${round}`
        const done = workers.map((w) => next(w, 'done'))
        for (const w of workers) w.send({ kind: 'round', library, key } satisfies Order)
        const reports = (await Promise.all(done)) as Extract<Report, { kind: 'done' }>[]
        callsPerRound.push(reports.reduce((n, r) => n + r.calls, 0))
        for (const r of reports) {
          all.push(...r.latencies)
          errors += r.errors
        }
      }
      all.sort((a, b) => a - b)
      const ms = (n: number) => `${Math.round(n)} ms`
      lines.push(
        `| ${library} | ${callsPerRound.join(', ')} | ${ms(percentile(all, 50))} | ${ms(percentile(all, 99))} | ${ms(all.at(-1) as number)} | ${errors} |`,
      )
    }
    const table = lines.join('\n')
    console.log(table)
    return table
  } finally {
    for (const w of workers) if (w.connected) w.send({ kind: 'exit' } satisfies Order)
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null) return resolve()
            const timer = setTimeout(() => {
              w.kill()
              resolve()
            }, 10_000)
            w.once('exit', () => {
              clearTimeout(timer)
              resolve()
            })
          }),
      ),
    )
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === 'child') {
    await child(process.argv[3] as string)
    return
  }
  const { startRedis } = await import('@cachex/test-utils')
  const server = process.env.BENCH_REDIS_URL ? undefined : await startRedis()
  try {
    await runStampedeBench(process.env.BENCH_REDIS_URL ?? (server?.url as string))
  } finally {
    await server?.stop()
  }
}

await main()
