import { join } from 'node:path'
import { launch, type RedisServer } from './_server.ts'
import { writeConfig } from './replicas.ts'
import { makeTestCertificates, type TestCertificates } from './tls.ts'

/** A Sentinel deployment whose data nodes listen only on TLS, started by `startTlsSentinels`. */
export interface TlsSentinelDeployment {
  /** The service name the sentinels monitor. */
  readonly name: string
  /** The CA that signed every node's certificate (and `certs.cert`, a client certificate). */
  readonly certs: TestCertificates
  /** The primary (TLS only). */
  readonly primary: RedisServer
  /** The replicas (TLS only). */
  readonly replicas: readonly RedisServer[]
  /** The sentinels: TLS only, or plain with `sentinelTls: false`. */
  readonly sentinels: readonly RedisServer[]
  /** The sentinels as `[host, port]` pairs: the `sentinels` option of the sentinel topology. */
  readonly addresses: ReadonlyArray<readonly [string, number]>
  /** Stops every process (sentinels first) and removes their directories and the certificates. */
  stop(): Promise<void>
}

/** Options of `startTlsSentinels`. */
export interface StartTlsSentinelsOptions {
  /** The service name. @default 'mymaster' */
  name?: string
  /** How many replicas the primary gets. @default 1 */
  replicas?: number
  /** How many sentinels watch them (the quorum is 1). @default 1 */
  sentinels?: number
  /** Whether the sentinels listen on TLS only; `false`: on plain TCP. @default true */
  sentinelTls?: boolean
  /** A password for the data nodes (`requirepass`, `masterauth`, `sentinel auth-pass`). */
  password?: string
}

/**
 * Starts a primary with `replicas` replicas, all listening only on TLS (replication over TLS,
 * client certificates not asked for), and `sentinels` sentinels monitoring them over TLS as
 * `name`, with certificates of a fresh test CA. Resolves once every sentinel monitors the
 * primary; the replicas may still be syncing. Every process is killed by `stop()`, and on exit.
 */
export async function startTlsSentinels(
  options: StartTlsSentinelsOptions = {},
): Promise<TlsSentinelDeployment> {
  const name = options.name ?? 'mymaster'
  const password = options.password
  const certs = await makeTestCertificates()
  const started: RedisServer[] = []
  const stop = async () => {
    // Sentinels first, so that they do not start a failover while the data nodes go away.
    const sentinels = started.filter((server) => server.url.startsWith('sentinel'))
    await Promise.all(sentinels.map((server) => server.stop()))
    await Promise.all(started.filter((s) => !sentinels.includes(s)).map((s) => s.stop()))
    certs.remove()
  }
  const file = (name: string) => join(certs.dir, name)
  const tls = (port: number) => [
    'port 0',
    `tls-port ${port}`,
    `tls-cert-file ${file('server.crt')}`,
    `tls-key-file ${file('server.key')}`,
    `tls-ca-cert-file ${file('ca.crt')}`,
    'tls-auth-clients no',
    'tls-replication yes',
  ]
  const start = (kind: 'node' | 'sentinel', lines: (port: number) => string[]) =>
    launch({
      dirPrefix: `cachex-tls-${kind}-`,
      prepare: (port, dir) =>
        writeConfig(
          dir,
          'redis.conf',
          ['bind 127.0.0.1', 'daemonize no', `dir ${dir}`, ...lines(port), ''].join('\n'),
        ),
      argv: (_port, dir) => [
        join(dir, 'redis.conf'),
        ...(kind === 'sentinel' ? ['--sentinel'] : []),
      ],
      // The prefix tells the sentinels apart in `stop`.
      url: (port) => `${kind === 'sentinel' ? 'sentinel' : 'rediss'}://127.0.0.1:${port}`,
      ready: kind === 'sentinel' ? '+monitor master' : undefined,
    }).then((server) => {
      started.push(server)
      return server
    })
  const auth =
    password === undefined ? [] : [`requirepass "${password}"`, `masterauth "${password}"`]
  const node = (replicaOf?: number) =>
    start('node', (port) => [
      ...tls(port),
      'save ""',
      'appendonly no',
      'repl-diskless-sync-delay 0',
      ...auth,
      ...(replicaOf === undefined ? [] : [`replicaof 127.0.0.1 ${replicaOf}`]),
    ])
  try {
    const primary = await node()
    const replicas = await Promise.all(
      Array.from({ length: options.replicas ?? 1 }, () => node(primary.port)),
    )
    const sentinels = await Promise.all(
      Array.from({ length: options.sentinels ?? 1 }, () =>
        start('sentinel', (port) => [
          // A plain sentinel still reaches the data nodes over TLS (`tls-replication`).
          ...(options.sentinelTls === false ? [`port ${port}`, ...tls(port).slice(2)] : tls(port)),
          'sentinel resolve-hostnames no',
          `sentinel monitor ${name} 127.0.0.1 ${primary.port} 1`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          ...(password === undefined ? [] : [`sentinel auth-pass ${name} "${password}"`]),
        ]),
      ),
    )
    return {
      name,
      certs,
      primary,
      replicas,
      sentinels,
      addresses: sentinels.map((sentinel) => ['127.0.0.1', sentinel.port] as const),
      stop,
    }
  } catch (error) {
    await stop()
    throw error
  }
}
