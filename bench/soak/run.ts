// `pnpm soak [scenario …] [--rate <calls/s>] [--warmup <s>] [--after <s>]`
//
// Soaks cachex through the topology changes of issue 11: for each scenario, starts a fresh Redis
// Cluster (3 primaries + 3 replicas) or Sentinel deployment (1 primary, 2 replicas, 3 sentinels)
// with @cachex/test-utils, runs a ledger-checked load at a steady rate (get, set with a timeout,
// getMany of 10 keys across slots, setMany, incr, lock, deleteMany, deletePattern), does the
// scenario's action, and prints what it measured: errors by code, when writes resumed after the
// switch, false misses, acknowledged writes lost or wrong values, untyped errors, unhandled
// rejections, the heap. Not part of `pnpm test`: a scenario takes a minute or so.
//
//   pnpm soak                     every scenario
//   pnpm soak sentinel-failover   one (or several) by name; `pnpm soak --list` names them
//   SOAK_RATE=1500 pnpm soak …    a lower rate for a small machine (default 2,700 calls/s)
import type { Cache } from '@cachex/core'
import { createCache } from '@cachex/redis'
import {
  delay,
  type RedisServer,
  type SentinelDeployment,
  startCluster,
  startSentinels,
  type TestCluster,
} from '@cachex/test-utils'
import { Ledger } from './_ledger.ts'
import { KEYS, Load, type LoadStats } from './_load.ts'
import {
  type Markers,
  NODE_TIMEOUT_MS,
  SCENARIOS,
  type Scenario,
  type Stage,
} from './_scenarios.ts'

interface Options {
  rate: number
  warmup: number
  after: number | undefined
  names: string[]
}

interface Row {
  scenario: Scenario
  markers: Markers
  stats: LoadStats
  ledger: Ledger
  /** False misses counted from the restart of the node (the whole run otherwise). */
  unhandled: number
  heapStartMb: number
  heapEndMb: number
  seconds: number
  /** When the first write sent at or after `at` that succeeded ended. */
  firstWriteAfter(at: number): number | undefined
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    // biome-ignore lint/suspicious/noUndeclaredEnvVars: pnpm soak is not a turbo task
    rate: Number(process.env.SOAK_RATE ?? 2700),
    warmup: 3,
    after: undefined,
    names: [],
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const next = () => Number(argv[++i])
    if (arg === '--rate') options.rate = next()
    else if (arg === '--warmup') options.warmup = next()
    else if (arg === '--after') options.after = next()
    else if (arg === '--list') {
      for (const s of SCENARIOS) console.log(`${s.name.padEnd(24)} ${s.title}`)
      process.exit(0)
    } else options.names.push(arg)
  }
  return options
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const chosen =
    options.names.length === 0
      ? SCENARIOS
      : options.names.map((name) => {
          const scenario = SCENARIOS.find((s) => s.name === name)
          if (scenario === undefined) {
            throw new Error(`no scenario '${name}': ${SCENARIOS.map((s) => s.name).join(', ')}`)
          }
          return scenario
        })
  let unhandled = 0
  process.on('unhandledRejection', (reason) => {
    unhandled++
    console.error('unhandled rejection:', reason)
  })
  const rows: Row[] = []
  for (const scenario of chosen) {
    const before = unhandled
    const row = await runScenario(scenario, options)
    row.unhandled = unhandled - before
    rows.push(row)
    printDetails(row)
  }
  console.log(
    `\n## pnpm soak — ${options.rate} calls/s, node ${process.version}, ${new Date().toISOString().slice(0, 10)}\n`,
  )
  console.log(table(rows))
}

