// The smoke test of `pnpm test:examples`: starts a redis-server, runs the console example and
// checks what it printed, then starts the Prometheus example and scrapes it over HTTP.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { freePort, startRedis } from '@cachex/test-utils'

const cwd = fileURLToPath(new URL('..', import.meta.url))
const PASSWORD = 'smoke-secret-pw'

/** How a child ended: its exit code, or the signal that ended it. */
interface Ending {
  code: number | null
  signal: NodeJS.Signals | null
}

function start(
  script: string,
  env: NodeJS.ProcessEnv,
): { child: ChildProcess; output: () => string; closed: Promise<Ending> } {
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
  // 'close' comes once the child has exited and its output has been read to the end.
  const closed = once(child, 'close').then(([code, signal]) => ({ code, signal }) as Ending)
  return { child, output: () => text, closed }
}

function check(condition: boolean, what: string, output: string): void {
  if (!condition) {
    console.error(output)
    throw new Error(`[telemetry] ${what}`)
  }
  console.log(`[telemetry] ok: ${what}`)
}

/** How `run` ended, killing it after `ms` if it has not; its output is complete by then. */
async function ended(run: ReturnType<typeof start>, ms: number): Promise<Ending> {
  const timer = setTimeout(() => run.child.kill('SIGKILL'), ms)
  const ending = await run.closed
  clearTimeout(timer)
  return ending
}

function describeEnding({ code, signal }: Ending): string {
  return signal === null ? `exit code ${code}` : `killed by ${signal}`
}

const redis = await startRedis({ password: PASSWORD })
// The password is in the URL the examples get: it must appear in nothing they export.
const REDIS_URL = redis.url
try {
  const consoleRun = start('src/console.ts', { REDIS_URL })
  const consoleEnd = await ended(consoleRun, 60_000)
  const printed = consoleRun.output()
  check(
    consoleEnd.code === 0,
    `the console example exits 0 (${describeEnding(consoleEnd)})`,
    printed,
  )
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
    if (
      Date.now() > until ||
      prometheus.child.exitCode !== null ||
      prometheus.child.signalCode !== null
    ) {
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
  const end = await ended(prometheus, 30_000)
  check(end.code === 0, `it stops on SIGTERM (${describeEnding(end)})`, prometheus.output())
  check(
    !/Error/.test(prometheus.output()),
    'it prints no error while it stops',
    prometheus.output(),
  )

  // Redis down at start (nothing listens on the port): the rounds fail and are logged, but the
  // script keeps running and serves /metrics all the same, and still stops on SIGTERM.
  const downPort = await freePort()
  const down = start('src/prometheus.ts', {
    REDIS_URL: `redis://127.0.0.1:${await freePort()}/0`,
    PORT: String(downPort),
    HOST: '127.0.0.1',
  })
  let status = 0
  const downUntil = Date.now() + 60_000
  while (status !== 200) {
    if (Date.now() > downUntil || down.child.exitCode !== null || down.child.signalCode !== null) {
      check(false, 'with Redis down, the Prometheus endpoint answers', down.output())
    }
    try {
      const response = await fetch(`http://127.0.0.1:${downPort}/metrics`)
      await response.arrayBuffer()
      status = response.status
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  check(true, 'with Redis down at start, GET /metrics answers 200', '')
  check(/ConnectionError/.test(down.output()), 'the failing rounds are logged', down.output())
  down.child.kill('SIGTERM')
  const downEnd = await ended(down, 30_000)
  check(
    downEnd.code === 0,
    `with Redis down, it stops on SIGTERM (${describeEnding(downEnd)})`,
    down.output(),
  )
} finally {
  await redis.stop()
}
