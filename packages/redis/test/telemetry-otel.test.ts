// @cachex/redis/otel against the real OpenTelemetry SDK (metrics and traces, in memory) and a
// real redis-server: counters, histograms, spans, their parent, no key and no password.
import { type Cache, caches, configureCaches, createCache } from '@cachex/redis'
import { createMetricProducer, instrument, openTelemetry } from '@cachex/redis/otel'
import { freePort, uniquePrefix } from '@cachex/test-utils'
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  AggregationTemporality,
  type DataPoint,
  DataPointType,
  type Histogram,
  MeterProvider,
  type MetricProducer,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { backendServer } from './helpers.ts'

/** A reader the test collects from by hand. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let server: { url: string; stop(): Promise<void> }
let spans: InMemorySpanExporter
let tracerProvider: BasicTracerProvider
let meterProvider: MeterProvider
let reader: TestReader
const contextManager = new AsyncLocalStorageContextManager()
const open: Cache[] = []

beforeAll(async () => {
  server = await backendServer('redis')
  // The context manager a Node application registers (the SDK's NodeSDK does it): it carries the
  // active span across awaits.
  context.setGlobalContextManager(contextManager.enable())
})
afterAll(async () => {
  for (const cache of open) await cache.close()
  context.disable()
  await server.stop()
})
beforeEach(() => {
  spans = new InMemorySpanExporter()
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  reader = new TestReader()
  meterProvider = new MeterProvider({ readers: [reader] })
})
afterEach(async () => {
  await meterProvider.shutdown()
  await tracerProvider.shutdown()
})

function cacheFor(options: object = {}): Cache {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('otel'), ...options })
  open.push(cache)
  return cache
}

async function collect(): Promise<ResourceMetrics> {
  const { resourceMetrics, errors } = await reader.collect()
  expect(errors).toEqual([])
  return resourceMetrics
}

/** The data points of metric `name`. */
function points(metrics: ResourceMetrics, name: string): DataPoint<unknown>[] {
  const found = metrics.scopeMetrics
    .filter((scope) => scope.scope.name === '@cachex/redis')
    .flatMap((scope) => scope.metrics)
    .filter((metric) => metric.descriptor.name === name)
  return found.flatMap((metric) => metric.dataPoints as DataPoint<unknown>[])
}

/** The value of counter `name` at the attributes that include `where` (summed). */
function counter(metrics: ResourceMetrics, name: string, where: Record<string, unknown>): number {
  let total = 0
  for (const point of points(metrics, name)) {
    if (Object.entries(where).every(([k, v]) => point.attributes[k] === v)) {
      total += point.value as number
    }
  }
  return total
}

