// `@cachex/redis/otel`: OpenTelemetry metrics and spans for a cache, from its events
// (`cache.on()`). Only this subpath imports `@opentelemetry/api` (an optional peer): a program
// that never imports it loads nothing of OpenTelemetry and pays nothing.
import { parseRedisUrl } from '@cachex/connections'
import { parseLocation } from '@cachex/connections/internal'
import type {
  Cache,
  CacheErrorEvent,
  CacheHitEvent,
  CacheOperationEvent,
  CacheSetEvent,
} from '@cachex/core'
import { InvalidArgumentError } from '@cachex/core'
import { own, ownOptions } from '@cachex/core/internal'
import {
  type Attributes,
  context,
  type Histogram,
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import type { CacheTelemetry, TelemetryTarget } from './_options.ts'
import { bounded, exceptionAttributes } from './_otel-bounds.ts'
import { errorTypeOf, statusCodeOf } from './_otel-errors.ts'
import {
  type CounterName,
  countersOf,
  DURATION,
  histogramsOf,
  type Series,
  VALUE_SIZE,
} from './_otel-metrics.ts'
import {
  type CachexMetricProducer,
  type HistogramSeries,
  type HistogramSpec,
  newMetricProducer,
  type SeriesFinder,
  seriesFinderOf,
} from './_otel-producer.ts'

export type { CachexMetricProducer, ProducedScopeMetrics } from './_otel-producer.ts'

/** The instrumentation scope of the meter and the tracer. */
const SCOPE = '@cachex/redis'

/** Options of `instrument` and `openTelemetry`. */
export interface InstrumentOptions {
  /**
   * The cache's name on every metric and span (attribute `cachex.cache.alias`). The registry
   * (`configureCaches(…, { telemetry })`) passes each cache's alias. @default 'default'
   */
  alias?: string
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProvider
  /** Where metrics go. @default the global meter provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProvider
  /**
   * Puts the user's key on spans (attribute `cachex.key`: its first 1,024 characters and `…`
   * when longer) and a failed call's error, whose message names keys, in an `exception` span
   * event (its message bounded as the key is; its stack to 4,096 characters). Keys can be
   * personal data (`user:alice@example.com`): off unless you choose it.
   * @default false
   */
  captureKeys?: boolean
  /**
   * The cache's Redis URL (or URLs, the primary first), for the attributes `server.address`,
   * `server.port` and `db.namespace` (the database index). Its user name and password are never
   * read. `createCache({ telemetry })` passes the cache's `location`.
   */
  location?: string | readonly string[]
  /**
   * Records `db.client.operation.duration`, one point per call. The SDK's cost of a point
   * (about 1 µs, most of it hashing the attributes) is most of what this instrumentation costs
   * on a busy process: `false` keeps the counters and spans and leaves the histogram out.
   * @default true
   */
  durations?: boolean
  /**
   * Aggregates the histograms (`db.client.operation.duration`, `cachex.value.size`) in the
   * process and reports them through this producer, made by `createMetricProducer()` and given
   * to your reader as one of its `metricProducers`, instead of through the meter. A duration then
   * costs a few additions, not an SDK call (about 1 µs); counters and spans are unchanged. The
   * histograms are cumulative and ignore the meter provider's views.
   */
  producer?: CachexMetricProducer
}

/**
 * Creates a producer for `instrument({ producer })` / `openTelemetry({ producer })`: the caches
 * instrumented with it record their histograms in the process, and a reader collects them at
 * every export, with the SDK's own metrics:
 *
 * ```ts
 * import { createMetricProducer, openTelemetry } from '@cachex/redis/otel'
 * import { MeterProvider, PeriodicExportingMetricReader, ConsoleMetricExporter } from '@opentelemetry/sdk-metrics'
 *
 * const producer = createMetricProducer()
 * const reader = new PeriodicExportingMetricReader({
 *   exporter: new ConsoleMetricExporter(),
 *   metricProducers: [producer],
 * })
 * const telemetry = openTelemetry({ meterProvider: new MeterProvider({ readers: [reader] }), producer })
 * ```
 */
export function createMetricProducer(): CachexMetricProducer {
  return newMetricProducer(SCOPE)
}

/**
 * What `createCache({ telemetry })` and `configureCaches(…, { telemetry })` take: OpenTelemetry
 * for every cache they create, each with its alias (`cachex.cache.alias`). Importing it is what
 * loads `@opentelemetry/api`; a program that does not pays nothing.
 *
 * ```ts
 * import { configureCaches } from '@cachex/redis'
 * import { openTelemetry } from '@cachex/redis/otel'
 *
 * configureCaches({ default: { location: 'memory://' } }, { telemetry: openTelemetry() })
 * ```
 */
export function openTelemetry(given: InstrumentOptions = {}): CacheTelemetry {
  const options = ownOptions(given)
  return {
    instrument(cache: Cache, target: TelemetryTarget = {}): () => void {
      const where = own(target, 'location')
      const location =
        typeof where === 'string' || Array.isArray(where)
          ? (where as string | readonly string[])
          : undefined
      return instrument(cache, {
        ...options,
        alias: options.alias ?? own(target, 'alias') ?? 'default',
        location: options.location ?? location,
      })
    },
  }
}

/**
 * Reports `cache`'s activity to OpenTelemetry, until the function it returns is called:
 *
 * - counters `cachex.hits`, `cachex.misses`, `cachex.sets`, `cachex.deletes`, `cachex.errors`
 *   and `cachex.errors.ignored` (by `error.type`, the error's code), `cachex.local.hits`,
 *   `cachex.local.invalidations`, each by `cachex.cache.alias` and `db.operation.name`;
 * - histograms `db.client.operation.duration` (seconds, by operation, the semantic conventions'
 *   database metric) and `cachex.value.size` (bytes of the values stored);
 * - a span per operation (`get`, `hset`…; `PIPELINE` / `MULTI` for pipelines and
 *   transactions), of kind CLIENT, child of the context active when the method was called, with
 *   `db.system.name = redis`, `db.operation.name` and the server attributes; status ERROR with
 *   `error.type` on failure. No value ever, and no key unless `captureKeys`.
 *
 * See docs/telemetry.md for every attribute.
 */
export function instrument(cache: Cache, given: InstrumentOptions = {}): () => void {
  // Own properties only (`ownOptions`): not what a polluted Object.prototype holds.
  const options = ownOptions(given)
  const alias = options.alias ?? 'default'
  const captureKeys = options.captureKeys === true
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE)
  const counters = countersOf(meter)
  const producer = options.producer
  const findSeries = producer === undefined ? undefined : seriesFinderOf(producer)
  if (producer !== undefined && findSeries === undefined) {
    throw new InvalidArgumentError('instrument(): `producer` must come from createMetricProducer()')
  }
  const histograms = producer === undefined ? histogramsOf(meter) : undefined
  const durations = options.durations !== false
  // Spans are skipped while the tracer provider is the global one with no SDK behind it (its
  // spans would record nothing); an SDK registered later is used from then on.
  const tracerProvider = options.tracerProvider ?? trace.getTracerProvider()
  const proxy = tracerProvider instanceof ProxyTracerProvider ? tracerProvider : undefined
  const tracer: Tracer = tracerProvider.getTracer(SCOPE)
  const server = serverAttributes(options.location)
  // Metric points carry the attributes that tell series apart; the server's, constant for a
  // cache (its alias names it), go on spans only: the SDK hashes every attribute of every point.
  const metricBase: Attributes = { 'db.system.name': 'redis', 'cachex.cache.alias': alias }
  const spanBase: Attributes = { 'db.system.name': 'redis', ...server, 'cachex.cache.alias': alias }

  const count = (name: CounterName) => {
    const byOperation = new Map<string, Series>()
    return (operation: string, n = 1) => {
      let series = byOperation.get(operation)
      if (series === undefined) {
        series = counters.series(name, alias, operation)
        byOperation.set(operation, series)
      }
      series.value += n
    }
  }
  const hits = count('cachex.hits')
  const localHits = count('cachex.local.hits')
  const misses = count('cachex.misses')
  const sets = count('cachex.sets')
  const deletes = count('cachex.deletes')
  const invalidations = count('cachex.local.invalidations')

  /** Attributes of `db.client.operation.duration` points and of spans, per operation and error type. */
  const attributes = (base: Attributes) => {
    const byId = new Map<string, Attributes>()
    return (operation: string, errorType: string | undefined): Attributes => {
      const id = seriesId(operation, errorType)
      let found = byId.get(id)
      if (found === undefined) {
        found = { ...base, 'db.operation.name': operationName(operation) }
        if (errorType !== undefined) found['error.type'] = errorType
        byId.set(id, found)
      }
      return found
    }
  }
  const metricAttributes = attributes(metricBase)
  const spanAttributes = attributes(spanBase)
  const sizeAttributes = new Map<string, Attributes>()

  /**
   * Records a point of a histogram at the attributes `attributesOf(…)`: in the producer's
   * series (the attributes made once per series), or through the SDK's histogram.
   */
  const histogram = (
    spec: HistogramSpec,
    sdk: Histogram | undefined,
    attributesOf: (operation: string, errorType: string | undefined) => Attributes,
  ) => {
    if (sdk !== undefined) {
      return (value: number, operation: string, errorType: string | undefined) =>
        sdk.record(value, attributesOf(operation, errorType))
    }
    const series = new Map<string, HistogramSeries>()
    return (value: number, operation: string, errorType: string | undefined) => {
      const id = seriesId(operation, errorType)
      let found = series.get(id)
      if (found === undefined) {
        // Keyed by alias too: caches of one alias on one producer add up, as counters do.
        found = (findSeries as SeriesFinder)(
          spec,
          `${alias}\u0000${id}`,
          attributesOf(operation, errorType),
        )
        series.set(id, found)
      }
      found.record(value)
    }
  }
  const recordDuration = histogram(DURATION, histograms?.duration, metricAttributes)
  const recordSize = histogram(VALUE_SIZE, histograms?.valueSize, (operation) => {
    let attributes = sizeAttributes.get(operation)
    if (attributes === undefined) {
      attributes = { 'cachex.cache.alias': alias, 'db.operation.name': operation }
      sizeAttributes.set(operation, attributes)
    }
    return attributes
  })

  const stops = [
    cache.on('hit', (event: CacheHitEvent) => {
      hits(event.operation)
      if (event.local) localHits(event.operation)
    }),
    cache.on('miss', (event) => misses(event.operation)),
    cache.on('set', (event: CacheSetEvent) => {
      sets(event.operation)
      if (event.bytes !== undefined) recordSize(event.bytes, event.operation, undefined)
    }),
    cache.on('delete', (event) => deletes(event.operation)),
    cache.on('invalidate', (event) => invalidations('invalidate', event.count)),
    cache.on('error', (event: CacheErrorEvent) => {
      const name = event.ignored ? 'cachex.errors.ignored' : 'cachex.errors'
      counters.series(name, alias, event.operation, event.error.code).value++
    }),
    cache.on('operation', (event: CacheOperationEvent) => {
      const failed = 'error' in event
      const errorType = failed ? errorTypeOf(event.error) : undefined
      if (durations) recordDuration(event.durationMs / 1000, event.operation, errorType)
      if (proxy !== undefined && proxy.getDelegate() === NOOP_TRACER_PROVIDER) return
      const endTime = event.startTime + event.durationMs
      const span = tracer.startSpan(
        operationName(event.operation),
        {
          kind: SpanKind.CLIENT,
          startTime: event.startTime,
          attributes: spanAttributes(event.operation, errorType),
        },
        context.active(),
      )
      if (span.isRecording()) {
        // A batch of two calls or more, as the conventions name one (an empty pipeline is none).
        if (event.keyCount >= 2 && isBatch(event.operation)) {
          span.setAttribute('db.operation.batch.size', event.keyCount)
        }
        if (captureKeys && event.key !== undefined) {
          span.setAttribute('cachex.key', bounded(event.key))
        }
        if (failed) {
          const status = statusCodeOf(event.error)
          if (status !== undefined) span.setAttribute('db.response.status_code', status)
          span.setStatus({ code: SpanStatusCode.ERROR, message: errorType })
          // The SDK's recordException(), bounded: the message names the key, and may be megabytes.
          if (captureKeys && event.error instanceof Error) {
            const exception = exceptionAttributes(event.error)
            if (exception !== undefined) span.addEvent('exception', exception, endTime)
          }
        }
      }
      span.end(endTime)
    }),
  ]
  return () => {
    for (const stop of stops.splice(0)) stop()
  }
}

