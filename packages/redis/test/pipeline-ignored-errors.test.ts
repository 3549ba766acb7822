// A pipeline or transaction that cannot be sent is one failure, counted once whether or not
// `ignoreExceptions` ignores it: one `error` event (`pipeline` / `transaction`), one log line, and
// each call resolves its method's fallback without an event of its own. A call that fails on its
// own in a pipeline that was sent (WRONGTYPE) is a failure of its own, counted once.
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'
import { type Cache, type CacheEventMap, createCache, type Logger } from '../src/index.ts'

const { server, closeAfterTest } = useFailureHarness()

/**
 * Every call is bounded, by enough for the first write to pass on a loaded machine (a stopped
 * server refuses the connection at once: nothing waits these out).
 */
const FAST = { socketConnectTimeout: 5, socketTimeout: 5 }

/** A logger that keeps its `error` lines. */
function keptLog(): { lines: string[]; logger: Logger } {
  const lines: string[] = []
  return { lines, logger: { error: (line: string) => lines.push(line), warn: () => undefined } }
}

/**
 * Until the cache knows its server is down: a call refused at once, not sent ("not waiting"). A
 * pipeline sent before the client saw the socket close (a loaded machine) fails call by call
 * instead, as its commands may have run: not the case these tests are about.
 */
async function knownDown(cache: Cache<boolean>): Promise<void> {
  let last: unknown
  const stop = cache.on('error', (event) => {
    last = event.error
  })
  try {
    for (let i = 0; i < 500; i++) {
      await cache.get('w').catch((error: unknown) => {
        last = error
      })
      if (last instanceof Error && /not waiting/.test(last.message)) return
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    throw new Error(`the cache never refused a call at once; last: ${String(last)}`)
  } finally {
    stop()
  }
}

function errorsOf(cache: Cache<boolean>): Array<CacheEventMap['error']> {
  const errors: Array<CacheEventMap['error']> = []
  cache.on('error', (event) => errors.push(event))
  return errors
}

/** A pipeline (or transaction) of calls of several kinds, and the fallback each resolves. */
function queue(cache: Cache<true>, transaction: boolean) {
  const pipe = transaction ? cache.transaction() : cache.pipeline()
  return pipe
    .get('a', 'default')
    .set('b', 1)
    .incr('n')
    .decr('n')
    .hget('h', 'f')
    .touch('k', null)
    .lrange('l', 0, -1)
}
const FALLBACKS = ['default', false, null, null, null, false, []]

describe.each([
  ['pipeline', false],
  ['transaction', true],
] as const)('a %s that cannot be sent', (name, transaction) => {
  it('under ignoreExceptions: one ignored error event, one log line, every fallback', async () => {
    const s = await server()
    const { lines, logger } = keptLog()
    const cache = closeAfterTest(
      createCache({
        location: s.url,
        ignoreExceptions: true,
        logIgnoredExceptions: true,
        logger,
        ...FAST,
      }),
    )
    expect(await cache.set('w', 1)).toBe(true)
    await s.stop()
    await knownDown(cache)
    const errors = errorsOf(cache)
    expect(await queue(cache, transaction).exec()).toEqual(FALLBACKS)
    expect(errors.map((e) => [e.operation, e.ignored])).toEqual([[name, true]])
    expect(lines).toHaveLength(1)
  })

  it('without ignoreExceptions: exec() rejects, one error event', async () => {
    const s = await server()
    const cache = closeAfterTest(createCache({ location: s.url, ...FAST }))
    expect(await cache.set('w', 1)).toBe(true)
    await s.stop()
    await knownDown(cache)
    const errors = errorsOf(cache)
    await expect(queue(cache as unknown as Cache<true>, transaction).exec()).rejects.toThrow()
    expect(errors.map((e) => [e.operation, e.ignored])).toEqual([[name, false]])
  })
})

describe('a pipeline that was sent, with a call that failed on its own', () => {
  it("counts that call's error once, under ignoreExceptions or not", async () => {
    const s = await server()
    for (const ignoreExceptions of [true, false]) {
      const { lines, logger } = keptLog()
      const cache = closeAfterTest(
        createCache({
          location: s.url,
          ignoreExceptions,
          logIgnoredExceptions: true,
          logger,
          keyPrefix: String(ignoreExceptions),
        }),
      )
      await cache.hset('h', 'f', 1)
      const errors = errorsOf(cache)
      const [got, stored, length] = await cache.pipeline().get('h').set('b', 1).hlen('h').exec()
      expect(stored).toBe(true)
      expect(length).toBe(1)
      if (ignoreExceptions) {
        expect(got).toBeNull()
        expect(lines).toHaveLength(1)
      } else {
        expect(got).toBeInstanceOf(Error)
        expect(lines).toHaveLength(0)
      }
      expect(errors.map((e) => [e.operation, e.ignored])).toEqual([['get', ignoreExceptions]])
    }
  })
})
