// cachex's Lua scripts, run natively: no Lua interpreter, no code from the caller. Each script is
// known by the SHA1 of its source (`EVALSHA sha`, or `EVAL source` hashed on arrival); any other
// script is refused (`NOSCRIPT` for `EVALSHA`, an error for `EVAL`). Each implementation does
// what its Lua does, step by step, through the same command handlers, in one synchronous run: as
// atomic in this process as a script on a server.
import { createHash } from 'node:crypto'
import { ResponseError } from '@cachex/core'
import { arg, type Call, type CommandTable } from './_command.ts'
import { format0f, luaToNumber } from './_lua-number.ts'
import { fail, formatDouble, integer, type Reply, resp2, Status } from './_reply.ts'
import { type ScriptName, SOURCES } from './_script-sources.ts'
import { adminRead } from './_scripts-admin-read.ts'
import { INCR_SCRIPTS, type ScriptCall, str } from './_scripts-incr.ts'

// Lua's number reading and printing, used by the scripts and their tests.
export { format0f, luaToNumber }

/** The last fencing token handed out: node-redis reads integer replies above it inexactly. */
const FENCE_MAX = 9007199254740927

/** A number handed to `redis.call` as Redis 7.0 turns it into an argument (`%.17g`). */
function luaArgument(n: number): string {
  return formatDouble(n)
}

/** The semaphore scripts' tail: the key expires with its last holder (`+inf`: never). */
function expireWithLastHolder(s: ScriptCall, key: string | undefined, line: number): void {
  const last = s.call(line, 'ZRANGE', key, '-1', '-1', 'WITHSCORES') as string[]
  const score = last[1]
  if (score === 'inf') s.call(line + 2, 'PERSIST', key)
  else if (score !== undefined) {
    const at = luaToNumber(score)
    if (at === null) throw s.luaError(line + 4, 'attempt to perform arithmetic on a nil value')
    s.call(line + 4, 'PEXPIREAT', key, format0f(at + 1))
  }
}

/**
 * Lua's `a > b` on what `tonumber` gave: comparing with `nil` is a runtime error, which names
 * the operands of `b < a` (what Lua 5.1 compiles `a > b` to).
 */
function greater(s: ScriptCall, line: number, a: number | null, b: number | null): boolean {
  if (a === null || b === null) {
    const what =
      a === null && b === null
        ? 'two nil values'
        : b === null
          ? 'nil with number'
          : 'number with nil'
    throw s.luaError(line, `attempt to compare ${what}`)
  }
  return a > b
}

