// Runs batches of django-redis operations through django_side.py: one python process per batch.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { fromTagged, type Tagged, toTagged } from './tagged.ts'

/** The interpreter with Debian's Django and django-redis. */
export const PYTHON = '/usr/bin/python3'
const SCRIPT = fileURLToPath(new URL('./django_side.py', import.meta.url))
const EXIT_MISSING = 3
const PACKAGES =
  'python3-django python3-django-redis python3-msgpack python3-lz4 python3-zstandard python3-brotli python3-tz'

/** The one line every interop test fails with when the Python side cannot run. */
export function missingDjango(detail: string): Error {
  return new Error(
    `Django interop tests need ${PYTHON} with Django and django-redis (${detail}): \`.ci/run\` installs ${PACKAGES} (apt-get install -y ${PACKAGES})`,
  )
}

let checked: Error | null | undefined

/** Throws `missingDjango(...)` unless /usr/bin/python3 can import everything the tests use. */
export function requireDjango(): void {
  if (checked === undefined) {
    const probe = spawnSync(
      PYTHON,
      ['-c', 'import django, django_redis, msgpack, lz4, zstandard, brotli, pytz'],
      { encoding: 'utf8', env: pythonEnv() },
    )
    if (probe.error !== undefined) {
      checked = missingDjango(`${PYTHON}: ${(probe.error as NodeJS.ErrnoException).code}`)
    } else if (probe.status !== 0) {
      const last = probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`
      checked = missingDjango(last)
    } else {
      checked = null
    }
  }
  if (checked !== null) throw checked
}

function pythonEnv(): NodeJS.ProcessEnv {
  // PYTHONSAFEPATH: the script's directory is not put on sys.path (nothing there may shadow a
  // module); PYTHONHASHSEED: set iteration order, and so pickled sets of strings, is stable.
  return { ...process.env, PYTHONSAFEPATH: '1', PYTHONHASHSEED: '0', PYTHONIOENCODING: 'utf-8' }
}

/** How the Django cache is configured (Django's `CACHES['default']`). */
export interface DjangoConfig {
  /** `LOCATION`: one URL, or several comma-separated (primary first, then read replicas). */
  url: string
  /** Sentinels (`OPTIONS['SENTINELS']`, with django-redis's `SentinelClient`): `url` names the service. */
  sentinels?: ReadonlyArray<readonly [string, number]>
  serializer: 'json' | 'msgpack' | 'pickle'
  compressor: string
  prefix: string
  /** `OPTIONS['PICKLE_VERSION']`; Python's `DEFAULT_PROTOCOL` (4) when absent. */
  pickleVersion?: number
}

/** A handle on the result of one queued operation. */
export type Ref = number & { readonly __ref: unique symbol }

interface Versioned {
  version?: number
}
interface Timed extends Versioned {
  /** Seconds; `null` never expires; absent is Django's default timeout. */
  timeout?: number | null
}

type Result = { ok: Tagged } | { error: string }

/**
 * A list of django-redis operations, run in order by one python process. Each method queues
 * one operation and returns a `Ref` to read its result from the `DjangoResults` of `run()`.
 * Values are JS values (converted with `toTagged`) or already tagged (`py.*`).
 */
export class DjangoBatch {
  readonly #ops: object[] = []

  #push(op: object): Ref {
    this.#ops.push(op)
    return (this.#ops.length - 1) as Ref
  }

  set(key: string, value: unknown, options: Timed = {}): Ref {
    return this.#push({ op: 'set', key, value: tag(value), ...options })
  }

  add(key: string, value: unknown, options: Timed = {}): Ref {
    return this.#push({ op: 'add', key, value: tag(value), ...options })
  }

  get(key: string, options: Versioned = {}): Ref {
    return this.#push({ op: 'get', key, ...options })
  }

  getMany(keys: string[], options: Versioned = {}): Ref {
    return this.#push({ op: 'get_many', keys, ...options })
  }

  setMany(data: Array<[string, unknown]>, options: Timed = {}): Ref {
    return this.#push({ op: 'set_many', data: data.map(([k, v]) => [k, tag(v)]), ...options })
  }

  delete(key: string, options: Versioned = {}): Ref {
    return this.#push({ op: 'delete', key, ...options })
  }

  deleteMany(keys: string[], options: Versioned = {}): Ref {
    return this.#push({ op: 'delete_many', keys, ...options })
  }

  incr(key: string, delta?: number, options: Versioned = {}): Ref {
    return this.#push({ op: 'incr', key, ...delta_(delta), ...options })
  }

  decr(key: string, delta?: number, options: Versioned = {}): Ref {
    return this.#push({ op: 'decr', key, ...delta_(delta), ...options })
  }

  touch(key: string, options: Timed = {}): Ref {
    return this.#push({ op: 'touch', key, ...options })
  }

  ttl(key: string, options: Versioned = {}): Ref {
    return this.#push({ op: 'ttl', key, ...options })
  }

  pttl(key: string, options: Versioned = {}): Ref {
    return this.#push({ op: 'pttl', key, ...options })
  }

  incrVersion(key: string, delta?: number, options: Versioned = {}): Ref {
    return this.#push({ op: 'incr_version', key, ...delta_(delta), ...options })
  }

  hasKey(key: string, options: Versioned = {}): Ref {
    return this.#push({ op: 'has_key', key, ...options })
  }

  keys(pattern: string): Ref {
    return this.#push({ op: 'keys', pattern })
  }

  /** The raw bytes Redis holds at Django's key for `key`. */
  rawGet(key: string, options: Versioned = {}): Ref {
    return this.#push({ op: 'raw_get', key, ...options })
  }

  /** `ZSCORE` of `member` encoded the way Django encodes values. */
  zscore(key: string, member: unknown): Ref {
    return this.#push({ op: 'zscore', key, member: tag(member) })
  }

  /** `ZADD` of `member` encoded the way Django encodes values (django-cachex's `zadd`). */
  zadd(key: string, member: unknown, score: number): Ref {
    return this.#push({ op: 'zadd', key, member: tag(member), score })
  }

  /** Runs the queued operations in one python process. */
  async run(config: DjangoConfig): Promise<DjangoResults> {
    requireDjango()
    const args = [
      SCRIPT,
      config.url,
      config.serializer,
      config.compressor,
      '--prefix',
      config.prefix,
    ]
    if (config.pickleVersion !== undefined)
      args.push('--pickle-version', String(config.pickleVersion))
    for (const [host, port] of config.sentinels ?? []) args.push('--sentinel', `${host}:${port}`)
    const { code, stdout, stderr } = await runPython(args, JSON.stringify(this.#ops, bigintJson))
    if (code === EXIT_MISSING) throw missingDjango(stderr.trim())
    if (code !== 0) {
      throw new Error(`django_side.py exited with ${code}:\n${stderr.trim().slice(-2000)}`)
    }
    const results = JSON.parse(stdout) as Result[]
    if (results.length !== this.#ops.length) {
      throw new Error(`django_side.py answered ${results.length} of ${this.#ops.length} operations`)
    }
    return new DjangoResults(results, this.#ops)
  }
}

/** The results of a `DjangoBatch`, by `Ref`. */
export class DjangoResults {
  readonly #results: Result[]
  readonly #ops: object[]

  constructor(results: Result[], ops: object[]) {
    this.#results = results
    this.#ops = ops
  }

  /** The tagged result; throws with Python's error when the operation raised. */
  tagged(ref: Ref): Tagged {
    const result = this.#results[ref] as Result
    if ('error' in result) {
      throw new Error(`Django ${JSON.stringify(this.#ops[ref], bigintJson)} raised ${result.error}`)
    }
    return result.ok
  }

  /** The result as a JS value (`fromTagged`). */
  value(ref: Ref): unknown {
    return fromTagged(this.tagged(ref))
  }

  /** Raw bytes from `rawGet`, or `null` when there is no key. */
  bytes(ref: Ref): Buffer | null {
    const value = this.value(ref)
    if (value !== null && !Buffer.isBuffer(value)) throw new Error('not a raw_get result')
    return value
  }

  /** Python's error (`"ValueError: …"`), or `undefined` when the operation succeeded. */
  error(ref: Ref): string | undefined {
    const result = this.#results[ref] as Result
    return 'error' in result ? result.error : undefined
  }
}

function tag(value: unknown): Tagged {
  return isTagged(value) ? value : toTagged(value)
}

function isTagged(value: unknown): value is Tagged {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.getPrototypeOf(value) === Object.prototype &&
    typeof (value as { t?: unknown }).t === 'string' &&
    Object.keys(value).every((k) => k === 't' || k === 'v')
  )
}

function delta_(delta: number | undefined): { delta?: number } {
  return delta === undefined ? {} : { delta }
}

function bigintJson(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value
}

function runPython(
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { env: pythonEnv(), stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? missingDjango(`${PYTHON} not found`) : error)
    })
    child.once('close', (code) => {
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      })
    })
    child.stdin.end(input)
  })
}
