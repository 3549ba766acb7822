// A SCAN walk whose server changes between two of its pages (a Sentinel failover, a standalone
// server restarted): the cursor the old server handed out means nothing to the new one (each
// Redis process seeds the hash of its tables at start), and sent there the walk would go on,
// silently missing and repeating keys. `iterKeys` and `hscan` now fail with a ConnectionError
// that says so; `keys`, `deletePattern` (and `clear`, `clearAllVersions`) walk again from the
// start.
import type { Connection, ConnectionFactory } from '@cachex/core'
import {
  delay,
  type RedisServer,
  replicated,
  type SentinelDeployment,
  startRedis,
  startSentinels,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, ConnectionError, createCache, sentinel, standalone } from '../src/index.ts'

const NAMES = Array.from({ length: 2000 }, (_, i) => `k:${i}`)

async function fill(cache: Cache): Promise<void> {
  for (let i = 0; i < NAMES.length; i += 500) {
    await cache.setMany(Object.fromEntries(NAMES.slice(i, i + 500).map((n) => [n, 1])))
  }
}

/** What a walk listed: the names missing from `NAMES`, and how many it listed twice. */
function tally(seen: readonly string[]): { missing: number; repeated: number } {
  const unique = new Set(seen)
  return {
    missing: NAMES.filter((n) => !unique.has(n)).length,
    repeated: seen.length - unique.size,
  }
}

/** Holds the first `scan` of a connection after `after` batches until `open()` is called. */
class Gate {
  readonly reached: Promise<void>
  #reached!: () => void
  #open!: () => void
  readonly #opened = new Promise<void>((resolve) => {
    this.#open = resolve
  })
  #used = false

  constructor(readonly after: number) {
    this.reached = new Promise((resolve) => {
      this.#reached = resolve
    })
  }

  open(): void {
    this.#open()
  }

  /** `connection`, whose first `scan` waits at this gate. */
  wrap(connection: Connection): Connection {
    const gate = this
    return new Proxy(connection, {
      get(target, name) {
        if (name === 'scan') {
          return (pattern: string, count: number) => gate.#held(target.scan(pattern, count))
        }
        const member: unknown = Reflect.get(target, name, target)
        return typeof member === 'function' ? member.bind(target) : member
      },
    })
  }

  async *#held(walk: AsyncIterable<Array<string | Buffer>>) {
    const held = !this.#used
    this.#used = true
    let batches = 0
    for await (const batch of walk) {
      yield batch
      if (held && ++batches === this.after) {
        this.#reached()
        await this.#opened
      }
    }
  }
}

/** What `promise` rejects with, or `undefined` when it resolves. */
function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}

/**
 * Walks `cache`'s keys `k:*` with `iterKeys` (50 a page), running `midway` once 400 are listed:
 * what it listed, and the error that ended it (none when it ran to the end).
 */
async function walkKeys(
  cache: Cache,
  midway: () => Promise<void>,
): Promise<{ seen: string[]; error: unknown }> {
  const seen: string[] = []
  try {
    for await (const key of cache.iterKeys('k:*', { itersize: 50 })) {
      seen.push(key)
      if (seen.length === 400) await midway()
    }
  } catch (error) {
    return { seen, error }
  }
  return { seen, error: undefined }
}

/**
 * Walks `cache`'s keys (`iterKeys`) and a hash (`hscan`) while another cache of the process, on a
 * server of its own, connects and reconnects to that server restarted: each walk lists every
 * key once (the walks watch their own connection's servers, not the process's), then closes it.
 */
async function walkWhileAnotherReconnects(cache: Cache): Promise<void> {
  const other = await startRedis()
  const elsewhere = createCache({ location: other.url, keyPrefix: uniquePrefix('swo') })
  const restartOther = async () => {
    await other.kill()
    await other.start()
    for (let i = 0; (await rejection(elsewhere.get('x'))) !== undefined; i++) {
      if (i > 300) throw new Error('the other cache did not reconnect')
      await delay(100)
    }
  }
  try {
    await fill(cache)
    await cache.hset('h', Object.fromEntries(NAMES.map((n) => [n, 1])))
    const { seen, error } = await walkKeys(cache, async () => {
      await elsewhere.set('x', 1)
      await restartOther()
    })
    if (error !== undefined) throw error
    expect(tally(seen)).toEqual({ missing: 0, repeated: 0 })
    const fields = new Set<string>()
    for await (const [field] of cache.hscan('h', { count: 50 })) {
      fields.add(field)
      if (fields.size === 400) await restartOther()
    }
    expect(fields.size).toBe(NAMES.length)
  } finally {
    await elsewhere.close()
    await cache.close()
    await other.stop()
  }
}

