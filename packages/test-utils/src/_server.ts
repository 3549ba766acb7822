import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './_ports.ts'

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

/** How to launch one `redis-server` process (internal to test-utils). */
export interface LaunchOptions {
  /**
   * The arguments of `redis-server` for this port and temporary directory. Called once per
   * attempt (a new port and directory each time), before `prepare`'s files are used.
   */
  argv(port: number, dir: string): string[]
  /** Writes files the process needs (a config file) into its directory, before the first start. */
  prepare?(port: number, dir: string): void
  /** The URL of the server on `port`. */
  url(port: number): string
  /** Text of the log that says the process is ready. @default 'Ready to accept connections' */
  ready?: string
  /** Prefix of the temporary directory's name. @default 'cachex-redis-' */
  dirPrefix?: string
}

const MISSING_SERVER =
  'redis-server was not found on PATH: install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) — the cachex tests start their own Redis servers'

const HOST = '127.0.0.1'
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/**
 * The arguments every data node gets: loopback only, nothing persisted, logs on stdout, in the
 * foreground, with `dir` as its working directory. A node made a replica (by a test, with
 * `REPLICAOF`) syncs at once: by default a primary waits 5 s for other replicas before a first
 * sync, which left tests that wait 5 s for a sync racing it.
 */
export function dataNodeArgs(port: number, dir: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    HOST,
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
    '--repl-diskless-sync-delay',
    '0',
  ]
}

/**
 * Launches a `redis-server` process on a free loopback port (retrying when another process took
 * the port first) and resolves once its log says it is ready. The process is killed on exit.
 */
export async function launch(options: LaunchOptions): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    try {
      return await launchOn(port, options)
    } catch (error) {
      // Another process may have taken the port between freePort() and the bind; on a loaded
      // machine a server also exits now and then before it says anything. Both deserve a retry.
      if (attempt >= 5 || !isEarlyExit(error)) throw error
    }
  }
}

/** Whether a launch failed because the server exited before it was ready (a port taken, …). */
export function isEarlyExit(error: unknown): boolean {
  const message = String((error as Error)?.message)
  return message.includes('Address already in use') || /exited with \d+/.test(message)
}

async function launchOn(port: number, options: LaunchOptions): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), options.dirPrefix ?? 'cachex-redis-'))
  let child: ChildProcess | undefined
  const ready = options.ready ?? 'Ready to accept connections'
  const start = async () => {
    child = await spawnProcess(options.argv(port, dir), port, ready)
  }
  try {
    options.prepare?.(port, dir)
    await start()
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const exit = async (signal: NodeJS.Signals) => {
    const proc = child
    child = undefined
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    // A frozen process is thawed for SIGTERM, which it must run to exit; not for SIGKILL, which
    // ends it frozen, as a crash would: thawed, it would answer what it was sent first.
    if (signal !== 'SIGKILL') proc.kill('SIGCONT')
    proc.kill(signal)
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000)
    await exited
    clearTimeout(timer)
    running.delete(proc)
  }
  return {
    url: options.url(port),
    host: HOST,
    port,
    stop: async () => {
      await exit('SIGTERM')
      rmSync(dir, { recursive: true, force: true })
    },
    kill: () => exit('SIGKILL'),
    start: async () => {
      if (child === undefined) await start()
    },
    pause: () => {
      child?.kill('SIGSTOP')
    },
    resume: () => {
      child?.kill('SIGCONT')
    },
  }
}

function spawnProcess(argv: string[], port: number, ready: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    running.add(child)
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server on port ${port} did not start within 10 s:\n${output}`))
    }, 10_000)
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      running.delete(child)
      reject(error.code === 'ENOENT' ? new Error(MISSING_SERVER) : error)
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      running.delete(child)
      reject(new Error(`redis-server on port ${port} exited with ${code}:\n${output}`))
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes(ready)) {
        clearTimeout(timer)
        child.stdout?.removeAllListeners('data')
        child.stdout?.resume()
        child.removeAllListeners('exit')
        child.once('exit', () => running.delete(child))
        resolve(child)
      }
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
  })
}
