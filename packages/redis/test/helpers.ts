import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { type Cache, type CreateCacheOptions, createCache, keySlot } from '@cachex/redis'
import {
  type ClusterNode,
  delay,
  monitor,
  replicated,
  standaloneServer,
  startCluster,
  startRedis,
  startReplicaSet,
  startSentinels,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { RESP_TYPES } from '@redis/client'
import { afterAll, beforeAll } from 'vitest'

const BYTES = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } }

interface RawClient {
  sendCommand(args: Array<string | Buffer>, options?: object): Promise<unknown>
}

/** Where a parametrized suite runs: a real `redis-server`, or the in-process `memory://`. */
export type Backend = 'redis' | 'memory'

/** Both backends, for `describe.each(BACKENDS)`: one suite body, run against each. */
export const BACKENDS: readonly Backend[] = ['redis', 'memory']

/**
 * A server for `backend`: a fresh `redis-server`, or a `memory://<name>` store of its own (every
 * cache created with its `url` shares it, as caches on one server share its keys).
 */
export async function backendServer(
  backend: Backend,
): Promise<{ url: string; stop(): Promise<void> }> {
  if (backend === 'redis') return standaloneServer()
  return { url: `memory://${uniquePrefix('suite')}`, stop: async () => undefined }
}

/** Whether `cache` runs on the in-process backend (which has no node-redis client). */
export function isMemory(cache: Cache): boolean {
  return typeof (cache.connection as { storeName?: unknown }).storeName === 'string'
}

/**
 * Runs a raw command on the cache's own node-redis client (on `memory://`, on its connection);
 * bulk strings come back as Buffers.
 */
export async function raw(cache: Cache, ...args: Array<string | Buffer>): Promise<unknown> {
  if (isMemory(cache)) return cache.connection.command(args, { key: args[1] })
  const client = (await cache.connection.client()) as RawClient
  return client.sendCommand(args, BYTES)
}

/** The bytes stored at the Redis key of `key` (through the cache's key function), or `null`. */
export async function rawGet(cache: Cache, key: string, version?: number): Promise<Buffer | null> {
  return (await raw(cache, 'GET', cache.makeKey(key, version))) as Buffer | null
}

/** The PTTL of the Redis key of `key` at `version`, as Redis reports it (-2 missing, -1 no expiry). */
export async function rawPttl(cache: Cache, key: string, version?: number): Promise<number> {
  return Number(await raw(cache, 'PTTL', cache.makeKey(key, version)))
}

/** A test's companion script running in its own Node process (see `runChild`). */
export interface ChildRun {
  /** What it wrote to stdout so far. */
  readonly out: string
  /** What it wrote to stderr so far. */
  readonly err: string
  /** Its exit code, or `null` while it runs. */
  readonly exitCode: number | null
  /** Waits until its stdout includes `text`, or it exits, or `ms` pass. */
  waitFor(text: string, ms: number): Promise<void>
  /** Whether it exits by itself within `ms`; killed (`SIGKILL`) when it does not. */
  exitsWithin(ms: number): Promise<boolean>
}

/**
 * Runs `script` (a test's companion `.ts` file) with `args` in a new Node process, on the
 * packages' TypeScript sources, as the tests run: for what only a process can show, such as
 * exiting by itself once its caches are closed.
 */
