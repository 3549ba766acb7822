import { inspect } from 'node:util'
import { ClosedError, type Connection, ConnectionError, InvalidArgumentError } from '@cachex/core'
import {
  commandCalls,
  delay,
  freePort,
  type RedisServer,
  replyText,
  type SentinelDeployment,
  startSentinels,
  timed,
  trackUnhandledRejections,
  uniquePrefix,
} from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { sentinel } from '../src/index.ts'

/** node-redis builds a client per node on connect, which takes a while on a busy machine. */
const BOUNDS = { socketConnectTimeout: 5, socketTimeout: 2 }
const DATA_PASSWORD = 'data-Pw-8c1f'
const SENTINEL_PASSWORD = 'sentinel-Pw-77aa'

const newClient = (url: string) => createClient({ url })
type Raw = ReturnType<typeof newClient>

let main: SentinelDeployment
let secured: SentinelDeployment
const opened: Connection[] = []
const raws: Raw[] = []
let unhandled: () => unknown[]

beforeAll(async () => {
  ;[main, secured] = await Promise.all([
    startSentinels({ replicas: 2 }),
    startSentinels({ replicas: 1, password: DATA_PASSWORD, sentinelPassword: SENTINEL_PASSWORD }),
  ])
})

beforeEach(() => {
  unhandled = trackUnhandledRejections()
})

afterEach(async () => {
  await delay(20)
  expect(unhandled()).toEqual([])
})

afterAll(async () => {
  for (const c of opened.splice(0)) await c.close()
  for (const r of raws.splice(0)) r.destroy()
  await Promise.all([main?.stop(), secured?.stop()])
})

function open(options: Parameters<typeof sentinel>[0]): Connection {
  const c = sentinel({ ...BOUNDS, ...options })
  opened.push(c)
  return c
}

async function raw(server: RedisServer): Promise<Raw> {
  const client = newClient(server.url)
  client.on('error', () => {})
  await client.connect()
  raws.push(client)
  return client
}

async function until(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = performance.now() + ms
  while (!(await fn())) {
    if (performance.now() > end) throw new Error(`not true within ${ms} ms`)
    await delay(100)
  }
}

interface SentinelClient {
  getMasterNode(): { host: string; port: number } | undefined
  getReplicaNodes(): Map<{ host: string; port: number }, number>
  sendCommand(isReadonly: boolean, args: string[]): Promise<unknown>
}

