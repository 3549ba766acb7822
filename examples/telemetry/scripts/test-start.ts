// The smoke test of `pnpm test:examples`: starts a redis-server, runs the console example and
// checks what it printed, then starts the Prometheus example and scrapes it over HTTP.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { freePort, startRedis } from '@cachex/test-utils'

const cwd = fileURLToPath(new URL('..', import.meta.url))
const PASSWORD = 'smoke-secret-pw'

function start(
  script: string,
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string } {
  const child = spawn(
    process.execPath,
    ['--conditions=@cachex/source', '--import', 'tsx', script],
    {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let text = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  return { child, output: () => text }
}

function check(condition: boolean, what: string, output: string): void {
  if (!condition) {
    console.error(output)
    throw new Error(`[telemetry] ${what}`)
  }
  console.log(`[telemetry] ok: ${what}`)
}

async function exited(child: ChildProcess, ms: number): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode
  const timer = setTimeout(() => child.kill('SIGKILL'), ms)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return code
}

const redis = await startRedis({ password: PASSWORD })
// The password is in the URL the examples get: it must appear in nothing they export.
const REDIS_URL = redis.url
try {
  const consoleRun = start('src/console.ts', { REDIS_URL })
  const code = await exited(consoleRun.child, 60_000)
  const printed = consoleRun.output()
  check(code === 0, 'the console example exits 0', printed)
  check(/name: 'GET \/users\/42'/.test(printed), 'it prints the request span', printed)
  for (const span of ['getOrSet', 'get', 'PIPELINE']) {
    check(printed.includes(`name: '${span}'`), `it prints a '${span}' span`, printed)
  }
  check(printed.includes("'db.system.name': 'redis'"), 'spans carry db.system.name', printed)
  for (const metric of ['cachex.hits', 'cachex.misses', 'db.client.operation.duration']) {
    check(printed.includes(`name: '${metric}'`), `it prints the metric ${metric}`, printed)
  }
  check(!printed.includes('user:42'), 'no key in what it exports', printed)
  check(!printed.includes(PASSWORD), 'no password in what it exports', printed)

  const port = await freePort()
  const prometheus = start('src/prometheus.ts', {
    REDIS_URL,
    PORT: String(port),
    HOST: '127.0.0.1',
  })
  let body = ''
  const until = Date.now() + 60_000
  while (!/cachex_hits_total\{/.test(body)) {
    if (Date.now() > until || prometheus.child.exitCode !== null) {
      check(false, 'the Prometheus endpoint answers with cachex_hits_total', prometheus.output())
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`)
      body = await response.text()
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  check(true, 'GET /metrics answers with cachex_hits_total', body)
  for (const name of [
    'cachex_misses_total',
    'cachex_sets_total',
    'db_client_operation_duration_bucket',
    'cachex_value_size_bucket',
  ]) {
    check(body.includes(name), `the scrape has ${name}`, body)
  }
  check(/cachex_cache_alias="sessions"/.test(body), 'series are labelled by cache alias', body)
  // The histograms come from createMetricProducer(): one count per getOrSet call so far.
  const count =
    /db_client_operation_duration_count\{[^}]*db_operation_name="getOrSet"[^}]*\} (\d+)/.exec(body)
  check(Number(count?.[1]) >= 10, 'the producer reports a duration per getOrSet call', body)
  check(!body.includes(PASSWORD), 'no password in the scrape', body)
  prometheus.child.kill('SIGTERM')
  check((await exited(prometheus.child, 15_000)) === 0, 'it stops on SIGTERM', prometheus.output())
} finally {
  await redis.stop()
}
