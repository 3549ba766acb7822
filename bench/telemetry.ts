// The cost of telemetry on a small get with 100 in flight (the bars: off ≤ 1 %, on ≤ 10 %).
// Each row compares two caches on the same server, rounds alternating, best round of each kept:
//
// - off: this checkout's `Cache` with no listener against the `Cache` of another checkout
//   (`BENCH_BASELINE_CORE=/path/to/packages/core/src/index.ts`, e.g. the commit before
//   telemetry: `git archive <commit> packages/core | tar -x -C /tmp/base`); skipped without it;
// - an `operation` listener (the event OpenTelemetry's spans and durations come from), and a
//   `hit`/`miss` listener, against the same cache with none;
// - `@cachex/redis/otel` with the real SDK's `MeterProvider` (a reader that never exports) and
//   the default global tracer provider (no SDK registered: no-op spans), against none; and the
//   same with `durations: false` (no `db.client.operation.duration` histogram).
import { standalone } from '@cachex/connections'
import { Cache } from '@cachex/core'
import { createMetricProducer, instrument } from '@cachex/redis/otel'
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import { throughput } from './_measure.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const OPS = 100_000

interface TelemetryRow {
  name: string
  off: number
  on: number
  ratios: number[]
}

/** A reader that collects only when asked (never here): the SDK records, nothing is exported. */
class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

type Gettable = {
  get(key: string): Promise<unknown>
  set(key: string, value: unknown): Promise<unknown>
  close(): Promise<void>
}

async function compare(name: string, off: Gettable, on: Gettable): Promise<TelemetryRow> {
  await throughput(20_000, () => off.get('small'))
  await throughput(20_000, () => on.get('small'))
  let best = [0, 0]
  const ratios: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const a = await throughput(OPS, () => off.get('small'))
    const b = await throughput(OPS, () => on.get('small'))
    best = [Math.max(best[0] as number, a), Math.max(best[1] as number, b)]
    ratios.push(b / a)
  }
  return { name, off: best[0] as number, on: best[1] as number, ratios }
}

/** Runs the telemetry rows against the server at `url` and prints their table. */
export async function runTelemetryBench(url: string, value: unknown): Promise<void> {
  const open: Gettable[] = []
  const make = (prefix: string, CacheClass: typeof Cache = Cache): Gettable => {
    const cache = new CacheClass({
      connection: standalone({ location: url }),
      keyPrefix: prefix,
      timeout: null,
    }) as unknown as Gettable
    open.push(cache)
    return cache
  }
  const rows: TelemetryRow[] = []
  const producer = createMetricProducer()
  const meterProvider = new MeterProvider({
    readers: [new IdleReader({ metricProducers: [producer] })],
  })
  try {
    const off = make('bencht-off')
    await off.set('small', value)
    const baselinePath = process.env.BENCH_BASELINE_CORE
    if (baselinePath !== undefined && baselinePath !== '') {
      const baseline = (await import(baselinePath)) as { Cache: typeof Cache }
      const before = make('bencht-base', baseline.Cache)
      await before.set('small', value)
      rows.push(await compare('telemetry off (no listener) vs the baseline core', before, off))
    }
    const listened = make('bencht-op') as Gettable & Cache
    await listened.set('small', value)
    listened.on('operation', () => {})
    rows.push(await compare('an `operation` listener', off, listened))

    const reads = make('bencht-hit') as Gettable & Cache
    await reads.set('small', value)
    reads.on('hit', () => {})
    reads.on('miss', () => {})
    rows.push(await compare('`hit` and `miss` listeners', off, reads))

    const otel = make('bencht-otel') as Gettable & Cache
    await otel.set('small', value)
    instrument(otel, { alias: 'bench', meterProvider, location: url })
    rows.push(await compare('OpenTelemetry (SDK meter provider, no-op tracer)', off, otel))

    const produced = make('bencht-producer') as Gettable & Cache
    await produced.set('small', value)
    instrument(produced, { alias: 'producer', meterProvider, location: url, producer })
    rows.push(
      await compare('OpenTelemetry, histograms through `createMetricProducer()`', off, produced),
    )

    const lean = make('bencht-lean') as Gettable & Cache
    await lean.set('small', value)
    instrument(lean, { alias: 'lean', meterProvider, location: url, durations: false })
    rows.push(await compare('OpenTelemetry, `durations: false`', off, lean))
  } finally {
    for (const cache of open) await cache.close()
    await meterProvider.shutdown()
  }
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
  console.log('\ntelemetry: small get, 100 in flight (cachex against cachex)')
  console.log('| case | without | with | with / without | per round: median (range) |')
  console.log('|---|---:|---:|---:|---:|')
  for (const row of rows) {
    const sorted = [...row.ratios].sort((a, b) => a - b)
    const median = sorted[sorted.length >> 1] as number
    console.log(
      `| ${row.name} | ${fmt(row.off)} ops/s | ${fmt(row.on)} ops/s | ${(row.on / row.off).toFixed(3)}× | ${median.toFixed(3)}× (${(sorted[0] as number).toFixed(3)}–${(sorted.at(-1) as number).toFixed(3)}×) |`,
    )
  }
}
