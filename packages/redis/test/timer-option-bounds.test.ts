// Durations cachex hands to a timer — its own (`sentinelOptions.scanInterval`) or node-redis's
// (`clientOptions.pingInterval`, `clientOptions.socket.reconnectStrategy`, `connectionPool`'s
// `acquireTimeout` and `cleanupDelay`…) — past what a Node.js timer holds (2^31 − 1 ms, about
// 24.8 days): Node fires such a timer after 1 ms, so a PING every 30 days became a PING every
// millisecond (1,237 in 2 s), a reconnection every 30 days a connection every millisecond against
// a dead server, and an `acquireTimeout` of 30 days rejected a call waiting for the pool at once.
// They are refused with an `InvalidArgumentError` naming the option; so is a value that would spin
// the same way (negative, NaN, Infinity). Values in range keep working.
import { createServer, type Server } from 'node:net'
import { createCache, InvalidArgumentError } from '@cachex/redis'
import { delay, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const THIRTY_DAYS = 30 * 24 * 3600 * 1000
const MAX = 2 ** 31 - 1
/** A port nothing listens on: the options are checked before anything connects. */
const DEAD = 'redis://127.0.0.1:1/0'
const SENTINEL = {
  location: 'redis://mymaster/0',
  client: 'sentinel',
  sentinels: [['127.0.0.1', 1]],
} as const
const CLUSTER = { location: ['redis://127.0.0.1:1'], client: 'cluster' } as const

/** The error `createCache(options)` throws (and closes what it made if it throws none). */
async function refusal(options: Record<string, unknown>): Promise<unknown> {
  try {
    const cache = createCache(options as never)
    await cache.close()
    return undefined
  } catch (error) {
    return error
  }
}

async function expectRefused(options: Record<string, unknown>, name: RegExp): Promise<void> {
  const error = await refusal(options)
  expect(error).toBeInstanceOf(InvalidArgumentError)
  expect(String((error as Error).message)).toMatch(name)
}

describe('a node-redis timer option past 2^31 − 1 ms is refused, naming it', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'clientOptions.pingInterval',
      { clientOptions: { pingInterval: THIRTY_DAYS } },
      /clientOptions\.pingInterval must be at most 2147483647 ms/,
    ],
    [
      'clientOptions.pingInterval (local tier)',
      { clientOptions: { pingInterval: THIRTY_DAYS }, local: {} },
      /clientOptions\.pingInterval/,
    ],
    [
      'clientOptions.socket.reconnectStrategy',
      { clientOptions: { socket: { reconnectStrategy: THIRTY_DAYS } } },
      /clientOptions\.socket\.reconnectStrategy must be at most/,
    ],
    [
      'clientOptions.socket.connectTimeout',
      { clientOptions: { socket: { connectTimeout: THIRTY_DAYS } } },
      /clientOptions\.socket\.connectTimeout/,
    ],
    [
      'clientOptions.socket.socketTimeout',
      { clientOptions: { socket: { socketTimeout: THIRTY_DAYS } } },
      /clientOptions\.socket\.socketTimeout/,
    ],
    [
      // node-redis arms it (AbortSignal.timeout) for its own keep-alive PINGs: each was aborted
      // after 1 ms, before it was written.
      'clientOptions.commandOptions.timeout',
      { clientOptions: { pingInterval: 500, commandOptions: { timeout: THIRTY_DAYS } } },
      /clientOptions\.commandOptions\.timeout must be at most/,
    ],
    [
      'connectionPool.acquireTimeout',
      { connectionPool: { maximum: 1, acquireTimeout: THIRTY_DAYS } },
      /connectionPool\.acquireTimeout must be at most/,
    ],
    [
      'connectionPool.cleanupDelay',
      { connectionPool: { cleanupDelay: THIRTY_DAYS } },
      /connectionPool\.cleanupDelay must be at most/,
    ],
  ]
  for (const [name, options, message] of cases) {
    it(`${name}: standalone`, async () => {
      await expectRefused({ location: DEAD, ...options }, message)
    })
    it(`${name}: primary with replicas`, async () => {
      await expectRefused({ location: [DEAD, 'redis://127.0.0.1:2/0'], ...options }, message)
    })
    it(`${name}: sentinel data nodes`, async () => {
      await expectRefused({ ...SENTINEL, ...options }, message)
    })
  }

  it('2^31 − 1 itself is taken', async () => {
    expect(
      await refusal({
        location: DEAD,
        clientOptions: { pingInterval: MAX, socket: { reconnectStrategy: MAX } },
        connectionPool: { acquireTimeout: MAX, cleanupDelay: MAX },
      }),
    ).toBeUndefined()
  })

  it('negative, NaN, Infinity and non-numbers are refused too (Node would fire them after 1 ms)', async () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '1000']) {
      await expectRefused(
        { location: DEAD, clientOptions: { pingInterval: bad } },
        /clientOptions\.pingInterval/,
      )
      await expectRefused(
        { location: DEAD, clientOptions: { socket: { reconnectStrategy: bad } } },
        typeof bad === 'string' ? /reconnectStrategy/ : /clientOptions\.socket\.reconnectStrategy/,
      )
      await expectRefused(
        { location: DEAD, connectionPool: { acquireTimeout: bad } },
        /connectionPool\.acquireTimeout/,
      )
      await expectRefused(
        { location: DEAD, connectionPool: { cleanupDelay: bad } },
        /connectionPool\.cleanupDelay/,
      )
    }
  })

  it('a reconnectStrategy of false or a function, and a pingInterval of 0, are taken', async () => {
    expect(
      await refusal({
        location: DEAD,
        clientOptions: { pingInterval: 0, socket: { reconnectStrategy: false } },
      }),
    ).toBeUndefined()
    expect(
      await refusal({
        location: DEAD,
        clientOptions: { socket: { reconnectStrategy: () => 100 } },
      }),
    ).toBeUndefined()
  })

  it('cluster: clientOptions and clusterOptions.defaults', async () => {
    await expectRefused(
      { ...CLUSTER, clientOptions: { pingInterval: THIRTY_DAYS } },
      /clientOptions\.pingInterval/,
    )
    await expectRefused(
      { ...CLUSTER, clientOptions: { socket: { reconnectStrategy: THIRTY_DAYS } } },
      /clientOptions\.socket\.reconnectStrategy/,
    )
    await expectRefused(
      { ...CLUSTER, clusterOptions: { defaults: { pingInterval: THIRTY_DAYS } } },
      /clusterOptions\.defaults\.pingInterval/,
    )
    await expectRefused(
      { ...CLUSTER, clientOptions: { commandOptions: { timeout: THIRTY_DAYS } } },
      /clientOptions\.commandOptions\.timeout/,
    )
    await expectRefused(
      { ...CLUSTER, clusterOptions: { defaults: { commandOptions: { timeout: -1 } } } },
      /clusterOptions\.defaults\.commandOptions\.timeout/,
    )
    await expectRefused(
      { ...CLUSTER, clusterOptions: { defaults: { socket: { reconnectStrategy: -1 } } } },
      /clusterOptions\.defaults\.socket\.reconnectStrategy/,
    )
  })

  it('sentinel: the sentinels’ own client options', async () => {
    await expectRefused(
      { ...SENTINEL, sentinelOptions: { clientOptions: { pingInterval: THIRTY_DAYS } } },
      /sentinelOptions\.clientOptions\.pingInterval/,
    )
    await expectRefused(
      { ...SENTINEL, sentinelOptions: { socket: { connectTimeout: THIRTY_DAYS } } },
      /sentinelOptions\.socket\.connectTimeout/,
    )
  })
})

