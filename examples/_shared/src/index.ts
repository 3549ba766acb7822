import { AssertionError, deepStrictEqual, strictEqual } from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { setTimeout as delay } from 'node:timers/promises'
import { inspect } from 'node:util'
import { freePort, type RedisServer, startRedis } from '@cachex/test-utils'
import { adminToken, checkAdmin } from './admin-checks.ts'
import { checkUnavailable, runSharedCacheChecks } from './shared-cache-checks.ts'

export { type AdminCheckOptions, adminToken, checkAdmin } from './admin-checks.ts'
export {
  checkBigCounter,
  checkBigintValue,
  checkLostLock,
  checkStalledRelease,
  checkUnavailable,
  runSharedCacheChecks,
  type SharedCacheCheckOptions,
} from './shared-cache-checks.ts'

/** What `start` gets: where the app must listen and the environment to give it. */
export interface SmokeContext {
  /** The free loopback port the app must listen on (also in `env.PORT`). */
  port: number
  /** The URL of the Redis started for this run (also in `env.REDIS_URL`). */
  redisUrl: string
  /** `process.env` plus `PORT`, `HOST=127.0.0.1`, `REDIS_URL` (and `CACHEX_ADMIN_TOKEN`). */
  env: NodeJS.ProcessEnv
}

/** Options of `runSmoke`. */
export interface SmokeOptions {
  /** The example's name, printed before every line: `[express] …`. */
  name: string
  /**
   * Starts the app as a child process listening on `127.0.0.1:<ctx.port>` with `ctx.env`.
   * Use `spawnApp`, which puts it in its own process group so that nothing it starts outlives it.
   */
  start(ctx: SmokeContext): ChildProcess
  /** Where the routes are mounted: `''` or `'/api'` (Next.js route handlers). @default '' */
  basePath?: string
  /**
   * Where the app mounts the admin UI (`@cachex/admin`) when `CACHEX_ADMIN_TOKEN` is set, from the
   * origin: `'/admin'`. Given, the app gets a random `CACHEX_ADMIN_TOKEN` and, after the checks of
   * the routes, the admin is checked (`checkAdmin`) and the app must see its edit of `hits` and
   * its delete of `item:1`.
   */
  adminPath?: string
  /**
   * The app's `keyPrefix`: the checks write the keys of its cache directly, as another app sharing
   * the cache would (`<keyPrefix>:1:item:5`). @default `example-${name}`
   */
  keyPrefix?: string
  /** Work to do before Redis and the app start (`next build`), bounded by itself: before `timeoutMs` starts. */
  prepare?(): Promise<void>
  /** Milliseconds the app has to answer its first HTTP request. @default 30_000 */
  startTimeoutMs?: number
  /** Milliseconds the run after `prepare` may take; then it fails. @default 120_000 */
  timeoutMs?: number
  /** Milliseconds the app has to exit by itself after SIGTERM (graceful shutdown). @default 15_000 */
  stopTimeoutMs?: number
  /**
   * Exit codes that count as a graceful stop on SIGTERM (`next start` exits 143 by design, once it
   * closed its server). @default [0]
   */
  exitCodes?: readonly number[]
  /**
   * Whether SIGTERM comes while a `POST /jobs/nightly` is in flight on a keep-alive connection
   * (`fetch` keeps its connections open, as browsers do): it must still be answered 200, and the
   * app must exit within `stopTimeoutMs` rather than wait for that connection's keep-alive
   * timeout. @default true
   */
  inFlightOnStop?: boolean
}

/** Milliseconds one HTTP request may take. */
const REQUEST_TIMEOUT_MS = 10_000
/**
 * Milliseconds the app has, once it answered the request in flight at SIGTERM, to exit. It takes
 * tens; a shutdown that waits for that idle keep-alive connection takes seconds: until `fetch`
 * closes it, 3 s later (the 5 s `Keep-Alive: timeout` Node's servers announce, less undici's 2 s
 * margin), or until the server's `keepAliveTimeout` (Fastify's is 72 s).
 */
const IDLE_EXIT_MS = 2_000
/** Lines of the app's output kept to print when the run fails. */
const OUTPUT_LINES = 200

/**
 * Spawns an app for `runSmoke`: in its own process group (so that the whole group can be killed,
 * `tsx` or `next` children included), output piped (`runSmoke` prints it when a check fails).
 */
export function spawnApp(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv },
): ChildProcess {
  return spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
}

/**
 * Runs a command to completion with its output shown (`next build`), in its own process group;
 * rejects when it exits non-zero or runs longer than `timeoutMs`.
 */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    })
    children.add(child)
    const timer = setTimeout(() => {
      killGroup(child, 'SIGKILL')
      reject(new Error(`\`${command} ${args.join(' ')}\` took longer than ${options.timeoutMs} ms`))
    }, options.timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      children.delete(child)
      reject(error)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      children.delete(child)
      // Whatever the command left running in its group goes with it.
      killGroup(child, 'SIGKILL')
      if (code === 0) resolve()
      else reject(new Error(`\`${command} ${args.join(' ')}\` exited with ${signal ?? code}`))
    })
  })
}

