import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { launch, type RedisServer } from './_server.ts'

/** A `redis-server` that listens only on TLS, started by `startTlsRedis`. */
export interface TlsRedis {
  /** `rediss://127.0.0.1:<port>`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** The PEM certificate of the test CA that signed the server and client certificates. */
  readonly ca: string
  /** A PEM client certificate signed by the CA, for mutual TLS. */
  readonly cert: string
  /** The PEM private key of `cert`. */
  readonly key: string
  /** The process, to kill, pause or restart it. */
  readonly server: RedisServer
  /** Stops the process and removes the certificates. */
  stop(): Promise<void>
}

/** Options of `startTlsRedis`. */
export interface StartTlsRedisOptions {
  /** Extra `redis-server` arguments, such as `['--requirepass', 'secret']`. @default [] */
  args?: string[]
  /**
   * `--tls-auth-clients`: `'optional'` accepts clients with or without a certificate (a
   * certificate that is given must be valid), `'yes'` requires one. @default 'optional'
   */
  authClients?: 'yes' | 'no' | 'optional'
}

const MISSING_OPENSSL =
  'openssl was not found on PATH: install it (Debian/Ubuntu: `apt-get install openssl`) — the cachex TLS tests generate their certificates with it'
const NO_TLS =
  'this redis-server was built without TLS support: install a build with TLS (Debian/Ubuntu: `apt-get install redis-server`, or build Redis with `make BUILD_TLS=yes`)'

/**
 * Generates a CA, a server certificate (for `127.0.0.1` and `localhost`) and a client certificate
 * with `openssl` in a temporary directory, and starts `redis-server` listening only on TLS
 * (`--port 0 --tls-port <free port>`) with `--tls-auth-clients optional`. Fails with one clear
 * line when `redis-server` was built without TLS or `openssl` is missing.
 */
export async function startTlsRedis(options: StartTlsRedisOptions = {}): Promise<TlsRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'cachex-tls-'))
  try {
    await makeCertificates(dir)
    const file = (name: string) => join(dir, name)
    let server: RedisServer
    try {
      server = await launch({
        dirPrefix: 'cachex-redis-tls-',
        argv: (port, workDir) => [
          '--port',
          '0',
          '--tls-port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--tls-cert-file',
          file('server.crt'),
          '--tls-key-file',
          file('server.key'),
          '--tls-ca-cert-file',
          file('ca.crt'),
          '--tls-auth-clients',
          options.authClients ?? 'optional',
          '--save',
          '',
          '--appendonly',
          'no',
          '--dir',
          workDir,
          '--daemonize',
          'no',
          '--loglevel',
          'notice',
          ...(options.args ?? []),
        ],
        url: (port) => `rediss://127.0.0.1:${port}`,
      })
    } catch (error) {
      const message = String((error as Error).message)
      if (/tls-port|tls-cert-file|TLS is not|not compiled with TLS/i.test(message)) {
        throw new Error(NO_TLS, { cause: error })
      }
      throw error
    }
    return {
      url: server.url,
      host: server.host,
      port: server.port,
      ca: readFileSync(file('ca.crt'), 'utf8'),
      cert: readFileSync(file('client.crt'), 'utf8'),
      key: readFileSync(file('client.key'), 'utf8'),
      server,
      stop: async () => {
        await server.stop()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/** A test CA with a server and a client certificate it signed, made by `makeTestCertificates`. */
export interface TestCertificates {
  /** The directory that holds them: `ca.crt`, `server.crt`/`server.key`, `client.crt`/`client.key`. */
  readonly dir: string
  /** The PEM certificate of the CA. */
  readonly ca: string
  /** A PEM client certificate signed by the CA. */
  readonly cert: string
  /** The PEM private key of `cert`. */
  readonly key: string
  /** Removes the directory. */
  remove(): void
}

/**
 * Generates a CA, a server certificate (for `127.0.0.1` and `localhost`) and a client certificate
 * with `openssl` in a temporary directory: for TLS servers a test starts itself, or as a CA that
 * is not the server's (a wrong `ca`).
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const dir = mkdtempSync(join(tmpdir(), 'cachex-tls-'))
  try {
    await makeCertificates(dir)
    const read = (name: string) => readFileSync(join(dir, name), 'utf8')
    return {
      dir,
      ca: read('ca.crt'),
      cert: read('client.crt'),
      key: read('client.key'),
      remove: () => rmSync(dir, { recursive: true, force: true }),
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/** Writes `ca.crt`/`ca.key`, `server.crt`/`server.key` and `client.crt`/`client.key` to `dir`. */
async function makeCertificates(dir: string): Promise<void> {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  await openssl(dir, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=cachex test CA',
  ])
  const sign = async (name: string, subject: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), `${extensions}\n`)
    await openssl(dir, [
      'req',
      '-new',
      ...ec,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      subject,
    ])
    await openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ])
  }
  await sign(
    'server',
    '/CN=127.0.0.1',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth',
  )
  await sign('client', '/CN=cachex test client', 'extendedKeyUsage=clientAuth')
}

function openssl(cwd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 20_000 }, (error, _stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new Error(MISSING_OPENSSL))
      } else if (error !== null) {
        reject(new Error(`openssl ${args.join(' ')} failed: ${error.message}\n${stderr}`))
      } else {
        resolve()
      }
    })
  })
}
