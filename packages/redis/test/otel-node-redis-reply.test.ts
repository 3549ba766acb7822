// `db.response.status_code` for an error reply of the application's own node-redis client, met in
// a getOrSet factory: node-redis replies with a `SimpleError` (a subclass of its `ErrorReply`),
// which the span once missed, checking for `ErrorReply` itself.
import { createCache } from '@cachex/redis'
import { instrument } from '@cachex/redis/otel'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, expect, it } from 'vitest'

let server: RedisServer
beforeAll(async () => {
  server = await startRedis()
}, 60_000)
afterAll(async () => {
  await server?.stop()
})

it("puts Redis's prefix on the span of a factory failing with a node-redis error reply", async () => {
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spans)],
  })
  const meterProvider = new MeterProvider()
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('otel-reply') })
  instrument(cache, { meterProvider, tracerProvider })
  const client = await createClient({ url: server.url }).connect()
  try {
    const key = uniquePrefix('string')
    await client.set(key, 'x')
    await expect(cache.getOrSet('k', () => client.hGet(key, 'f'))).rejects.toThrow(/^WRONGTYPE/)
    const [span] = spans.getFinishedSpans().filter((s) => s.name === 'getOrSet')
    expect(span?.attributes['db.response.status_code']).toBe('WRONGTYPE')
  } finally {
    client.destroy()
    await cache.close()
    await meterProvider.shutdown()
    await tracerProvider.shutdown()
  }
}, 60_000)
