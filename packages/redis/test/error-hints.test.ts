// Mistakes of a newcomer's first hour, whose errors say what to do: `redis://` (no TLS) against a
// TLS-only server, one node of a Redis Cluster given as a standalone location, and `pnpm demo`
// with a REDIS_URL where no server runs. The hints appear only where they are right: not for a
// refused connection, a handshake that times out or a wrong password, not for other error
// replies, and not on a real cluster connection.
import { spawn } from 'node:child_process'
import { Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  type Cache,
  ConnectionError,
  createCache,
  ResponseError,
  TimeoutError,
} from '@cachex/redis'
import {
  freePort,
  startCluster,
  startRedis,
  startTlsRedis,
  type TestCluster,
  type TlsRedis,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const opened: Cache[] = []
afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
})

function open(options: Parameters<typeof createCache>[0]): Cache {
  const cache = createCache(options)
  opened.push(cache)
  return cache
}

/** The error `fn` rejects with (undefined if it resolves). */
function errorOf(fn: () => Promise<unknown>): Promise<Error | undefined> {
  return fn().then(
    () => undefined,
    (e: unknown) => e as Error,
  )
}

const PLAIN_TO_TLS_HINT =
  /the server closed the connection before answering: if it serves TLS only, use rediss:\/\//

describe('redis:// (no TLS) against a TLS-only server', () => {
  let tls: TlsRedis
  beforeAll(async () => {
    tls = await startTlsRedis()
  })
  afterAll(() => tls?.stop())

  it('says the server closed the connection before answering, and to use rediss:// if it serves TLS only', async () => {
    const password = 'Pl41n-To-TLS-secret'
    const cache = open({
      location: `redis://:${password}@127.0.0.1:${tls.port}/0`,
      socketConnectTimeout: 5,
    })
    const first = await errorOf(() => cache.set('k', 1))
    // The next call, refused at once while the connection is down, says it too.
    const second = await errorOf(() => cache.get('k'))
    // node-redis retries in the background meanwhile, each attempt reset again: a call made
    // later, refused at once, still says it.
    await new Promise((r) => setTimeout(r, 700))
    const later = await errorOf(() => cache.get('k'))
    expect(later?.message).toMatch(/not waiting/)
    for (const error of [first, second, later]) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error).not.toBeInstanceOf(TimeoutError)
      expect(error?.message).toMatch(PLAIN_TO_TLS_HINT)
      expect(error?.message).not.toContain(password)
      expect(String(error?.cause)).not.toContain(password)
    }
  })
})

describe('no rediss:// hint where it would mislead', () => {
  it('a refused connection (nothing listens)', async () => {
    const cache = open({
      location: `redis://127.0.0.1:${await freePort()}/0`,
      socketConnectTimeout: 5,
    })
    const error = await errorOf(() => cache.get('k'))
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error?.message).toMatch(/ECONNREFUSED/)
    expect(error?.message).not.toMatch(/rediss:\/\/|TLS/)
  })

  it('a handshake that never answers (a frozen server)', async () => {
    const frozen = await startRedis()
    frozen.pause()
    try {
      const cache = open({ location: frozen.url, socketConnectTimeout: 1 })
      const error = await errorOf(() => cache.get('k'))
      expect(error).toBeInstanceOf(TimeoutError)
      expect(error?.message).not.toMatch(/rediss:\/\/|TLS/)
    } finally {
      frozen.resume()
      await frozen.stop()
    }
  })

  it('a server that was answering, then went away (an outage, not TLS)', async () => {
    const server = await startRedis()
    try {
      const cache = open({ location: server.url, socketConnectTimeout: 5 })
      await cache.set('k', 1)
      const killed = server.kill()
      // Calls from the moment the server's end drops the connection (socket closed, reset) until
      // the reconnection attempts are refused.
      const errors: Array<Error | undefined> = []
      for (let i = 0; i < 30; i++) {
        errors.push(await errorOf(() => cache.get('k')))
        await new Promise((r) => setTimeout(r, 20))
      }
      await killed
      expect(errors.some((e) => /closed|reset|ECONNRESET/i.test(String(e?.message)))).toBe(true)
      for (const error of errors.filter((e) => e !== undefined)) {
        expect(error).toBeInstanceOf(ConnectionError)
        expect(error?.message).not.toMatch(/rediss:\/\/|TLS/)
      }
    } finally {
      await server.stop()
    }
  })

  it('a server that says why it hangs up (max number of clients reached)', async () => {
    const full = await startRedis({ args: ['--maxclients', '1'] })
    // The one client the server takes.
    const holder = new Socket()
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject)
      holder.connect(full.port, '127.0.0.1', resolve)
    })
    try {
      const cache = open({ location: full.url, socketConnectTimeout: 5 })
      const error = await errorOf(() => cache.get('k'))
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error?.message).toMatch(/max number of clients reached/)
      expect(error?.message).not.toMatch(/rediss:\/\/|TLS/)
    } finally {
      holder.destroy()
      await full.stop()
    }
  })

  it('a wrong password', async () => {
    const guarded = await startRedis({ args: ['--requirepass', 'the-right-one'] })
    try {
      const cache = open({
        location: guarded.url,
        password: 'a-wrong-one',
        socketConnectTimeout: 5,
      })
      const error = await errorOf(() => cache.get('k'))
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error?.message).toMatch(/WRONGPASS/)
      expect(error?.message).not.toMatch(/rediss:\/\/|TLS/)
    } finally {
      await guarded.stop()
    }
  })
})

