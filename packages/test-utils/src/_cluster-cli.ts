import { execFile } from 'node:child_process'
import type { RedisServer } from './_server.ts'

/** One node of a test cluster: a `redis-server` started with `--cluster-enabled yes`. */
export interface ClusterNode extends RedisServer {
  /** The cluster bus port (`--cluster-port`), picked free like the data port. */
  readonly busPort: number
  /** The node's cluster ID (`CLUSTER MYID`); it survives a restart. */
  readonly id: string
}

const MISSING_CLI =
  'redis-cli was not found on PATH: install it with redis-server (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) — the cachex cluster tests create their cluster with it'

/** One line of `CLUSTER NODES`, as far as the test cluster needs it. */
export interface NodeLine {
  id: string
  primary: boolean
  failed: boolean
  primaryId: string | undefined
  slots: boolean
  ranges: Array<[number, number]>
}

/** Parses `CLUSTER NODES`: `<id> <ip:port@bus> <flags> <primary> <ping> <pong> <epoch> <link> <slot>…`. */
export function parseNodes(text: string): NodeLine[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const fields = line.trim().split(' ')
      const flags = (fields[2] ?? '').split(',')
      const ranges = fields
        .slice(8)
        .filter((range) => !range.startsWith('['))
        .map((range): [number, number] => {
          const [from, to] = range.split('-').map(Number) as [number, number | undefined]
          return [from, to ?? from]
        })
      return {
        id: fields[0] as string,
        primary: flags.includes('master'),
        failed: flags.includes('fail') || flags.includes('noaddr'),
        primaryId: fields[3] === '-' ? undefined : fields[3],
        slots: ranges.length > 0,
        ranges,
      }
    })
}

/** Parses `INFO` / `CLUSTER INFO` text into its `field:value` pairs. */
export function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1).trim()
  }
  return out
}

/** Runs `redis-cli` against 127.0.0.1 and resolves its output; rejects on a failure or after `ms`. */
export function cli(password: string | undefined, args: string[], ms = 5_000): Promise<string> {
  const auth = password === undefined ? [] : ['-a', password, '--no-auth-warning']
  return new Promise((resolve, reject) => {
    execFile(
      'redis-cli',
      ['-h', '127.0.0.1', ...auth, ...args],
      { timeout: ms, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          reject(new Error(MISSING_CLI))
        } else if (error !== null) {
          reject(
            new Error(`redis-cli ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`),
          )
        } else if (/^(ERR|WRONGPASS|NOAUTH)/m.test(stdout) && !args.includes('--cluster')) {
          reject(new Error(`redis-cli ${args.join(' ')}: ${stdout.trim()}`))
        } else {
          resolve(stdout)
        }
      },
    )
  })
}
