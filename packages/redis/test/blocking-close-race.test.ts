// close() while a blocking call (blpop, brpop, blmove, xreadgroup with a block) waits on its
// dedicated connection: a value the server hands it just before close() must reach the caller —
// a pop already took it off the list, and dropped with the connection it would be gone for good.
// To make the race certain, the value is pushed by a synchronous redis-cli (the event loop is held
// until the server answered it, so the server served the blocked call before the cache could read
// the reply), and close() is called in the same tick, before the reply was read.
import { execFileSync } from 'node:child_process'
import { type Cache, ClosedError, createCache } from '@cachex/redis'
import {
  delay,
  type RedisServer,
  startCluster,
  startRedis,
  type TestCluster,
  timed,
  trackUnhandledRejections,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'

let server: RedisServer
let admin: ReturnType<typeof createClient>
let unhandled: () => unknown[]
const open: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
  admin = createClient({ url: server.url })
  await admin.connect()
  const setUser = (...args: string[]) => admin.sendCommand(['ACL', 'SETUSER', ...args])
  // May run neither CLIENT ID nor CLIENT UNBLOCK.
  await setUser('noclient', 'on', '>noclient-pw', '~*', '+@all', '-client')
  // May learn its client ID, but not unblock a client (CLIENT UNBLOCK is an @admin command).
  await setUser('nounblock', 'on', '>nounblock-pw', '~*', '+@all', '-client|unblock')
})
afterAll(async () => {
  await admin?.close()
  await server?.stop()
})
beforeEach(() => {
  unhandled = trackUnhandledRejections()
})
afterEach(async () => {
  server.resume()
  for (const cache of open.splice(0)) await cache.close()
  await delay(50)
  expect(unhandled()).toEqual([])
})

function cacheOf(keyPrefix: string, location = server.url, socketTimeout = 5): Cache {
  const cache = createCache({ location, keyPrefix, socketTimeout })
  open.push(cache)
  return cache
}

/**
 * Resolves once the server at `port` has a blocked client (`none`: has none left); bounded, so
 * that a test never hangs.
 */
async function blockedOn(port: number, none = false): Promise<void> {
  const until = performance.now() + 10_000
  for (;;) {
    const info = execFileSync('redis-cli', ['-p', String(port), 'INFO', 'clients']).toString()
    if ((Number(/blocked_clients:(\d+)/.exec(info)?.[1]) === 0) === none) return
    if (performance.now() > until) throw new Error(`blocked clients on ${port}: still ${!none}`)
    await delay(5)
  }
}

/** Runs `args` on the server at `port` synchronously: the event loop waits for its reply. */
function cli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args])
    .toString()
    .trim()
}

type Settled = { value: unknown } | { error: unknown }
function settled(call: Promise<unknown>): Promise<Settled> {
  return call.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
}

/** A blocking call of each kind, the command that serves it, and what the caller must get. */
interface Kind {
  name: string
  /** Makes the keys ready (a stream group); returns the call, not started yet. */
  prepare(cache: Cache): Promise<() => Promise<unknown>>
  /** The redis-cli arguments that serve the blocked call (raw keys of `cache`). */
  serve(cache: Cache): string[]
  /** What the call must resolve with. */
  expected: unknown
  /** Whether the value is nowhere on the server once served (so losing it loses it). */
  check(cache: Cache, port: number): void
}

const KINDS: Kind[] = [
  {
    name: 'blpop',
    prepare: async (cache) => () => cache.blpop('q', 5),
    serve: (cache) => ['RPUSH', cache.makeKey('q'), '7'],
    expected: ['q', 7],
    check: (cache, port) => expect(cli(port, 'LLEN', cache.makeKey('q'))).toBe('0'),
  },
  {
    name: 'brpop',
    prepare: async (cache) => () => cache.brpop('q', 5),
    serve: (cache) => ['RPUSH', cache.makeKey('q'), '8'],
    expected: ['q', 8],
    check: (cache, port) => expect(cli(port, 'LLEN', cache.makeKey('q'))).toBe('0'),
  },
  {
    // The value stays in the destination list either way; the caller must be told it moved.
    name: 'blmove',
    prepare: async (cache) => () => cache.blmove('src', 'dst', 5),
    serve: (cache) => ['RPUSH', cache.makeKey('src'), '9'],
    expected: 9,
    check: (cache, port) => expect(cli(port, 'LLEN', cache.makeKey('dst'))).toBe('1'),
  },
  {
    // The entry goes to the group's pending list either way; the caller must get it.
    name: 'xreadgroup',
    prepare: async (cache) => {
      await cache.xgroupCreate('s', 'g', { mkstream: true })
      return () => cache.xreadgroup('g', 'c', { s: '>' }, { block: 5000 })
    },
    serve: (cache) => ['XADD', cache.makeKey('s'), '1-1', 'n', '10'],
    expected: [{ key: 's', entries: [{ id: '1-1', fields: { n: 10 } }] }],
    check: () => undefined,
  },
]

