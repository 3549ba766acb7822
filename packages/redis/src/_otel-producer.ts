// Histograms aggregated in the process and handed to the OpenTelemetry SDK as a `MetricProducer`
// (a reader's `metricProducers`): a duration costs a bucket search and four additions, where the
// SDK's `Histogram.record` hashes the point's attributes on every call (about 1 µs).
//
// Only types come from the SDK: what `collect` resolves is plain data in the shape of
// `@opentelemetry/sdk-metrics`' `CollectionResult`, so `@cachex/redis/otel` needs nothing of the
// SDK at run time.
import { type Attributes, type HrTime, ValueType } from '@opentelemetry/api'

/** `DataPointType.HISTOGRAM` and `AggregationTemporality.CUMULATIVE` of `@opentelemetry/sdk-metrics`. */
const HISTOGRAM_POINTS = 0
const CUMULATIVE = 1

/** What a histogram is: its name, description, unit and bucket boundaries. */
export interface HistogramSpec {
  readonly name: string
  readonly description: string
  readonly unit: string
  readonly boundaries: readonly number[]
}

/** One series of a histogram (one set of attributes), aggregated since it was first recorded. */
export interface HistogramSeries {
  record(value: number): void
}

/**
 * A `MetricProducer` of `@opentelemetry/sdk-metrics`, made by `createMetricProducer()`: add it to
 * a reader's `metricProducers`, and pass it as `producer` to `instrument` / `openTelemetry`.
 */
export interface CachexMetricProducer {
  /**
   * The histograms recorded so far, cumulative since each series began, in the shape of the SDK's
   * `CollectionResult`. Its `resource` is typed `never`: a reader reports the producer's metrics
   * with its own resource, and this package has no SDK types to name one with.
   */
  collect(options?: { timeoutMillis?: number }): Promise<{
    resourceMetrics: { resource: never; scopeMetrics: ProducedScopeMetrics[] }
    errors: unknown[]
  }>
}

/** The scope and histograms `collect` reports. */
export interface ProducedScopeMetrics {
  scope: { name: string }
  metrics: Array<{
    descriptor: { name: string; description: string; unit: string; valueType: ValueType }
    aggregationTemporality: 1
    dataPointType: 0
    dataPoints: Array<{
      startTime: HrTime
      endTime: HrTime
      attributes: Attributes
      value: {
        buckets: { boundaries: number[]; counts: number[] }
        sum: number
        count: number
        min: number
        max: number
      }
    }>
  }>
}

class Series implements HistogramSeries {
  readonly counts: Float64Array
  sum = 0
  count = 0
  min = Number.POSITIVE_INFINITY
  max = Number.NEGATIVE_INFINITY
  readonly startTime = now()

  constructor(
    readonly boundaries: readonly number[],
    readonly attributes: Attributes,
  ) {
    this.counts = new Float64Array(boundaries.length + 1)
  }

  record(value: number): void {
    // Buckets are (previous, boundary]: the SDK's explicit-bucket rule.
    const boundaries = this.boundaries
    let i = 0
    while (i < boundaries.length && value > (boundaries[i] as number)) i++
    ;(this.counts[i] as number)++
    this.sum += value
    this.count++
    if (value < this.min) this.min = value
    if (value > this.max) this.max = value
  }
}

/** The histograms of one producer, by name, then by series id. */
const stores = new WeakMap<CachexMetricProducer, Map<string, Histogram>>()

interface Histogram {
  readonly spec: HistogramSpec
  readonly series: Map<string, Series>
}

/** A producer whose histograms are reported under the instrumentation scope `scope`. */
export function newMetricProducer(scope: string): CachexMetricProducer {
  const histograms = new Map<string, Histogram>()
  const producer: CachexMetricProducer = {
    async collect() {
      const endTime = now()
      const metrics: ProducedScopeMetrics['metrics'] = []
      for (const { spec, series } of histograms.values()) {
        if (series.size === 0) continue
        metrics.push({
          descriptor: {
            name: spec.name,
            description: spec.description,
            unit: spec.unit,
            valueType: ValueType.DOUBLE,
          },
          aggregationTemporality: CUMULATIVE,
          dataPointType: HISTOGRAM_POINTS,
          dataPoints: [...series.values()]
            .filter((s) => s.count > 0)
            .map((s) => ({
              startTime: s.startTime,
              endTime,
              attributes: s.attributes,
              value: {
                buckets: { boundaries: [...s.boundaries], counts: [...s.counts] },
                sum: s.sum,
                count: s.count,
                min: s.min,
                max: s.max,
              },
            })),
        })
      }
      return {
        // A reader keeps its own resource and takes only `scopeMetrics` from a producer.
        resourceMetrics: {
          resource: EMPTY_RESOURCE as never,
          scopeMetrics: [{ scope: { name: scope }, metrics }],
        },
        errors: [],
      }
    },
  }
  stores.set(producer, histograms)
  return producer
}

/** Finds or makes the series of histogram `spec` at `attributes` (identified by `id`). */
export type SeriesFinder = (
  spec: HistogramSpec,
  id: string,
  attributes: Attributes,
) => HistogramSeries

/**
 * The series finder of `producer`, or `undefined` when `createMetricProducer` did not make it
 * (a plain object with a `collect` method, say).
 */
export function seriesFinderOf(producer: unknown): SeriesFinder | undefined {
  const histograms = stores.get(producer as CachexMetricProducer)
  if (histograms === undefined) return undefined
  return (spec, id, attributes) => {
    let histogram = histograms.get(spec.name)
    if (histogram === undefined) {
      histogram = { spec, series: new Map() }
      histograms.set(spec.name, histogram)
    }
    let series = histogram.series.get(id)
    if (series === undefined) {
      series = new Series(spec.boundaries, attributes)
      histogram.series.set(id, series)
    }
    return series
  }
}

/** A resource with no attributes: `collect` must name one; readers use theirs. */
const EMPTY_RESOURCE = {
  attributes: {},
  asyncAttributesPending: false,
  async waitForAsyncAttributes(): Promise<void> {},
  getRawAttributes: () => [],
  merge(other: unknown) {
    return other ?? EMPTY_RESOURCE
  },
}

/**
 * The wall-clock time now, as OpenTelemetry's `[seconds, nanoseconds]`: `Date.now()`, the clock
 * of the events' `startTime` (`performance.timeOrigin` plus the monotonic clock drifts from it).
 */
function now(): HrTime {
  const ms = Date.now()
  const seconds = Math.floor(ms / 1000)
  return [seconds, Math.min(999_999_999, Math.round((ms - seconds * 1000) * 1e6))]
}