/** Every child still running, killed (with its group) when this process exits, however it exits. */
const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of children) killGroup(child, 'SIGKILL')
})

/**
 * Signals the child's whole process group (it was spawned with `detached: true`), even after the
 * child itself exited: workers it started (`next build`'s) may still be running.
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // No such group (everything already exited), or not a group leader: signal the child alone.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
  }
}

/**
 * The smoke test of an example app, as its `test-start` script: starts a `redis-server` on a free
 * loopback port, starts the app with `REDIS_URL` pointing at it, makes real HTTP requests and checks
 * the cached behaviour, stops the app with SIGTERM (while a request is in flight on a keep-alive
 * connection, see `inFlightOnStop`; it must exit by itself, with one of `exitCodes`) and Redis,
 * then exits the process: 0 when every check passed, 1 with the reason and the app's output
 * otherwise. A global timeout bounds the whole run; children are killed however it ends.
 *
 * The app must serve, under `basePath`:
 * - `GET /items/:id` → `{ item: { id, … }, loaded: boolean, loads: number }`: a `getOrSet`
 *   read-through; `loaded` says whether this request ran the backend loader, `loads` how many times
 *   the backend loaded this item.
 * - `DELETE /items/:id` → `{ deleted: boolean }` (`delete`); `DELETE /items` → `{ deleted: number }`
 *   (`deletePattern('item:*')`).
 * - `POST /hits` → `{ hits: number }`, the new value of an `incr` counter starting at 0.
 * - `POST /jobs/nightly` → 200 when it ran the job under `cache.lock('nightly')`, 409 while another
 *   request holds the lock; the job must take long enough (a second) for 5 concurrent requests to
 *   meet it, and release the lock before it answers.
 */
export async function runSmoke(options: SmokeOptions): Promise<never> {
  const { name } = options
  const basePath = options.basePath ?? ''
  const timeoutMs = options.timeoutMs ?? 120_000
  const startedAt = performance.now()
  const elapsed = () => `${((performance.now() - startedAt) / 1000).toFixed(1)} s`
  const log = (message: string) => console.log(`[${name}] ${message}`)
  const output: string[] = []
  let redis: RedisServer | undefined
  let app: ChildProcess | undefined
  let finished = false

  const finish = async (code: number, error?: unknown): Promise<never> => {
    if (finished) return new Promise<never>(() => {})
    finished = true
    clearTimeout(timer)
    if (error !== undefined) {
      console.error(`[${name}] FAILED after ${elapsed()}: ${describe(error)}`)
      if (output.length > 0) {
        console.error(`[${name}] last lines of the app's output:`)
        for (const line of output) console.error(`[${name}]   | ${line}`)
      }
    }
    if (app !== undefined) killGroup(app, 'SIGKILL')
    await redis?.stop().catch(() => {})
    if (code === 0) log(`passed in ${elapsed()}`)
    process.exit(code)
  }

  // Started once `prepare` is done: a build ends by itself (`run` bounds it), and on a loaded
  // machine it alone can take minutes.
  let timer: NodeJS.Timeout | undefined
  const startTimer = () => {
    timer = setTimeout(() => {
      void finish(1, new Error(`the smoke test did not finish within ${timeoutMs / 1000} s`))
    }, timeoutMs)
  }
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void finish(1, new Error(`interrupted by ${signal}`)))
  }

  try {
    if (options.prepare !== undefined) {
      await options.prepare()
      log(`prepared (${elapsed()})`)
    }
    startTimer()
    redis = await startRedis()
    const port = await freePort()
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: redis.url,
    }
    const token = adminToken()
    if (options.adminPath !== undefined) env.CACHEX_ADMIN_TOKEN = token
    else delete env.CACHEX_ADMIN_TOKEN
    const child = options.start({ port, redisUrl: redis.url, env })
    app = child
    children.add(child)
    collectOutput(child, output)
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => {
        reject(new Error(`the app exited with ${signal ?? code} before the checks were done`))
      })
      child.once('error', reject)
    })
    exited.catch(() => {})
    const base = `http://127.0.0.1:${port}${basePath}`
    await Promise.race([waitForHttp(base, options.startTimeoutMs ?? 30_000), exited])
    log(`app answers on ${base} (${elapsed()})`)
    await Promise.race([checks(base, log), exited])
    if (options.adminPath !== undefined) {
      const url = `http://127.0.0.1:${port}${options.adminPath}`
      await Promise.race([adminChecks(base, url, token, log), exited])
    }
    const keyPrefix = options.keyPrefix ?? `example-${name}`
    await Promise.race([
      runSharedCacheChecks({ base, redisUrl: redis.url, keyPrefix, log }),
      exited,
    ])
    // Last: Redis is killed and started again, empty.
    await Promise.race([
      checkUnavailable({ redisUrl: redis.url, url: `${base}/items/77`, redis, log }),
      exited,
    ])
    const stopped = await stopApp(
      child,
      options.inFlightOnStop === false ? undefined : `${base}/jobs/nightly`,
      options.stopTimeoutMs ?? 15_000,
      options.exitCodes ?? [0],
    )
    log(
      `app stopped on SIGTERM with exit code ${stopped.code} in ${stopped.ms} ms (graceful shutdown${
        options.inFlightOnStop === false ? '' : ', a keep-alive request in flight answered'
      })`,
    )
    return await finish(0)
  } catch (error) {
    return await finish(1, error)
  }
}

