// A cache call made by an event listener is a call of a public method like any other: one
// `operation` event, one span, one duration (docs/telemetry.md: "every call of a public method"),
// also when the listener runs inside another call's synchronous part (a local-tier hit, an error
// for bad arguments, both emitted before the call's first await). A method calling another
// (getOrSet's reads) stays one operation. Against a real redis-server and the OpenTelemetry SDK.
import { type Cache, type CacheEventMap, type CacheEventName, createCache } from '@cachex/redis'
import { openTelemetry } from '@cachex/redis/otel'
import { delay, type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: RedisServer
const open: Cache[] = []
const contextManager = new AsyncLocalStorageContextManager()

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable())
  server = await startRedis()
})
afterAll(async () => {
  for (const cache of open) await cache.close().catch(() => {})
  await server.stop()
  contextManager.disable()
  context.disable()
})

interface Traced {
  cache: Cache
  /** The operations of the `operation` events, in order. */
  operations: string[]
  /** The names of the finished spans. */
  spans(): string[]
  /** Forgets the operations and spans recorded so far. */
  reset(): void
  shutdown(): Promise<void>
}

/** A cache with a local tier, OpenTelemetry spans, and an `operation` listener recording. */
function traced(): Traced {
  const exporter = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
  const cache = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('otel-reentrant'),
    local: { maxEntries: 100, ttl: 60 },
    telemetry: openTelemetry({ alias: 'reentrant', tracerProvider }),
  })
  open.push(cache)
  const operations: string[] = []
  cache.on('operation', (event) => operations.push(event.operation))
  return {
    cache,
    operations,
    spans: () => exporter.getFinishedSpans().map((span) => span.name),
    reset: () => {
      operations.length = 0
      exporter.reset()
    },
    shutdown: () => tracerProvider.shutdown(),
  }
}

/**
 * Reads `key` until the local tier serves it (the tier holds nothing until its tracking
 * connection is up, a moment after the cache is made).
 */
async function intoTier(cache: Cache, key: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const before = cache.localStats()?.hits ?? 0
    await cache.get(key)
    if ((cache.localStats()?.hits ?? 0) > before) return
    await delay(20)
  }
  throw new Error(`the local tier never served ${key}`)
}

/**
 * Makes `cache.set('audit', …)` from the first `event` listener call that `when` accepts; returns
 * the promise of that call (undefined until made).
 */
function auditOn<E extends CacheEventName>(
  cache: Cache,
  event: E,
  when: (payload: CacheEventMap[E]) => boolean = () => true,
): { made(): Promise<unknown> | undefined; stop(): void } {
  let made: Promise<unknown> | undefined
  const stop = cache.on(event, (payload: CacheEventMap[E]) => {
    if (made === undefined && when(payload)) made = cache.set('audit', event)
  })
  return { made: () => made, stop }
}

describe('a call made by a listener during a local-tier hit', () => {
  for (const method of ['get', 'getMany', 'getOrSet'] as const) {
    it(`${method}: the listener's set is one operation with its span`, async () => {
      const t = traced()
      await t.cache.set('a', 1)
      await intoTier(t.cache, 'a')
      t.reset()
      const audit = auditOn(t.cache, 'hit', (e) => e.local)
      const read =
        method === 'get'
          ? t.cache.get('a')
          : method === 'getMany'
            ? t.cache.getMany(['a']).then((found) => found.get('a'))
            : t.cache.getOrSet('a', () => 2)
      expect(await read).toBe(1)
      expect(audit.made()).toBeDefined()
      await audit.made()
      audit.stop()
      await delay(10)
      expect(t.operations.sort()).toEqual([method, 'set'].sort())
      expect(t.spans().sort()).toEqual([method, 'set'].sort())
      expect(await t.cache.get('audit')).toBe('hit')
      await t.shutdown()
    })
  }
})

describe('a call made by an error listener for bad arguments', () => {
  it('is one operation with its span, and so is the refused call', async () => {
    const t = traced()
    const audit = auditOn(t.cache, 'error')
    await expect(t.cache.xadd(123 as never, { a: 1 })).rejects.toMatchObject({
      code: 'E_INVALID_ARGUMENT',
    })
    expect(audit.made()).toBeDefined()
    await audit.made()
    audit.stop()
    await delay(10)
    expect(t.operations.sort()).toEqual(['set', 'xadd'])
    expect(t.spans().sort()).toEqual(['set', 'xadd'])
    await t.shutdown()
  })
})

describe('a method that calls another stays one operation', () => {
  it('getOrSet: a local hit, a Redis hit, a miss that stores, each one operation', async () => {
    const t = traced()
    await t.cache.set('held', 1)
    await intoTier(t.cache, 'held')
    await t.cache.set('remote', 2)
    t.reset()
    // Listeners that call nothing, run within getOrSet's synchronous part (the local hit).
    const reads: string[] = []
    const stops = [
      t.cache.on('hit', (e) => reads.push(`hit:${e.key}:${e.local}`)),
      t.cache.on('miss', (e) => reads.push(`miss:${e.key}`)),
    ]
    expect(await t.cache.getOrSet('held', () => 0)).toBe(1)
    expect(await t.cache.getOrSet('remote', () => 0)).toBe(2)
    expect(await t.cache.getOrSet('missing', async () => 3)).toBe(3)
    for (const stop of stops) stop()
    expect(reads).toEqual(['hit:held:true', 'hit:remote:false', 'miss:missing'])
    expect(t.operations).toEqual(['getOrSet', 'getOrSet', 'getOrSet'])
    expect(t.spans()).toEqual(['getOrSet', 'getOrSet', 'getOrSet'])
    await t.shutdown()
  })
})

describe('a call made by a listener of a call made by a listener', () => {
  it('each call is one operation', async () => {
    const t = traced()
    await t.cache.set('a', 1)
    await intoTier(t.cache, 'a')
    t.reset()
    const made: Promise<unknown>[] = []
    let calls = 0
    // A hit listener whose getMany hits the tier again, within that getMany's synchronous part:
    // the listener's call then is an operation too (`calls` stops the recursion at two).
    const stop = t.cache.on('hit', (e) => {
      if (e.local && calls < 2) {
        calls++
        made.push(t.cache.getMany(['a']))
      }
    })
    expect(await t.cache.get('a')).toBe(1)
    await Promise.all(made)
    stop()
    await delay(10)
    expect(made).toHaveLength(2)
    expect(t.operations.sort()).toEqual(['get', 'getMany', 'getMany'])
    await t.shutdown()
  })
})