/** What tells the series of one operation apart: its name, and its error type on failure. */
function seriesId(operation: string, errorType: string | undefined): string {
  return errorType === undefined ? operation : `${operation}\u0000${errorType}`
}

/** The metric and span name of an operation: a pipeline is `PIPELINE`, a transaction `MULTI` (semantic conventions for Redis). */
function operationName(operation: string): string {
  return operation === 'pipeline' ? 'PIPELINE' : operation === 'transaction' ? 'MULTI' : operation
}

function isBatch(operation: string): boolean {
  return operation === 'pipeline' || operation === 'transaction'
}

/**
 * `server.address`, `server.port` and `db.namespace` of a location's first URL; never its
 * credentials. The location is split as the connection splits it (`parseLocation`: a comma only
 * before the next URL's scheme), so that a raw comma in a password stays in it.
 */
function serverAttributes(location: string | readonly string[] | undefined): Attributes {
  let url: string | undefined
  try {
    url = parseLocation(location)?.[0]
  } catch {
    return {}
  }
  if (url === undefined || !/^(rediss?|valkeys?|unix):\/\//i.test(url)) return {}
  let address: ReturnType<typeof parseRedisUrl>
  try {
    address = parseRedisUrl(url)
  } catch {
    return {}
  }
  const attributes: Attributes = { 'db.namespace': String(address.database) }
  if (address.path !== undefined) attributes['server.address'] = address.path
  else if (address.host !== undefined) {
    attributes['server.address'] = address.host
    attributes['server.port'] = address.port ?? 6379
  }
  return attributes
}

/** The global tracer provider's delegate while no SDK is registered. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate()
