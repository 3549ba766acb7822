import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import {
  CachexError,
  ClosedError,
  type Connection,
  ConnectionError,
  InvalidArgumentError,
  ResponseError,
  TimeoutError,
} from '@cachex/core'
import { fakeRedis, type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { createClient, createClientPool } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { standalone } from '../src/index.ts'
import { isNodeRedisClient } from '../src/internal.ts'

let server: RedisServer
let connection: Connection
/** Connections a test opened; closed after each test. */
const opened: Connection[] = []

beforeAll(async () => {
  server = await startRedis()
  connection = standalone({ location: server.url })
})

afterEach(async () => {
  for (const c of opened.splice(0)) await c.close()
})

afterAll(async () => {
  await connection?.close()
  await server?.stop()
})

function open(options: Parameters<typeof standalone>[0]): Connection {
  const c = standalone(options)
  opened.push(c)
  return c
}

function text(reply: unknown): string | null {
  return reply === null ? null : String(reply)
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the promise to reject')
}

describe('commands', () => {
  it('runs commands and replies with raw RESP values', async () => {
    const key = uniquePrefix('cmd')
    const set = await connection.command(['SET', key, 'hello'])
    expect(Buffer.isBuffer(set) ? set.toString() : set).toBe('OK')
    const value = await connection.command(['GET', key])
    expect(Buffer.isBuffer(value)).toBe(true)
    expect(text(value)).toBe('hello')
    expect(await connection.command(['GET', `${key}:missing`])).toBeNull()
    expect(await connection.command(['INCRBY', `${key}:n`, '5'])).toBe(5)
    expect(await connection.command(['EXISTS', key, `${key}:n`, `${key}:none`])).toBe(2)
  })

  it('keeps bytes intact, both ways', async () => {
    const key = uniquePrefix('bytes')
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 10, 13])
    await connection.command(['SET', key, bytes])
    const back = await connection.command(['GET', key])
    expect(Buffer.isBuffer(back)).toBe(true)
    expect((back as Buffer).equals(bytes)).toBe(true)
  })

  it('replies to maps with a flat array', async () => {
    const key = uniquePrefix('hash')
    await connection.command(['HSET', key, 'a', '1', 'b', '2'])
    const reply = (await connection.command(['HGETALL', key])) as Buffer[]
    expect(Array.isArray(reply)).toBe(true)
    const flat = reply.map(String)
    expect(flat).toHaveLength(4)
    const pairs = new Map<string, string>()
    for (let i = 0; i < flat.length; i += 2) pairs.set(flat[i] as string, flat[i + 1] as string)
    expect(Object.fromEntries(pairs)).toEqual({ a: '1', b: '2' })
  })

  it('rejects an error reply with ResponseError, keeping the connection usable', async () => {
    const key = uniquePrefix('wrongtype')
    await connection.command(['LPUSH', key, 'x'])
    const error = await errorOf(connection.command(['GET', key]))
    expect(error).toBeInstanceOf(ResponseError)
    expect(error).toBeInstanceOf(CachexError)
    expect((error as Error).message).toMatch(/WRONGTYPE/)
    expect((error as Error).cause).toBeInstanceOf(Error)
    expect(text(await connection.command(['PING']))).toBe('PONG')
  })

  it('runs many commands in flight', async () => {
    const key = uniquePrefix('many')
    const replies = await Promise.all(
      Array.from({ length: 500 }, () => connection.command(['INCR', key])),
    )
    expect(new Set(replies).size).toBe(500)
    expect(text(await connection.command(['GET', key]))).toBe('500')
  })

  it('selects the database of the URL', async () => {
    const key = uniquePrefix('db')
    const db3 = open({ location: `${server.url}/3` })
    await db3.command(['SET', key, 'in-3'])
    expect(await connection.command(['GET', key])).toBeNull()
    const again = open({ location: `${server.url}?db=3` })
    expect(text(await again.command(['GET', key]))).toBe('in-3')
  })
})