describe('through the sentinels', () => {
  it('runs commands on the primary, with raw replies', async () => {
    const c = open({ location: main.location, sentinels: main.addresses })
    const key = uniquePrefix('basic')
    expect(replyText(await c.command(['SET', key, 'hello']))).toBe('OK')
    const value = await c.command(['GET', key])
    expect(Buffer.isBuffer(value)).toBe(true)
    expect(replyText(value)).toBe('hello')
    expect(await c.command(['INCRBY', `${key}:n`, '5'])).toBe(5)
    await c.command(['HSET', `${key}:h`, 'a', '1'])
    expect((await c.command(['HGETALL', `${key}:h`])) as Buffer[]).toEqual([
      Buffer.from('a'),
      Buffer.from('1'),
    ])
    const replies = await c.batch([['SET', `${key}:b`, '1'], ['INCR', `${key}:b`], ['NOSUCHCMD']])
    expect(replyText(replies[0])).toBe('OK')
    expect(replies[1]).toBe(2)
    expect(replies[2]).toBeInstanceOf(Error)
    expect(await (await raw(main.primary)).get(key)).toBe('hello')
  })

  it('serves reads from the replicas (replicaPoolSize 1 by default), never the primary', async () => {
    const c = open({ location: main.location, sentinels: main.addresses })
    const key = uniquePrefix('reads')
    await c.command(['SET', key, 'r'])
    await c.command(['WAIT', '2', '5000'])
    const primary = await raw(main.primary)
    const replicas = await Promise.all(main.replicas.map(raw))
    for (const node of [primary, ...replicas]) await node.sendCommand(['CONFIG', 'RESETSTAT'])
    for (let i = 0; i < 100; i++) {
      expect(replyText(await c.command(['GET', key], { readonly: true }))).toBe('r')
    }
    expect(await commandCalls(primary, 'get')).toBe(0)
    const counts = await Promise.all(replicas.map((r) => commandCalls(r, 'get')))
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100)
    for (const count of counts) expect(count).toBeGreaterThan(0)
  })

  it('with replicaPoolSize 0, reads run on the primary', async () => {
    const c = open({
      location: main.location,
      sentinels: main.addresses,
      sentinelOptions: { replicaPoolSize: 0 },
    })
    const key = uniquePrefix('no-replicas')
    await c.command(['SET', key, 'p'])
    const primary = await raw(main.primary)
    await primary.sendCommand(['CONFIG', 'RESETSTAT'])
    for (let i = 0; i < 20; i++) {
      expect(replyText(await c.command(['GET', key], { readonly: true }))).toBe('p')
    }
    expect(await commandCalls(primary, 'get')).toBe(20)
  })

  it('client() is the connected RedisSentinel, for reads and writes', async () => {
    const c = open({ location: main.location, sentinels: main.addresses })
    const client = (await c.client()) as SentinelClient
    expect(client.getMasterNode()?.port).toBe(main.primary.port)
    expect([...client.getReplicaNodes().keys()].map((n) => n.port).sort()).toEqual(
      main.replicas.map((r) => r.port).sort(),
    )
    expect(await c.client({ write: false })).toBe(client)
    expect(String(await client.sendCommand(false, ['PING']))).toBe('PONG')
  })

  it('selects the database of the URL; scans and flushes on the primary', async () => {
    const c = open({ location: 'redis://mymaster/4', sentinels: main.addresses })
    const prefix = uniquePrefix('scan')
    for (let i = 0; i < 30; i++) await c.command(['SET', `${prefix}:${i}`, String(i)])
    const keys: string[] = []
    for await (const batch of c.scan(`${prefix}:*`, 7)) keys.push(...batch)
    expect(keys.sort()).toEqual(Array.from({ length: 30 }, (_, i) => `${prefix}:${i}`).sort())
    const primary = await raw(main.primary)
    await primary.select(4)
    expect(await primary.get(`${prefix}:3`)).toBe('3')
    await c.flush()
    expect(await primary.dbSize()).toBe(0)
  })

  it('rejects bad options at once', () => {
    expect(() => sentinel({ sentinels: main.addresses })).toThrow(InvalidArgumentError)
    expect(() => sentinel({ location: 'redis://mymaster/0' })).toThrow(InvalidArgumentError)
    expect(() => sentinel({ location: 'redis://mymaster/0', sentinels: [] })).toThrow(
      InvalidArgumentError,
    )
    expect(() =>
      sentinel({ location: 'redis://mymaster/0', sentinels: [['127.0.0.1', 'x' as never]] }),
    ).toThrow(InvalidArgumentError)
    expect(() =>
      sentinel({
        location: 'redis://mymaster/0',
        sentinels: main.addresses,
        sentinelOptions: { masterPoolSize: 0 },
      }),
    ).toThrow(InvalidArgumentError)
  })

  it('settles within the connect bound when no sentinel answers', async () => {
    const ports = [await freePort(), await freePort()]
    const c = open({
      location: 'redis://mymaster/0',
      sentinels: ports.map((port) => ['127.0.0.1', port] as const),
      socketConnectTimeout: 1,
    })
    for (let i = 0; i < 2; i++) {
      const result = await timed(c.command(['GET', 'k']))
      expect(result.error).toBeInstanceOf(ConnectionError)
      expect(result.ms).toBeLessThan(3000)
    }
    const client = await timed(c.client())
    expect(client.error).toBeInstanceOf(ConnectionError)
    expect((await timed(c.close())).ms).toBeLessThan(3000)
  })

  it('after a failed connection, calls fail at once while it is retried in the background', async () => {
    const port = await freePort()
    const c = open({
      location: 'redis://mymaster/0',
      sentinels: [['127.0.0.1', port]],
      socketConnectTimeout: 1,
    })
    const first = await timed(c.command(['GET', 'k']))
    expect(first.error).toBeInstanceOf(ConnectionError)
    expect(first.ms).toBeLessThan(3000)
    const started = performance.now()
    for (let i = 0; i < 100; i++) {
      const result = await c.command(['GET', 'k']).catch((e: unknown) => e)
      expect(result).toBeInstanceOf(ConnectionError)
    }
    // before, each of them waited its socketConnectTimeout (1 s)
    expect(performance.now() - started).toBeLessThan(1000)
  })

  it('settles within the connect bound for a service the sentinels do not know', async () => {
    const c = open({
      location: 'redis://no-such-service/0',
      sentinels: main.addresses,
      socketConnectTimeout: 1,
    })
    const result = await timed(c.command(['PING']))
    expect(result.error).toBeInstanceOf(ConnectionError)
    expect(result.ms).toBeLessThan(3000)
  })

  it('rejects every call after close() with ClosedError', async () => {
    const c = sentinel({ ...BOUNDS, location: main.location, sentinels: main.addresses })
    await c.command(['PING'])
    await c.close()
    await expect(c.command(['GET', 'k'])).rejects.toBeInstanceOf(ClosedError)
    await expect(c.command(['GET', 'k'], { readonly: true })).rejects.toBeInstanceOf(ClosedError)
    await expect(c.batch([['GET', 'k']])).rejects.toBeInstanceOf(ClosedError)
    await expect(c.client()).rejects.toBeInstanceOf(ClosedError)
    await c.close()
  })
})