/** The checks, in order; each throws an `AssertionError` that says what differed. */
async function checks(base: string, log: (message: string) => void): Promise<void> {
  const item = async (id: string) => {
    const body = (await expectJson('GET', `${base}/items/${id}`, 200)) as {
      item?: { id?: unknown }
      loaded?: unknown
      loads?: unknown
    } | null
    if (typeof body?.item !== 'object' || body.item === null || !('loaded' in body)) {
      throw new Error(
        `GET ${base}/items/${id} answered ${JSON.stringify(body)}, expected { item, loaded, loads }`,
      )
    }
    return { item: body.item, loaded: body.loaded, loads: body.loads }
  }

  // Read-through: the first read loads from the backend, the second comes from Redis.
  const first = await item('1')
  strictEqual(first.item.id, '1', 'GET /items/1 returns item 1')
  strictEqual(first.loaded, true, 'the first GET /items/1 runs the backend loader')
  strictEqual(first.loads, 1, 'the first GET /items/1 loads item 1 once')
  const second = await item('1')
  strictEqual(second.loaded, false, 'the second GET /items/1 is served from the cache')
  strictEqual(second.loads, 1, 'the second GET /items/1 does not load again')
  deepStrictEqual(second.item, first.item, 'the cached item equals the loaded one')
  log('GET /items/1 twice: loaded once, then served from the cache')

  // delete: the next read loads again.
  deepStrictEqual(await expectJson('DELETE', `${base}/items/1`, 200), { deleted: true })
  const third = await item('1')
  strictEqual(third.loaded, true, 'GET /items/1 after DELETE /items/1 runs the loader again')
  strictEqual(third.loads, 2, 'item 1 was loaded twice after DELETE /items/1')
  log('DELETE /items/1 invalidates: the next read loads again')

  // deletePattern('item:*'): every item is invalidated.
  strictEqual((await item('2')).loaded, true, 'the first GET /items/2 runs the loader')
  strictEqual((await item('2')).loaded, false, 'the second GET /items/2 is served from the cache')
  deepStrictEqual(await expectJson('DELETE', `${base}/items`, 200), { deleted: 2 })
  const again1 = await item('1')
  const again2 = await item('2')
  deepStrictEqual(
    [again1.loaded, again1.loads, again2.loaded, again2.loads],
    [true, 3, true, 2],
    'after DELETE /items, items 1 and 2 are loaded again (loaded, loads of 1 then of 2)',
  )
  log('DELETE /items (deletePattern) invalidates every item')

  // incr: 50 concurrent increments give 1..50, each once.
  const hits = await Promise.all(
    Array.from({ length: 50 }, async () => {
      const body = (await expectJson('POST', `${base}/hits`, 200)) as { hits: unknown }
      return body.hits
    }),
  )
  deepStrictEqual(
    [...hits].sort((a, b) => Number(a) - Number(b)),
    Array.from({ length: 50 }, (_, i) => i + 1),
    '50 concurrent POST /hits return 1..50, each once',
  )
  log('50 concurrent POST /hits: the counter ends at exactly 50')

  // lock: of 5 concurrent runs exactly one gets the lock, the others get 409.
  const statuses = await Promise.all(
    Array.from({ length: 5 }, async () => (await request('POST', `${base}/jobs/nightly`)).status),
  )
  deepStrictEqual(
    [...statuses].sort(),
    [200, 409, 409, 409, 409],
    '5 concurrent POST /jobs/nightly: one runs (200), four are refused (409)',
  )
  strictEqual(
    (await request('POST', `${base}/jobs/nightly`)).status,
    200,
    'POST /jobs/nightly runs again once the first run released the lock',
  )
  log('5 concurrent POST /jobs/nightly: exactly one ran, the lock is released after it')
}