describe('batch', () => {
  it('resolves one entry per command', async () => {
    const key = uniquePrefix('batch')
    const replies = await connection.batch([
      ['SET', key, '1'],
      ['INCR', key],
      ['GET', key],
      ['GET', `${key}:missing`],
    ])
    expect(replies).toHaveLength(4)
    expect(text(replies[0])).toBe('OK')
    expect(replies[1]).toBe(2)
    expect(text(replies[2])).toBe('2')
    expect(replies[3]).toBeNull()
  })

  it('gives a failing command an error entry without failing the rest', async () => {
    const key = uniquePrefix('batch-err')
    await connection.command(['SET', key, 'not a number'])
    const replies = await connection.batch([
      ['INCR', `${key}:ok`],
      ['INCR', key],
      ['SET', `${key}:after`, 'v'],
      ['NOSUCHCOMMAND'],
      ['GET', `${key}:after`],
    ])
    expect(replies).toHaveLength(5)
    expect(replies[0]).toBe(1)
    expect(replies[1]).toBeInstanceOf(ResponseError)
    expect(text(replies[2])).toBe('OK')
    expect(replies[3]).toBeInstanceOf(ResponseError)
    expect(text(replies[4])).toBe('v')
  })

  it('resolves an empty list for no commands', async () => {
    expect(await connection.batch([])).toEqual([])
  })
})

describe('scan', () => {
  it('yields batches that cover every matching key', async () => {
    const prefix = uniquePrefix('scan')
    const wanted = Array.from({ length: 257 }, (_, i) => `${prefix}:k${i}`)
    await connection.batch(wanted.map((key) => ['SET', key, '1']))
    await connection.batch(
      Array.from({ length: 40 }, (_, i) => ['SET', `${prefix}-other:k${i}`, '1']),
    )
    const batches: Array<Array<string | Buffer>> = []
    for await (const batch of connection.scan(`${prefix}:*`, 25)) {
      expect(Array.isArray(batch)).toBe(true)
      batches.push(batch)
    }
    expect(batches.length).toBeGreaterThan(1)
    const seen = new Set(batches.flat())
    expect([...seen].sort()).toEqual([...wanted].sort())
  })

  it('yields nothing for a pattern with no match', async () => {
    const keys: Array<string | Buffer> = []
    for await (const batch of connection.scan(`${uniquePrefix('none')}:*`, 100)) keys.push(...batch)
    expect(keys).toEqual([])
  })
})

describe('flush', () => {
  it('removes every key of the selected database only', async () => {
    const key = uniquePrefix('flush')
    const db7 = open({ location: `${server.url}/7` })
    await db7.command(['SET', key, '1'])
    await connection.command(['SET', key, 'stays'])
    await db7.flush()
    expect(await db7.command(['DBSIZE'])).toBe(0)
    expect(text(await connection.command(['GET', key]))).toBe('stays')
  })
})

describe('client()', () => {
  it('resolves a connected, usable node-redis client', async () => {
    const c = open({ location: server.url })
    const client = (await c.client()) as ReturnType<typeof createClient>
    expect(isNodeRedisClient(client)).toBe(true)
    expect(client.isReady).toBe(true)
    const key = uniquePrefix('client')
    await client.set(key, 'from-node-redis')
    expect(text(await c.command(['GET', key]))).toBe('from-node-redis')
    expect(await client.get(key)).toBe('from-node-redis')
  })
})

describe('close()', () => {
  it('makes later calls reject with ClosedError', async () => {
    const c = standalone({ location: server.url })
    expect(text(await c.command(['PING']))).toBe('PONG')
    await c.close()
    await expect(c.command(['PING'])).rejects.toBeInstanceOf(ClosedError)
    await expect(c.batch([['PING']])).rejects.toBeInstanceOf(ClosedError)
    await expect(c.client()).rejects.toBeInstanceOf(ClosedError)
    await expect(c.flush()).rejects.toBeInstanceOf(ClosedError)
    const scanned = (async () => {
      for await (const _ of c.scan('*', 10)) {
        // nothing
      }
    })()
    await expect(scanned).rejects.toBeInstanceOf(ClosedError)
    // closing twice is fine
    await c.close()
  })

  it('lets pending commands settle', async () => {
    const c = standalone({ location: server.url })
    await c.command(['PING'])
    const pending = Array.from({ length: 50 }, (_, i) => c.command(['ECHO', String(i)]))
    await c.close()
    const settled = await Promise.allSettled(pending)
    for (const result of settled) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ConnectionError)
    }
  })

  it('closes a connection that never connected', async () => {
    const c = standalone({ location: server.url })
    await c.close()
    await expect(c.command(['PING'])).rejects.toBeInstanceOf(ClosedError)
  })
})

