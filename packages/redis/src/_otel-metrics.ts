// The instruments of `@cachex/redis/otel`: its counters (counted in the process, reported through
// observable counters) and its two histograms (their specs, and the SDK's histograms per meter).
import type { Attributes, Histogram, Meter, ObservableCounter } from '@opentelemetry/api'
import type { HistogramSpec } from './_otel-producer.ts'

/** The bucket boundaries, in seconds, OpenTelemetry's semantic conventions give `db.client.operation.duration`. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10]

/** Bucket boundaries of `cachex.value.size`, in bytes: 64 B to 64 MiB. */
const SIZE_BUCKETS = [
  64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 67_108_864,
]

// Counters: counted in the process (a hit costs an addition, not an SDK call) and reported
// through observable counters when the SDK collects. Shared by every cache instrumented on one
// meter, so that two caches of one alias add up.

export type CounterName =
  | 'cachex.hits'
  | 'cachex.misses'
  | 'cachex.sets'
  | 'cachex.deletes'
  | 'cachex.errors'
  | 'cachex.errors.ignored'
  | 'cachex.local.hits'
  | 'cachex.local.invalidations'

const COUNTERS: Record<CounterName, { description: string; unit: string }> = {
  'cachex.hits': { description: 'Reads that found their key (local tier included)', unit: '{hit}' },
  'cachex.misses': { description: 'Reads that did not find their key', unit: '{miss}' },
  'cachex.sets': { description: 'Values stored', unit: '{value}' },
  'cachex.deletes': { description: 'Keys deleted (asked for)', unit: '{key}' },
  'cachex.errors': { description: 'Errors the cache raised', unit: '{error}' },
  'cachex.errors.ignored': {
    description: 'Errors ignoreExceptions turned into fallbacks',
    unit: '{error}',
  },
  'cachex.local.hits': { description: 'Reads the local tier served', unit: '{hit}' },
  'cachex.local.invalidations': {
    description: 'Entries the local tier dropped (written, expired or flushed)',
    unit: '{entry}',
  },
}

/** One time series of a counter: its attributes and its running total. */
export interface Series {
  readonly attributes: Attributes
  value: number
}

interface Counters {
  series(name: CounterName, alias: string, operation: string, errorType?: string): Series
}

const countersByMeter = new WeakMap<Meter, Counters>()

export function countersOf(meter: Meter): Counters {
  const existing = countersByMeter.get(meter)
  if (existing !== undefined) return existing
  const all = new Map<CounterName, Map<string, Series>>()
  const observables: Array<[CounterName, ObservableCounter]> = []
  for (const [name, options] of Object.entries(COUNTERS) as Array<
    [CounterName, (typeof COUNTERS)[CounterName]]
  >) {
    all.set(name, new Map())
    observables.push([name, meter.createObservableCounter(name, options)])
  }
  meter.addBatchObservableCallback(
    (result) => {
      for (const [name, observable] of observables) {
        for (const series of (all.get(name) as Map<string, Series>).values()) {
          result.observe(observable, series.value, series.attributes)
        }
      }
    },
    observables.map(([, observable]) => observable),
  )
  const counters: Counters = {
    series(name, alias, operation, errorType) {
      const byId = all.get(name) as Map<string, Series>
      const id = `${alias}\u0000${operation}\u0000${errorType ?? ''}`
      let series = byId.get(id)
      if (series === undefined) {
        const attributes: Attributes = { 'cachex.cache.alias': alias }
        if (name !== 'cachex.local.invalidations') attributes['db.operation.name'] = operation
        if (errorType !== undefined) attributes['error.type'] = errorType
        series = { attributes, value: 0 }
        byId.set(id, series)
      }
      return series
    },
  }
  countersByMeter.set(meter, counters)
  return counters
}

export const DURATION: HistogramSpec = {
  name: 'db.client.operation.duration',
  description: 'Duration of cache operations',
  unit: 's',
  boundaries: DURATION_BUCKETS,
}

export const VALUE_SIZE: HistogramSpec = {
  name: 'cachex.value.size',
  description: 'Size of the values stored, serialized and compressed',
  unit: 'By',
  boundaries: SIZE_BUCKETS,
}

const histogramsByMeter = new WeakMap<Meter, { duration: Histogram; valueSize: Histogram }>()

export function histogramsOf(meter: Meter): { duration: Histogram; valueSize: Histogram } {
  let histograms = histogramsByMeter.get(meter)
  if (histograms === undefined) {
    const create = ({ name, description, unit, boundaries }: HistogramSpec) =>
      meter.createHistogram(name, {
        description,
        unit,
        advice: { explicitBucketBoundaries: [...boundaries] },
      })
    histograms = { duration: create(DURATION), valueSize: create(VALUE_SIZE) }
    histogramsByMeter.set(meter, histograms)
  }
  return histograms
}