describe('passwords', () => {
  it('authenticates to the data nodes (URL) and to the sentinels (sentinelOptions)', async () => {
    const c = open({
      location: secured.location,
      sentinels: secured.addresses,
      sentinelOptions: { password: SENTINEL_PASSWORD },
    })
    const key = uniquePrefix('secured')
    await c.command(['SET', key, 'ok'])
    await c.command(['WAIT', '1', '5000'])
    expect(replyText(await c.command(['GET', key], { readonly: true }))).toBe('ok')
    // the password option works where the URL has none
    const byOption = open({
      location: 'redis://mymaster/0',
      password: DATA_PASSWORD,
      sentinels: secured.addresses,
      sentinelOptions: { password: SENTINEL_PASSWORD },
    })
    expect(replyText(await byOption.command(['GET', key]))).toBe('ok')
  })

  const wrongs: Record<
    string,
    { location?: string; sentinelOptions: Record<string, unknown>; wrong: string }
  > = {
    'a wrong data-node password': {
      location: 'redis://:not-the-data-pw@mymaster/0',
      sentinelOptions: { password: SENTINEL_PASSWORD },
      wrong: 'not-the-data-pw',
    },
    'a wrong sentinel password': {
      sentinelOptions: { password: 'not-the-sentinel-pw' },
      wrong: 'not-the-sentinel-pw',
    },
    'no sentinel password': {
      location: `redis://:${DATA_PASSWORD}@mymaster/0`,
      sentinelOptions: {},
      wrong: DATA_PASSWORD,
    },
  }
  for (const [name, { location, sentinelOptions, wrong }] of Object.entries(wrongs)) {
    it(`${name}: a ConnectionError within the bound that shows no password`, async () => {
      const c = open({
        location: location ?? secured.location,
        sentinels: secured.addresses,
        sentinelOptions,
        socketConnectTimeout: 2,
      })
      for (let i = 0; i < 2; i++) {
        const result = await timed(c.command(['SET', 'k', 'v']))
        expect(result.error).toBeInstanceOf(ConnectionError)
        expect(result.ms).toBeLessThan(4000)
        const error = result.error as Error
        for (const shown of [error.message, String(error.stack), inspect(error, { depth: 8 })]) {
          expect(shown).not.toContain(wrong)
          expect(shown).not.toContain(DATA_PASSWORD)
          expect(shown).not.toContain(SENTINEL_PASSWORD)
        }
      }
    })
  }
})

