// cachex's Lua scripts, run natively: no Lua interpreter, no code from the caller. Each script is
// known by the SHA1 of its source (`EVALSHA sha`, or `EVAL source` hashed on arrival); any other
// script is refused (`NOSCRIPT` for `EVALSHA`, an error for `EVAL`). Each implementation does
// what its Lua does, step by step, through the same command handlers, in one synchronous run: as
// atomic in this process as a script on a server.
import { createHash } from 'node:crypto'
import { ResponseError } from '@cachex/core'
import { arg, type Call, type CommandTable } from './_command.ts'
import { fail, formatDouble, integer, type Reply, resp2, Status } from './_reply.ts'
import { type ScriptName, SOURCES } from './_script-sources.ts'

/** Like `Redis`, but an error comes back as a reply (`redis.pcall`). */
type PRedis = (name: string, ...args: string[]) => Reply

interface ScriptCall {
  keys: string[]
  argv: string[]
  call: (line: number, name: string, ...args: string[]) => Reply
  pcall: PRedis
  now: number
}

const TWO_52 = 4503599627370496
const SAFE = 9007199254740991

function exists(s: ScriptCall, line: number, key: string): boolean {
  return s.call(line, 'EXISTS', key) !== 0
}

/** A Lua string-or-nil reply read as a string (`false` when nil). */
function str(reply: Reply): string | null {
  return typeof reply === 'string' ? reply : null
}

function expireWithLastHolder(s: ScriptCall, key: string, line: number): void {
  const last = s.call(line, 'ZRANGE', key, '-1', '-1', 'WITHSCORES') as string[]
  const score = last[1]
  if (score === 'inf') s.call(line + 2, 'PERSIST', key)
  else if (score !== undefined) s.call(line + 4, 'PEXPIREAT', key, (Number(score) + 1).toFixed(0))
}

const IMPLEMENTATIONS: Record<ScriptName, (s: ScriptCall) => Reply> = {
  INCR: (s) => {
    const key = s.keys[0] ?? ''
    if (!exists(s, 1, key)) return null
    const n = s.call(4, 'INCRBY', key, s.argv[0] ?? '') as number
    if (n >= TWO_52 || n <= -TWO_52) return s.call(6, 'GET', key)
    return n
  },
  INCR_NUMBER: (s) => {
    const key = s.keys[0] ?? ''
    const old = str(s.call(1, 'GET', key))
    if (old === null) return null
    const n = s.call(5, 'INCRBY', key, s.argv[0] ?? '') as number
    if (n > SAFE || n < -SAFE) {
      s.call(7, 'SET', key, old, 'KEEPTTL')
      return 0
    }
    return s.call(10, 'GET', key)
  },
  SET_MANY: (s) => {
    const px = s.argv[0] ?? ''
    s.keys.forEach((key, i) => {
      const value = s.argv[i + 1] ?? ''
      if (px === '') s.call(4, 'SET', key, value)
      else s.call(6, 'SET', key, value, 'PX', px)
    })
    return s.keys.length
  },
  INCR_MANY: (s) => {
    const key = s.keys[0] ?? ''
    if (!exists(s, 1, key)) return null
    return s.argv.map((delta) => {
      const n = s.pcall('INCRBY', key, delta)
      if (n instanceof ResponseError) return n
      if ((n as number) >= TWO_52 || (n as number) <= -TWO_52) return s.call(10, 'GET', key)
      return n
    })
  },
  STAMPEDE_RELEASE: (s) => {
    const key = s.keys[0] ?? ''
    if (str(s.call(1, 'GET', key)) === s.argv[0]) return s.call(1, 'DEL', key)
    return 0
  },
  STAMPEDE_EXTEND: (s) => {
    const key = s.keys[0] ?? ''
    if (str(s.call(1, 'GET', key)) === s.argv[0]) return s.call(1, 'PEXPIRE', key, s.argv[1] ?? '')
    return 0
  },
  LOCK_RELEASE: (s) => {
    const key = s.keys[0] ?? ''
    const token = str(s.call(1, 'get', key))
    if (token === null) return -1
    if (token !== s.argv[0]) return 0
    s.call(8, 'del', key)
    return 1
  },
  LOCK_ACQUIRE: (s) => {
    const [key = '', fenceKey = ''] = s.keys
    const [token = '', ms = ''] = s.argv
    const set =
      ms === '' ? s.call(3, 'set', key, token, 'NX') : s.call(5, 'set', key, token, 'NX', 'PX', ms)
    if (set === null) return 0
    const fence = s.pcall('incr', fenceKey)
    if (typeof fence !== 'number' || fence > SAFE) {
      s.call(12, 'del', key)
      throw fail(
        `ERR the fencing counter ${fenceKey} does not hold an integer below 2^53: delete it, or set it above the last token handed out`,
      )
    }
    return fence
  },
  LOCK_EXTEND: (s) => {
    const key = s.keys[0] ?? ''
    const token = str(s.call(1, 'get', key))
    if (token === null || token !== s.argv[0]) return 0
    const expiration = s.call(5, 'pttl', key) as number
    if (expiration < 0) return 0
    let newTtl = s.argv[1] ?? ''
    if (s.argv[2] === '0') newTtl = luaNumber(Number(newTtl) + expiration)
    s.call(16, 'pexpire', key, newTtl)
    return 1
  },
  LOCK_REACQUIRE: (s) => {
    const key = s.keys[0] ?? ''
    if (str(s.call(1, 'get', key)) !== s.argv[0]) return 0
    s.call(4, 'pexpire', key, s.argv[1] ?? '')
    return 1
  },
  SEMAPHORE_ACQUIRE: (s) => {
    const key = s.keys[0] ?? ''
    const [member = '', weight = '', limitText = '', ttl = ''] = s.argv
    const now = s.now
    s.call(6, 'zremrangebyscore', key, '-inf', now.toFixed(0))
    let used = Number(weight)
    const limit = Number(limitText)
    if (used > limit) return 0
    const holders = s.call(12, 'zrange', key, '0', '-1') as string[]
    for (const holder of holders) {
      const match = /^(\d+):/.exec(holder)
      if (match === null) {
        throw fail(`ERR ${key} holds a sorted set that is not a cachex semaphore`)
      }
      used += Number(match[1])
      if (used > limit) return 0
    }
    const expiry = ttl === '' ? '+inf' : (now + Number(ttl)).toFixed(0)
    s.call(28, 'zadd', key, expiry, member)
    expireWithLastHolder(s, key, 29)
    return 1
  },
  SEMAPHORE_RELEASE: (s) => {
    const key = s.keys[0] ?? ''
    const removed = s.call(1, 'zrem', key, s.argv[0] ?? '') as number
    if (removed === 1) expireWithLastHolder(s, key, 3)
    return removed
  },
}

/** A number as Lua 5.1 turns it into a string (`%.14g`). */
function luaNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e15) return String(n)
  return formatDouble(n)
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
  return IMPLEMENTATIONS[name]({
    keys,
    argv,
    now: call.now,
    call: (line, command, ...args) => {
      try {
        return resp2(dispatch(command.toUpperCase(), args))
      } catch (error) {
        if (!(error instanceof ResponseError)) throw error
        throw fail(`${error.message} script: ${sha}, on @user_script:${line}.`)
      }
    },
    pcall: (command, ...args) => {
      try {
        return resp2(dispatch(command.toUpperCase(), args))
      } catch (error) {
        if (error instanceof ResponseError) return error
        throw error
      }
    },
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