async function runScenario(scenario: Scenario, options: Options): Promise<Row> {
  const t0 = performance.now()
  const log = (message: string) =>
    console.log(`[${scenario.name} ${((performance.now() - t0) / 1000).toFixed(1)} s] ${message}`)
  log(`starting the ${scenario.topology}`)
  let cluster: TestCluster | undefined
  let sentinel: SentinelDeployment | undefined
  let cache: Cache
  let verify: Cache
  if (scenario.topology === 'cluster') {
    cluster = await startCluster({ nodeTimeout: NODE_TIMEOUT_MS })
    const base = { client: 'cluster' as const, location: [...cluster.seeds], keyPrefix: 'soak' }
    // SOAK_REPLICA_READS=0: reads on the primaries only.
    // biome-ignore lint/suspicious/noUndeclaredEnvVars: pnpm soak is not a turbo task
    cache = createCache({ ...base, readFromReplicas: process.env.SOAK_REPLICA_READS !== '0' })
    verify = createCache({ ...base, readFromReplicas: false })
  } else {
    sentinel = await startSentinels({ replicas: 2 })
    const base = {
      client: 'sentinel' as const,
      location: sentinel.location,
      sentinels: sentinel.addresses,
      keyPrefix: 'soak',
    }
    cache = createCache(base)
    verify = createCache({ ...base, sentinelOptions: { replicaPoolSize: 0 } })
  }
  const extra: RedisServer[] = []
  let load: Load | undefined
  const stage: Stage = {
    now: () => performance.now() - t0,
    switched: (at) => load?.watchWritesAfter(at),
    log,
    cluster,
    sentinel,
    extra,
  }
  try {
    const ledger = new Ledger()
    const running = new Load(cache, ledger, options.rate, t0)
    load = running
    log(`seeding ${KEYS} keys`)
    await load.seed()
    const heapStartMb = heapMb()
    log(`load at ${options.rate} calls/s`)
    load.start()
    const progress = setInterval(() => {
      const st = running.stats
      log(
        `${st.calls} calls, ${st.failures.length} failed, ${st.skipped} skipped, heap ${heapMb().toFixed(0)} MB`,
      )
    }, 5000)
    progress.unref()
    await delay(options.warmup * 1000)
    let markers: Markers
    try {
      markers = await scenario.act(stage)
    } catch (error) {
      // A step of the action failed (redis-cli on a busy machine…): report the run as it went.
      log(`the action failed: ${error instanceof Error ? error.message : String(error)}`)
      markers = { actionAt: stage.now(), doneAt: stage.now(), failed: String(error).slice(0, 200) }
    }
    const after = options.after ?? scenario.after ?? 15
    log(`action over; ${after} s more load`)
    await delay(after * 1000)
    await load.stop()
    clearInterval(progress)
    const heapEndMb = heapMb()
    log('load stopped; checking every key on the primaries')
    if (cluster !== undefined) await cluster.waitUntilHealthy(60_000).catch(() => undefined)
    await finalCheck(verify, ledger)
    return {
      scenario,
      markers,
      stats: load.stats,
      ledger,
      unhandled: 0,
      heapStartMb,
      heapEndMb,
      seconds: (performance.now() - t0) / 1000,
      firstWriteAfter: (at) => load?.firstWriteAfter(at),
    }
  } finally {
    await Promise.allSettled([cache.close(), verify.close()])
    await Promise.allSettled([
      cluster?.stop(),
      sentinel?.stop(),
      ...extra.map((server) => server.stop()),
    ])
  }
}

/** Reads every key and counter of the ledger from the primaries, and checks it. */
async function finalCheck(verify: Cache, ledger: Ledger): Promise<void> {
  const keys = ledger.keys()
  for (let i = 0; i < keys.length; i += 100) {
    const chunk = keys.slice(i, i + 100)
    const found = await retry(() => verify.getMany<string>(chunk))
    for (const key of chunk) ledger.final(key, found.get(key) ?? null)
  }
  for (const key of ledger.counters()) {
    const value = await retry(() => verify.get<number>(key))
    ledger.counterFinal(key, value === null ? null : Number(value))
  }
}

/** The topology may still be settling after the run: a few tries. */
async function retry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      if (attempt >= 20) throw error
      await delay(500)
    }
  }
}

function heapMb(): number {
  ;(globalThis as { gc?: () => void }).gc?.()
  return process.memoryUsage().heapUsed / 2 ** 20
}

/**
 * When writes worked again: the later of the end of the last failed write and the end of the first
 * write sent after the switch that succeeded (a write held until the topology settles ends late),
 * from the switch — or from the action when there is no switch. Writes that stall later are counted
 * apart (`stalledWrites`): a busy machine stalls a few too.
 */
