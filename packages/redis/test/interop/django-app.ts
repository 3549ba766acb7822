// Drives django_app.py: the small Django project of the interop tests, one long-lived python
// process (Django set up and migrated once), one JSON request per line.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { missingDjango, PYTHON, requireDjango } from './django.ts'

const SCRIPT = fileURLToPath(new URL('./django_app.py', import.meta.url))
const EXIT_MISSING = 3

type Answer = { id: number; ok: unknown } | { id: number; error: string }

/** The running Django project. */
export class DjangoApp {
  readonly #child: ChildProcessWithoutNullStreams
  readonly #dir: string
  readonly #pending = new Map<number, (answer: Answer) => void>()
  #next = 0
  #exited: Promise<number | null>
  readonly #stderr: () => string

  /** Django's version, as the project reports it. */
  readonly version: string

  private constructor(
    child: ChildProcessWithoutNullStreams,
    dir: string,
    version: string,
    exited: Promise<number | null>,
    lines: AsyncIterator<string>,
    stderr: () => string,
  ) {
    this.#child = child
    this.#dir = dir
    this.version = version
    this.#exited = exited
    this.#stderr = stderr
    void (async () => {
      for (let line = await lines.next(); line.done !== true; line = await lines.next()) {
        const answer = JSON.parse(line.value) as Answer
        this.#pending.get(answer.id)?.(answer)
        this.#pending.delete(answer.id)
      }
    })()
  }

  /**
   * Starts the project against the Redis at `url`, with `prefix` as its cache's KEY_PREFIX, and
   * waits until it is migrated and ready.
   */
  static async start(url: string, prefix: string): Promise<DjangoApp> {
    requireDjango()
    const dir = await mkdtemp(join(tmpdir(), 'cachex-django-'))
    const child = spawn(PYTHON, [SCRIPT], {
      env: {
        ...process.env,
        CACHEX_REDIS_URL: url,
        CACHEX_PREFIX: prefix,
        CACHEX_DJANGO_DIR: dir,
        PYTHONSAFEPATH: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONHASHSEED: '0',
        PYTHONIOENCODING: 'utf-8',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-4000)
    })
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve))
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    const first = await Promise.race([
      lines.next(),
      exited.then((code) => ({ exited: code })),
      new Promise<{ timeout: true }>((resolve) =>
        setTimeout(() => resolve({ timeout: true }), 60_000).unref(),
      ),
    ])
    if (!('value' in first) || first.done === true) {
      child.kill()
      await rm(dir, { recursive: true, force: true })
      if ('exited' in first && first.exited === EXIT_MISSING) throw missingDjango(stderr.trim())
      throw new Error(`django_app.py did not start (${JSON.stringify(first)}):\n${stderr}`)
    }
    const ready = JSON.parse(first.value) as { ready: boolean; django: string }
    return new DjangoApp(child, dir, ready.django, exited, lines, () => stderr)
  }

  /** Runs one operation of django_app.py's `Ops`; rejects with Python's error. */
  call<T = unknown>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, (answer) => {
        if ('error' in answer) {
          reject(new Error(`Django ${op}(${JSON.stringify(args)}) raised ${answer.error}`))
        } else {
          resolve(answer.ok as T)
        }
      })
      this.#exited.then((code) => {
        if (this.#pending.delete(id)) {
          reject(new Error(`django_app.py exited (${code}) during ${op}:\n${this.#stderr()}`))
        }
      })
      this.#child.stdin.write(`${JSON.stringify({ id, op, args })}\n`)
    })
  }

  /** Stops the process and removes its database. */
  async close(): Promise<void> {
    this.#child.stdin.end()
    await this.#exited
    await rm(this.#dir, { recursive: true, force: true })
  }
}