describe('on Sentinel, a walk across a failover', () => {
  let d: SentinelDeployment

  beforeAll(async () => {
    d = await startSentinels({ replicas: 1 })
  }, 120_000)

  afterAll(async () => {
    await d?.stop()
  }, 60_000)

  function open(factory?: (connection: Connection) => Connection): Cache {
    const connectionFactory: ConnectionFactory | undefined =
      factory === undefined ? undefined : (options) => factory(sentinel(options as never))
    return createCache({
      client: 'sentinel',
      location: d.location,
      sentinels: d.addresses,
      keyPrefix: uniquePrefix('swf'),
      connectionFactory,
    })
  }

  /** Fails the primary over, and waits until `cache` writes to the new one. */
  async function failover(cache: Cache): Promise<void> {
    await replicated(cache.connection as never, 1)
    const fresh = await d.failover()
    for (let i = 0; ; i++) {
      const info = await rejection(
        cache.connection.command(['INFO', 'server'], { text: true }).then((reply) => {
          if (!String(reply).includes(`tcp_port:${fresh.port}\r`)) throw new Error('not yet')
          return cache.set('probe', 1)
        }),
      )
      if (info === undefined) return
      if (i > 300) throw new Error(`the cache did not follow the failover: ${String(info)}`)
      await delay(200)
    }
  }

  it('iterKeys fails with a ConnectionError saying the server changed, having listed no key twice', async () => {
    const cache = open()
    try {
      await fill(cache)
      const { seen, error } = await walkKeys(cache, () => failover(cache))
      expect({ error: String(error), repeated: tally(seen).repeated }).toEqual({
        error: expect.stringMatching(
          /the server changed during the SCAN walk \(a failover or reconnection\): keys may have been missed or repeated; walk again/,
        ),
        repeated: 0,
      })
      expect(error).toBeInstanceOf(ConnectionError)
    } finally {
      await cache.close()
    }
  }, 180_000)

  it('hscan fails with a ConnectionError saying the server changed', async () => {
    const cache = open()
    try {
      const fields = NAMES.flatMap((n) => [n, '1'])
      await cache.connection.command(['HSET', cache.makeKey('h'), ...fields], {
        key: cache.makeKey('h'),
      })
      const seen: string[] = []
      let error: unknown
      try {
        for await (const [field] of cache.hscan('h', { count: 50 })) {
          seen.push(field)
          if (seen.length === 400) await failover(cache)
        }
      } catch (e) {
        error = e
      }
      expect({ error: String(error), repeated: tally(seen).repeated }).toEqual({
        error: expect.stringMatching(/the server changed during the HSCAN walk/),
        repeated: 0,
      })
      expect(error).toBeInstanceOf(ConnectionError)
    } finally {
      await cache.close()
    }
  }, 180_000)

  it('keys() walks again from the start: every key once', async () => {
    const gate = new Gate(5)
    const cache = open((connection) => gate.wrap(connection))
    try {
      await fill(cache)
      const listing = cache.keys('k:*', { itersize: 50 })
      await gate.reached
      await failover(cache)
      gate.open()
      const keys = await listing
      expect(tally(keys)).toEqual({ missing: 0, repeated: 0 })
      expect(keys.length).toBe(NAMES.length)
    } finally {
      await cache.close()
    }
  }, 180_000)

  it("another connection's (re)connection does not end a walk: each key once", async () => {
    await walkWhileAnotherReconnects(open())
  }, 120_000)

  it('deletePattern walks again from the start: no key is left', async () => {
    const gate = new Gate(5)
    const cache = open((connection) => gate.wrap(connection))
    try {
      await fill(cache)
      const deleting = cache.deletePattern('k:*', { itersize: 50 })
      await gate.reached
      await failover(cache)
      gate.open()
      await deleting
      expect((await cache.keys('k:*')).length).toBe(0)
    } finally {
      await cache.close()
    }
  }, 180_000)
})

