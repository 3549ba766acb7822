// @cachex/redis/otel on a failed call whose error is huge (a 10 MB key named in its message): the
// span's exception event, status and error.type are bounded as `cachex.key` is, against a real
// redis-server and the OpenTelemetry SDK's in-memory exporter.
import { type Cache, createCache } from '@cachex/redis'
import { instrument } from '@cachex/redis/otel'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { type Attributes, SpanStatusCode } from '@opentelemetry/api'
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

/** A reader the test collects from by hand. */
class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** What `cachex.key` keeps of a text: its first 1,024 characters, then `…`. */
const BOUND = 1024
const bounded = (text: string) => (text.length <= BOUND ? text : `${text.slice(0, BOUND)}…`)
/** A key of 10 MB (Redis takes 512 MB): its error messages quote its first 1,024 characters. */
const HUGE = `k${'x'.repeat(10 * 1024 * 1024)}`
/** The longest run of the huge key's filler that a bounded text can hold. */
const RUN = 'x'.repeat(BOUND + 1)

let server: RedisServer
let spans: InMemorySpanExporter
let tracerProvider: BasicTracerProvider
const open: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  for (const cache of open) await cache.close()
  await server.stop()
})
beforeEach(() => {
  spans = new InMemorySpanExporter()
  tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
})
afterEach(async () => {
  await tracerProvider.shutdown()
})

function cacheFor(): Cache {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('otel-bounds') })
  open.push(cache)
  return cache
}

/** Every string a span exports: its attributes, status message and events' attributes. */
function texts(span: ReadableSpan): Array<[string, string]> {
  const of = (where: string, attributes: Attributes | undefined) =>
    Object.entries(attributes ?? {}).map(([k, v]): [string, string] => [`${where}${k}`, String(v)])
  return [
    ...of('', span.attributes),
    ['status.message', span.status.message ?? ''],
    ...span.events.flatMap((event) => of(`${event.name}: `, event.attributes)),
  ]
}

/** ES2024's `isWellFormed`, in Node 20 (the lib here is ES2022). */
interface WellFormed {
  isWellFormed(): boolean
}

/** The one finished span named `name`. */
function only(name: string): ReadableSpan {
  const found = spans.getFinishedSpans().filter((span) => span.name === name)
  expect(found).toHaveLength(1)
  return found[0] as ReadableSpan
}

/** What the failed call rejected with. */
async function failure(call: Promise<unknown>): Promise<Error & { code?: string }> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(Error)
  return error as Error & { code?: string }
}

describe('a failed call on a huge key', () => {
  it('captureKeys: bounds the exception event as cachex.key is, and keeps its stack frames', async () => {
    const cache = cacheFor()
    instrument(cache, { tracerProvider, captureKeys: true })
    await cache.hset(HUGE, 'f', 1)
    const error = await failure(cache.get(HUGE))
    // The message quotes the key bounded (@cachex/core), yet is longer than an attribute's bound.
    expect(error.message).toContain(`'${bounded(HUGE)}'`)
    expect(error.message.length).toBeGreaterThan(BOUND + 1)
    const span = only('get')
    expect(span.attributes['cachex.key']).toBe(bounded(HUGE))
    const exception = span.events.find((event) => event.name === 'exception')
    expect(exception?.attributes?.['exception.type']).toBe(error.code)
    expect(exception?.attributes?.['exception.message']).toBe(bounded(error.message))
    const stack = String(exception?.attributes?.['exception.stacktrace'])
    // The stack's header (the message) bounded as the message is; its frames kept.
    expect(stack.startsWith(`${error.name}: ${bounded(error.message)}\n`), stack.slice(0, 80)).toBe(
      true,
    )
    expect(stack).toMatch(/\n {4}at /)
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: error.code })
    const long = texts(span).filter(([, text]) => text.length > 4 * BOUND + 1 || text.includes(RUN))
    expect(long.map(([name, text]) => [name, text.length])).toEqual([])
  }, 60_000)

  it('without captureKeys: no exception event, and the key nowhere on the span or the metrics', async () => {
    const cache = cacheFor()
    const reader = new TestReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    instrument(cache, { tracerProvider, meterProvider })
    await cache.hset(HUGE, 'f', 1)
    await cache.hset('user:alice@example.com', 'f', 1)
    await failure(cache.get(HUGE))
    await failure(cache.get('user:alice@example.com'))
    const failed = spans.getFinishedSpans().filter((span) => span.name === 'get')
    expect(failed).toHaveLength(2)
    for (const span of failed) {
      expect(span.events).toEqual([])
      expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'E_RESPONSE' })
      const named = texts(span).filter(
        ([, text]) => text.includes('xxxxxxxx') || text.includes('alice'),
      )
      expect(named).toEqual([])
    }
    const { resourceMetrics } = await reader.collect()
    const metrics = JSON.stringify(resourceMetrics.scopeMetrics)
    expect(metrics).toContain('E_RESPONSE')
    expect(metrics).not.toMatch(/xxxxxxxx|alice/)
    await meterProvider.shutdown()
  }, 60_000)
})

