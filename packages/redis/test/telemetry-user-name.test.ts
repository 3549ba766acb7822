// @cachex/redis/otel with `captureKeys`: a failed call's `exception` span event never carries the
// Redis user name (docs/telemetry.md, Spans: "never a password or user name"), though the error
// the call rejects with names it, as the URL is shown in messages (the password hidden). Against
// a real redis-server with an ACL user, killed under the cache, and the OpenTelemetry SDK's
// in-memory exporter; then the texts the other topologies put in messages (a cluster's URLs, an
// ACL refusal of Redis 7.2+), through the function that builds the event.
import { type Cache, createCache, ResponseError, redactUrl } from '@cachex/redis'
import { instrument } from '@cachex/redis/otel'
import { delay, type RedisServer, redisCall, startRedis, uniquePrefix } from '@cachex/test-utils'
import { SpanStatusCode } from '@opentelemetry/api'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exceptionAttributes } from '../src/_otel-bounds.ts'

const USER = 'otelUserName7'
const PASSWORD = 'OtelUserPa55word'

let server: RedisServer
const open: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
  await redisCall(server.url, ['ACL', 'SETUSER', USER, 'on', `>${PASSWORD}`, '~*', '&*', '+@all'])
})
afterAll(async () => {
  for (const cache of open) await cache.close().catch(() => {})
  await server.stop()
})

/** Every text a span exports: its name, attributes, status and events' attributes. */
function spanText(span: ReadableSpan): string {
  const parts = [span.name, JSON.stringify(span.attributes), JSON.stringify(span.status)]
  for (const event of span.events) parts.push(event.name, JSON.stringify(event.attributes))
  return parts.join('\n')
}

describe('captureKeys and a URL with a user name', () => {
  it('the exception event of a call on an unreachable server names no user; the error does', async () => {
    const spans = new InMemorySpanExporter()
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(spans)],
    })
    const url = `redis://${USER}:${PASSWORD}@127.0.0.1:${server.port}`
    const cache = createCache({
      location: url,
      keyPrefix: uniquePrefix('otel-user'),
      socketTimeout: 2,
    })
    open.push(cache)
    instrument(cache, { tracerProvider, captureKeys: true, location: url })
    await cache.set('a', 1)
    await server.kill()
    // The first call may meet the socket's close; the next ones find the server unreachable.
    const errors: Error[] = []
    try {
      for (let i = 0; i < 3; i++) {
        await cache.set('a', i).catch((e: Error) => errors.push(e))
        await delay(200)
      }
    } finally {
      await server.start()
    }
    // The error keeps the user name (only the password is hidden): what the user sees.
    const named = errors.filter((e) => e.message.includes(`${USER}:***@`))
    expect(named.length, errors.map((e) => e.message).join('\n')).toBeGreaterThan(0)
    const failed = spans.getFinishedSpans().filter((s) => s.status.code === SpanStatusCode.ERROR)
    expect(failed).toHaveLength(errors.length)
    const messages = failed.map((s) =>
      String(
        s.events.find((event) => event.name === 'exception')?.attributes?.['exception.message'],
      ),
    )
    const text = failed.map(spanText).join('\n')
    expect(text).not.toContain(USER)
    expect(text).not.toContain(PASSWORD)
    // The event still says where: the URL, its user name (and password) hidden.
    expect(messages.some((m) => m.includes(`redis://***@127.0.0.1:${server.port}`))).toBe(true)
    await tracerProvider.shutdown()
  }, 60_000)
})

describe('the exception event of an error whose text names a user', () => {
  /** The attributes' texts of the exception event of `error`. */
  const attributesOf = (error: Error) => JSON.stringify(exceptionAttributes(error))

  it('hides the user of every URL, however the user name is written, and keeps the rest', () => {
    const users = ['alice', 'us@er', 'a/b', 'al ice', 'u%3Ax', 'xq9']
    for (const user of users) {
      const urls = [
        `redis://${user}:secret@10.0.0.1:7000`,
        `rediss://${user}:secret@[::1]:6380/2`,
        `valkey://${user}:secret@h.example:6379/0?db=0`,
      ]
      const shown = urls.map(redactUrl)
      for (const url of shown) expect(url).toContain(`${user}:***@`)
      const error = new Error(`the cluster at ${shown.join(', ')} is unreachable`)
      const text = attributesOf(error)
      expect(text, user).not.toContain(user)
      expect(text).toContain('the cluster at redis://***@10.0.0.1:7000, rediss://***@[::1]:6380/2')
      expect(text).toContain('valkey://***@h.example:6379/0?db=0 is unreachable')
      // The error itself is left as it was.
      expect(error.message).toContain(`${user}:***@`)
    }
  })

  it('hides the user an ACL refusal names (Redis 7.2 and later, Valkey)', () => {
    const error = new ResponseError(
      `NOPERM User ${USER} has no permissions to run the 'set' command`,
    )
    const attributes = exceptionAttributes(error)
    expect(attributes?.['exception.message']).toBe(
      "NOPERM User *** has no permissions to run the 'set' command",
    )
    expect(JSON.stringify(attributes)).not.toContain(USER)
    const key = new ResponseError(
      `NOPERM User ${USER} has no permissions to access the 'secret:1' key`,
    )
    expect(JSON.stringify(exceptionAttributes(key))).not.toContain(USER)
  })

  it('takes time linear in the text, with markers or without', () => {
    const texts = [
      `${':'.repeat(200_000)}***@`,
      `${'://'.repeat(100_000)}x:***`,
      `:${'/'.repeat(200_000)}`,
      `${'User '.repeat(50_000)}x`,
      `User ${'x'.repeat(200_000)}`,
      `${'a'.repeat(200_000)}://user:***@host`,
    ]
    const start = performance.now()
    for (const text of texts) exceptionAttributes(new Error(text))
    // Generous: a quadratic scan of these texts takes minutes; a linear one, milliseconds.
    expect(performance.now() - start).toBeLessThan(10_000)
  })
})