describe('sentinelOptions.scanInterval', () => {
  it('past 2^31 − 1 ms is refused, as memoryOptions.sweepInterval is', async () => {
    await expectRefused(
      { ...SENTINEL, sentinelOptions: { scanInterval: THIRTY_DAYS } },
      /sentinelOptions\.scanInterval must be at most 2147483647 ms/,
    )
    await expectRefused(
      { ...SENTINEL, sentinelOptions: { scanInterval: Number.POSITIVE_INFINITY } },
      /sentinelOptions\.scanInterval/,
    )
    expect(await refusal({ ...SENTINEL, sentinelOptions: { scanInterval: MAX } })).toBeUndefined()
  })
})

describe('socketConnectTimeout: null', () => {
  // Only `undefined` means the 5 s default; `null` (which means "no bound" for socketTimeout) is
  // neither that nor a bound, and used to become the default silently.
  for (const [topology, options] of [
    ['standalone', { location: DEAD }],
    ['primary with replicas', { location: [DEAD, 'redis://127.0.0.1:2/0'] }],
    ['sentinel', SENTINEL],
    ['cluster', CLUSTER],
  ] as const) {
    it(`is refused with an InvalidArgumentError naming it (${topology})`, async () => {
      await expectRefused({ ...options, socketConnectTimeout: null }, /socketConnectTimeout/)
    })
  }
})

describe('values in range keep working', () => {
  let server: { url: string; stop(): Promise<void> }
  let raw: ReturnType<typeof createClient>
  let dead: Server
  let port = 0
  let connections = 0
  beforeAll(async () => {
    server = await standaloneServer()
    raw = createClient({ url: server.url })
    await raw.connect()
    dead = createServer((socket) => {
      connections++
      socket.destroy()
    })
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve))
    port = (dead.address() as { port: number }).port
  })
  afterAll(async () => {
    await raw?.close()
    await server?.stop()
    await new Promise((resolve) => dead?.close(resolve))
  })

  it('a reconnectStrategy of 60 s waits between connections', async () => {
    const cache = createCache({
      location: `redis://127.0.0.1:${port}`,
      ignoreExceptions: true,
      clientOptions: { socket: { reconnectStrategy: 60_000 } },
    })
    try {
      await cache.get('k')
      const before = connections
      await delay(2000)
      expect(connections - before).toBeLessThan(20)
    } finally {
      await cache.close()
    }
  }, 30_000)

  it('keep-alive PINGs reach the server with a commandOptions.timeout of 10 s', async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('ping'),
      clientOptions: { pingInterval: 500, commandOptions: { timeout: 10_000 } },
    })
    try {
      await cache.set('k', 1)
      await raw.sendCommand(['CONFIG', 'RESETSTAT'])
      await delay(3000)
      const stats = String(await raw.sendCommand(['INFO', 'commandstats']))
      // This test's raw client sends one PING of its own at most (none, as a rule).
      expect(Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0)).toBeGreaterThanOrEqual(2)
    } finally {
      await cache.close()
    }
  }, 30_000)

  it('calls wait for the pool’s one client (acquireTimeout 10 s)', async () => {
    const cache = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('pool'),
      connectionPool: { minimum: 1, maximum: 1, acquireTimeout: 10_000, cleanupDelay: MAX },
    })
    try {
      await cache.set('k', 'v')
      // The server answers no one for 300 ms: the pool's one client is taken by the first call.
      await raw.sendCommand(['CLIENT', 'PAUSE', '300', 'ALL'])
      const results = await Promise.all([cache.set('a', 1), cache.delete('b'), cache.hasKey('c')])
      expect(results).toEqual([true, false, false])
    } finally {
      await cache.close()
    }
  }, 30_000)
})
