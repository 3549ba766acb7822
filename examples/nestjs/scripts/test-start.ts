// `pnpm test-start`: the smoke test of this example. It compiles the app with tsc (Nest needs the
// decorator metadata only tsc emits), starts a redis-server on a free loopback port and the app
// against it as a child process, makes real HTTP requests, checks the cached behaviour and the
// admin UI at /admin, and stops everything. Exits 0 when every check passed, 1 with the reason
// otherwise; never hangs.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  adminToken,
  checkAdmin,
  checkBigCounter,
  checkBigintValue,
  checkLostLock,
  checkStalledRelease,
} from '@cachex/example-shared'
import { freePort, type RedisServer, startRedis } from '@cachex/test-utils'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
/**
 * The run after the compile must end within this. The compile is not counted: `tsc` ends by
 * itself, and on a loaded machine it alone took more than 120 s (a CI run beside other work).
 */
const RUN_TIMEOUT_MS = 120_000
/** The app must answer HTTP within this after it was started. */
const START_TIMEOUT_MS = 30_000
/**
 * Milliseconds the app has to exit once it answered the request in flight at SIGTERM: it takes
 * tens; waiting for that idle keep-alive connection takes seconds.
 */
const IDLE_EXIT_MS = 2_000
/** The admin UI's token (`CACHEX_ADMIN_TOKEN`): the app serves the admin at /admin with it. */
const ADMIN_TOKEN = adminToken()

let redis: RedisServer | undefined
let app: ChildProcess | undefined
let appOutput = ''
let passed = 0

class CheckFailed extends Error {}

function check(what: string, ok: boolean, detail: unknown): void {
  if (!ok) throw new CheckFailed(`${what}: got ${JSON.stringify(detail)}`)
  passed++
  console.log(`ok ${passed} - ${what}`)
}

/** Stops the app (SIGTERM, SIGKILL after 15 s) and Redis; resolves how the app exited. */
async function stop(): Promise<string | undefined> {
  const child = app
  app = undefined
  let exit: string | undefined
  if (child !== undefined && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<string>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? String(code))),
    )
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    exit = await exited
    clearTimeout(killer)
  }
  const server = redis
  redis = undefined
  await server?.stop()
  return exit
}

async function fail(reason: string): Promise<never> {
  console.error(`\ntest-start (nestjs): FAILED: ${reason}`)
  if (appOutput !== '') console.error(`--- app output ---\n${appOutput.trimEnd()}\n---`)
  // Whatever happens while stopping, do not hang.
  setTimeout(() => process.exit(1), 10_000).unref()
  await stop().catch(() => {})
  process.exit(1)
}

