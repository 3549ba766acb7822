import net from 'node:net'
import {
  BackpressureError,
  ClosedError,
  type Connection,
  ConnectionError,
  InvalidArgumentError,
  TimeoutError,
} from '@cachex/core'
import { delay, freePort, timed, uniquePrefix } from '@cachex/test-utils'
import { useFailureHarness } from '@cachex/test-utils/failures'
import { createClient } from '@redis/client'
import { describe, expect, it } from 'vitest'
import { replica, standalone } from '../src/index.ts'

/** Bounds of the failure tests: calls are bounded by 0.5 s; we allow ten times that. */
const FAST = { socketConnectTimeout: 0.5, socketTimeout: 0.5 }
const SETTLE_MS = 5000

const { server, closeAfterTest } = useFailureHarness()

function open(options: Parameters<typeof standalone>[0]): Connection {
  return closeAfterTest(standalone(options))
}

async function drain(scan: AsyncIterable<Array<string | Buffer>>): Promise<Array<string | Buffer>> {
  const keys: Array<string | Buffer> = []
  for await (const batch of scan) keys.push(...batch)
  return keys
}

/** Retries `fn` until it resolves, for at most `ms`, every `every` ms. */
async function eventually<T>(fn: () => Promise<T>, ms: number, every = 100): Promise<T> {
  const until = performance.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (error) {
      if (performance.now() > until) throw error
      await delay(every)
    }
  }
}

/** The error `promise` rejects with, or `undefined`. */
function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}

/** The longest wait between two reconnection attempts (`MAX_RECONNECT_DELAY`). */
const RECONNECT_INTERVAL_MS = 2000

/**
 * Makes `other` a replica of `primary` (reads go only to replicas in sync), writable, with its
 * own value for `key`: a read's reply says which node served it.
 */