describe('instrument()', () => {
  it('counts hits, misses, sets, deletes and errors, per alias and operation', async () => {
    const cache = cacheFor()
    const stop = instrument(cache, {
      alias: 'main',
      meterProvider,
      tracerProvider,
      location: server.url,
    })
    await cache.set('a', 'x'.repeat(100))
    await cache.get('a')
    await cache.get('b')
    await cache.getMany(['a', 'b', 'c'])
    await cache.setMany({ c: 1, d: 2 })
    await cache.delete('a')
    await cache.hset('h', 'f', 1)
    await expect(cache.get('h')).rejects.toMatchObject({ code: 'E_RESPONSE' })
    const m = await collect()
    const main = { 'cachex.cache.alias': 'main' }
    expect(counter(m, 'cachex.hits', { ...main, 'db.operation.name': 'get' })).toBe(1)
    expect(counter(m, 'cachex.hits', { ...main, 'db.operation.name': 'getMany' })).toBe(1)
    expect(counter(m, 'cachex.misses', main)).toBe(3)
    expect(counter(m, 'cachex.sets', { ...main, 'db.operation.name': 'set' })).toBe(1)
    expect(counter(m, 'cachex.sets', { ...main, 'db.operation.name': 'setMany' })).toBe(2)
    expect(counter(m, 'cachex.deletes', main)).toBe(1)
    expect(counter(m, 'cachex.errors', { ...main, 'error.type': 'E_RESPONSE' })).toBe(1)
    expect(counter(m, 'cachex.errors.ignored', main)).toBe(0)
    expect(counter(m, 'cachex.local.hits', main)).toBe(0)

    // Value sizes: one set of 102 bytes of JSON, two setMany of 1 byte each.
    const sizes = points(m, 'cachex.value.size') as DataPoint<Histogram>[]
    expect(
      sizes.map((p) => [p.attributes['db.operation.name'], p.value.count, p.value.sum]),
    ).toEqual(
      expect.arrayContaining([
        ['set', 1, 102],
        ['setMany', 2, 2],
      ]),
    )

    // One duration per call, by operation, with the semantic conventions' attributes.
    const durations = points(m, 'db.client.operation.duration') as DataPoint<Histogram>[]
    const byOperation = new Map<string, number>()
    for (const point of durations) {
      const name = point.attributes['db.operation.name'] as string
      byOperation.set(name, (byOperation.get(name) ?? 0) + point.value.count)
      expect(point.attributes['db.system.name']).toBe('redis')
      expect(point.attributes['cachex.cache.alias']).toBe('main')
      // The server's attributes are on spans: constant for a cache, costly on every point.
      expect(point.attributes['server.address']).toBeUndefined()
    }
    expect(Object.fromEntries(byOperation)).toEqual({
      set: 1,
      get: 3,
      getMany: 1,
      setMany: 1,
      delete: 1,
      hset: 1,
    })
    const failed = durations.find((p) => p.attributes['error.type'] !== undefined)
    expect(failed?.attributes).toMatchObject({
      'db.operation.name': 'get',
      'error.type': 'E_RESPONSE',
    })
    expect(durations[0]?.value.buckets.boundaries).toEqual([
      0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10,
    ])

    // Stopped: nothing more is counted (the totals stay: counters never go down).
    stop()
    await cache.get('a')
    expect(counter(await collect(), 'cachex.misses', main)).toBe(3)
  })

  it('leaves the duration histogram out with durations: false', async () => {
    const cache = cacheFor()
    instrument(cache, { alias: 'lean', meterProvider, tracerProvider, durations: false })
    await cache.get('a')
    const m = await collect()
    expect(counter(m, 'cachex.misses', { 'cachex.cache.alias': 'lean' })).toBe(1)
    expect(points(m, 'db.client.operation.duration')).toEqual([])
    expect(spans.getFinishedSpans().map((span) => span.name)).toEqual(['get'])
  })

  it('reports the same histograms through createMetricProducer() as through the SDK', async () => {
    // One cache, instrumented twice: the SDK's histograms on one meter provider, the producer's
    // on another (whose reader collects the producer). Every operation is one event both see.
    const producer = createMetricProducer()
    const typed: MetricProducer = producer
    const producerReader = new TestReader({ metricProducers: [typed] })
    const producerMeters = new MeterProvider({ readers: [producerReader] })
    const cache = cacheFor()
    instrument(cache, { alias: 'both', meterProvider, tracerProvider })
    instrument(cache, { alias: 'both', meterProvider: producerMeters, tracerProvider, producer })
    await cache.set('a', 'x'.repeat(300))
    await cache.setMany({ b: 1, c: 'y'.repeat(5000) })
    for (let i = 0; i < 20; i++) await cache.get(i % 2 === 0 ? 'a' : 'missing')
    await cache.getMany(['a', 'b'])
    await cache.hset('h', 'f', 1)
    await expect(cache.get('h')).rejects.toMatchObject({ code: 'E_RESPONSE' })

    const fromProducer = await producerReader.collect()
    expect(fromProducer.errors).toEqual([])
    const sdk = await collect()
    const summary = (metrics: ResourceMetrics, name: string) =>
      (points(metrics, name) as DataPoint<Histogram>[])
        .map((p) => ({
          attributes: p.attributes,
          counts: p.value.buckets.counts,
          boundaries: p.value.buckets.boundaries,
          count: p.value.count,
          sum: p.value.sum,
          min: p.value.min,
          max: p.value.max,
        }))
        .sort((x, y) => JSON.stringify(x.attributes).localeCompare(JSON.stringify(y.attributes)))
    for (const name of ['db.client.operation.duration', 'cachex.value.size']) {
      const expected = summary(sdk, name)
      expect(expected.length).toBeGreaterThan(0)
      expect(summary(fromProducer.resourceMetrics, name)).toEqual(expected)
    }
    expect(
      summary(fromProducer.resourceMetrics, 'db.client.operation.duration').find(
        (p) => p.attributes['db.operation.name'] === 'get' && !('error.type' in p.attributes),
      )?.count,
    ).toBe(20)
    // Cumulative, as histograms of the SDK's default temporality; the counters still come from
    // the meter (the producer carries histograms only).
    const histograms = fromProducer.resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.dataPointType === DataPointType.HISTOGRAM)
    expect(histograms.map((metric) => metric.aggregationTemporality)).toEqual([
      AggregationTemporality.CUMULATIVE,
      AggregationTemporality.CUMULATIVE,
    ])
    expect(
      counter(fromProducer.resourceMetrics, 'cachex.misses', { 'cachex.cache.alias': 'both' }),
    ).toBe(10)
    for (const point of points(fromProducer.resourceMetrics, 'db.client.operation.duration')) {
      const [seconds, nanos] = point.startTime
      expect(nanos).toBeGreaterThanOrEqual(0)
      expect(nanos).toBeLessThan(1e9)
      expect(Math.abs(seconds - Date.now() / 1000)).toBeLessThan(600)
    }
    await producerMeters.shutdown()
  })

  it('refuses a producer createMetricProducer did not make', () => {
    const cache = cacheFor()
    const fake = { collect: async () => ({}) } as unknown as ReturnType<typeof createMetricProducer>
    expect(() => instrument(cache, { meterProvider, producer: fake })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })

  it('counts ignored errors apart', async () => {
    const cache = cacheFor({ ignoreExceptions: true })
    instrument(cache, { alias: 'lenient', meterProvider, tracerProvider })
    await cache.hset('h', 'f', 1)
    expect(await cache.get('h')).toBe(null)
    const m = await collect()
    const where = { 'cachex.cache.alias': 'lenient', 'error.type': 'E_RESPONSE' }
    expect(counter(m, 'cachex.errors.ignored', where)).toBe(1)
    expect(counter(m, 'cachex.errors', where)).toBe(0)
  })

  it("puts no status code on a span for an application's error, only for an error reply", async () => {
    const cache = cacheFor()
    instrument(cache, { meterProvider, tracerProvider })
    await expect(
      cache.getOrSet('k', () => {
        throw new Error('TOKEN for user 42 expired')
      }),
    ).rejects.toThrow('TOKEN')
    const [span] = spans.getFinishedSpans().filter((s) => s.name === 'getOrSet')
    expect(span?.status.code).toBe(SpanStatusCode.ERROR)
    expect(span?.attributes['db.response.status_code']).toBeUndefined()
  })

  it('makes a CLIENT span per operation, child of the active span, without keys or values', async () => {
    const cache = cacheFor({ password: 'hunter2-secret' })
    // A URL with a password (one the server does not check): never on a span or a metric.
    const location = server.url.replace('redis://', 'redis://admin:hunter2-secret@')
    instrument(cache, { meterProvider, tracerProvider, location })
    const tracer = tracerProvider.getTracer('app')
    await tracer.startActiveSpan('request', async (parent) => {
      await cache.set('user:alice', { secret: 'value-xyz' })
      await cache.get('user:alice')
      await cache.pipeline().get('user:alice').get('user:bob').exec()
      await cache.pipeline().exec()
      parent.end()
    })
    await cache.hset('h', 'f', 1)
    await expect(cache.get('h')).rejects.toThrow()
    const finished = spans.getFinishedSpans()
    const parent = finished.find((span) => span.name === 'request')
    const byName = (name: string) => finished.filter((span) => span.name === name)
    const [set] = byName('set')
    const [get, failing] = byName('get')
    const [pipeline, empty] = byName('PIPELINE')
    for (const span of [set, get, pipeline]) {
      expect(span?.kind).toBe(SpanKind.CLIENT)
      expect(span?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId)
      expect(span?.spanContext().traceId).toBe(parent?.spanContext().traceId)
    }
    expect(get?.attributes).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'get',
      'db.namespace': '0',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(server.url).port),
      'cachex.cache.alias': 'default',
    })
    expect(pipeline?.attributes['db.operation.batch.size']).toBe(2)
    // An empty pipeline is no batch (the conventions' batch is of two operations or more).
    expect(empty?.attributes).not.toHaveProperty('db.operation.batch.size')
    // Outside the request: a root span, failed, with the error's code and Redis's prefix.
    expect(failing?.parentSpanContext).toBeUndefined()
    expect(failing?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'E_RESPONSE' })
    expect(failing?.attributes['error.type']).toBe('E_RESPONSE')
    expect(failing?.attributes['db.response.status_code']).toBe('WRONGTYPE')
    expect(failing?.events).toEqual([])
    // The span lasts as the call did, ending after it started.
    for (const span of finished) {
      const start = span.startTime[0] * 1e9 + span.startTime[1]
      const end = span.endTime[0] * 1e9 + span.endTime[1]
      expect(end).toBeGreaterThanOrEqual(start)
    }
    // No key, no value, no password: anywhere in what was exported.
    const everything = JSON.stringify([
      finished.map((span) => [span.name, span.attributes, span.events, span.status]),
      await collect(),
    ])
    for (const secret of ['alice', 'bob', 'value-xyz', 'hunter2-secret', cache.keyPrefix]) {
      expect(everything).not.toContain(secret)
    }
  })

  it('reads server.address and server.port from a location as the connection does, a raw comma in the password included', async () => {
    const port = Number(new URL(server.url).port)
    for (const location of [
      // The password is '6390,horse': a raw comma is fine in a location.
      `redis://app:6390,horse@127.0.0.1:${port}/0`,
      `redis://app:6390,horse@127.0.0.1:${port}/0,redis://127.0.0.1:1/0`,
      [`redis://app:6390,horse@127.0.0.1:${port}/0`],
    ]) {
      spans.reset()
      const cache = cacheFor()
      const stop = instrument(cache, { tracerProvider, location })
      await cache.set('k', 1)
      stop()
      const [span] = spans.getFinishedSpans().filter((s) => s.name === 'set')
      expect(span?.attributes['server.address'], String(location)).toBe('127.0.0.1')
      expect(span?.attributes['server.port'], String(location)).toBe(port)
      expect(JSON.stringify(span?.attributes)).not.toMatch(/horse|app/)
    }
  })

  it('puts the key on spans only with captureKeys', async () => {
    const cache = cacheFor()
    instrument(cache, { meterProvider, tracerProvider, captureKeys: true })
    await cache.get('user:alice')
    await cache.hset('h', 'f', 1)
    await expect(cache.hincrby('h', 'f', 1.5 as number)).rejects.toThrow()
    const [get] = spans.getFinishedSpans().filter((span) => span.name === 'get')
    expect(get?.attributes['cachex.key']).toBe('user:alice')
  })

  it('counts the local tier: local hits and invalidations', async () => {
    const cache = cacheFor({ local: {} })
    instrument(cache, { alias: 'tiered', meterProvider, tracerProvider })
    await cache.set('k', 'v')
    const until = Date.now() + 20_000
    // Read until the tier serves it (the write's own invalidation may arrive after a read).
    while ((cache.localStats()?.hits ?? 0) === 0) {
      if (Date.now() > until) throw new Error('the local tier never served the key')
      await cache.get('k')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    await cache.delete('k') // drops the entry
    const m = await collect()
    const where = { 'cachex.cache.alias': 'tiered' }
    expect(counter(m, 'cachex.local.hits', where)).toBe(cache.localStats()?.hits)
    expect(counter(m, 'cachex.local.invalidations', where)).toBe(cache.localStats()?.invalidations)
    expect(counter(m, 'cachex.local.invalidations', where)).toBeGreaterThan(0)
  })
})