describe('failures', () => {
  it('replicas going down fail no read: the primary serves them when none is left', async () => {
    const c = open({ location: main.location, sentinels: main.addresses })
    const key = uniquePrefix('replica-down')
    await c.command(['SET', key, 'still-here'])
    await c.command(['WAIT', '2', '5000'])
    const [first, second] = main.replicas as [RedisServer, RedisServer]
    const reads: ReturnType<typeof timed>[] = []
    const read = () => {
      reads.push(timed(c.command(['GET', key], { readonly: true })))
    }
    try {
      for (let i = 0; i < 100; i++) read()
      await second.kill()
      for (let i = 0; i < 100; i++) read()
      await delay(200)
      for (let i = 0; i < 100; i++) read()
      await first.kill()
      for (let i = 0; i < 100; i++) read()
      await delay(200)
      for (let i = 0; i < 100; i++) read()
      for (const result of await Promise.all(reads)) {
        expect(result.error).toBeUndefined()
        expect(replyText(result.value)).toBe('still-here')
        expect(result.ms).toBeLessThan(2000)
      }
    } finally {
      await first.start()
      await second.start()
    }
    // in sync again before the failover test, which promotes one of them
    await until(async () => {
      for (const replica of [first, second]) {
        const info = await (await raw(replica)).sendCommand(['INFO', 'replication'])
        if (!String(info).includes('master_link_status:up')) return false
      }
      return true
    }, 15_000)
  })

  it('follows a failover: writes succeed again on the promoted replica, same connection', async () => {
    const c = open({ location: main.location, sentinels: main.addresses })
    const key = uniquePrefix('failover')
    await c.command(['SET', key, 'before'])
    await c.command(['WAIT', '2', '5000'])
    const client = (await c.client()) as SentinelClient
    const old = main.primary
    expect(client.getMasterNode()?.port).toBe(old.port)

    const killedAt = performance.now()
    await old.kill()
    let recoveredAfter: number | undefined
    const errors: unknown[] = []
    for (let attempt = 0; performance.now() - killedAt < 30_000; attempt++) {
      const result = await timed(c.command(['SET', `${key}:after`, String(attempt)]))
      // every call settles within its bound, failover or not
      expect(result.ms).toBeLessThan(BOUNDS.socketTimeout * 1000 + 1000)
      if (result.error === undefined) {
        recoveredAfter = performance.now() - killedAt
        break
      }
      errors.push(result.error)
      await delay(100)
    }
    expect(recoveredAfter, `no write succeeded within 30 s: ${errors.map(String)}`).toBeDefined()
    console.log(`writes work again ${recoveredAfter?.toFixed(0)} ms after the primary was killed`)
    for (const error of errors) expect(error).toBeInstanceOf(ConnectionError)

    const promoted = await main.waitForFailover(old)
    expect(promoted.port).not.toBe(old.port)
    expect(client.getMasterNode()?.port).toBe(promoted.port)
    // the write landed on the promoted replica, and what was written before is there
    const node = await raw(promoted)
    expect(await node.get(`${key}:after`)).not.toBeNull()
    expect(replyText(await c.command(['GET', key]))).toBe('before')
    expect(replyText(await c.command(['GET', key], { readonly: true }))).toBe('before')
  }, 40_000)
})

describe('a primary that is down, with no failover', () => {
  let deployment: SentinelDeployment

  beforeAll(async () => {
    // The sentinels would fail over only after a minute: the primary stays down meanwhile.
    deployment = await startSentinels({ replicas: 1, sentinels: 1, downAfterMs: 60_000 })
  })

  afterAll(async () => {
    await deployment?.stop()
  })

  it('writes fail at once while it is down, and succeed again soon after it returns', async () => {
    const c = open({
      location: deployment.location,
      sentinels: deployment.addresses,
      socketConnectTimeout: 1,
      socketTimeout: 1,
    })
    const key = uniquePrefix('primary-down')
    await c.command(['SET', key, 'before'])
    await deployment.primary.kill()
    // the first writes may race node-redis noticing the closed socket
    await until(async () => {
      const result = await timed(c.command(['SET', key, 'during']))
      expect(result.error).toBeInstanceOf(ConnectionError)
      return result.ms < 100
    }, 5000)
    const started = performance.now()
    for (let i = 0; i < 100; i++) {
      const error = await c.command(['SET', key, 'during']).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConnectionError)
    }
    // before, each of them waited its socketTimeout (1 s)
    expect(performance.now() - started).toBeLessThan(1000)
    await deployment.primary.start()
    const back = await timed(
      (async () => {
        for (;;) {
          const result = await timed(c.command(['SET', key, 'after']))
          if (result.error === undefined) return
          await delay(10)
        }
      })(),
    )
    console.log(`writes work again ${back.ms.toFixed(0)} ms after the primary's return`)
    // within one reconnect interval (2 s), with a margin for a busy machine
    expect(back.ms).toBeLessThan(2000 + 3000)
  }, 30_000)
})