describe('options', () => {
  it('rejects bad options with InvalidArgumentError', async () => {
    expect(() => standalone({ location: 'http://x' })).toThrow(InvalidArgumentError)
    expect(() => standalone({ location: `${server.url},${server.url}` })).toThrow(
      InvalidArgumentError,
    )
    expect(() => standalone({ location: [server.url, server.url] })).toThrow(InvalidArgumentError)
    expect(() => standalone({ location: 42 as unknown as string })).toThrow(InvalidArgumentError)
    expect(() => standalone({ location: server.url, socketTimeout: -1 })).toThrow(
      InvalidArgumentError,
    )
    expect(() => standalone({ location: server.url, socketConnectTimeout: 0 })).toThrow(
      InvalidArgumentError,
    )
    expect(() => standalone({ location: server.url, socketTimeout: Number.NaN })).toThrow(
      InvalidArgumentError,
    )
    // Longer than a Node.js timer holds (2^31 - 1 ms): such a timer fires after 1 ms.
    for (const option of ['socketTimeout', 'socketConnectTimeout']) {
      expect(() => standalone({ location: server.url, [option]: 3_000_000 })).toThrow(
        new RegExp(`${option} must be at most 2147483.647 seconds`),
      )
    }
    await standalone({ location: server.url, socketTimeout: 2_000_000 }).close()
  })

  it('counts a blank entry of a list as an entry, as a string drops its blank parts', () => {
    expect(() => standalone({ location: [server.url, ''] })).toThrow(/takes one URL, got 2/)
    // An empty REDIS_URL: the message says the location is empty, not that it lists replicas.
    for (const location of ['', ' ', ',', []]) {
      expect(() => standalone({ location })).toThrow(
        /^location holds no Redis URL \(got .*\): give one/,
      )
    }
    expect(() => standalone({ location: [''] })).toThrow(InvalidArgumentError)
  })

  it('takes a one-element list of URLs', async () => {
    const c = open({ location: [server.url] })
    expect(text(await c.command(['PING']))).toBe('PONG')
  })

  it('bounds a slow command by socketTimeout, and keeps later replies in order', async () => {
    const c = open({ location: server.url, socketTimeout: 0.3 })
    const list = uniquePrefix('slow')
    const started = performance.now()
    const error = await errorOf(c.command(['BLPOP', list, '2']))
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as Error).message).toMatch(/BLPOP/)
    expect(performance.now() - started).toBeLessThan(2000)
    // the timeout reset the connection: calls fail fast until it is back (a few ms here), and
    // the BLPOP reply, if it ever comes, is not taken for the reply of a later command
    const echoes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => c.command(['ECHO', `e${i}`]).catch((e: unknown) => e)),
    )
    await new Promise((resolve) => setTimeout(resolve, 2000))
    for (let i = 0; i < 5; i++) expect(text(await c.command(['ECHO', `f${i}`]))).toBe(`f${i}`)
    for (const [i, echo] of echoes.entries()) {
      if (!(echo instanceof ConnectionError)) expect(text(echo)).toBe(`e${i}`)
    }
  })

  it('runs without a call bound when socketTimeout is null', async () => {
    const c = open({ location: server.url, socketTimeout: null })
    expect(text(await c.command(['PING']))).toBe('PONG')
  })
})

