// A Prometheus endpoint: the cache's metrics at http://HOST:PORT/metrics, in Prometheus's text
// format (`cachex_hits_total`, `db_client_operation_duration_bucket`…), read by whatever
// scrapes it. A timer plays the application, reading and writing the cache; SIGTERM stops it.
//
//   REDIS_URL=redis://127.0.0.1:6379/0 PORT=9464 pnpm --filter @cachex/example-telemetry prometheus
//   curl http://127.0.0.1:9464/metrics
import { caches, configureCaches } from '@cachex/redis'
import { createMetricProducer, openTelemetry } from '@cachex/redis/otel'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { MeterProvider } from '@opentelemetry/sdk-metrics'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 9464)

// The histograms (durations, value sizes) are aggregated by cachex in the process and read
// through this producer at each scrape: a call costs a few additions instead of an SDK point.
const producer = createMetricProducer()
// The exporter is a metric reader that serves what it reads on each scrape.
const exporter = new PrometheusExporter({
  host,
  port,
  preventServerStart: true,
  metricProducers: [producer],
})
const meterProvider = new MeterProvider({ readers: [exporter] })

configureCaches(
  {
    default: { location: process.env.REDIS_URL ?? 'memory://prometheus', keyPrefix: 'prom' },
    sessions: { location: process.env.REDIS_URL ?? 'memory://prometheus', keyPrefix: 'sess' },
  },
  { telemetry: openTelemetry({ meterProvider, producer }) },
)

/** What the application does: a read-through cache of items, and sessions. */
async function work(round: number): Promise<void> {
  const id = round % 5
  await caches.get('default').getOrSet(`item:${id}`, async () => ({ id, at: Date.now() }), 30)
  await caches.get('sessions').set(`session:${round % 3}`, { user: id }, 600)
  await caches.get('sessions').get(`session:${(round + 1) % 4}`)
}

let round = 0
// A warm-up, so that the first scrape has something to show. A round that fails (Redis down at
// start, say) is logged, as the timer's are: the endpoint is served whatever Redis does.
for (; round < 10; round++) await work(round).catch((error: unknown) => console.error(error))
// The rounds in flight: shutdown waits for them before it closes the caches.
const inFlight = new Set<Promise<void>>()
const timer = setInterval(() => {
  const running = work(round++).catch((error: unknown) => console.error(error))
  inFlight.add(running)
  void running.finally(() => inFlight.delete(running))
}, 200)
// Before the server starts: a signal that comes once it answers finds its handler.
process.once('SIGTERM', () => void stop())
process.once('SIGINT', () => void stop())
await exporter.startServer()
console.log(`metrics at http://${host}:${port}/metrics`)

/**
 * Stops the timer, lets the rounds in flight finish, then stops the endpoint and the caches; the
 * process then ends by itself.
 */
async function stop(): Promise<void> {
  clearInterval(timer)
  await Promise.all(inFlight)
  await exporter.stopServer()
  await caches.close()
  await meterProvider.shutdown()
}