async function holdOwnValue(
  primary: { port: number },
  other: { url: string },
  key: string,
): Promise<void> {
  const node = open({ location: other.url })
  await node.command(['REPLICAOF', '127.0.0.1', String(primary.port)])
  await node.command(['CONFIG', 'SET', 'replica-read-only', 'no'])
  await eventually(async () => {
    const info = String(await node.command(['INFO', 'replication']))
    if (!info.includes('master_link_status:up')) throw new Error('not in sync yet')
  }, SETTLE_MS)
  await node.command(['SET', key, 'replica'])
}
const READ = { readonly: true }

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
  it('pending and new calls reject with typed errors within the bound, and the connection recovers on resume', async () => {
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
      // The first call to time out rejects with TimeoutError and resets the connection: the
      // others reject then too, with a TimeoutError or a ConnectionError (the reset).
      const errors: unknown[] = []
      for (const [i, result] of results.entries()) {
        if (i === 1) {
          // a batch resolves one entry per command
          const entries = result.value as unknown[]
          expect(entries).toHaveLength(2)
          errors.push(...entries)
        } else {
          errors.push(result.error)
        }
        expect(result.ms, `call ${i}`).toBeLessThan(500 + 2000)
      }
      for (const error of errors) expect(error).toBeInstanceOf(ConnectionError)
      expect(errors.some((error) => error instanceof TimeoutError)).toBe(true)
      // while the server is still frozen, calls do not wait: the connection is known down
      const later = await timed(c.command(['GET', key]))
      expect(later.error).toBeInstanceOf(ConnectionError)
      expect(later.error).not.toBeInstanceOf(TimeoutError)
      expect(later.ms).toBeLessThan(250)
    } finally {
      s.resume()
    }
    // the same connection works again by itself
    const back = await timed(eventually(() => c.command(['GET', key]), SETTLE_MS))
    expect(back.error).toBeUndefined()
    expect(text(back.value)).toBe('v')
    // and replies are not mixed up with late replies to the timed-out commands
    for (let i = 0; i < 20; i++) {
      expect(text(await c.command(['ECHO', `m${i}`]))).toBe(`m${i}`)
    }
  })

  it('with a connection pool too: a timeout resets it, later calls fail fast, and it works after resume', async () => {
    const s = await server()
    const c = open({ location: s.url, ...FAST, connectionPool: { minimum: 1, maximum: 4 } })
    expect(text(await c.command(['PING']))).toBe('PONG')
    try {
      s.pause()
      const results = await Promise.all(Array.from({ length: 8 }, () => timed(c.command(['PING']))))
      for (const result of results) {
        expect(result.error).toBeInstanceOf(ConnectionError)
        expect(result.ms).toBeLessThan(500 + 2000)
      }
      const later = await timed(c.command(['PING']))
      expect(later.error).toBeInstanceOf(ConnectionError)
      expect(later.ms).toBeLessThan(250)
    } finally {
      s.resume()
    }
    expect(text(await eventually(() => c.command(['PING']), SETTLE_MS))).toBe('PONG')
  })

  it('with a pool, a command waiting for a pool client when a timeout resets it says so', async () => {
    const s = await server()
    const c = open({ location: s.url, ...FAST, connectionPool: { minimum: 1, maximum: 1 } })
    expect(text(await c.command(['PING']))).toBe('PONG')
    try {
      s.pause()
      // The pool's one client runs the PING; the BLPOP waits for it. The PING's timeout resets
      // the pool, which ends the waiting BLPOP: a reset, not "the connection is closed" (a
      // ClosedError, as it said, though the connection stays open).
      const first = timed(c.command(['PING']))
      const waiting = timed(c.command(['BLPOP', uniquePrefix('none'), '5'], { blockMs: 5000 }))
      expect((await first).error).toBeInstanceOf(TimeoutError)
      const blocked = await waiting
      expect(blocked.error).toBeInstanceOf(ConnectionError)
      expect(blocked.error).not.toBeInstanceOf(ClosedError)
      expect((blocked.error as Error).message).toMatch(/was reset/)
    } finally {
      s.resume()
    }
    expect(text(await eventually(() => c.command(['PING']), SETTLE_MS))).toBe('PONG')
  })

  it('a timeout drops the commands queued behind it: they are not applied when the server wakes', async () => {
    const s = await server()
    // no cap: this test is about the reset, not about maxInFlightBytes
    const c = open({ location: s.url, ...FAST, maxInFlightBytes: null })
    const prefix = uniquePrefix('dropped')
    await c.command(['PING'])
    const value = Buffer.alloc(10 * 1024, 'v')
    const count = 3000 // 30 MB: more than the kernel's socket buffers hold
    let results: Array<{ ms: number; error?: unknown }>
    try {
      s.pause()
      results = await Promise.all(
        Array.from({ length: count }, (_, i) => timed(c.command(['SET', `${prefix}:${i}`, value]))),
      )
    } finally {
      s.resume()
    }
    for (const result of results) {
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
    }
    await eventually(() => c.command(['PING']), SETTLE_MS)
    // What reached the server's socket before it froze may run; the rest was dropped with the
    // connection (before: every one of them ran once the server woke up).
    await delay(200)
    const applied = Number(await c.command(['DBSIZE']))
    expect(applied).toBeLessThan(count)
  }, 30_000)

  it('a first connection to a paused server rejects within the connect bound, then fails fast', async () => {
    const s = await server()
    const c = open({ location: s.url, ...FAST })
    try {
      s.pause()
      const result = await timed(c.command(['PING']))
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(SETTLE_MS)
      const next = await timed(c.command(['PING']))
      expect(next.error).toBeInstanceOf(ConnectionError)
      expect(next.ms).toBeLessThan(250)
      // the handshake that never got an answer is given up and tried again in the background
      await delay(1500)
    } finally {
      s.resume()
    }
    const back = await eventually(() => c.command(['PING']), SETTLE_MS)
    expect(text(back)).toBe('PONG')
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

  it('a refused connection rejects with a ConnectionError at once, not after socketConnectTimeout', async () => {
    const port = await freePort()
    const c = open({ location: `redis://127.0.0.1:${port}` }) // socketConnectTimeout: 5 s
    const result = await timed(c.command(['PING']))
    expect(result.error).toBeInstanceOf(ConnectionError)
    expect(result.error).not.toBeInstanceOf(TimeoutError)
    expect((result.error as Error).message).toMatch(/ECONNREFUSED/)
    // far below the 5 s the call would have waited before
    expect(result.ms).toBeLessThan(2500)
  })

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

describe('another server on the port (not Redis)', () => {
  /** A loopback server that answers `banner` (on connect, or to the first bytes it reads). */
  async function foreign(banner: string, onConnect: boolean): Promise<net.Server> {
    const server = net.createServer((socket) => {
      socket.on('error', () => {})
      if (onConnect) socket.write(banner)
      else socket.once('data', () => socket.write(banner))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return server
  }

  for (const [banner, onConnect, sent] of [
    ['HTTP/1.1 400 Bad Request\r\n\r\n', false, "it sent 'H…': an HTTP server?"],
    ['SSH-2.0-x\r\n', true, "it sent 'S…': an SSH server?"],
  ] as const) {
    it(`says it did not answer in the Redis protocol (${sent}), a ConnectionError within the bound`, async () => {
      const server = await foreign(banner, onConnect)
      try {
        const { port } = server.address() as net.AddressInfo
        const c = open({ location: `redis://127.0.0.1:${port}`, ...FAST })
        const first = await timed(c.command(['PING']))
        expect(first.error).toBeInstanceOf(ConnectionError)
        expect(first.error).not.toBeInstanceOf(TimeoutError)
        expect((first.error as Error).message).toContain(
          `the server did not answer in the Redis protocol (${sent}); check the host and port`,
        )
        expect(first.ms).toBeLessThan(SETTLE_MS)
        const second = await timed(c.command(['PING']))
        expect(second.error).toBeInstanceOf(ConnectionError)
        expect(second.ms).toBeLessThan(SETTLE_MS)
        const closed = await timed(c.close())
        expect(closed.ms).toBeLessThan(SETTLE_MS)
      } finally {
        server.close()
      }
    })
  }
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

describe('circuit breaker', () => {
  it('while the server is down, calls fail at once, one reconnection runs at a time, and calls work again within one interval of its return', async () => {
    const s = await server()
    const c = open({ location: s.url, ...FAST })
    // a healthy connection's first call waits for the connection and succeeds
    expect(text(await c.command(['PING']))).toBe('PONG')
    const client = (await c.client()) as { on(event: string, listener: () => void): unknown }
    let attempts = 0
    client.on('reconnecting', () => {
      attempts++
    })
    await s.kill()
    // the first call may race the client noticing the closed socket; either way it fails
    await expect(c.command(['GET', 'k'])).rejects.toBeInstanceOf(ConnectionError)
    const downAt = performance.now()
    await expect(c.command(['GET', 'k'])).rejects.toBeInstanceOf(ConnectionError)
    const errors: unknown[] = []
    const started = performance.now()
    for (let i = 0; i < 1000; i++) errors.push(await errorOf(c.command(['GET', 'k'])))
    const ms = performance.now() - started
    console.log(`1,000 calls while the server is down: ${ms.toFixed(0)} ms`)
    expect(ms).toBeLessThan(1000)
    for (const error of errors) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error).not.toBeInstanceOf(TimeoutError)
    }
    // Down long enough for the backoff to reach its cap (100 + 200 + 400 + 800 + 1,600 ms):
    // about 6 attempts, one at a time — not one per call.
    await delay(Math.max(0, 4000 - (performance.now() - downAt)))
    expect(attempts).toBeGreaterThanOrEqual(2)
    expect(attempts).toBeLessThanOrEqual(12)
    await s.start()
    const back = await timed(eventually(() => c.command(['PING']), 10_000, 10))
    console.log(`back ${back.ms.toFixed(0)} ms after the server's return`)
    expect(back.error).toBeUndefined()
    // within one reconnect interval, plus a margin for a busy machine
    expect(back.ms).toBeLessThan(RECONNECT_INTERVAL_MS + 2000)
  }, 30_000)

  it('a dead replica does not slow reads: they go to the primary at once', async () => {
    const primary = await server()
    const other = await server()
    const key = uniquePrefix('replica')
    const c = closeAfterTest(replica({ location: [primary.url, other.url], ...FAST }))
    await c.command(['SET', key, 'primary'])
    await holdOwnValue(primary, other, key)
    await eventually(async () => {
      if (text(await c.command(['GET', key], READ)) !== 'replica') throw new Error('not yet')
    }, SETTLE_MS)
    await other.kill()
    const replies: Array<string | null> = []
    const started = performance.now()
    let slowest = 0
    for (let i = 0; i < 1000; i++) {
      const read = await timed(c.command(['GET', key], READ))
      slowest = Math.max(slowest, read.ms)
      replies.push(text(read.value))
    }
    const ms = performance.now() - started
    console.log(
      `1,000 reads with the replica dead: ${ms.toFixed(0)} ms, the slowest ${slowest.toFixed(1)} ms`,
    )
    // None waited for the replica: that costs a connect or socket timeout (500 ms here). A read
    // takes about 0.2 ms on an idle machine, 2 ms with every core busy.
    expect(slowest).toBeLessThan(FAST.socketConnectTimeout * 1000)
    expect(new Set(replies)).toEqual(new Set(['primary']))
  })

  it('a frozen replica costs one read its timeout; then reads go to the primary until it is back', async () => {
    const primary = await server()
    const other = await server()
    const key = uniquePrefix('frozen')
    const c = closeAfterTest(replica({ location: [primary.url, other.url], ...FAST }))
    await c.command(['SET', key, 'primary'])
    await holdOwnValue(primary, other, key)
    await eventually(async () => {
      if (text(await c.command(['GET', key], READ)) !== 'replica') throw new Error('not yet')
    }, SETTLE_MS)
    const slow: number[] = []
    const failed: unknown[] = []
    try {
      other.pause()
      // Before: every time the replica's bench (socketConnectTimeout) ran out, the next read went
      // to it again and waited its whole socketTimeout.
      const until = performance.now() + 3000
      while (performance.now() < until) {
        const read = await timed(c.command(['GET', key], READ))
        if (read.ms > 250) slow.push(read.ms)
        if (read.error !== undefined) failed.push(read.error)
        else expect(text(read.value)).toBe('primary')
      }
    } finally {
      other.resume()
    }
    expect(slow.length).toBeLessThanOrEqual(1)
    expect(failed.length).toBeLessThanOrEqual(1)
    for (const error of failed) expect(error).toBeInstanceOf(TimeoutError)
    // back on the replica once it answers again
    await eventually(async () => {
      if (text(await c.command(['GET', key], READ)) !== 'replica') throw new Error('not yet')
    }, SETTLE_MS)
  }, 20_000)

  it('maxInFlightBytes: past the cap, commands reject at once with a BackpressureError, unsent', async () => {
    const s = await server()
    const c = open({
      location: s.url,
      socketConnectTimeout: 1,
      socketTimeout: 2,
      maxInFlightBytes: 100_000,
    })
    const key = uniquePrefix('cap')
    await c.command(['PING'])
    const value = Buffer.alloc(10_000, 'b')
    let sent: Array<Promise<{ ms: number; error?: unknown }>> = []
    try {
      s.pause()
      // 9 × ~10.1 KB in flight: under the cap
      sent = Array.from({ length: 9 }, (_, i) => timed(c.command(['SET', `${key}:${i}`, value])))
      const refused = await timed(c.command(['SET', `${key}:x`, value]))
      expect(refused.error).toBeInstanceOf(BackpressureError)
      expect(refused.error).toBeInstanceOf(ConnectionError)
      expect((refused.error as BackpressureError).code).toBe('E_BACKPRESSURE')
      expect((refused.error as Error).message).toMatch(/maxInFlightBytes/)
      expect(refused.ms).toBeLessThan(250)
      // a batch is admitted or refused whole, so that a pipeline never runs with gaps
      const batch = await c.batch([
        ['SET', `${key}:y`, value],
        ['GET', key],
      ])
      expect(batch[0]).toBeInstanceOf(BackpressureError)
      expect(batch[1]).toBeInstanceOf(BackpressureError)
    } finally {
      s.resume()
    }
    for (const result of await Promise.all(sent)) {
      if (result.error !== undefined) expect(result.error).toBeInstanceOf(ConnectionError)
    }
    await eventually(() => c.command(['PING']), SETTLE_MS)
    // the refused ones were never sent
    expect(Number(await c.command(['EXISTS', `${key}:x`, `${key}:y`]))).toBe(0)
    // a single command bigger than the cap runs when nothing else is in flight
    expect(text(await c.command(['SET', `${key}:big`, Buffer.alloc(300_000, 'B')]))).toBe('OK')
  })

  it('maxInFlightBytes: a batch larger than the cap goes in parts on a server keeping up, whole', async () => {
    const s = await server()
    const c = open({ location: s.url, maxInFlightBytes: 64 * 1024 })
    const key = uniquePrefix('parts')
    const value = Buffer.alloc(2_000, 'p')
    // 200 × ~2 KB: six times the cap, on an idle server.
    const commands = Array.from({ length: 200 }, (_, i) => ['SET', `${key}:${i}`, value])
    const replies = await c.batch(commands)
    expect(replies.filter((reply) => reply instanceof Error)).toEqual([])
    expect(Number(await c.command(['DBSIZE']))).toBeGreaterThanOrEqual(200)
    const read = await c.batch(commands.map(([, k]) => ['STRLEN', k as string]))
    expect(read.map(Number)).toEqual(commands.map(() => 2_000))
  })

  it('rejects a bad maxInFlightBytes with InvalidArgumentError', () => {
    for (const bad of [0, -1, Number.NaN, '1000']) {
      expect(() => standalone({ maxInFlightBytes: bad as never })).toThrow(InvalidArgumentError)
    }
  })

  it('a client you handed in: after a timeout, calls fail fast until it answers again; the cap applies', async () => {
    const s = await server()
    const client = createClient({ url: s.url })
    client.on('error', () => {})
    await client.connect()
    closeAfterTest({ close: async () => client.destroy() })
    const c = open({ location: client, ...FAST, maxInFlightBytes: 50_000 })
    const value = Buffer.alloc(20_000, 'u')
    try {
      s.pause()
      const calls = Array.from({ length: 3 }, () => timed(c.command(['SET', 'u', value])))
      const [first, second, third] = await Promise.all(calls)
      expect(first?.error).toBeInstanceOf(TimeoutError)
      expect(second?.error).toBeInstanceOf(TimeoutError)
      // the third would have passed the cap: refused at once
      expect(third?.error).toBeInstanceOf(BackpressureError)
      expect(third?.ms).toBeLessThan(250)
      // the client timed out: calls do not wait on it any more
      const next = await timed(c.command(['GET', 'u']))
      expect(next.error).toBeInstanceOf(ConnectionError)
      expect(next.error).not.toBeInstanceOf(TimeoutError)
      expect(next.ms).toBeLessThan(250)
    } finally {
      s.resume()
    }
    // once the server answers again (the timed-out commands first, then a PING), calls go through
    expect(text(await eventually(() => c.command(['PING']), SETTLE_MS))).toBe('PONG')
    expect(client.isOpen).toBe(true)
  })
})