export function runChild(script: string, args: readonly string[]): ChildRun {
  const root = fileURLToPath(new URL('../../..', import.meta.url))
  const proc = spawn(
    process.execPath,
    ['--conditions=@cachex/source', '--import', 'tsx', script, ...args],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  proc.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const exited = once(proc, 'exit').then(() => true)
  return {
    get out() {
      return out
    },
    get err() {
      return err
    },
    get exitCode() {
      return proc.exitCode
    },
    async waitFor(text, ms) {
      const until = performance.now() + ms
      while (!out.includes(text) && proc.exitCode === null && performance.now() < until) {
        await delay(50)
      }
    },
    async exitsWithin(ms) {
      const ended = await Promise.race([exited, delay(ms).then(() => false)])
      if (!ended) proc.kill('SIGKILL')
      return ended
    },
  }
}

/** A deployment a suite runs on, started for it (see `DEPLOYMENTS`). */
export interface Deployment {
  name: string
  /** Replicas reads may go to: a check waits until they have every write (`replicated`). */
  replicas?: number
  start(): Promise<{ options: CreateCacheOptions; stop(): Promise<void> }>
}

/**
 * One server, a primary with a replica, a Sentinel deployment (one sentinel, no replica) and a
 * 3-primary cluster: for `describe.each` over the topologies, each started by its suite.
 */
export const DEPLOYMENTS: readonly Deployment[] = [
  {
    name: 'standalone',
    async start() {
      const server = await startRedis()
      return { options: { location: server.url }, stop: () => server.stop() }
    },
  },
  {
    name: 'primary and replicas',
    replicas: 1,
    async start() {
      const set = await startReplicaSet({ replicas: 1 })
      return { options: { location: [...set.urls] }, stop: () => set.stop() }
    },
  },
  {
    name: 'sentinel',
    async start() {
      const deployment = await startSentinels({ replicas: 0, sentinels: 1 })
      return {
        options: {
          client: 'sentinel',
          location: deployment.location,
          sentinels: deployment.addresses,
        },
        stop: () => deployment.stop(),
      }
    },
  },
  {
    name: 'cluster',
    async start() {
      const made = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
      return {
        options: { client: 'cluster', location: [...made.seeds] },
        stop: () => made.stop(),
      }
    },
  },
]

/** `DEPLOYMENTS` with memory:// second (its store named by `prefix`): for suites of call order. */
export function deploymentsWithMemory(prefix: string): Deployment[] {
  const memory: Deployment = {
    name: 'memory://',
    async start() {
      return { options: { location: `memory://${uniquePrefix(prefix)}` }, stop: async () => {} }
    },
  }
  return [DEPLOYMENTS[0] as Deployment, memory, ...DEPLOYMENTS.slice(1)]
}

/** A deployment started for one suite (`onDeployment`), and what its tests use of it. */
export interface SuiteDeployment {
  /** The options a cache on it is created with (once the suite started it). */
  readonly options: CreateCacheOptions
  /** A connected cache on a prefix of its own (`keyPrefix` to share one), closed after the suite. */
  connected(keyPrefix?: string): Promise<Cache>
  /**
   * Once the replicas have every write made so far (through any connection: one more write,
   * which the replication stream carries after them, and `WAIT`), so that a read from one sees
   * them.
   */
  settled(cache: Cache): Promise<void>
}

/** Starts `topology` for the suite it is called in, and stops it (and its caches) after. */
export function onDeployment(topology: Deployment, prefix: string): SuiteDeployment {
  let deployment: Awaited<ReturnType<Deployment['start']>> | undefined
  const opened: Cache[] = []
  beforeAll(async () => {
    deployment = await topology.start()
  }, 120_000)
  afterAll(async () => {
    await Promise.all(opened.map((cache) => cache.close()))
    await deployment?.stop()
  })
  const options = (): CreateCacheOptions => {
    if (deployment === undefined) throw new Error(`${topology.name} is not started yet`)
    return deployment.options
  }
  return {
    get options() {
      return options()
    },
    async connected(keyPrefix = uniquePrefix(prefix)) {
      const cache = createCache({ ...options(), keyPrefix })
      opened.push(cache)
      await cache.get('connected')
      return cache
    },
    async settled(cache) {
      const replicas = topology.replicas ?? 0
      if (replicas === 0) return
      await cache.set('settled', 1)
      await replicated(cache.connection, replicas)
    },
  }
}

/**
 * Once `count` clients are blocked on the server (`INFO clients`), asked through `cache`'s
 * connection: a blocking read sent on another connection is then waiting, so what is written next
 * comes after it. memory:// answers a blocking read in-process: one turn of the event loop.
 */
export async function untilBlocked(cache: Cache, count = 1): Promise<void> {
  if (isMemory(cache)) {
    await delay(10)
    return
  }
  for (let i = 0; ; i++) {
    const info = String(await cache.connection.command(['INFO', 'clients'], {}))
    if (Number(/blocked_clients:(\d+)/.exec(info)?.[1] ?? 0) >= count) return
    if (i >= 1000) throw new Error(`fewer than ${count} clients blocked after 10 s`)
    await delay(10)
  }
}

/** A factory that says when it started and returns (or throws) only once `open()` is called. */
export function gated<T>(outcome: () => T): {
  factory: () => Promise<T>
  started: Promise<void>
  open(): void
} {
  let began!: () => void
  let open!: () => void
  const started = new Promise<void>((resolve) => {
    began = resolve
  })
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  return {
    factory: async () => {
      began()
      await gate
      return outcome()
    },
    started,
    open,
  }
}

/**
 * The commands of the given names the server on `port` ran while `fn` ran (`MONITOR`: commands it
 * refused are not seen). `mark` sends the command it is given (an `EXISTS` of a marker) once `fn`
 * is done: every command before it has been seen once the marker is.
 */
export async function commandsDuring(
  port: number,
  names: readonly string[],
  fn: () => Promise<unknown>,
  mark: (args: string[]) => Promise<unknown>,
): Promise<string[][]> {
  const watch = await monitor(port)
  try {
    await fn()
    const marker = uniquePrefix('marker')
    await mark(['EXISTS', marker])
    await watch.waitFor((c) => c[0] === 'EXISTS' && c[1] === marker, 10_000)
    return watch.commands.filter(
      (c) => names.includes(c[0]?.toUpperCase() as string) && c[1] !== marker,
    )
  } finally {
    watch.stop()
  }
}

/**
 * Starts moving the slot of `cache`'s `key` on `cluster` to another primary, with `key` already
 * migrated (the slot half moved: the other keys of the slot still on the old owner).
 */
export async function halfMoved(
  cluster: TestCluster,
  cache: Cache,
  key: string,
): ReturnType<TestCluster['beginSlotMove']> {
  const rkey = cache.makeKey(key)
  const owner = await cluster.primaryFor(rkey)
  const to = (await cluster.primaries()).find((p) => p.port !== owner.port) as ClusterNode
  const move = await cluster.beginSlotMove(keySlot(rkey), to)
  await move.migrate([rkey])
  return move
}

/**
 * Whether a set and a get of `key` round trip on `cache` within `ms` (tried every `everyMs`), and
 * what the last try met when not: its error, or a get that resolved another value.
 */
export async function roundTrips(
  cache: Pick<Cache, 'set' | 'get'>,
  key: string,
  ms: number,
  everyMs = 200,
): Promise<{ ok: boolean; last: unknown }> {
  const until = performance.now() + ms
  let last: unknown
  while (performance.now() < until) {
    try {
      const value = Math.random()
      await cache.set(key, value)
      if ((await cache.get(key)) === value) return { ok: true, last: undefined }
      last = 'a get resolved another value'
    } catch (error) {
      last = error
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return { ok: false, last }
}

/** Waits until a set and a get of `key` go through again (`roundTrips`); throws after `ms`. */
export async function recovers(cache: Pick<Cache, 'set' | 'get'>, key: string, ms: number) {
  const { ok, last } = await roundTrips(cache, key, ms)
  if (!ok) throw new Error(`the cache did not work again within ${ms} ms: ${String(last)}`)
}

/**
 * Runs `script`, a test's companion in this folder, in a Node process of its own with
 * `--expose-gc` (and `execArgv`), the packages' sources through `_strip-types.mjs`, and resolves
 * the first line of JSON it prints, or the end of its output when it printed none (it died).
 * Generous on time, for a busy machine: 90 s only prove the child ends.
 */
export function childJsonLine(
  script: string,
  args: readonly string[],
  execArgv: readonly string[] = [],
): Promise<string> {
  const folder = new URL('.', import.meta.url)
  const stripTypes = fileURLToPath(new URL('./_strip-types.mjs', folder))
  const argv = ['--expose-gc', ...execArgv, '--conditions=@cachex/source', '--import', stripTypes]
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...argv, fileURLToPath(new URL(script, folder)), ...args],
      { cwd: fileURLToPath(folder), timeout: 90_000, maxBuffer: 1 << 24 },
      (_error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{'))
        resolve(line ?? `${stdout}\n${stderr}`.slice(-2000))
      },
    )
  })
}