const CLUSTER_HINT =
  /the server is a Redis Cluster node, which this cache reaches as a single server: create it with client: 'cluster'/

describe('a Redis Cluster node given as a standalone location', () => {
  let cluster: TestCluster
  beforeAll(async () => {
    cluster = await startCluster({ replicasPerPrimary: 0 })
  }, 120_000)
  afterAll(() => cluster?.stop())

  const keys = Array.from({ length: 16 }, (_, i) => `k${i}`)

  it("a key of another node's slot rejects with the server's MOVED and a hint to use client: 'cluster'", async () => {
    const cache = open({ location: (cluster.nodes[0] as { url: string }).url })
    const results = await Promise.allSettled(keys.map((key, i) => cache.set(key, i)))
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []))
    // The keys of this node's slots are stored: the app half-works, which is why it must say so.
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true)
    expect(failures.length).toBeGreaterThan(0)
    for (const error of failures) {
      expect(error).toBeInstanceOf(ResponseError)
      expect(error.message).toMatch(/^MOVED \d+ 127\.0\.0\.1:\d+ /)
      expect(error.message).toMatch(CLUSTER_HINT)
    }
  })

  it('a read over keys in several slots rejects with the CROSSSLOT reply and the same hint', async () => {
    const cache = open({ location: (cluster.nodes[0] as { url: string }).url })
    const error = await errorOf(() => cache.getMany(keys))
    expect(error).toBeInstanceOf(ResponseError)
    expect(error?.message).toMatch(/^CROSSSLOT /)
    expect(error?.message).toMatch(CLUSTER_HINT)
  })

  it('other error replies of the node have no such hint', async () => {
    const cache = open({ location: (cluster.nodes[0] as { url: string }).url })
    const stored = await Promise.allSettled(keys.map((key) => cache.set(key, 'text')))
    const local = keys.find((_, i) => stored[i]?.status === 'fulfilled') as string
    const error = await errorOf(() => cache.hset(local, 'f', 1))
    expect(error).toBeInstanceOf(ResponseError)
    expect(error?.message).toMatch(/holds a string/)
    expect(error?.message).not.toMatch(/cluster/i)
  })

  it('a cluster connection follows the redirections itself', async () => {
    const cache = open({ client: 'cluster', location: cluster.nodes.map((n) => n.url) })
    await Promise.all(keys.map((key, i) => cache.set(key, i)))
    expect(await cache.getMany(keys)).toEqual(new Map(keys.map((key, i) => [key, i])))
  })
})

describe('pnpm demo with REDIS_URL where no server runs', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url))

  it('prints the error and what to do, no stack, and exits with code 1', async () => {
    const port = await freePort()
    const child = spawn(
      process.execPath,
      ['--conditions=@cachex/source', '--import', 'tsx', 'scripts/demo.ts'],
      { cwd: root, env: { ...process.env, REDIS_URL: `redis://127.0.0.1:${port}/0` } },
    )
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += d
    })
    // Bounded only to prove it does not hang.
    const killer = setTimeout(() => child.kill('SIGKILL'), 90_000)
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
    clearTimeout(killer)
    expect(code).toBe(1)
    expect(stderr).toMatch(
      new RegExp(
        `ConnectionError: could not connect to redis://127\\.0\\.0\\.1:${port}/0: connect ECONNREFUSED`,
      ),
    )
    expect(stderr).toMatch(
      /check that a redis-server answers at REDIS_URL \(started, with the password and user the URL gives\), or unset REDIS_URL .*memory:\/\//,
    )
    expect(stderr).not.toMatch(/\n\s+at /)
    expect(stderr).not.toMatch(/\[cause\]/)
  }, 120_000)
})
