// docs/api.md "Connection": `cache.connection` (`command`, `batch`, `transaction`, `scan`,
// `client()`) is public API. A command that is not a non-empty array is refused with
// `InvalidArgumentError` before anything is sent, on every topology. Sent, an empty command is
// written as `*0\r\n`, which Redis answers with nothing: the caller was handed the NEXT command's
// reply (another caller's value), and that next caller waited out socketTimeout, which reset the
// connection. An entry of a batch that is not an array was written as a malformed multibulk,
// which Redis answers with a protocol error before closing the connection under every call in
// flight.
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import {
  type SentinelDeployment,
  standaloneServer,
  startCluster,
  startReplicaSet,
  startSentinels,
  type TestCluster,
  trackUnhandledRejections,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClientPool } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

type Connection = Cache['connection']

/** What a malformed call resolves or rejects with, its entries when it resolves an array. */
type Shape = (connection: Connection) => Promise<unknown>

const NOT_AN_ARRAY = { args: ['SET', 'x', '1'] } as never

/** `connection.transaction(commands)`, which every connection of cachex has. */
function transaction(connection: Connection, commands: unknown): Promise<unknown> {
  if (connection.transaction === undefined) throw new Error('no transaction on this connection')
  return connection.transaction(commands as never)
}

/** Raw keys of the calls below, in one hash slot (a cluster transaction runs on one node). */
const RUN = `${process.pid}-${Date.now()}`
let runs = 0
const rawKey = () => `{shape-${RUN}}:${++runs}`

/** A sparse array: `entries` at their indexes, holes elsewhere (up to `length`). */
function sparse(length: number, entries: Record<number, string[]>): string[][] {
  const commands: string[][] = []
  commands.length = length
  for (const [i, command] of Object.entries(entries)) commands[Number(i)] = command
  return commands
}

/** The transaction with a hole at 1 wrote nothing: it was refused whole, unsent. */
let holeKey = ''

/**
 * Each malformed call, and what it must give: a refusal, or a batch's entries; `after` checks
 * the server once it gave it.
 */
const SHAPES: Array<{
  name: string
  send: Shape
  entries?: (value: unknown[]) => void
  message?: RegExp
  after?: (connection: Connection) => Promise<void>
}> = [
  { name: 'command([])', send: (c) => c.command([]) },
  { name: 'command(an object)', send: (c) => c.command(NOT_AN_ARRAY) },
  { name: 'a blocking command([])', send: (c) => c.command([], { blockMs: 100 }) },
  { name: 'transaction([[]])', send: (c) => transaction(c, [['PING'], []]) },
  { name: 'transaction([an object])', send: (c) => transaction(c, [NOT_AN_ARRAY]) },
  {
    name: 'transaction(an object)',
    send: (c) => transaction(c, NOT_AN_ARRAY),
    message: /the transaction not sent to .*: it takes an array of commands/,
  },
  {
    name: 'batch(an object)',
    send: (c) => c.batch(NOT_AN_ARRAY),
    message: /the batch not sent to .*: it takes an array of commands/,
  },
  {
    name: 'batch([[]])',
    send: (c) => c.batch([[]]),
    entries: (value) => {
      expect(value).toHaveLength(1)
      expect(value[0]).toBeInstanceOf(InvalidArgumentError)
    },
  },
  {
    name: 'batch([an object])',
    send: (c) => c.batch([NOT_AN_ARRAY]),
    entries: (value) => {
      expect(value).toHaveLength(1)
      expect(value[0]).toBeInstanceOf(InvalidArgumentError)
    },
  },
  {
    name: 'batch([PING, [], PING])',
    send: (c) => c.batch([['PING'], [], ['PING']]),
    entries: (value) => {
      expect(value).toHaveLength(3)
      expect(String(value[0])).toBe('PONG')
      expect(value[1]).toBeInstanceOf(InvalidArgumentError)
      expect(String(value[2])).toBe('PONG')
    },
  },
  // A null entry: its name was read off it as it was refused (a TypeError that rejected the
  // whole batch, its SET sent). Each entry is answered on its own.
  {
    name: 'batch([SET, null, GET])',
    send: (c) => {
      const key = rawKey()
      return c.batch([['SET', key, '1'], null as never, ['GET', key]])
    },
    entries: (value) => {
      expect(value).toHaveLength(3)
      expect(String(value[0])).toBe('OK')
      expect(value[1]).toBeInstanceOf(InvalidArgumentError)
      expect(String(value[2])).toBe('1')
    },
  },
  // A hole (a sparse array): skipped by `map`, it was answered `undefined`.
  {
    name: 'batch([hole, PING])',
    send: (c) => c.batch(sparse(2, { 1: ['PING'] })),
    entries: (value) => {
      expect(value).toHaveLength(2)
      expect(value[0]).toBeInstanceOf(InvalidArgumentError)
      expect(String(value[1])).toBe('PONG')
    },
  },
  // A hole in a transaction was skipped as it was weighed and sent: it ran with 2 replies for 3
  // entries (memory:// and a cluster threw a TypeError). Refused whole, unsent.
  {
    name: 'transaction([SET, hole, GET])',
    send: (c) => {
      holeKey = rawKey()
      return transaction(c, sparse(3, { 0: ['SET', holeKey, 'first'], 2: ['GET', holeKey] }))
    },
    after: async (c) => {
      expect(await c.command(['EXISTS', holeKey])).toBe(0)
    },
  },
  // Checked before a cluster routes them (a TypeError while their keys' slot was computed).
  { name: 'transaction([null])', send: (c) => transaction(c, [null]) },
  { name: 'transaction([PING, null])', send: (c) => transaction(c, [['PING'], null]) },
  { name: 'transaction([GET 5])', send: (c) => transaction(c, [['GET', 5]]) },
  { name: 'transaction([GET null])', send: (c) => transaction(c, [['GET', null]]) },
  { name: 'transaction([MGET a 5])', send: (c) => transaction(c, [['MGET', rawKey(), 5]]) },
]

