// What getOrSet's stampede options (`distributed`, `earlyRecompute`, `grace`) need from Redis:
// companion keys, a short lock with a token, a wake-up channel, and a read of value + expiry.
import { randomUUID } from 'node:crypto'
import { describeGiven, flagOption } from '../_args.ts'
import type { CacheContext } from '../_context.ts'
import { MAX_TIMER_MS } from '../_limits.ts'
import { isScriptRefused } from '../_messages.ts'
import { own } from '../_own.ts'
import { checkTimeoutMs } from '../_timeout.ts'
import { InvalidArgumentError } from '../errors.ts'
import type { Connection, RedisArgument } from '../types.ts'

/**
 * Companion keys live outside the key function's keyspace: Django's keys are
 * `<prefix>:<int version>:<key>`, and `__cachex:<kind>:…` parses as prefix `__cachex`, version
 * `<kind>` (not an integer), so no Django or cachex user key can be one unless a cache uses the
 * reserved prefix `__cachex:<kind>`.
 */
export function companionKey(rkey: string, kind: 'lock' | 'delta'): string {
  return `__cachex:${kind}:${rkey}`
}

/** The one channel a holder announces a settled computation on; the message is the Redis key. */
export const STAMPEDE_CHANNEL = '__cachex:stampede'

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`

/** The stampede options of one call, checked. */
export interface Stampede {
  distributed: boolean
  /** XFetch's beta; 0: no early recomputation. */
  beta: number
  /** Milliseconds a value is kept (and served stale) after its timeout; 0: none. */
  graceMs: number
  /** Milliseconds the computation lock lives without a heartbeat. */
  lockMs: number
}

const DEFAULT_LOCK_TIMEOUT = 5

/** The stampede options, checked; `undefined` when the call uses none (the plain path). */
export function checkStampede(options: {
  distributed?: unknown
  earlyRecompute?: unknown
  grace?: unknown
  lockTimeout?: unknown
}): Stampede | undefined {
  const earlyRecompute = own(options, 'earlyRecompute')
  const grace = own(options, 'grace')
  const lockTimeout = own(options, 'lockTimeout')
  const distributed = flagOption(own(options, 'distributed'), 'getOrSet', 'distributed')
  const beta = nonNegative(earlyRecompute, 'earlyRecompute', 'a number (XFetch beta, e.g. 1)')
  const grace_ = nonNegative(grace, 'grace', 'a number of seconds')
  const lock = nonNegative(lockTimeout, 'lockTimeout', 'a number of seconds')
  if (lock === 0 && lockTimeout !== undefined) {
    throw new InvalidArgumentError('getOrSet(): lockTimeout must be more than 0 seconds')
  }
  // Both become expiries (PX) in Redis: refused here when Redis could not hold them.
  checkTimeoutMs(grace_ * 1000, 'grace', `${grace_} seconds`)
  checkTimeoutMs(lock * 1000, 'lockTimeout', `${lock} seconds`)
  if (!distributed && beta === 0 && grace_ === 0) return undefined
  return {
    distributed,
    beta,
    graceMs: Math.trunc(grace_ * 1000),
    lockMs: Math.max(
      1,
      Math.trunc((lockTimeout === undefined ? DEFAULT_LOCK_TIMEOUT : lock) * 1000),
    ),
  }
}

function nonNegative(value: unknown, what: string, kind: string): number {
  if (value === undefined) return 0
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(
      `getOrSet(): ${what} must be ${kind}, at least 0, got ${describeGiven(value)}`,
    )
  }
  return value
}

/**
 * Takes the lock at `lockKey` for `ms` (SET NX PX); resolves its token, or `undefined` when held.
 * A lock held without an expiry was left by another writer (a holder always sets one) and would
 * keep every caller waiting for ever: it is given one of `ms` (`PEXPIRE … NX`, which leaves a
 * holder's expiry alone), one more command only when the lock is taken.
 */
export async function tryLock(
  context: CacheContext,
  lockKey: string,
  ms: number,
): Promise<string | undefined> {
  const token = randomUUID()
  const reply = await context.connection.command(['SET', lockKey, token, 'NX', 'PX', String(ms)], {
    key: lockKey,
    text: true,
  })
  if (reply !== null && reply !== undefined) return token
  try {
    await context.connection.command(['PEXPIRE', lockKey, String(ms), 'NX'], { key: lockKey })
  } catch {
    // Advice only (a server before 7.0 has no NX, an ACL may refuse it): the caller waits.
  }
  return undefined
}

/**
 * The connections whose server refused a script (an ACL user without `@scripting`, or `EVAL`
 * renamed or disabled on the server: `isScriptRefused`): their locks are released and extended
 * with plain commands (`ifStillHeld`), a refresh checks its value with them before storing it
 * (`storeIfUnchanged`), and no script is tried again (see `scriptOr`).
 */
const scriptless = new WeakSet<Connection>()

/**
 * Runs `script` (a call that sends a Lua script) or, for a user who may not run scripts, `plain`
 * (its stand-in of plain commands). Learned once per connection, from the first script refused
 * (`NOPERM`, or `ERR unknown command 'EVAL'`): trying each time would cost a rejected `EVAL` and
 * a round trip on every call.
 */
export async function scriptOr<T>(
  connection: Connection,
  script: () => Promise<T>,
  plain: () => Promise<T>,
): Promise<T> {
  if (!scriptless.has(connection)) {
    try {
      return await script()
    } catch (error) {
      if (!isScriptRefused(error)) throw error
      scriptless.add(connection)
    }
  }
  return plain()
}

/**
 * Milliseconds a lock must have left for `ifStillHeld` to act on it, beyond twice the round trip
 * of its check: less, and it could expire and be taken by another process before the command
 * arrives.
 */
const RACE_MARGIN_MS = 100

/**
 * Runs `command` (a `DEL` or `PEXPIRE` of `lockKey`) only while the lock still holds `token`:
 * `script` (a compare-and-act) or, for a user who may not run scripts, a `GET` + `PTTL` and then
 * the command. That pair is not atomic, as no Redis 7.0 command that a user without `@scripting`
 * may run can compare and delete at once (a `WATCH` needs a connection of one's own, which the
 * connection does not lend): a lock with less than `RACE_MARGIN_MS` plus two round trips left is
 * left to expire instead, so that only a command delayed longer than that (a stalled process or
 * network) can act on a lock another process took meanwhile.
 */
async function ifStillHeld(
  context: CacheContext,
  lockKey: string,
  token: string,
  script: string,
  command: RedisArgument[],
): Promise<void> {
  const connection = context.connection
  await scriptOr(
    connection,
    async () => {
      // The command's arguments after the key are the script's after the token (the expiry).
      await connection.command(['EVAL', script, '1', lockKey, token, ...command.slice(2)], {
        key: lockKey,
      })
    },
    async () => {
      const started = performance.now()
      const [held, pttl] = await connection.batch(
        [
          ['GET', lockKey],
          ['PTTL', lockKey],
        ],
        { key: lockKey, text: true },
      )
      if (held instanceof Error) throw held
      if (held === null || held === undefined || String(held) !== token) return
      const roundTrip = performance.now() - started
      if (typeof pttl === 'number' && pttl >= 0 && pttl < RACE_MARGIN_MS + 2 * roundTrip) return
      await connection.command(command, { key: lockKey })
    },
  )
}

/**
 * Keeps a held lock alive (compare-and-PEXPIRE every third of its life) until the stop function
 * runs; without a script for a user who may not run them (see `ifStillHeld`).
 */
export function heartbeat(
  context: CacheContext,
  lockKey: string,
  token: string,
  ms: number,
): () => void {
  const timer = setInterval(
    () => {
      ifStillHeld(context, lockKey, token, EXTEND, ['PEXPIRE', lockKey, String(ms)]).catch(() => {
        // A missed beat only shortens the lock: at worst another process computes too.
      })
    },
    // A lock longer than 74 days beats every 24.8 days: Node fires a longer interval at once.
    Math.min(MAX_TIMER_MS, Math.max(1, Math.floor(ms / 3))),
  )
  timer.unref()
  return () => clearInterval(timer)
}

/**
 * Releases the lock if it is still ours (compare-and-delete; without a script for a user who may
 * not run them, see `ifStillHeld`), then wakes the waiters of `rkey`. Errors are swallowed: the
 * lock expires by itself and waiters poll.
 */
export async function releaseAndNotify(
  context: CacheContext,
  lockKey: string,
  token: string,
  rkey: string,
): Promise<void> {
  try {
    await ifStillHeld(context, lockKey, token, RELEASE, ['DEL', lockKey])
  } catch {
    // It expires.
  }
  try {
    await context.connection.command(['PUBLISH', STAMPEDE_CHANNEL, rkey], { key: rkey })
  } catch {
    // Waiters poll.
  }
}

/** The value at `rkey` with its expiry and, for XFetch, the stored compute time. */
export interface ValueWithMeta {
  /** The raw reply (`null`: missing). */
  raw: unknown
  /** Milliseconds to expiry; `null` for a key that never expires or is missing. */
  pttl: number | null
  /** Whether the key exists without an expiry (`PTTL` -1). */
  persistent: boolean
  /** The factory's last compute time in milliseconds, when stored. */
  delta: number | undefined
}

/**
 * GET + PTTL (+ GET of the delta companion) in one round trip; on a replica when the connection
 * reads from them, unless `readonly` is false: then on the primary, as a read (`primaryRead`: not
 * held back as writes are while Sentinel fails the primary over). The value as the codec reads it (text or bytes),
 * or as bytes with `text` false. An error reply of the value's `GET` or `PTTL` rejects; one of
 * the delta's is no delta.
 */
export async function readWithMeta(
  context: CacheContext,
  rkey: string,
  withDelta: boolean,
  readonly = true,
  text = context.text,
): Promise<ValueWithMeta> {
  const commands: RedisArgument[][] = [
    ['GET', rkey],
    ['PTTL', rkey],
  ]
  if (withDelta) commands.push(['GET', companionKey(rkey, 'delta')])
  const replies = await context.connection.batch(commands, {
    key: rkey,
    readonly,
    primaryRead: !readonly,
    text,
  })
  const [raw, pttl, delta] = replies
  if (raw instanceof Error) throw raw
  if (pttl instanceof Error) throw pttl
  const ms = Number(pttl)
  // The delta companion is advice: one that cannot be read (another type, written by someone
  // else) is no compute time, and the value is served as without one.
  const d =
    delta === null || delta === undefined || delta instanceof Error
      ? Number.NaN
      : Number(String(delta))
  return {
    raw: raw ?? null,
    pttl: Number.isFinite(ms) && ms >= 0 ? ms : null,
    persistent: ms === -1,
    delta: Number.isFinite(d) && d > 0 ? d : undefined,
  }
}

/**
 * XFetch (Vattani, Chierichetti, Lowenstein, VLDB 2015): recompute now when
 * `now − delta·beta·ln(rand) ≥ expiry`, that is `−delta·beta·ln(rand) ≥ ttl`.
 */
export function xfetch(deltaMs: number, beta: number, ttlMs: number): boolean {
  return -deltaMs * beta * Math.log(Math.random()) >= ttlMs
}

/** Stores the compute time next to the value, expiring with it. */
export function storeDelta(
  context: CacheContext,
  rkey: string,
  deltaMs: number,
  ms: number | null,
): Promise<unknown> {
  const key = companionKey(rkey, 'delta')
  const args: RedisArgument[] = ['SET', key, String(Math.max(1, Math.round(deltaMs)))]
  if (ms !== null) args.push('PX', String(ms))
  return context.connection.command(args, { key })
}