describe('openTelemetry() through createCache and the registry', () => {
  afterEach(async () => {
    await caches.close()
  })

  it('instruments each cache of the registry with its alias', async () => {
    configureCaches(
      {
        default: { location: server.url, keyPrefix: uniquePrefix('reg-a') },
        sessions: { location: `${server.url}/3`, keyPrefix: uniquePrefix('reg-b') },
      },
      { telemetry: openTelemetry({ meterProvider, tracerProvider }) },
    )
    await caches.get('default').get('x')
    await caches.get('sessions').get('y')
    await caches.get('sessions').get('z')
    const m = await collect()
    expect(counter(m, 'cachex.misses', { 'cachex.cache.alias': 'default' })).toBe(1)
    expect(counter(m, 'cachex.misses', { 'cachex.cache.alias': 'sessions' })).toBe(2)
    const sessions = spans
      .getFinishedSpans()
      .filter((s) => s.attributes['cachex.cache.alias'] === 'sessions')
    expect(sessions.map((s) => s.attributes['db.namespace'])).toEqual(['3', '3'])
  })

  it('takes an alias of its own in createCache, and refuses what is not telemetry', () => {
    const cache = cacheFor({
      telemetry: openTelemetry({ alias: 'own', meterProvider, tracerProvider }),
    })
    expect(cache).toBeDefined()
    expect(() => createCache({ location: server.url, telemetry: {} as never })).toThrow(
      /openTelemetry\(\)/,
    )
  })

  it('adds up two caches of one alias', async () => {
    const telemetry = openTelemetry({ alias: 'shared', meterProvider, tracerProvider })
    const one = cacheFor({ telemetry })
    const two = cacheFor({ telemetry })
    await one.get('a')
    await two.get('b')
    expect(counter(await collect(), 'cachex.misses', { 'cachex.cache.alias': 'shared' })).toBe(2)
  })
})