function writesResume(row: Row): string {
  const { markers, stats } = row
  const failed = stats.failures.filter((call) => call.write && call.end >= markers.actionAt)
  const s = (ms: number) => `${ms >= 0 ? '+' : '−'}${(Math.abs(ms) / 1000).toFixed(1)} s`
  const lastFailure = Math.max(Number.NEGATIVE_INFINITY, ...failed.map((call) => call.end))
  if (markers.switchAt === undefined) {
    return failed.length === 0
      ? 'no outage'
      : `${s(lastFailure - markers.actionAt)} after the action began`
  }
  const switchAt = markers.switchAt
  const firstOk = row.firstWriteAfter(switchAt)
  const resumed = Math.max(lastFailure, firstOk ?? Number.POSITIVE_INFINITY)
  if (!Number.isFinite(resumed)) return 'never'
  return `${s(resumed - switchAt)} after the switch (switch at ${s(switchAt - markers.actionAt)})`
}

/** Writes that succeeded but took more than a second, after the action. */
function stalledWrites(row: Row): number {
  return row.stats.stalled.filter((call) => call.write && call.start >= row.markers.actionAt).length
}

function errorsText(stats: LoadStats): string {
  if (stats.errors.size === 0) return '0'
  return [...stats.errors]
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${n.toLocaleString('en')} × \`${code}\``)
    .join(', ')
}

/** Reads that failed after the action: reads stop when this is not 0. */
function readFailures(row: Row): number {
  return row.stats.failures.filter((call) => !call.write && call.end >= row.markers.actionAt).length
}

function table(rows: Row[]): string {
  const lines = [
    '| scenario | calls | errors | failed / stalled reads (slowest) | writes resume | stalled writes | false misses | lost / wrong | untyped / unhandled / hung | heap MB (start → end) | should be |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const row of rows) {
    const f = row.ledger.findings
    const untyped = [...row.stats.errors]
      .filter(([code]) => code.startsWith('untyped:'))
      .reduce((sum, [, n]) => sum + n, 0)
    lines.push(
      `| ${row.scenario.title}${row.markers.failed === undefined ? '' : ' (the action failed)'} | ${row.stats.calls.toLocaleString('en')} | ${errorsText(row.stats)} | ${readFailures(row)} / ${row.stats.stalledReads} (${row.stats.slowestReadMs.toFixed(0)} ms) | ${writesResume(row)} | ${stalledWrites(row)} | ${f.falseMisses} | ${f.lost} / ${f.wrongValues + row.stats.doubleLocks} | ${untyped} / ${row.unhandled} / ${row.stats.inFlight} | ${row.heapStartMb.toFixed(0)} → ${row.heapEndMb.toFixed(0)} | ${row.scenario.target} |`,
    )
  }
  return lines.join('\n')
}

function printDetails(row: Row): void {
  const { stats, ledger, scenario } = row
  console.log(
    `\n${scenario.name}: ${stats.calls.toLocaleString('en')} calls in ${row.seconds.toFixed(0)} s, slowest ${stats.slowestMs.toFixed(0)} ms, ${stats.skipped} skipped, writes resume ${writesResume(row)}, ${stalledWrites(row)} stalled writes and ${readFailures(row)} failed reads after the action`,
  )
  for (const [code, samples] of stats.errorSamples) {
    console.log(`  ${code} (${stats.errors.get(code)}): ${samples.join(' | ')}`)
  }
  const stalled = stats.stalled.filter((call) => call.write && call.start >= row.markers.actionAt)
  if (stalled.length > 0) {
    const shown = stalled
      .slice(0, 5)
      .map(
        (call) =>
          `${call.op} at ${((call.start - row.markers.actionAt) / 1000).toFixed(1)} s took ${(call.end - call.start).toFixed(0)} ms`,
      )
    console.log(`  ${stalled.length} writes stalled (> 1 s) after the action: ${shown.join(', ')}`)
  }
  for (const sample of ledger.findings.samples) console.log(`  ${sample}`)
  if (stats.doubleLocks > 0) console.log(`  ${stats.doubleLocks} locks held twice at once`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
