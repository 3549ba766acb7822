import { call, pairs, type Target, waitFor } from './_resp.ts'
import { launch, type RedisServer } from './_server.ts'
import { startDataNode, writeConfig } from './replicas.ts'

/** A primary, its replicas and the sentinels that watch them, started by `startSentinels`. */
export interface SentinelDeployment {
  /** The service name the sentinels monitor (`sentinel monitor <name> …`). */
  readonly name: string
  /** The primary as started; after a failover, ask `currentPrimary()`. */
  readonly primary: RedisServer
  /** The replicas as started. */
  readonly replicas: readonly RedisServer[]
  /** The sentinels. */
  readonly sentinels: readonly RedisServer[]
  /** The sentinels as `[host, port]` pairs: the `sentinels` option of the sentinel topology. */
  readonly addresses: ReadonlyArray<readonly [string, number]>
  /** `redis://[:password@]<name>/0`: the `location` of the sentinel topology. */
  readonly location: string
  /** The data node the sentinels report as the primary now (it changes after a failover). */
  currentPrimary(): Promise<RedisServer>
  /**
   * Resolves with the new primary once a sentinel reports a primary other than `old` (after a
   * failover); rejects after `ms`.
   */
  waitForFailover(old: RedisServer, ms?: number): Promise<RedisServer>
  /**
   * Fails the primary over with `SENTINEL FAILOVER` and resolves with the new primary once it
   * says it is one; rejects after `ms`. A refusal (`NOGOODSLAVE` while the last failover's
   * replica still syncs, `INPROG`) is asked again, and so is a failover the sentinels abort
   * (a loaded replica that reports its promotion after `failover-timeout`): the old primary
   * then stays in place, and `waitForFailover` alone would wait for nothing.
   */
  failover(ms?: number): Promise<RedisServer>
  /** Stops every process (sentinels first) and removes their directories. */
  stop(): Promise<void>
}

/** Options of `startSentinels`. */
export interface StartSentinelsOptions {
  /** The service name. @default 'mymaster' */
  name?: string
  /** How many replicas the primary gets. @default 1 */
  replicas?: number
  /** How many sentinels watch them. @default 3 */
  sentinels?: number
  /** How many sentinels must agree that the primary is down. @default a majority (2 of 3) */
  quorum?: number
  /** `sentinel down-after-milliseconds`. @default 1000 */
  downAfterMs?: number
  /** `sentinel failover-timeout`. @default 5000 */
  failoverTimeoutMs?: number
  /**
   * A password for the data nodes (`requirepass`, `masterauth`); the sentinels get it as
   * `sentinel auth-pass`, and it goes into `location`. @default none
   */
  password?: string
  /** A password for the sentinels themselves (`requirepass`, `sentinel sentinel-pass`). @default none */
  sentinelPassword?: string
}

/**
 * Starts a primary with `replicas` replicas and `sentinels` `redis-server --sentinel` processes
 * monitoring it as `name`, each with a generated config in its own temporary directory. Resolves
 * once every replica is in sync and every sentinel sees the other sentinels and every replica.
 * Every process is killed by `stop()`, and on exit.
 */