describe('authentication', () => {
  const password = 'Qx7-unmistakable-Pw9'
  let secured: RedisServer

  beforeAll(async () => {
    secured = await startRedis({ args: ['--requirepass', password], password })
  })

  afterAll(async () => {
    await secured?.stop()
  })

  it('authenticates with the password in the URL', async () => {
    expect(secured.url).toContain(password)
    const c = open({ location: secured.url })
    expect(text(await c.command(['PING']))).toBe('PONG')
  })

  it('authenticates with the password option', async () => {
    const c = open({ location: `redis://127.0.0.1:${secured.port}`, password })
    expect(text(await c.command(['PING']))).toBe('PONG')
  })

  it('authenticates with credentials in clientOptions, and redacts a wrong one', async () => {
    const c = open({ location: `redis://127.0.0.1:${secured.port}`, clientOptions: { password } })
    expect(text(await c.command(['PING']))).toBe('PONG')
    const wrong = 'Cl13nt-opt-wrong-pw'
    const w = open({
      location: `redis://127.0.0.1:${secured.port}`,
      clientOptions: { username: 'default', password: wrong },
      socketConnectTimeout: 2,
    })
    const error = await errorOf(w.command(['PING']))
    expect((error as Error).message).toMatch(/WRONGPASS/)
    expect(inspect(error, { depth: 10 })).not.toContain(wrong)
  })

  it('rejects without a password at once, with a ConnectionError', async () => {
    // An error reply to the handshake fails the call now, not after socketConnectTimeout.
    const c = open({ location: `redis://127.0.0.1:${secured.port}`, socketConnectTimeout: 20 })
    const started = performance.now()
    const error = await errorOf(c.command(['PING']))
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as Error).message).toMatch(/NOAUTH|auth/i)
    expect(performance.now() - started).toBeLessThan(5000)
  })

  for (const where of ['url', 'option'] as const) {
    it(`never shows a wrong password (${where}) in the error`, async () => {
      const wrong = 'Wz4-wrong-Distinct-pw8'
      const c = open(
        where === 'url'
          ? { location: `redis://:${wrong}@127.0.0.1:${secured.port}`, socketConnectTimeout: 20 }
          : {
              location: `redis://127.0.0.1:${secured.port}`,
              password: wrong,
              socketConnectTimeout: 20,
            },
      )
      const started = performance.now()
      const error = await errorOf(c.command(['PING']))
      expect(performance.now() - started).toBeLessThan(5000)
      expect(error).toBeInstanceOf(ConnectionError)
      const err = error as Error
      expect(err.message).toMatch(/WRONGPASS/)
      for (const shown of [err.message, String(err.stack), String(err), inspect(err)]) {
        expect(shown).not.toContain(wrong)
        expect(shown).not.toContain(password)
      }
      // the next call fails the same way, without leaking either
      const again = await errorOf(c.command(['PING']))
      expect(again).toBeInstanceOf(ConnectionError)
      expect(inspect(again)).not.toContain(wrong)
    })
  }

  it('never shows the password a server quotes back (no HELLO), in the error or its causes', async () => {
    // A server without HELLO (Redis before 6, or HELLO renamed away) answers the handshake with
    // "ERR unknown command 'HELLO', with args beginning with: '3' 'AUTH' 'default' '<password>'".
    const quoting = await startRedis({
      args: ['--requirepass', password, '--rename-command', 'HELLO', '""'],
    })
    try {
      for (const given of [password, 'Wz4-wrong-Distinct-pw8']) {
        const c = open({
          location: `redis://:${given}@127.0.0.1:${quoting.port}`,
          socketConnectTimeout: 2,
        })
        for (const attempt of [1, 2]) {
          const error = await errorOf(c.command(['PING']))
          expect(error, `attempt ${attempt}`).toBeInstanceOf(ConnectionError)
          const chain: unknown[] = []
          for (let e: unknown = error, i = 0; e instanceof Error && i < 8; e = e.cause, i++) {
            chain.push(e)
          }
          expect(chain.length).toBeGreaterThan(1)
          // The server's words stay, the password goes.
          expect(inspect(error, { depth: 10 })).toMatch(/unknown command/)
          for (const e of chain) {
            expect(inspect(e, { depth: 10 })).not.toContain(given)
            expect(String((e as Error).stack)).not.toContain(given)
          }
        }
      }
    } finally {
      await quoting.stop()
    }
  })

  it('authenticates an ACL user from the URL', async () => {
    const admin = open({ location: secured.url })
    const user = uniquePrefix('alice')
    const userPassword = 'Acl-user-Pw-3141'
    await admin.command(['ACL', 'SETUSER', user, 'on', `>${userPassword}`, '~*', '&*', '+@all'])
    const c = open({
      location: `redis://${user}:${encodeURIComponent(userPassword)}@127.0.0.1:${secured.port}/0`,
    })
    expect(text(await c.command(['ACL', 'WHOAMI']))).toBe(user)
    const key = uniquePrefix('acl')
    await c.command(['SET', key, 'v'])
    expect(text(await admin.command(['GET', key]))).toBe('v')

    const limited = uniquePrefix('bob')
    await admin.command(['ACL', 'SETUSER', limited, 'on', '>bobpw', '~bob:*', '+get', '+set'])
    const bob = open({ location: `redis://${limited}:bobpw@127.0.0.1:${secured.port}` })
    await bob.command(['SET', 'bob:1', 'x'])
    await expect(bob.command(['SET', 'other', 'x'])).rejects.toBeInstanceOf(ResponseError)

    const wrong = open({
      location: `redis://${user}:not-it@127.0.0.1:${secured.port}`,
      socketConnectTimeout: 20,
    })
    await expect(wrong.command(['PING'])).rejects.toBeInstanceOf(ConnectionError)
  })
})

