// OpenTelemetry to the console: every cache operation as a span (a child of the request span it
// ran in) and the cache's metrics, printed by the SDK's console exporters. Runs once and exits.
//
//   REDIS_URL=redis://127.0.0.1:6379/0 pnpm --filter @cachex/example-telemetry console
//   (without REDIS_URL: the in-process memory:// backend)
import { caches, configureCaches } from '@cachex/redis'
import { openTelemetry } from '@cachex/redis/otel'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'

// The SDK, as an application sets it up once at start-up (NodeSDK from @opentelemetry/sdk-node
// does the same in one call): a context manager that carries the active span across awaits, a
// tracer provider and a meter provider, registered globally.
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
})
trace.setGlobalTracerProvider(tracerProvider)
const reader = new PeriodicExportingMetricReader({
  exporter: new ConsoleMetricExporter(),
  exportIntervalMillis: 60_000,
})
const meterProvider = new MeterProvider({ readers: [reader] })

// Every cache of the registry reports to the providers, under its alias.
configureCaches(
  {
    default: { location: process.env.REDIS_URL ?? 'memory://telemetry', keyPrefix: 'telemetry' },
  },
  { telemetry: openTelemetry({ meterProvider }) },
)
const cache = caches.get('default')

// A request of the application: its span is the parent of the cache's spans.
const tracer = trace.getTracer('example-app')
await tracer.startActiveSpan('GET /users/42', async (request) => {
  const user = await cache.getOrSet('user:42', async () => ({ id: 42, name: 'Ada' }), 60)
  await cache.get('user:42') // a hit
  await cache.get('user:43') // a miss
  await cache.pipeline().get('user:42').ttl('user:42').exec()
  request.end()
  console.log('user:', user)
})

await reader.forceFlush() // prints the metrics now rather than in a minute
await caches.close()
await meterProvider.shutdown()
await tracerProvider.shutdown()
