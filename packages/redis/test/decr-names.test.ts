// `decr` and `decrVersion` name themselves in their `error` events and messages (they once
// reported their failures as those of `incr` / `incrVersion`, with the delta negated), on a
// real redis-server and on memory://, as methods and in pipelines.
import { type Cache, type CacheEventMap, createCache } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

/** The `operation` and `error` events of `cache`, as they come. */
function record(cache: Cache): {
  operation: Array<CacheEventMap['operation']>
  error: Array<CacheEventMap['error']>
} {
  const events = {
    operation: [] as Array<CacheEventMap['operation']>,
    error: [] as Array<CacheEventMap['error']>,
  }
  cache.on('operation', (event) => events.operation.push(event))
  cache.on('error', (event) => events.error.push(event))
  return events
}

/** A pipeline's first result, rejected when it is an error (for `rejection`). */
function firstError(results: unknown[]): unknown {
  if (results[0] instanceof Error) throw results[0]
  return results[0]
}

/** The message `promise` rejects with (the test fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<string> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  if (!('error' in outcome))
    throw new Error(`resolved ${String(outcome.value)}, expected a rejection`)
  return (outcome.error as Error).message
}

describe.each(BACKENDS)('decr and decrVersion name themselves on %s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  const caches: Cache[] = []

  beforeAll(async () => {
    server = await backendServer(backend)
  })
  afterAll(async () => {
    for (const cache of caches) await cache.close()
    await server.stop()
  })

  function open(): Cache {
    const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('decr') })
    caches.push(cache)
    return cache
  }

  it('the error events of decr and decrVersion name them, as their operation events do', async () => {
    const cache = open()
    await cache.set('s', 'not a number')
    await cache.hset('h', 'f', 1)
    const events = record(cache)
    await expect(cache.decr('s')).rejects.toThrow()
    await expect(cache.decr('missing')).rejects.toThrow()
    await expect(cache.decr('s', 1, { as: 'number' })).rejects.toThrow()
    await expect(cache.decr('h')).rejects.toThrow()
    await expect(cache.decrVersion('missing')).rejects.toThrow()
    // incr and incrVersion still name themselves.
    await expect(cache.incr('missing')).rejects.toThrow()
    await expect(cache.incrVersion('missing')).rejects.toThrow()
    const names = ['decr', 'decr', 'decr', 'decr', 'decrVersion', 'incr', 'incrVersion']
    expect(events.operation.map((e) => e.operation)).toEqual(names)
    expect(events.error.map((e) => e.operation)).toEqual(names)
  })

  it('their messages name the method called, with the delta the caller gave', async () => {
    const cache = open()
    await cache.set('s', 1)
    await cache.hset('h', 'f', 1)
    expect(await rejection(cache.decr('h'))).toMatch(
      /^decr\(\) on key 'h': it holds a hash, which decr\(\) does not work on/,
    )
    expect(await rejection(cache.decr('s', 1.5))).toMatch(
      /^decr\(\) takes an integer delta .*got 1\.5/,
    )
    expect(await rejection(cache.decr('s', 1, { as: 'text' } as never))).toMatch(
      /^decr\(\) takes as: 'number'/,
    )
    expect(await rejection(cache.decrVersion('s', 1.5))).toBe(
      'decrVersion() takes an integer delta, got 1.5',
    )
    expect(await rejection(cache.incr('h'))).toMatch(/^incr\(\) on key 'h'/)
    expect(await rejection(cache.incrVersion('s', 1.5))).toBe(
      'incrVersion() takes an integer delta, got 1.5',
    )
    // Nothing was changed by the refused calls.
    expect(await cache.get('s')).toBe(1)
  })

  it('decr still subtracts: integers, bigints, a float (the read-add-write fallback), decrVersion', async () => {
    const cache = open()
    await cache.set('n', 10)
    await cache.set('f', 1.5)
    expect(await cache.decr('n')).toBe(9)
    expect(await cache.decr('n', 4)).toBe(5)
    expect(await cache.decr('n', 2n ** 60n)).toBe(5n - 2n ** 60n)
    expect(await cache.decr('f', 1)).toBe(0.5)
    await cache.set('v', 'x', { version: 3 })
    expect(await cache.decrVersion('v', 2, { version: 3 })).toBe(1)
    expect(await cache.get('v', null, { version: 1 })).toBe('x')
  })

  it("decr's rarer refusals name it too: as: 'number' past 2^53, and a float in a transaction", async () => {
    const cache = open()
    await cache.set('low', -(2 ** 53) + 1)
    // The result would be -(2^53): beyond what a number holds exactly.
    expect(await rejection(cache.decr('low', 1, { as: 'number' }))).toMatch(
      /^decr\(\) on key 'low' with as: 'number'.*without as: 'number', decr\(\) resolves a bigint/,
    )
    expect(
      await rejection(cache.pipeline().decr('low', 1, { as: 'number' }).exec().then(firstError)),
    ).toMatch(/^decr\(\) on key 'low' with as: 'number'/)
    await cache.set('f', 1.5)
    const [refused] = await cache.transaction().decr('f').exec()
    expect(refused).toBeInstanceOf(Error)
    expect((refused as Error).message).toMatch(
      /: decr\(\) of key 'f' in a transaction .*decr\(\) reads/,
    )
    expect(await cache.get('low')).toBe(-(2 ** 53) + 1)
    expect(await cache.get('f')).toBe(1.5)
  })

  it("a pipeline's decr that falls back (a float) names itself when its sum is past 2^53", async () => {
    const cache = open()
    await cache.set('huge', 1e300)
    expect(await rejection(cache.decr('huge', 1, { as: 'number' }))).toMatch(
      /^decr\(\) on key 'huge' with as: 'number'/,
    )
    expect(
      await rejection(cache.pipeline().decr('huge', 1, { as: 'number' }).exec().then(firstError)),
    ).toMatch(/^decr\(\) on key 'huge' with as: 'number'/)
    expect(await cache.get('huge')).toBe(1e300)
  })

  it("a pipeline's decr names itself in its error event and message", async () => {
    const cache = open()
    await cache.set('s', 'not a number')
    await cache.hset('h', 'f', 1)
    await cache.set('f', 1.5)
    const events = record(cache)
    const results = await cache
      .pipeline()
      .decr('s')
      .decr('h')
      .decr('missing')
      .decr('s', 1.5)
      .decr('f', 1)
      .incr('h')
      .exec()
    expect(results[4]).toBe(0.5)
    const messages = results.map((r) => (r instanceof Error ? r.message : r))
    expect(messages[1]).toMatch(
      /^decr\(\) on key 'h': it holds a hash, which decr\(\) does not work on/,
    )
    expect(messages[3]).toMatch(/^decr\(\) takes an integer delta .*got 1\.5/)
    expect(messages[5]).toMatch(/^incr\(\) on key 'h'/)
    expect(events.operation.map((e) => e.operation)).toEqual(['pipeline'])
    // In the order the calls settle (a refused argument first, a WRONGTYPE after its TYPE).
    expect(events.error.map((e) => e.operation).sort()).toEqual([
      'decr',
      'decr',
      'decr',
      'decr',
      'incr',
    ])
  })
})