const settle = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )

/**
 * Sends each malformed call in the same tick as a `get` and a `set` of the cache: the call is
 * refused (or its entry is), and the get and the set each get their own reply. `replicated`:
 * reads go to a replica, so the test waits for the writes to reach it before reading them.
 */
function checks(open: () => Cache, replicated = false) {
  const synced = async (cache: Cache) => {
    if (replicated) await cache.connection.command(['WAIT', '1', '1500'])
  }
  it.each(SHAPES)(
    '$name is refused unsent; the calls around it get their own replies',
    async ({ send, entries, message, after }) => {
      const unhandled = trackUnhandledRejections()
      const cache = open()
      try {
        await cache.set('secret', 'another caller value')
        await synced(cache)
        const bad = settle(send(cache.connection))
        const get = settle(cache.get('secret'))
        const set = settle(cache.set('x', 1))
        const [b, g, s] = await Promise.all([bad, get, set])
        expect(g).toEqual({ value: 'another caller value' })
        expect(s).toEqual({ value: true })
        if (entries === undefined) {
          expect(b).toHaveProperty('error')
          const error = (b as { error: Error }).error
          expect(error).toBeInstanceOf(InvalidArgumentError)
          expect(error.message).toMatch(message ?? /a command must be a non-empty array/)
        } else {
          expect(b).toHaveProperty('value')
          entries((b as { value: unknown[] }).value)
        }
        await after?.(cache.connection)
        // The connection was not reset: the next calls are answered as usual.
        await synced(cache)
        expect(await cache.get('x')).toBe(1)
        expect(String(await cache.connection.command(['PING']))).toBe('PONG')
      } finally {
        await cache.close()
      }
      expect(unhandled()).toEqual([])
    },
    30_000,
  )
}

describe('memory://', () => {
  checks(() => createCache({ location: 'memory://', keyPrefix: uniquePrefix('shape') }))
})

describe('a standalone server', () => {
  let server: { url: string; stop(): Promise<void> }
  beforeAll(async () => {
    server = await standaloneServer()
  })
  afterAll(() => server?.stop())
  checks(() =>
    createCache({ location: server.url, keyPrefix: uniquePrefix('shape'), socketTimeout: 2 }),
  )

  it('a blocking command that is not an array is refused unsent, and the cache goes on', async () => {
    const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('shape') })
    try {
      const refused = await cache.connection.command(null as never, { blockMs: 100 }).then(
        () => 'resolved',
        (error: unknown) => error,
      )
      expect(refused).toBeInstanceOf(InvalidArgumentError)
      expect(await cache.set('k', 'v')).toBe(true)
      expect(await cache.get('k')).toBe('v')
    } finally {
      await cache.close()
    }
  })

  describe('through a handed-in client pool', () => {
    const pools: Array<{ destroy(): void }> = []
    afterAll(() => {
      for (const pool of pools) pool.destroy()
    })
    checks(() => {
      const pool = createClientPool({ url: server.url }, { minimum: 1, maximum: 2 })
      pool.on('error', () => {})
      pools.push(pool)
      return createCache({
        location: pool as never,
        keyPrefix: uniquePrefix('shape'),
        socketTimeout: 2,
      })
    })
  })
})

describe('a primary with replicas', () => {
  let set: Awaited<ReturnType<typeof startReplicaSet>>
  beforeAll(async () => {
    set = await startReplicaSet({ replicas: 1 })
  }, 60_000)
  afterAll(() => set?.stop())
  checks(
    () =>
      createCache({ location: [...set.urls], keyPrefix: uniquePrefix('shape'), socketTimeout: 2 }),
    true,
  )
})

describe('sentinels', () => {
  let deployment: SentinelDeployment
  beforeAll(async () => {
    deployment = await startSentinels({ replicas: 0, sentinels: 1 })
  }, 60_000)
  afterAll(() => deployment?.stop())
  checks(() =>
    createCache({
      client: 'sentinel',
      location: deployment.location,
      sentinels: deployment.addresses,
      keyPrefix: uniquePrefix('shape'),
      socketTimeout: 2,
    }),
  )
})

describe('a cluster', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  }, 60_000)
  afterAll(() => cluster?.stop())
  checks(() =>
    createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('shape'),
      socketTimeout: 2,
    }),
  )
})