describe('the global providers', () => {
  it('reports to the global tracer provider by default, and to no-op when none is set', async () => {
    const cache = cacheFor()
    const stop = instrument(cache)
    // Nothing registered globally: the calls work, nothing is recorded anywhere.
    await cache.get('k')
    expect(trace.setGlobalTracerProvider(tracerProvider)).toBe(true)
    try {
      // An SDK registered after instrument() gets the spans from then on.
      await cache.get('k')
      stop()
      const again = instrument(cache, { meterProvider })
      await cache.hasKey('k')
      again()
      expect(spans.getFinishedSpans().map((span) => span.name)).toEqual(['get', 'hasKey'])
    } finally {
      trace.disable()
    }
  })
})

describe('spans and counters at the edges', () => {
  it('reports server.address 127.0.0.1, port 6379 and database 0 for the default location', async () => {
    // The only call is refused before any connection opens (a key that is no string): nothing
    // reaches 127.0.0.1:6379, and the call still makes its span.
    const cache = createCache({ telemetry: openTelemetry({ tracerProvider, meterProvider }) })
    open.push(cache)
    await expect(cache.get(42 as never)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
    const explicit = createCache({
      client: 'default',
      telemetry: openTelemetry({ tracerProvider, meterProvider }),
    })
    open.push(explicit)
    await expect(explicit.ttl(42 as never)).rejects.toMatchObject({ code: 'E_INVALID_ARGUMENT' })
    const finished = spans.getFinishedSpans()
    expect(finished.map((span) => span.name)).toEqual(['get', 'ttl'])
    for (const span of finished) {
      expect(span.attributes).toMatchObject({
        'server.address': '127.0.0.1',
        'server.port': 6379,
        'db.namespace': '0',
      })
    }
  })

  it('counts the failures of acquireLock in cachex.errors, as its span fails', async () => {
    const cache = createCache({
      location: `redis://127.0.0.1:${await freePort()}/0`,
      socketConnectTimeout: 1,
      telemetry: openTelemetry({ tracerProvider, meterProvider }),
    })
    open.push(cache)
    await expect(cache.acquireLock('l', { blocking: false })).rejects.toMatchObject({
      code: 'E_CONNECTION',
    })
    await expect(cache.acquireLock('l', { timeout: -5 })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    })
    const failed = spans.getFinishedSpans().filter((span) => span.name === 'acquireLock')
    expect(failed.map((span) => span.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
    ])
    const metrics = await collect()
    const where = { 'db.operation.name': 'acquireLock' }
    expect(counter(metrics, 'cachex.errors', { ...where, 'error.type': 'E_CONNECTION' })).toBe(1)
    expect(
      counter(metrics, 'cachex.errors', { ...where, 'error.type': 'E_INVALID_ARGUMENT' }),
    ).toBe(1)
  })

  it('bounds cachex.key to its first 1,024 characters, marked', async () => {
    const cache = cacheFor()
    instrument(cache, { tracerProvider, captureKeys: true })
    const long = `k${'x'.repeat(2 * 1024 * 1024)}`
    await cache.get(long)
    // A key whose 1,024th character opens a surrogate pair is cut before the pair.
    const emoji = `${'y'.repeat(1023)}😀tail`
    await cache.get(emoji)
    await cache.get('short')
    const keys = spans.getFinishedSpans().map((span) => span.attributes['cachex.key'])
    expect(keys).toEqual([`${long.slice(0, 1024)}…`, `${'y'.repeat(1023)}…`, 'short'])
  })
})