export async function startSentinels(
  options: StartSentinelsOptions = {},
): Promise<SentinelDeployment> {
  const name = options.name ?? 'mymaster'
  const replicaCount = options.replicas ?? 1
  const sentinelCount = options.sentinels ?? 3
  const quorum = options.quorum ?? Math.floor(sentinelCount / 2) + 1
  const password = options.password
  const sentinelPassword = options.sentinelPassword
  const dataNodes: RedisServer[] = []
  const sentinels: RedisServer[] = []
  const stop = async () => {
    // Sentinels first, so that they do not start a failover while the data nodes go away.
    await Promise.all(sentinels.map((sentinel) => sentinel.stop()))
    await Promise.all(dataNodes.map((node) => node.stop()))
  }
  const dataTarget = (node: RedisServer): Target => ({ port: node.port, password })
  const sentinelTarget = (sentinel: RedisServer): Target => ({
    port: sentinel.port,
    password: sentinelPassword,
  })
  try {
    const primary = await startDataNode({ password })
    dataNodes.push(primary)
    const replicas = await Promise.all(
      Array.from({ length: replicaCount }, async () => {
        const replica = await startDataNode({ password }, primary.port)
        dataNodes.push(replica)
        return replica
      }),
    )
    await waitFor('the replicas did not report master_link_status:up', async () => {
      for (const replica of replicas) {
        const text = String(await call(dataTarget(replica), ['INFO', 'replication']))
        if (!text.includes('master_link_status:up')) return false
      }
      return true
    })
    const config = (port: number, dir: string) =>
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'daemonize no',
        `dir ${dir}`,
        'sentinel resolve-hostnames no',
        'sentinel announce-hostnames no',
        `sentinel monitor ${name} 127.0.0.1 ${primary.port} ${quorum}`,
        `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} ${options.failoverTimeoutMs ?? 5000}`,
        `sentinel parallel-syncs ${name} 1`,
        ...(password === undefined ? [] : [`sentinel auth-pass ${name} ${password}`]),
        ...(sentinelPassword === undefined
          ? []
          : [`requirepass ${sentinelPassword}`, `sentinel sentinel-pass ${sentinelPassword}`]),
        '',
      ].join('\n')
    const auth = sentinelPassword === undefined ? '' : `:${encodeURIComponent(sentinelPassword)}@`
    await Promise.all(
      Array.from({ length: sentinelCount }, async () => {
        const sentinel = await launch({
          dirPrefix: 'cachex-sentinel-',
          // Sentinels rewrite their config file, so each has its own.
          prepare: (port, dir) => writeConfig(dir, 'sentinel.conf', config(port, dir)),
          argv: (_port, dir) => [`${dir}/sentinel.conf`, '--sentinel'],
          url: (port) => `redis://${auth}127.0.0.1:${port}`,
          ready: '+monitor master',
        })
        sentinels.push(sentinel)
      }),
    )
    await waitFor(
      'the sentinels did not see each other and every replica',
      async () => {
        for (const sentinel of sentinels) {
          const master = pairs(await call(sentinelTarget(sentinel), ['SENTINEL', 'MASTER', name]))
          if (
            master.flags !== 'master' ||
            Number(master['num-other-sentinels']) !== sentinelCount - 1 ||
            Number(master['num-slaves']) !== replicaCount
          ) {
            return false
          }
        }
        return true
      },
      30_000,
    )

    const askPrimary = async (): Promise<RedisServer | undefined> => {
      let last: unknown
      for (const sentinel of sentinels) {
        try {
          const reply = await call(sentinelTarget(sentinel), [
            'SENTINEL',
            'GET-MASTER-ADDR-BY-NAME',
            name,
          ])
          const port = Array.isArray(reply) ? Number(reply[1]) : Number.NaN
          return dataNodes.find((node) => node.port === port)
        } catch (error) {
          last = error
        }
      }
      throw new Error(`no sentinel answers: ${String(last)}`)
    }
    /** The node the sentinels report in place of `old`, once it says it is a primary itself. */
    const promotedOver = async (old: RedisServer): Promise<RedisServer | undefined> => {
      const node = await askPrimary()
      if (node === undefined || node === old) return undefined
      const role = await call(dataTarget(node), ['ROLE'])
      return Array.isArray(role) && role[0] === 'master' ? node : undefined
    }
    const credentials = password === undefined ? '' : `:${encodeURIComponent(password)}@`
    return {
      name,
      primary,
      replicas,
      sentinels,
      addresses: sentinels.map((sentinel) => ['127.0.0.1', sentinel.port] as const),
      location: `redis://${credentials}${name}/0`,
      currentPrimary: async () => {
        const node = await askPrimary()
        if (node === undefined) throw new Error(`the sentinels report no known primary`)
        return node
      },
      waitForFailover: async (old, ms = 30_000) => {
        let found: RedisServer | undefined
        await waitFor(
          `no replica was promoted in place of port ${old.port}`,
          async () => {
            found = await promotedOver(old)
            return found !== undefined
          },
          ms,
        )
        return found as RedisServer
      },
      failover: async (ms = 90_000) => {
        const old = await askPrimary()
        if (old === undefined) throw new Error('the sentinels report no known primary')
        const [first] = sentinels
        if (first === undefined) throw new Error('no sentinel started')
        let found: RedisServer | undefined
        let askAt = 0
        let refused: unknown
        await waitFor(
          `no replica was promoted in place of port ${old.port}`,
          async () => {
            found = await promotedOver(old)
            if (found !== undefined) return true
            if (Date.now() >= askAt) {
              try {
                await call(sentinelTarget(first), ['SENTINEL', 'FAILOVER', name], 10_000)
                // Accepted: a failover takes about a second; asked again if none happened.
                askAt = Date.now() + 20_000
              } catch (error) {
                refused = error
                askAt = Date.now() + 200
              }
            }
            return false
          },
          ms,
        ).catch((error: Error) => {
          throw refused === undefined
            ? error
            : new Error(`${error.message} (last refusal: ${String(refused)})`)
        })
        return found as RedisServer
      },
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