describe('an existing node-redis client as location', () => {
  it('uses it and does not close it', async () => {
    const client = createClient({ url: server.url })
    client.on('error', () => {})
    await client.connect()
    try {
      const c = standalone({ location: client })
      const key = uniquePrefix('given')
      await c.command(['SET', key, 'v'])
      expect(await client.get(key)).toBe('v')
      // replies stay raw bytes whatever the client's own type mapping
      expect(Buffer.isBuffer(await c.command(['GET', key]))).toBe(true)
      expect(await c.client()).toBe(client)
      await c.close()
      expect(client.isOpen).toBe(true)
      expect(await client.get(key)).toBe('v')
      await expect(c.command(['PING'])).rejects.toBeInstanceOf(ClosedError)
    } finally {
      if (client.isOpen) await client.close()
    }
  })

  it('runs blocking commands in the database the client selected, not the one it was made with', async () => {
    const client = createClient({ url: server.url })
    client.on('error', () => {})
    await client.connect()
    await client.select(3)
    try {
      const c = standalone({ location: client })
      const key = uniquePrefix('given-db')
      await c.command(['RPUSH', key, 'job'])
      // On a dedicated client of its own (node-redis's duplicate()), bounded by its block.
      const popped = await c.command(['BLPOP', key, '1'], { blockMs: 1000 })
      expect((popped as Buffer[]).map(String)).toEqual([key, 'job'])
      expect(await client.exists(key)).toBe(0)
      // A client that selected again: a new cache's dedicated client opens in the new database.
      await c.close()
      await client.select(4)
      const d = standalone({ location: client })
      await d.command(['RPUSH', key, 'job4'])
      const again = await d.command(['BLPOP', key, '1'], { blockMs: 1000 })
      expect((again as Buffer[]).map(String)).toEqual([key, 'job4'])
      await d.close()
    } finally {
      if (client.isOpen) await client.close()
    }
  })

  it('rejects a blocking call in flight on a pool with ClosedError at close(), at once', async () => {
    const given = createClientPool({ url: server.url }, { minimum: 1, maximum: 2 })
    given.on('error', () => {})
    await given.connect()
    try {
      for (const location of [given, server.url]) {
        const c = standalone(
          location === server.url
            ? { location, connectionPool: { minimum: 1, maximum: 2 } }
            : { location },
        )
        await c.command(['PING'])
        const key = uniquePrefix('pool-blocking')
        const call = c.command(['BLPOP', key, '20'], { blockMs: 20_000 }).catch((e: unknown) => e)
        await new Promise((resolve) => setTimeout(resolve, 200))
        const started = performance.now()
        await c.close()
        expect(await call).toBeInstanceOf(ClosedError)
        // It used to wait for the 20 s block (a handed-in pool) or for socketTimeout (its own).
        expect(performance.now() - started).toBeLessThan(4000)
      }
    } finally {
      given.destroy()
    }
  })

  it('takes a node-redis client pool too', async () => {
    const pool = createClientPool({ url: server.url }, { minimum: 1, maximum: 2 })
    pool.on('error', () => {})
    await pool.connect()
    try {
      const c = standalone({ location: pool })
      const key = uniquePrefix('given-pool')
      await c.command(['SET', key, 'p'])
      const value = await c.command(['GET', key])
      expect(Buffer.isBuffer(value)).toBe(true)
      expect(text(value)).toBe('p')
      await c.close()
      expect(pool.isOpen).toBe(true)
      expect(await pool.get(key)).toBe('p')
    } finally {
      if (pool.isOpen) await pool.close()
    }
  })

  it('closes it with closeConnection: true', async () => {
    const client = createClient({ url: server.url })
    client.on('error', () => {})
    await client.connect()
    const c = standalone({ location: client, closeConnection: true })
    expect(text(await c.command(['PING']))).toBe('PONG')
    await c.close()
    expect(client.isOpen).toBe(false)
  })

  it('connects a client that is not connected yet', async () => {
    const client = createClient({ url: server.url })
    client.on('error', () => {})
    const c = standalone({ location: client, closeConnection: true })
    expect(text(await c.command(['PING']))).toBe('PONG')
    expect(client.isReady).toBe(true)
    await c.close()
    expect(client.isOpen).toBe(false)
  })
})

