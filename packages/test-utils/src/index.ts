import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A `redis-server` process started for a test, on a free loopback port. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` (with the password when one was set). */
  readonly url: string
  readonly host: string
  readonly port: number
  /** Stops the process (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>
  /** Stops the process without cleaning up, as a crash would. */
  kill(): Promise<void>
  /** Starts the process again on the same port. */
  start(): Promise<void>
  /** Freezes the process (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void
  /** Thaws a paused process (SIGCONT). */
  resume(): void
}

/** Options of `startRedis`. */
export interface StartRedisOptions {
  /** Extra `redis-server` arguments, such as `['--requirepass', 'secret']`. */
  args?: string[]
  /** Put in the URL as the password. */
  password?: string
}

const MISSING_SERVER =
  'redis-server was not found on PATH: install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) — the cachex tests start their own Redis servers'

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** A TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Starts `redis-server` on a free loopback port, keeping nothing on disk. */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return await startOn(port, options)
    } catch (error) {
      // Another process may have taken the port between freePort() and the bind.
      if (attempt >= 5 || !String((error as Error).message).includes('Address already in use')) {
        throw error
      }
    }
  }
}

async function startOn(port: number, options: StartRedisOptions): Promise<RedisServer> {
  const host = '127.0.0.1'
  const dir = mkdtempSync(join(tmpdir(), 'cachex-redis-'))
  let child: ChildProcess | undefined
  const launch = async () => {
    child = await spawnServer(port, dir, options.args ?? [])
  }
  await launch()
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`
  const exit = async (signal: NodeJS.Signals) => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    proc.kill('SIGCONT')
    proc.kill(signal)
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    running.delete(proc)
  }
  return {
    url: `redis://${auth}${host}:${port}`,
    host,
    port,
    stop: async () => {
      await exit('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
    kill: () => exit('SIGKILL'),
    start: async () => {
      if (child === undefined) await launch()
    },
    pause: () => {
      child?.kill('SIGSTOP')
    },
    resume: () => {
      child?.kill('SIGCONT')
    },
  }
}

function spawnServer(port: number, dir: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--loglevel',
        'notice',
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server on port ${port} did not start within 10 s:\n${output}`))
    }, 10_000)
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(error.code === 'ENOENT' ? new Error(MISSING_SERVER) : error)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      running.delete(child)
      reject(new Error(`redis-server on port ${port} exited with ${code}:\n${output}`))
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer)
        child.stdout?.removeAllListeners('data')
        child.stdout?.resume()
        child.removeAllListeners('exit')
        child.once('exit', () => running.delete(child))
        running.add(child)
        resolve(child)
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
  })
}

/**
 * The server the standalone suites use: `REDIS_URL` when it is set (a server the tests may write
 * to), otherwise a fresh `redis-server`. `stop()` leaves an existing server alone.
 */
export async function standaloneServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const url = process.env.REDIS_URL
  if (url !== undefined && url !== '') return { url, stop: async () => {} }
  const server = await startRedis()
  return { url: server.url, stop: () => server.stop() }
}

/** A key prefix no other test uses, so suites sharing one server never touch each other's keys. */
export function uniquePrefix(name = 'test'): string {
  return `${name}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`
}

/** Resolves once something accepts TCP connections on `port`, or rejects after `ms`. */
export async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket()
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
      socket.connect(port, '127.0.0.1')
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listens on port ${port} after ${ms} ms`)
}

/**
 * Collects `unhandledRejection` events while the test runs; call the returned function at the end
 * to get them (and stop listening).
 */
export function trackUnhandledRejections(): () => unknown[] {
  const seen: unknown[] = []
  const listener = (reason: unknown) => {
    seen.push(reason)
  }
  process.on('unhandledRejection', listener)
  return () => {
    process.off('unhandledRejection', listener)
    return seen
  }
}