describe('on a standalone server restarted during a walk', () => {
  let server: RedisServer

  beforeAll(async () => {
    server = await startRedis()
  })

  afterAll(async () => {
    await server?.stop()
  })

  let prefix: string

  function open(factory?: (connection: Connection) => Connection): Cache {
    const connectionFactory: ConnectionFactory | undefined =
      factory === undefined ? undefined : (options) => factory(standalone(options as never))
    prefix = uniquePrefix('swr')
    return createCache({ location: server.url, keyPrefix: prefix, connectionFactory })
  }

  /**
   * Restarts the server (it keeps nothing), writes the keys again through another cache (a
   * write of the walking cache's own would come after its `deletePattern`, and stay), and
   * waits until `cache` is connected again.
   */
  async function restart(cache: Cache): Promise<void> {
    await server.kill()
    await server.start()
    const writer = createCache({ location: server.url, keyPrefix: prefix })
    try {
      for (let i = 0; ; i++) {
        const error = await rejection(fill(writer))
        if (error === undefined) break
        if (i > 300) throw error
        await delay(100)
      }
    } finally {
      await writer.close()
    }
    for (let i = 0; ; i++) {
      const error = await rejection(cache.connection.command(['PING']))
      if (error === undefined) return
      if (i > 300) throw error
      await delay(100)
    }
  }

  it('iterKeys fails with a ConnectionError saying the server changed', async () => {
    const cache = open()
    try {
      await fill(cache)
      const { seen, error } = await walkKeys(cache, () => restart(cache))
      expect({ error: String(error), repeated: tally(seen).repeated }).toEqual({
        error: expect.stringMatching(/the server changed during the SCAN walk/),
        repeated: 0,
      })
      expect(error).toBeInstanceOf(ConnectionError)
    } finally {
      await cache.close()
    }
  }, 120_000)

  it("another connection's (re)connection does not end a walk: each key once", async () => {
    await walkWhileAnotherReconnects(open())
  }, 120_000)

  it('a pool, or a connection wrapper, is not ended by another cache connecting', async () => {
    const pool = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('swp'),
      connectionPool: { minimum: 1, maximum: 2 },
    })
    // A wrapper that passes on none of the connection's own members (as docs/extending.md's).
    const wrapped = createCache({
      location: server.url,
      keyPrefix: uniquePrefix('sww'),
      connectionFactory: (options) => {
        const inner = standalone(options as never)
        return {
          command: (args, route) => inner.command(args, route),
          batch: (commands, route) => inner.batch(commands, route),
          scan: (pattern, count) => inner.scan(pattern, count),
          flush: () => inner.flush(),
          client: (o) => inner.client(o),
          close: () => inner.close(),
        }
      },
    })
    const others: Cache[] = []
    try {
      for (const cache of [pool, wrapped]) {
        await fill(cache)
        await cache.hset('h', Object.fromEntries(NAMES.map((n) => [n, 1])))
        const { seen, error } = await walkKeys(cache, async () => {
          const other = createCache({ location: server.url, keyPrefix: uniquePrefix('swx') })
          others.push(other)
          await other.set('x', 1)
        })
        if (error !== undefined) throw error
        expect(tally(seen)).toEqual({ missing: 0, repeated: 0 })
        const fields = new Set<string>()
        for await (const [field] of cache.hscan('h', { count: 50 })) {
          fields.add(field)
          if (fields.size === 400) {
            const other = createCache({ location: server.url, keyPrefix: uniquePrefix('swx') })
            others.push(other)
            await other.set('x', 1)
          }
        }
        expect(fields.size).toBe(NAMES.length)
      }
    } finally {
      for (const other of others) await other.close()
      await pool.close()
      await wrapped.close()
    }
  }, 120_000)

  it('deletePattern walks again from the start: no key is left', async () => {
    const gate = new Gate(5)
    const cache = open((connection) => gate.wrap(connection))
    try {
      await fill(cache)
      const deleting = cache.deletePattern('k:*', { itersize: 50 })
      await gate.reached
      // After the UNLINKs sent so far (one connection answers in order).
      await cache.connection.command(['PING'])
      await restart(cache)
      gate.open()
      await deleting
      expect((await cache.keys('k:*')).length).toBe(0)
    } finally {
      await cache.close()
    }
  }, 120_000)
})
