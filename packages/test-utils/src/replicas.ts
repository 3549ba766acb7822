import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { info, waitFor } from './_resp.ts'
import { dataNodeArgs, launch, type RedisServer } from './_server.ts'

/** A primary and its read replicas, started by `startReplicaSet`. */
export interface ReplicaSet {
  /** The primary. */
  readonly primary: RedisServer
  /** The replicas, each started with `--replicaof` the primary. */
  readonly replicas: readonly RedisServer[]
  /** The primary's URL first, then the replicas': a `location` for the `replica` topology. */
  readonly urls: readonly string[]
  /** Resolves once every replica reports `master_link_status:up`; rejects after `ms`. */
  waitForSync(ms?: number): Promise<void>
  /** Stops every process and removes their directories. */
  stop(): Promise<void>
}

/** Options of `startReplicaSet`. */
export interface StartReplicaSetOptions {
  /** How many replicas to start. @default 2 */
  replicas?: number
  /** A password for every node (`requirepass` and `masterauth`); it goes into the URLs. @default none */
  password?: string
  /** Extra `redis-server` arguments for every node. @default [] */
  args?: string[]
}

/**
 * Starts a primary and `replicas` `redis-server --replicaof` processes on free loopback ports,
 * and resolves once every replica reports `master_link_status:up`. Every process is killed by
 * `stop()`, and on exit.
 */
export async function startReplicaSet(options: StartReplicaSetOptions = {}): Promise<ReplicaSet> {
  const count = options.replicas ?? 2
  const started: RedisServer[] = []
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop()))
  }
  try {
    const primary = await startDataNode(options)
    started.push(primary)
    const replicas = await Promise.all(
      Array.from({ length: count }, async () => {
        const replica = await startDataNode(options, primary.port)
        started.push(replica)
        return replica
      }),
    )
    const waitForSync = (ms = 20_000) =>
      waitFor(
        'the replicas did not report master_link_status:up',
        async () => {
          for (const replica of replicas) {
            const replication = await info(target(replica, options.password), 'replication')
            if (replication.master_link_status !== 'up') return false
          }
          return true
        },
        ms,
      )
    await waitForSync()
    return {
      primary,
      replicas,
      urls: [primary.url, ...replicas.map((replica) => replica.url)],
      waitForSync,
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/**
 * Starts one data node of a replica set or a sentinel deployment: with a config file of its own
 * (so that `CONFIG REWRITE`, which a sentinel sends on failover, works), the password as
 * `requirepass` and `masterauth`, and `--replicaof 127.0.0.1 <primaryPort>` for a replica.
 */
export function startDataNode(
  options: { password?: string; args?: string[] },
  primaryPort?: number,
): Promise<RedisServer> {
  const auth =
    options.password === undefined
      ? []
      : ['--requirepass', options.password, '--masterauth', options.password]
  const replicaOf =
    primaryPort === undefined ? [] : ['--replicaof', '127.0.0.1', String(primaryPort)]
  const credentials =
    options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`
  return launch({
    prepare: (_port, dir) => writeConfig(dir, 'redis.conf', ''),
    argv: (port, dir) => [
      `${dir}/redis.conf`,
      ...dataNodeArgs(port, dir),
      ...auth,
      ...replicaOf,
      ...(options.args ?? []),
    ],
    url: (port) => `redis://${credentials}127.0.0.1:${port}`,
  })
}

/** The `call` target of a server started here. */
export function target(
  server: RedisServer,
  password?: string,
): { port: number; password?: string } {
  return password === undefined ? { port: server.port } : { port: server.port, password }
}

/** Writes `text` to `dir/name`. */
export function writeConfig(dir: string, name: string, text: string): void {
  writeFileSync(join(dir, name), text)
}
