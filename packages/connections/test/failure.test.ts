import { type Connection, ConnectionError, TimeoutError } from '@cachex/core'
import { delay, freePort, timed, uniquePrefix } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { describe, expect, it } from 'vitest'
import { standalone } from '../src/index.ts'

/** Bounds of the failure tests: calls are bounded by 0.5 s; we allow ten times that. */
const FAST = { socketConnectTimeout: 0.5, socketTimeout: 0.5 }
const SETTLE_MS = 5000

const { server, closeAfterTest } = useFailureHarness()

function open(options: Parameters<typeof standalone>[0]): Connection {
  return closeAfterTest(standalone(options))
}

async function drain(scan: AsyncIterable<string[]>): Promise<string[]> {
  const keys: string[] = []
  for await (const batch of scan) keys.push(...batch)
  return keys
}

/** Retries `fn` until it resolves, for at most `ms`. */
async function eventually<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const until = performance.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (performance.now() > until) throw error
      await delay(100)
    }
  }
}

function text(reply: unknown): string | null {
  return reply === null ? null : String(reply)
}

describe('server stopped', () => {
  for (const how of ['stop', 'kill'] as const) {
    it(`every call rejects with a ConnectionError quickly (${how})`, async () => {
      const s = await server()
      const c = open({ location: s.url, ...FAST })
      expect(text(await c.command(['PING']))).toBe('PONG')
      await s[how]()
      // let the client see the socket close (calls racing it are the next test's subject)
      await delay(100)
      const calls = {
        command: c.command(['GET', 'k']),
        command2: c.command(['SET', 'k', 'v']),
        batch: c.batch([
          ['GET', 'a'],
          ['GET', 'b'],
        ]),
        scan: drain(c.scan('*', 10)),
        flush: c.flush(),
        client: c.client(),
      }
      const results = await Promise.all(Object.values(calls).map(timed))
      for (const [i, result] of results.entries()) {
        const name = Object.keys(calls)[i]
        if (name === 'batch' && result.error === undefined) {
          // sent before the client saw the socket close: one error entry per command
          for (const entry of result.value as unknown[]) {
            expect(entry, name).toBeInstanceOf(ConnectionError)
          }
        } else {
          expect(result.error, name).toBeInstanceOf(ConnectionError)
        }
        expect(result.ms, name).toBeLessThan(SETTLE_MS)
      }
      // and again, later, while the client keeps trying to reconnect
      await delay(600)
      const later = await timed(c.command(['PING']))
      expect(later.error).toBeInstanceOf(ConnectionError)
      expect(later.ms).toBeLessThan(SETTLE_MS)
      const closed = await timed(c.close())
      expect(closed.ms).toBeLessThan(SETTLE_MS)
    })
  }

  it('calls in flight when the server dies reject with a ConnectionError', async () => {
    const s = await server()
    const c = open({ location: s.url, ...FAST })
    await c.command(['PING'])
    const list = uniquePrefix('list')
    // BLPOP waits on the server, so it is surely in flight when the process dies
    const pending = [
      timed(c.command(['BLPOP', list, '0.4'])),
      timed(c.command(['BLPOP', list, '0.4'])),
    ]
    await delay(20)
    const killed = s.kill()
    const results = await Promise.all(pending)
    await killed
    for (const result of results) {
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
    }
  })

  it('comes back by itself when the server is started again', async () => {
    const s = await server()
    const c = open({ location: s.url, ...FAST })
    await c.command(['SET', 'before', '1'])
    await s.kill()
    await expect(c.command(['PING'])).rejects.toBeInstanceOf(ConnectionError)
    await s.start()
    const reply = await eventually(() => c.command(['PING']), 5000)
    expect(text(reply)).toBe('PONG')
  })
})

describe('server paused (SIGSTOP)', () => {
  it('pending and new calls reject with TimeoutError, and the connection recovers on resume', async () => {
    const s = await server()
    const c = open({ location: s.url, ...FAST })
    const key = uniquePrefix('paused')
    await c.command(['SET', key, 'v'])
    try {
      s.pause()
      const pending = [
        c.command(['GET', key]),
        c.batch([
          ['GET', key],
          ['INCR', `${key}:n`],
        ]),
        drain(c.scan(`${key}*`, 10)),
      ].map(timed)
      await delay(200)
      const fresh = [c.command(['GET', key]), c.command(['PING'])].map(timed)
      const results = await Promise.all([...pending, ...fresh])
      for (const [i, result] of results.entries()) {
        if (i === 1) {
          // a batch resolves one entry per command: each is the TimeoutError
          const entries = result.value as unknown[]
          expect(entries).toHaveLength(2)
          for (const entry of entries) expect(entry).toBeInstanceOf(TimeoutError)
        } else {
          expect(result.error, `call ${i}`).toBeInstanceOf(TimeoutError)
        }
        expect(result.ms, `call ${i}`).toBeLessThan(500 + 2000)
      }
    } finally {
      s.resume()
    }
    // the same connection works again, no action needed
    const back = await timed(c.command(['GET', key]))
    expect(back.error).toBeUndefined()
    expect(text(back.value)).toBe('v')
    expect(back.ms).toBeLessThan(SETTLE_MS)
    // and replies are not mixed up after the timed-out ones arrive late
    for (let i = 0; i < 20; i++) {
      expect(text(await c.command(['ECHO', `m${i}`]))).toBe(`m${i}`)
    }
  })

  it('a first connection to a paused server rejects within the connect bound', async () => {
    const s = await server()
    try {
      s.pause()
      const c = open({ location: s.url, ...FAST })
      const result = await timed(c.command(['PING']))
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
    } finally {
      s.resume()
    }
  })

  it('close() does not hang on a paused server', async () => {
    const s = await server()
    const c = standalone({ location: s.url, ...FAST })
    await c.command(['PING'])
    try {
      s.pause()
      const pending = timed(c.command(['GET', 'x']))
      const closed = await timed(c.close())
      expect(closed.ms).toBeLessThan(SETTLE_MS)
      const result = await pending
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
    } finally {
      s.resume()
    }
  })
})