describe('a value served to a blocked call just before close() reaches the caller', () => {
  for (const kind of KINDS) {
    it(`${kind.name}: resolved with what the server handed it, not ClosedError`, async () => {
      const cache = cacheOf(uniquePrefix(`bcr-${kind.name}`))
      const start = await kind.prepare(cache)
      const call = settled(start())
      await blockedOn(server.port)
      cli(server.port, ...kind.serve(cache))
      const closing = timed(cache.close())
      expect(await call).toEqual({ value: kind.expected })
      expect((await closing).error).toBeUndefined()
      kind.check(cache, server.port)
    })
  }

  it('blpop over many rounds, close() racing a push: no value is ever lost', async () => {
    const keyPrefix = uniquePrefix('bcr-rounds')
    const lost: string[] = []
    for (let round = 0; round < 20; round++) {
      const cache = cacheOf(keyPrefix)
      const call = settled(cache.blpop(`r${round}`, 5))
      await blockedOn(server.port)
      if (round % 2 === 0) cli(server.port, 'RPUSH', cache.makeKey(`r${round}`), String(round))
      const closing = cache.close()
      if (round % 2 === 1) cli(server.port, 'RPUSH', cache.makeKey(`r${round}`), String(round))
      const result = await call
      await closing
      const left = Number(cli(server.port, 'LLEN', cache.makeKey(`r${round}`)))
      const got = 'value' in result ? result.value : undefined
      // Either the caller has it, or it is still in the list: never neither, never both.
      if ((got === undefined) === (left === 0)) lost.push(`${round}: ${String(got)} / ${left}`)
      if (got === undefined)
        expect((result as { error: unknown }).error).toBeInstanceOf(ClosedError)
      await blockedOn(server.port, true)
    }
    expect(lost).toEqual([])
  })
})

describe('close() while a blocked call gets nothing', () => {
  it('the call rejects with ClosedError at once, and nothing stays blocked on the server', async () => {
    const cache = cacheOf(uniquePrefix('bcr-empty'))
    const call = timed(cache.blpop('none', 20))
    await blockedOn(server.port)
    const closing = await timed(cache.close())
    const result = await call
    expect(result.error).toBeInstanceOf(ClosedError)
    expect(closing.ms).toBeLessThan(3000)
    expect(cli(server.port, 'INFO', 'clients')).toMatch(/blocked_clients:0/)
    // Pushed after the close: it stays in the list, no closed call took it.
    cli(server.port, 'RPUSH', cache.makeKey('none'), '1')
    expect(cli(server.port, 'LLEN', cache.makeKey('none'))).toBe('1')
  })

  it('close() right after the call, its command maybe not on the server yet: ends all the same', async () => {
    const keyPrefix = uniquePrefix('bcr-early')
    for (let round = 0; round < 8; round++) {
      const cache = cacheOf(keyPrefix)
      // Its dedicated connection open and idle: the next call goes out on it at once.
      cli(server.port, 'RPUSH', cache.makeKey('warm'), '1')
      expect(await cache.blpop('warm', 1)).toEqual(['warm', 1])
      const call = timed(cache.blpop('none', 20))
      for (let tick = 0; tick < round; tick++) await new Promise(setImmediate)
      const closing = await timed(cache.close())
      const result = await call
      expect(result.error).toBeInstanceOf(ClosedError)
      // Well before its 20 s block.
      expect(closing.ms).toBeLessThan(3000)
      await blockedOn(server.port, true)
    }
  })

  it('on a frozen server: close() still ends, bounded, with ClosedError', async () => {
    const cache = cacheOf(uniquePrefix('bcr-frozen'), server.url, 1)
    const call = timed(cache.blpop('none', 20))
    await blockedOn(server.port)
    server.pause()
    try {
      const closing = await timed(cache.close())
      const result = await call
      expect(result.error).toBeInstanceOf(ClosedError)
      // socketTimeout is 1 s: a short wait for the unblocking, then the close as ever.
      expect(closing.ms).toBeLessThan(6000)
    } finally {
      server.resume()
    }
  })

  // A value served to such a call just before close() is lost, as before (the documented cost).
  for (const user of ['noclient', 'nounblock']) {
    it(`an ACL user who may not unblock a client (${user}): ClosedError, no error surfaced`, async () => {
      const url = new URL(server.url)
      url.username = user
      url.password = `${user}-pw`
      const cache = cacheOf(uniquePrefix(`bcr-${user}`), url.toString())
      const call = timed(cache.blpop('none', 20))
      await blockedOn(server.port)
      const closing = await timed(cache.close())
      const result = await call
      expect(result.error).toBeInstanceOf(ClosedError)
      expect(closing.error).toBeUndefined()
      expect(closing.ms).toBeLessThan(3000)
      // The refusal that made close() fall back to dropping the connection.
      const refused = user === 'noclient' ? 'client|id' : 'client|unblock'
      expect(JSON.stringify(await admin.sendCommand(['ACL', 'LOG']))).toContain(
        `cmd=${refused} user=${user}`,
      )
    })
  }
})

describe('on a cluster', () => {
  let cluster: TestCluster

  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  }, 60_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  for (const kind of KINDS.filter((k) => k.name === 'blpop' || k.name === 'xreadgroup')) {
    it(`${kind.name}: a value served just before close() reaches the caller`, async () => {
      const cache = createCache({
        client: 'cluster',
        location: [...cluster.seeds],
        keyPrefix: uniquePrefix(`bcr-cluster-${kind.name}`),
        socketTimeout: 5,
      })
      open.push(cache)
      const start = await kind.prepare(cache)
      const args = kind.serve(cache)
      const { port } = await cluster.primaryFor(args[1] as string)
      const call = settled(start())
      await blockedOn(port)
      cli(port, ...args)
      const closing = timed(cache.close())
      expect(await call).toEqual({ value: kind.expected })
      expect((await closing).error).toBeUndefined()
      kind.check(cache, port)
    })
  }
})