const IMPLEMENTATIONS: Record<ScriptName, (s: ScriptCall) => Reply> = {
  ...INCR_SCRIPTS,
  INCR_SWAP: (s) => {
    const key = s.keys[0]
    if (str(s.call(1, 'GET', key)) !== s.argv[0]) return 0
    s.call(4, 'SET', key, s.argv[1], 'KEEPTTL')
    return 1
  },
  REFRESH_SWAP: (s) => {
    const key = s.keys[0]
    const stored = str(s.call(1, 'GET', key))
    if (stored === null || sha1(stored) !== s.argv[0]) return 0
    const ttl = s.call(5, 'PTTL', key) as number
    if (s.argv[3] === '') {
      if (ttl !== -1) return 0
    } else if (ttl === -1 || ttl > (luaToNumber(s.argv[3]) ?? Number.NaN)) {
      return 0
    }
    if (s.argv[2] === '') s.call(14, 'SET', key, s.argv[1])
    else s.call(16, 'SET', key, s.argv[1], 'PX', s.argv[2])
    return 1
  },
  SET_MANY: (s) => {
    const n = s.keys.length
    if (s.argv.length !== n + 1) {
      throw fail('ERR wrong number of arguments: an expiry, then one value per key')
    }
    const px = s.argv[0]
    s.call(6, 'SET', s.keys[0], s.argv[1], 'PX', px)
    if (n < 16) {
      for (let i = 1; i < n; i++) s.call(9, 'SET', s.keys[i], s.argv[i + 1], 'PX', px)
      return n
    }
    for (let i = 1; i < n; i += 1000) {
      const args: string[] = []
      for (let j = i; j < Math.min(i + 1000, n); j++)
        args.push(s.keys[j] as string, s.argv[j + 1] as string)
      s.call(22, 'MSET', ...args)
    }
    for (let j = 1; j < n; j++) s.call(26, 'PEXPIRE', s.keys[j], px)
    return n
  },
  NOTHING: () => 1,
  STAMPEDE_RELEASE: (s) => {
    const key = s.keys[0]
    if (str(s.call(1, 'GET', key)) === s.argv[0]) return s.call(1, 'DEL', key)
    return 0
  },
  STAMPEDE_EXTEND: (s) => {
    const key = s.keys[0]
    if (str(s.call(1, 'GET', key)) === s.argv[0]) return s.call(1, 'PEXPIRE', key, s.argv[1])
    return 0
  },
  LOCK_RELEASE: (s) => {
    const key = s.keys[0]
    const token = str(s.call(1, 'get', key))
    if (token === null) return -1
    if (token !== s.argv[0]) return 0
    s.call(8, 'del', key)
    return 1
  },
  LOCK_ACQUIRE: (s) => {
    const [key, fenceKey] = s.keys
    const [token, ms] = s.argv
    const set =
      ms === '' ? s.call(3, 'set', key, token, 'NX') : s.call(5, 'set', key, token, 'NX', 'PX', ms)
    if (set === null) return 0
    const fence = s.pcall('incr', fenceKey)
    if (typeof fence !== 'number' || fence < 1 || fence > FENCE_MAX) {
      s.call(12, 'del', key)
      if (fenceKey === undefined) {
        throw s.luaError(13, "attempt to concatenate field '?' (a nil value)")
      }
      throw fail(
        `ERR the fencing counter ${fenceKey} must hold a non-negative integer, for a positive token below 2^53 - 64: delete it, or set it above the last token handed out`,
      )
    }
    return fence
  },
  LOCK_EXTEND: (s) => {
    const key = s.keys[0]
    const token = str(s.call(1, 'get', key))
    if (token === null || token !== s.argv[0]) return 0
    const expiration = s.call(5, 'pttl', key) as number
    if (expiration < 0) return 0
    let newTtl = s.argv[1]
    if (s.argv[2] === '0') {
      const ms = luaToNumber(newTtl)
      if (ms === null) {
        const what = newTtl === undefined ? 'nil' : 'string'
        throw s.luaError(14, `attempt to perform arithmetic on field '?' (a ${what} value)`)
      }
      newTtl = luaArgument(ms + expiration)
    }
    s.call(16, 'pexpire', key, newTtl)
    return 1
  },
  LOCK_REACQUIRE: (s) => {
    const key = s.keys[0]
    if (str(s.call(1, 'get', key)) !== s.argv[0]) return 0
    s.call(4, 'pexpire', key, s.argv[1])
    return 1
  },
  SEMAPHORE_ACQUIRE: (s) => {
    const key = s.keys[0]
    const [member, weight, limitText, ttl] = s.argv
    const now = s.now
    const expired = format0f(now)
    let used = luaToNumber(weight)
    const limit = luaToNumber(limitText)
    const stale = s.call(9, 'zrangebyscore', key, '-inf', expired) as string[]
    if (stale.some((member) => !/^\d+:/.test(member))) {
      throw fail('ERR the key holds a sorted set that is not a cachex semaphore')
    }
    if (greater(s, 15, used, limit)) {
      s.call(16, 'zremrangebyscore', key, '-inf', expired)
      return 0
    }
    const holders = s.call(19, 'zrangebyscore', key, `(${expired}`, '+inf') as string[]
    for (const holder of holders) {
      const match = /^(\d+):/.exec(holder)
      if (match === null) {
        throw fail('ERR the key holds a sorted set that is not a cachex semaphore')
      }
      used = (used as number) + Number(match[1])
      if (used > (limit as number)) {
        s.call(27, 'zremrangebyscore', key, '-inf', expired)
        return 0
      }
    }
    let expiry = '+inf'
    if (ttl !== '') {
      const ms = luaToNumber(ttl)
      if (ms === null) throw s.luaError(33, 'attempt to perform arithmetic on a nil value')
      expiry = format0f(now + ms)
    }
    s.call(35, 'zadd', key, expiry, member)
    s.call(36, 'zremrangebyscore', key, '-inf', expired)
    expireWithLastHolder(s, key, 37)
    return 1
  },
  ADMIN_CAS: (s) => {
    const key = s.keys[0]
    const [op, limitText, kindWanted, digestWanted, ttl, value] = s.argv
    const type = s.call(1, 'TYPE', key)
    const kind = type instanceof Status ? type.text : String(type)
    // A string over the limit: the SHA1 of its length and of 16 slices of 4096 bytes at even
    // steps from its first byte to its last; a shorter one is hashed whole.
    const digest = (): string => {
      if (kind !== 'string') return ''
      const n = s.call(6, 'STRLEN', key) as number
      const limit = luaToNumber(limitText ?? '')
      if (limit === null) throw s.luaError(7, 'attempt to compare number with nil')
      if (n <= limit) return sha1(str(s.call(8, 'GET', key)) ?? '')
      const parts = [String(n)]
      for (let i = 0; i <= 15; i++) {
        const at = Math.floor((i * (n - 4096)) / 15)
        parts.push(str(s.call(13, 'GETRANGE', key, String(at), String(at + 4095))) ?? '')
      }
      return sha1(parts.join(':'))
    }
    if (op === 'digest') return [kind, digest()]
    if (kind !== kindWanted || digest() !== digestWanted) return 0
    if (op === 'delete') return s.call(24, 'UNLINK', key)
    if (op === 'set') s.call(27, 'SET', key, value, 'KEEPTTL')
    if (ttl === 'persist') s.call(30, 'PERSIST', key)
    else if (ttl !== '') s.call(32, 'PEXPIRE', key, ttl)
    return 1
  },
  ADMIN_READ: adminRead,
  SEMAPHORE_RELEASE: (s) => {
    const key = s.keys[0]
    const held = s.call(1, 'zcard', key) as number
    const removed = s.call(2, 'zrem', key, s.argv[0]) as number
    if (removed === 1 && held > 1) expireWithLastHolder(s, key, 4)
    return removed
  },
}