describe('nothing listening', () => {
  it('the first call rejects within the connect bound', async () => {
    const port = await freePort()
    const c = open({ location: `redis://127.0.0.1:${port}`, ...FAST })
    const first = await timed(c.command(['PING']))
    expect(first.error).toBeInstanceOf(ConnectionError)
    expect(first.ms).toBeLessThan(SETTLE_MS)
    const second = await timed(c.batch([['PING']]))
    expect(second.error).toBeInstanceOf(ConnectionError)
    expect(second.ms).toBeLessThan(SETTLE_MS)
    const client = await timed(c.client())
    expect(client.error).toBeInstanceOf(ConnectionError)
    const closed = await timed(c.close())
    expect(closed.ms).toBeLessThan(SETTLE_MS)
  })

  it('many concurrent first calls all reject', async () => {
    const port = await freePort()
    const c = open({ location: `redis://127.0.0.1:${port}`, ...FAST })
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => timed(c.command(['GET', `k${i}`]))),
    )
    for (const result of results) {
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
    }
  })

  it('with the default bounds too (5 s), nothing hangs', async () => {
    const port = await freePort()
    const c = open({ location: `redis://127.0.0.1:${port}` })
    const result = await timed(c.command(['PING']))
    expect(result.error).toBeInstanceOf(ConnectionError)
    expect(result.ms).toBeLessThan(10_000)
  }, 20_000)

  it('with a connection pool, the first call rejects within the connect bound', async () => {
    const port = await freePort()
    const c = open({
      location: `redis://127.0.0.1:${port}`,
      ...FAST,
      connectionPool: { minimum: 1, maximum: 4 },
    })
    for (let i = 0; i < 2; i++) {
      const result = await timed(c.command(['PING']))
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
    }
  })
})

describe('restart under load', () => {
  it('every one of 1,000 operations settles, and the connection works again', async () => {
    const s = await server()
    const c = open({ location: s.url, socketConnectTimeout: 1, socketTimeout: 2 })
    const prefix = uniquePrefix('load')
    await c.command(['PING'])
    const operations: Promise<PromiseSettledResult<unknown>>[] = []
    const issue = (i: number) => {
      const key = `${prefix}:${i % 50}`
      const kind = i % 3
      const operation =
        kind === 0
          ? c.command(['SET', key, String(i)])
          : kind === 1
            ? c.command(['GET', key])
            : c.batch([
                ['INCR', `${prefix}:n`],
                ['GET', key],
              ])
      // observe each outcome at once, so that no rejection waits for a handler
      operations.push(
        operation.then(
          (value) => ({ status: 'fulfilled', value }),
          (reason: unknown) => ({ status: 'rejected', reason }),
        ),
      )
    }
    // 600 at once, so that they are in flight when the server dies…
    for (let i = 0; i < 600; i++) issue(i)
    const killed = s.kill()
    // …and 400 more while it is down and coming back
    for (let i = 600; i < 800; i++) issue(i)
    await killed
    for (let i = 800; i < 900; i++) issue(i)
    const started = s.start()
    for (let i = 900; i < 1000; i++) issue(i)
    await started
    expect(operations).toHaveLength(1000)

    const settled = await timed(Promise.all(operations))
    expect(settled.ms).toBeLessThan(15_000)
    const results = settled.value as PromiseSettledResult<unknown>[]
    const rejected = results.filter((r) => r.status === 'rejected')
    for (const r of rejected)
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(ConnectionError)
    // calls issued while the server was down must fail: the offline queue is off
    expect(rejected.length).toBeGreaterThan(0)

    const key = `${prefix}:after`
    const back = await timed(
      eventually(async () => {
        await c.command(['SET', key, 'ok'])
        return c.command(['GET', key])
      }, 8000),
    )
    expect(back.error).toBeUndefined()
    expect(text(back.value)).toBe('ok')
    expect(back.ms).toBeLessThan(10_000)
  }, 40_000)
})
