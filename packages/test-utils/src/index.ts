import { Socket } from 'node:net'
import { startRedis } from './_redis.ts'
import { call, type Reply } from './_resp.ts'

export { freePort } from './_ports.ts'
export type { StartRedisOptions } from './_redis.ts'
export { startRedis } from './_redis.ts'
export type { Reply } from './_resp.ts'
export type { RedisServer } from './_server.ts'

/**
 * Sends one command to the Redis at `url` (`redis://[user:password@]host:port[/db][?db=N]`) on a
 * fresh connection, in the URL's database, and resolves its reply (RESP2: strings, integers,
 * arrays, nil as `null`); an error reply rejects, as does no reply within `ms`. For what goes
 * around cachex: another app sharing the cache (a Django process writing a key), or an operator
 * (`CLIENT PAUSE`).
 */
export function redisCall(url: string, args: string[], ms?: number): Promise<Reply> {
  const { hostname, port, username, password, pathname, searchParams } = new URL(url)
  // The database as cachex's URLs name it: the first non-empty `?db=`, else the path.
  const db =
    searchParams.getAll('db').find((value) => value !== '') ?? pathname.replace(/^\/+|\/+$/g, '')
  // The text is not quoted: a path such as `0&password=…` may hold a password.
  if (!/^\d*$/.test(db))
    return Promise.reject(new Error('redisCall: no database number in the URL'))
  return call(
    {
      host: hostname,
      port: Number(port),
      db: Number(db),
      ...(password === '' ? {} : { password: decodeURIComponent(password) }),
      ...(username === '' ? {} : { username: decodeURIComponent(username) }),
    },
    args,
    ms,
  )
}

/**
 * The server the standalone suites use: `REDIS_URL` when it is set (a server the tests may write
 * to), otherwise a fresh `redis-server`. `stop()` leaves an existing server alone.
 */
export async function standaloneServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const url = process.env.REDIS_URL
  if (url !== undefined && url !== '') return { url, stop: async () => {} }
  const server = await startRedis()
  return { url: server.url, stop: () => server.stop() }
}

/** A key prefix no other test uses, so suites sharing one server never touch each other's keys. */
export function uniquePrefix(name = 'test'): string {
  return `${name}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
}

/** Resolves once something accepts TCP connections on `port`, or rejects after `ms`. */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket()
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
      socket.connect(port, '127.0.0.1')
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listens on port ${port} after ${ms} ms`)
}

/**
 * Collects `unhandledRejection` events while the test runs; call the returned function at the end
 * to get them (and stop listening).
 */
export function trackUnhandledRejections(): () => unknown[] {
  const seen: unknown[] = []
  const listener = (reason: unknown) => {
    seen.push(reason)
  }
  process.on('unhandledRejection', listener)
  return () => {
    process.off('unhandledRejection', listener)
    return seen
  }
}

export type { ClusterNode, StartClusterOptions, TestCluster } from './cluster.ts'
export { startCluster } from './cluster.ts'
export type { FakeRedis } from './fake.ts'
export { fakeRedis } from './fake.ts'
export type { Monitor } from './monitor.ts'
export { monitor } from './monitor.ts'
export type { ReplicaSet, StartReplicaSetOptions } from './replicas.ts'
export { startReplicaSet } from './replicas.ts'
export type { ScriptChild } from './script.ts'
export { startScript } from './script.ts'
export type { SentinelDeployment, StartSentinelsOptions } from './sentinel.ts'
export { startSentinels } from './sentinel.ts'
export type { StartTlsRedisOptions, TestCertificates, TlsRedis } from './tls.ts'
export { makeTestCertificates, startTlsRedis } from './tls.ts'
export type { StartTlsSentinelsOptions, TlsSentinelDeployment } from './tls-topology.ts'
export { startTlsSentinels } from './tls-topology.ts'

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** How a promise settled (its value or its error), and how many milliseconds that took. */
export async function timed<T>(
  promise: Promise<T>,
): Promise<{ ms: number; error?: unknown; value?: T }> {
  const started = performance.now()
  try {
    const value = await promise
    return { ms: performance.now() - started, value }
  } catch (error) {
    return { ms: performance.now() - started, error }
  }
}

/**
 * Waits until `replicas` replicas acknowledged every write made before on `connection` (`WAIT`),
 * asking in 200 ms steps for at most `ms`: one long `WAIT` would outlast a short `socketTimeout`
 * of the connection under test, and replicas take longer to acknowledge on a busy machine.
 */
export async function replicated(
  connection: { command(args: string[]): Promise<unknown> },
  replicas: number,
  ms = 15_000,
): Promise<void> {
  const until = performance.now() + ms
  for (;;) {
    const acked = Number(await connection.command(['WAIT', String(replicas), '200']))
    if (acked >= replicas) return
    if (performance.now() > until) {
      throw new Error(`${acked} of ${replicas} replicas acknowledged the writes within ${ms} ms`)
    }
  }
}

/** A reply as text, `null` kept: for comparing replies that may come as Buffers. */
export function replyText(reply: unknown): string | null {
  return reply === null ? null : String(reply)
}

/**
 * How many times a server ran `command` (lower case, such as `'get'`), from `INFO commandstats`,
 * asked through any client with node-redis's `sendCommand(args)`.
 */
export async function commandCalls(
  client: { sendCommand(args: string[]): Promise<unknown> },
  command: string,
): Promise<number> {
  const stats = await client.sendCommand(['INFO', 'commandstats'])
  const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(String(stats))
  return match === null ? 0 : Number(match[1])
}

/**
 * A seeded pseudo-random generator (mulberry32), uniform in [0, 1): the same `seed` gives the
 * same sequence, so that a randomized test that fails can be run again as it was.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