/** Starts the compiled app on `port` against `redisUrl`; resolves once it answers HTTP. */
async function startApp(port: number, redisUrl: string): Promise<string> {
  const child = spawn(
    process.execPath,
    // The source condition and tsx let the app import the workspace packages from src, unbuilt.
    ['--conditions=@cachex/source', '--import', 'tsx', join(root, 'dist', 'main.js')],
    {
      cwd: root,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        CACHEX_ADMIN_TOKEN: ADMIN_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  app = child
  child.stdout?.on('data', (chunk: Buffer) => {
    appOutput += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    appOutput += chunk.toString()
  })
  const base = `http://127.0.0.1:${port}`
  const until = Date.now() + START_TIMEOUT_MS
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new CheckFailed(`the app exited with ${child.exitCode}`)
    try {
      const response = await fetch(`${base}/`, { signal: AbortSignal.timeout(1_000) })
      if (response.ok) return base
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new CheckFailed(`the app did not answer on ${base} within ${START_TIMEOUT_MS / 1000} s`)
}

async function request(
  base: string,
  method: string,
  path: string,
): Promise<{ status: number; cache: string | null; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, { method, signal: AbortSignal.timeout(10_000) })
  const text = await response.text()
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new CheckFailed(`${method} ${path} answered ${response.status} with non-JSON: ${text}`)
  }
  return { status: response.status, cache: response.headers.get('x-cache'), body }
}

async function run(): Promise<void> {
  console.log('compiling the app (tsc -p tsconfig.build.json)')
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  })
  deadline = setTimeout(() => {
    void fail(`no result ${RUN_TIMEOUT_MS / 1000} s after the compile`)
  }, RUN_TIMEOUT_MS)

  redis = await startRedis()
  const redisUrl = redis.url
  const base = await startApp(await freePort(), redisUrl)
  console.log(`app listening on ${base}, Redis at ${redis.url}`)

  // 1. Read-through with CacheInterceptor: the second read is served from the cache.
  const first = await request(base, 'GET', '/items/1')
  check('GET /items/1 is loaded from the backend (X-Cache: MISS)', first.cache === 'MISS', first)
  const second = await request(base, 'GET', '/items/1')
  check(
    'the second GET /items/1 is served from the cache (X-Cache: HIT, same backend load)',
    second.cache === 'HIT' && second.body.load === first.body.load,
    second,
  )
  const other = await request(base, 'GET', '/items/2')
  check('GET /items/2 is a miss of its own', other.cache === 'MISS', other)

  // 2. Invalidation with deletePattern.
  const invalidated = await request(base, 'DELETE', '/items')
  check('DELETE /items deletes both cached items', invalidated.body.deleted === 2, invalidated)
  const reloaded = await request(base, 'GET', '/items/1')
  check(
    'after invalidation GET /items/1 is loaded again',
    reloaded.cache === 'MISS' && Number(reloaded.body.load) > Number(second.body.load),
    reloaded,
  )
  const cachedAgain = await request(base, 'GET', '/items/1')
  check('and cached again', cachedAgain.cache === 'HIT', cachedAgain)

  // 3. getOrSet: concurrent and later reads share one build.
  const reports = await Promise.all([
    request(base, 'GET', '/report'),
    request(base, 'GET', '/report'),
    request(base, 'GET', '/report'),
  ])
  const later = await request(base, 'GET', '/report')
  check(
    'GET /report is built once (getOrSet)',
    [...reports, later].every((r) => r.status === 200 && r.body.build === 1),
    [...reports, later].map((r) => r.body),
  )

  // 4. incr: 50 concurrent hits count to exactly 50, each seeing its own number.
  const hits = await Promise.all(Array.from({ length: 50 }, () => request(base, 'POST', '/hits')))
  const counts = hits.map((h) => Number(h.body.hits)).sort((a, b) => a - b)
  check(
    '50 concurrent POST /hits each get a distinct count 1..50',
    counts.every((n, i) => n === i + 1),
    counts,
  )
  const total = await request(base, 'GET', '/hits')
  check('the counter is exactly 50', total.body.hits === 50, total.body)

  // 5. lock: of 5 concurrent nightly jobs exactly one runs, the others get 409.
  const jobs = await Promise.all(
    Array.from({ length: 5 }, () => request(base, 'POST', '/jobs/nightly')),
  )
  const statuses = jobs.map((j) => j.status).sort()
  check(
    'of 5 concurrent POST /jobs/nightly one runs, four get 409',
    JSON.stringify(statuses) === JSON.stringify([200, 409, 409, 409, 409]),
    statuses,
  )
  const status = await request(base, 'GET', '/jobs/nightly')
  check('the nightly job ran exactly once', status.body.runs === 1, status.body)
  const again = await request(base, 'POST', '/jobs/nightly')
  check('once released, the job can run again', again.status === 200, again)

  // 6. The admin UI at /admin (Express middleware in main.ts): 401 without credentials, the keys
  // with the token, writes with the CSRF token only; it sets `hits` to 100 and deletes the
  // CacheInterceptor's entry of item 1 (`http:/items/1`), and the app sees both.
  await checkAdmin({
    url: `${base}/admin`,
    token: ADMIN_TOKEN,
    counterKey: 'hits',
    deleteKey: 'http:/items/1',
    log: (message) => check(message, true, null),
  })
  const counted = await request(base, 'POST', '/hits')
  check('POST /hits after the admin set hits to 100 counts 101', counted.body.hits === 101, counted)
  const dropped = await request(base, 'GET', '/items/1')
  check(
    'GET /items/1 after the admin deleted its entry is a MISS',
    dropped.cache === 'MISS',
    dropped,
  )

  // 7. What a stalled Redis or a cache shared with Django can hand the app. Redis stops answering
  // writes once the job took its lock, so the release times out: the job ran, and is answered 200.
  // A report and a counter holding integers past 2^53 (bigints) are answered as strings.
  const log = (message: string) => check(message, true, null)
  const job = { redisUrl, lockKey: 'nest-example:1:jobs:nightly', url: `${base}/jobs/nightly`, log }
  await checkStalledRelease(job)
  // And a job whose lock was lost while it ran (Redis restarted empty): 200 too.
  await checkLostLock(job)
  await checkBigintValue({
    redisUrl,
    key: 'nest-example:1:report:daily',
    url: `${base}/report`,
    views: (body) => (body as { views?: unknown } | undefined)?.views,
    log,
  })
  await checkBigCounter({ redisUrl, key: 'nest-example:1:hits', url: `${base}/hits`, log })

  // 8. Graceful shutdown: on SIGTERM the app closes its caches and exits 0 by itself. SIGTERM comes
  // while a job is in flight on a keep-alive connection (fetch keeps its connections open, as
  // browsers do): the job is answered, and the app exits right after, without waiting for that
  // idle connection to time out (fetch would close it 3 s later).
  let exitedAt = 0
  app?.once('exit', () => {
    exitedAt = performance.now()
  })
  const inFlight = request(base, 'POST', '/jobs/nightly').then((r) => ({
    ...r,
    at: performance.now(),
  }))
  inFlight.catch(() => {})
  // The job takes 300 ms: SIGTERM comes while the app works on it.
  await new Promise((resolve) => setTimeout(resolve, 100))
  const exit = await stop()
  const answered = await inFlight
  check('the job in flight at SIGTERM is answered', answered.status === 200, answered)
  check('the app shuts down gracefully on SIGTERM (exit code 0)', exit === '0', exit)
  const idle = Math.round(exitedAt - answered.at)
  check(
    `the app exits within ${IDLE_EXIT_MS} ms of answering the job in flight (${idle} ms)`,
    idle <= IDLE_EXIT_MS,
    idle,
  )
  console.log(`\ntest-start (nestjs): all ${passed} checks passed`)
}

let deadline: NodeJS.Timeout | undefined

try {
  await run()
  clearTimeout(deadline)
  process.exit(0)
} catch (error) {
  clearTimeout(deadline)
  await fail(
    error instanceof CheckFailed ? error.message : String((error as Error)?.stack ?? error),
  )
}