function sha1(source: string): string {
  return createHash('sha1').update(source, 'latin1').digest('hex')
}

/** cachex's scripts by the SHA1 of their source. */
const BY_SHA = new Map<string, ScriptName>(
  (Object.keys(SOURCES) as ScriptName[]).map((name) => [sha1(SOURCES[name]), name]),
)

/** The SHA1s of the scripts the in-memory backend runs. */
export function knownScripts(): ReadonlyMap<string, string> {
  return BY_SHA
}

/** Runs one command of the keyspace (a handler of the command tables); throws its error. */
export type Dispatch = (name: string, args: string[]) => Reply

function runScript(call: Call, sha: string, dispatch: Dispatch): Reply {
  const name = BY_SHA.get(sha)
  if (name === undefined) throw fail('NOSCRIPT No matching script. Please use EVAL.')
  const numkeys = integer(arg(call, 1))
  if (numkeys < 0) throw fail("ERR Number of keys can't be negative")
  if (numkeys > call.args.length - 2)
    throw fail("ERR Number of keys can't be greater than number of args")
  const keys = call.args.slice(2, 2 + numkeys)
  const argv = call.args.slice(2 + numkeys)
  const where = (line: number) => ` script: ${sha}, on @user_script:${line}.`
  const nilArgument = 'ERR Lua redis lib command arguments must be strings or integers'
  const dispatchArgs = (command: string, args: Array<string | undefined>): Reply => {
    const given: string[] = []
    for (const a of args) {
      if (a === undefined) throw fail(nilArgument)
      given.push(a)
    }
    return resp2(dispatch(command.toUpperCase(), given))
  }
  return IMPLEMENTATIONS[name]({
    keys,
    argv,
    now: call.now,
    call: (line, command, ...args) => {
      try {
        return dispatchArgs(command, args)
      } catch (error) {
        if (!(error instanceof ResponseError)) throw error
        throw fail(`${error.message}${where(line)}`)
      }
    },
    pcall: (command, ...args) => {
      try {
        return dispatchArgs(command, args)
      } catch (error) {
        if (error instanceof ResponseError) return error
        throw error
      }
    },
    luaError: (line, message) => fail(`ERR user_script:${line}: ${message}${where(line)}`),
  })
}

/** EVAL, EVALSHA and SCRIPT, over `dispatch` for the commands a script runs. */
export function scriptCommands(dispatch: Dispatch): CommandTable {
  return {
    EVALSHA: {
      arity: -3,
      write: true,
      run: (call) => runScript(call, arg(call, 0).toLowerCase(), dispatch),
    },
    EVAL: {
      arity: -3,
      write: true,
      run: (call) => {
        const sha = sha1(arg(call, 0))
        if (!BY_SHA.has(sha)) {
          throw fail(
            "ERR the memory:// backend runs only cachex's own scripts (it has no Lua interpreter): this script is not one of them",
          )
        }
        return runScript(call, sha, dispatch)
      },
    },
    SCRIPT: {
      arity: -2,
      run: (call) => {
        const sub = arg(call, 0).toUpperCase()
        if (sub === 'LOAD' && call.args.length === 2) {
          const sha = sha1(arg(call, 1))
          if (!BY_SHA.has(sha)) {
            throw fail(
              "ERR the memory:// backend runs only cachex's own scripts (it has no Lua interpreter)",
            )
          }
          return sha
        }
        if (sub === 'EXISTS')
          return call.args.slice(1).map((sha) => (BY_SHA.has(sha.toLowerCase()) ? 1 : 0))
        if (sub === 'FLUSH') return new Status('OK')
        throw fail(`ERR unknown subcommand '${arg(call, 0)}'. Try SCRIPT HELP.`)
      },
    },
  }
}