/** The admin's checks, then whether the app sees the admin's edit and delete. */
async function adminChecks(
  base: string,
  url: string,
  token: string,
  log: (message: string) => void,
): Promise<void> {
  await checkAdmin({ url, token, counterKey: 'hits', deleteKey: 'item:1', log })
  deepStrictEqual(
    await expectJson('POST', `${base}/hits`, 200),
    { hits: 101 },
    'POST /hits after the admin set hits to 100',
  )
  const item = (await expectJson('GET', `${base}/items/1`, 200)) as { loaded?: unknown }
  strictEqual(item.loaded, true, 'GET /items/1 after the admin deleted item:1 runs the loader')
  log('the app reads what the admin wrote: hits counts on from 100, item 1 is loaded again')
}

async function request(method: string, url: string): Promise<{ status: number; text: string }> {
  let response: Response
  try {
    response = await fetch(url, { method, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  } catch (error) {
    throw new Error(`${method} ${url} failed: ${describe(error)}`, { cause: error })
  }
  return { status: response.status, text: await response.text() }
}

async function expectJson(method: string, url: string, status: number): Promise<unknown> {
  const response = await request(method, url)
  if (response.status !== status) {
    throw new Error(
      `${method} ${url} answered ${response.status}, expected ${status}: ${response.text}`,
    )
  }
  try {
    return JSON.parse(response.text)
  } catch {
    throw new Error(`${method} ${url} answered something that is not JSON: ${response.text}`)
  }
}

/** Resolves once `base` answers any HTTP response (a 404 too), polling until `ms` ran out. */
async function waitForHttp(base: string, ms: number): Promise<void> {
  const until = performance.now() + ms
  let last: unknown
  while (performance.now() < until) {
    try {
      const response = await fetch(base, { signal: AbortSignal.timeout(2_000) })
      await response.arrayBuffer()
      return
    } catch (error) {
      last = error
    }
    await delay(100)
  }
  throw new Error(`the app did not answer on ${base} within ${ms / 1000} s (${describe(last)})`)
}

/**
 * Sends SIGTERM to the app alone and waits for it to exit by itself with one of `codes` within
 * `ms`. With `inFlight`, SIGTERM comes while a POST to it is in flight on a keep-alive connection:
 * it must be answered 200, and the app must exit within `IDLE_EXIT_MS` of answering it.
 */
async function stopApp(
  child: ChildProcess,
  inFlight: string | undefined,
  ms: number,
  codes: readonly number[],
): Promise<{ code: number; ms: number }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`the app had already exited with ${child.signalCode ?? child.exitCode}`)
  }
  let exitedAt = 0
  const exit = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedAt = performance.now()
      resolve(signal ?? code ?? 'unknown')
    })
  })
  let answered: Promise<{ status: number; text: string; at: number }> | undefined
  if (inFlight !== undefined) {
    answered = request('POST', inFlight).then((response) => ({
      ...response,
      at: performance.now(),
    }))
    answered.catch(() => {})
    // The job takes a second: SIGTERM comes while the app works on it.
    await delay(300)
  }
  const sent = performance.now()
  child.kill('SIGTERM')
  const result = await Promise.race([exit, delay(ms).then(() => 'timeout' as const)])
  if (answered !== undefined) {
    const response = await answered
    strictEqual(
      response.status,
      200,
      `POST ${inFlight}, in flight on a keep-alive connection at SIGTERM, is answered`,
    )
    if (result !== 'timeout' && exitedAt - response.at > IDLE_EXIT_MS) {
      throw new Error(
        `the app exited ${Math.round(exitedAt - response.at)} ms after answering the request in ` +
          `flight at SIGTERM, expected within ${IDLE_EXIT_MS} ms: its shutdown waited for the ` +
          'idle keep-alive connection to time out',
      )
    }
  }
  if (result === 'timeout') throw new Error(`the app did not exit within ${ms / 1000} s of SIGTERM`)
  if (typeof result !== 'number' || !codes.includes(result)) {
    throw new Error(`the app exited with ${result} on SIGTERM, expected ${codes.join(' or ')}`)
  }
  return { code: result, ms: Math.round(exitedAt - sent) }
}

function collectOutput(child: ChildProcess, lines: string[]): void {
  const add = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue
      lines.push(line)
      if (lines.length > OUTPUT_LINES) lines.shift()
    }
  }
  child.stdout?.on('data', add)
  child.stderr?.on('data', add)
}

function describe(error: unknown): string {
  if (error instanceof AssertionError) {
    const show = (value: unknown) =>
      inspect(value, { depth: 4, breakLength: Number.POSITIVE_INFINITY })
    return `${error.message.split('\n')[0]}: got ${show(error.actual)}, expected ${show(error.expected)}`
  }
  if (!(error instanceof Error)) return String(error)
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
  return `${error.message}${cause}`
}