describe('a key with lone surrogates (probe W)', () => {
  it('captureKeys: every text of its spans is well-formed, each lone surrogate as U+FFFD', async () => {
    // Redis stores such a key with U+FFFD (UTF-8 has no lone surrogate), and an OTLP exporter
    // sends a span's texts as UTF-8: one that is not well-formed fails the whole batch.
    const cache = cacheFor()
    instrument(cache, { tracerProvider, captureKeys: true })
    await cache.set('user:\ud800', 1)
    await cache.hset('h\udc00', 'f', 1)
    await failure(cache.get('h\udc00'))
    expect(only('set').attributes['cachex.key']).toBe('user:\ufffd')
    const broken = spans
      .getFinishedSpans()
      .flatMap((span) =>
        texts(span).filter(([, text]) => !(text as unknown as WellFormed).isWellFormed()),
      )
    expect(broken).toEqual([])
    const exception = only('get').events.find((event) => event.name === 'exception')
    expect(String(exception?.attributes?.['exception.message'])).toContain("'h\ufffd'")
  })
})

describe('the exception event cachex records', () => {
  it('is what recordException records for a short error, at the span end', async () => {
    const cache = cacheFor()
    instrument(cache, { tracerProvider, captureKeys: true })
    await cache.hset('h', 'f', 1)
    const error = await failure(cache.get('h'))
    const span = only('get')
    const reference = tracerProvider.getTracer('reference').startSpan('reference')
    reference.recordException(error)
    reference.end()
    const expected = only('reference').events[0]
    const [exception] = span.events
    expect(span.events).toHaveLength(1)
    expect(exception?.name).toBe(expected?.name)
    expect(exception?.attributes).toEqual(expected?.attributes)
    expect(exception?.time).toEqual(span.endTime)
  })

  it("bounds an application error's huge code, name, message and stack (error.type, status, event)", async () => {
    const cache = cacheFor()
    const reader = new TestReader()
    const meterProvider = new MeterProvider({ readers: [reader] })
    instrument(cache, { tracerProvider, meterProvider, captureKeys: true })
    const code = `E_${'C'.repeat(1024 * 1024)}`
    const name = `N${'n'.repeat(1024 * 1024)}`
    const factoryError = (withCode: boolean) => {
      const error = new Error(`boom ${'m'.repeat(1024 * 1024)}`) as Error & { code?: string }
      error.name = name
      if (withCode) error.code = code
      return error
    }
    await failure(cache.getOrSet('a', () => Promise.reject(factoryError(true))))
    await failure(cache.getOrSet('b', () => Promise.reject(factoryError(false))))
    const failed = spans.getFinishedSpans().filter((span) => span.name === 'getOrSet')
    expect(failed).toHaveLength(2)
    const [coded, named] = failed as [ReadableSpan, ReadableSpan]
    expect(coded.attributes['error.type']).toBe(bounded(code))
    expect(coded.status.message).toBe(bounded(code))
    expect(coded.events[0]?.attributes?.['exception.type']).toBe(bounded(code))
    expect(named.attributes['error.type']).toBe(bounded(name))
    expect(named.status.message).toBe(bounded(name))
    expect(named.events[0]?.attributes?.['exception.type']).toBe(bounded(name))
    for (const span of failed) {
      const long = texts(span).filter(([, text]) => text.length > 4 * BOUND + 1)
      expect(long.map(([key, text]) => [key, text.length])).toEqual([])
    }
    const { resourceMetrics } = await reader.collect()
    const types = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .flatMap((metric) => metric.dataPoints as DataPoint<unknown>[])
      .map((point) => point.attributes['error.type'])
      .filter((type) => type !== undefined)
    expect(new Set(types)).toEqual(new Set([bounded(code), bounded(name)]))
    await meterProvider.shutdown()
  }, 60_000)
})