describe('connection pool', () => {
  it('works with connectionPool: { minimum: 1, maximum: 4 }', async () => {
    const c = open({ location: server.url, connectionPool: { minimum: 1, maximum: 4 } })
    const key = uniquePrefix('pool')
    const replies = await Promise.all(Array.from({ length: 200 }, () => c.command(['INCR', key])))
    expect(new Set(replies).size).toBe(200)
    expect(text(await c.command(['GET', key]))).toBe('200')
    const batch = await c.batch([
      ['SET', `${key}:b`, 'x'],
      ['LPUSH', `${key}:b`, 'y'],
      ['GET', `${key}:b`],
    ])
    expect(text(batch[0])).toBe('OK')
    expect(batch[1]).toBeInstanceOf(ResponseError)
    expect(text(batch[2])).toBe('x')
    const keys: Array<string | Buffer> = []
    for await (const found of c.scan(`${key}*`, 10)) keys.push(...found)
    expect(keys.sort()).toEqual([key, `${key}:b`])
  })

  it('runs blocking commands side by side on several connections', async () => {
    const c = open({ location: server.url, connectionPool: { minimum: 1, maximum: 4 } })
    const list = uniquePrefix('pool-list')
    await c.command(['PING'])
    const started = performance.now()
    const replies = await Promise.all(
      Array.from({ length: 4 }, () => c.command(['BLPOP', list, '0.5'])),
    )
    expect(replies).toEqual([null, null, null, null])
    // one connection would take 4 × 0.5 s
    expect(performance.now() - started).toBeLessThan(1800)
  })

  it('closes the pool', async () => {
    const c = standalone({ location: server.url, connectionPool: { minimum: 1, maximum: 4 } })
    await c.command(['PING'])
    await c.close()
    await expect(c.command(['PING'])).rejects.toBeInstanceOf(ClosedError)
  })
})

describe('unix socket', () => {
  let dir: string
  let socketServer: RedisServer
  let socketPath: string

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cachex-sock-'))
    socketPath = join(dir, 'redis.sock')
    socketServer = await startRedis({
      args: ['--unixsocket', socketPath, '--unixsocketperm', '700'],
    })
  })

  afterAll(async () => {
    await socketServer?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('connects through unix://path', async () => {
    const c = open({ location: `unix://${socketPath}` })
    expect(text(await c.command(['PING']))).toBe('PONG')
    const key = uniquePrefix('sock')
    await c.command(['SET', key, 'via-socket'])
    const tcp = open({ location: socketServer.url })
    expect(text(await tcp.command(['GET', key]))).toBe('via-socket')
  })

  it('selects ?db= on a unix socket', async () => {
    const key = uniquePrefix('sockdb')
    const c = open({ location: `unix://${socketPath}?db=2` })
    await c.command(['SET', key, 'in-2'])
    const tcp2 = open({ location: `${socketServer.url}/2` })
    expect(text(await tcp2.command(['GET', key]))).toBe('in-2')
    const tcp0 = open({ location: socketServer.url })
    expect(await tcp0.command(['GET', key])).toBeNull()
  })
})

describe('a server whose SCAN never ends', () => {
  it('stops the walk with ResponseError when a cursor comes back (Redis never hands one out twice)', async () => {
    // Every SCAN answers cursor 7 and no keys.
    let scans = 0
    const fake = await fakeRedis((name) => {
      if (name !== 'SCAN') return undefined
      scans++
      return '*2\r\n$1\r\n7\r\n*0\r\n'
    })
    const c = open({ location: fake.url })
    try {
      const walk = (async () => {
        for await (const _ of c.scan('*', 10)) {
          // nothing to collect
        }
      })()
      await expect(walk).rejects.toBeInstanceOf(ResponseError)
      await expect(walk).rejects.toThrow(/cursor 7 twice in one walk/)
      // It used to go on for as long as the server answered: 150,112 SCANs in 3 s.
      expect(scans).toBe(2)
    } finally {
      await c.close()
      await fake.close()
    }
  })
})
