// What a native script is handed (`ScriptCall`: its KEYS, ARGV and `redis.call`), and the
// increment scripts run against it: INCR, INCR_NUMBER, INCR_MANY and INCR_KEYS, each step an
// `INCRBY` whose refused value or too-large result is read back with `GET`, as their Lua does.
// scripts.ts runs them beside the others.
import { ResponseError } from '@cachex/core'
import type { Reply } from './_reply.ts'

/**
 * A script's `redis.pcall`: an error comes back as a reply. An `undefined` argument is a Lua
 * `nil` (a `KEYS[i]` or `ARGV[i]` the caller did not send), which Redis refuses.
 */
type PRedis = (name: string, ...args: Array<string | undefined>) => Reply

/** What the native implementation of a script is handed: its arguments and its `redis`. */
export interface ScriptCall {
  /** `KEYS`; reading past its end gives `undefined`, Lua's `nil`. */
  keys: string[]
  /** `ARGV`; reading past its end gives `undefined`, Lua's `nil`. */
  argv: string[]
  /** `redis.call` from line `line` of the script: an error is raised, with that line. */
  call: (line: number, name: string, ...args: Array<string | undefined>) => Reply
  pcall: PRedis
  /** The Lua runtime error `message` raised at line `line` (as Redis reports it). */
  luaError: (line: number, message: string) => ResponseError
  now: number
}

const TWO_52 = 4503599627370496
const SAFE = 9007199254740991

/** A Lua string-or-nil reply read as a string (`false` when nil). */
export function str(reply: Reply): string | null {
  return typeof reply === 'string' ? reply : null
}

function exists(s: ScriptCall, line: number, key: string | undefined): boolean {
  return s.call(line, 'EXISTS', key) !== 0
}

/** Whether `error`, of `INCRBY`, is it refusing the value (the scripts' `string.find`s). */
function refusesValue(error: ResponseError): boolean {
  return error.message.includes('not an integer') || error.message.includes('would overflow')
}

/**
 * One step of the increments: `INCRBY` as `pcall`; a value it refuses as `[bytes]` (`GET` on Lua
 * line `refusedLine`), another error as the step's reply, a result beyond ±2^52 as the stored
 * digits (`GET` on Lua line `getLine`).
 */
function incrStep(
  s: ScriptCall,
  key: string | undefined,
  delta: string | undefined,
  refusedLine: number,
  getLine: number,
): Reply {
  const n = s.pcall('INCRBY', key, delta)
  if (n instanceof ResponseError) return refusesValue(n) ? [s.call(refusedLine, 'GET', key)] : n
  if ((n as number) >= TWO_52 || (n as number) <= -TWO_52) return s.call(getLine, 'GET', key)
  return n
}

/** A step's reply that ends its key's run: the steps of that key after it answer `after`. */
function afterStep(n: Reply): Reply | undefined {
  if (n instanceof ResponseError) return n
  return Array.isArray(n) ? [] : undefined
}

/** The native implementations of the increment scripts, by script name. */
export const INCR_SCRIPTS: Record<
  'INCR' | 'INCR_NUMBER' | 'INCR_MANY' | 'INCR_KEYS',
  (s: ScriptCall) => Reply
> = {
  INCR: (s) => {
    const key = s.keys[0]
    if (!exists(s, 1, key)) return null
    const n = incrStep(s, key, s.argv[0], 6, 10)
    if (n instanceof ResponseError) throw n
    return n
  },
  INCR_NUMBER: (s) => {
    const key = s.keys[0]
    const old = str(s.call(1, 'GET', key))
    if (old === null) return null
    const n = s.pcall('INCRBY', key, s.argv[0])
    if (n instanceof ResponseError) {
      if (refusesValue(n)) return [old]
      throw n
    }
    if ((n as number) > SAFE || (n as number) < -SAFE) {
      s.call(11, 'SET', key, old, 'KEEPTTL')
      return 0
    }
    return s.call(14, 'GET', key)
  },
  INCR_MANY: (s) => {
    const key = s.keys[0]
    if (!exists(s, 1, key)) return null
    const out: Reply[] = []
    for (const delta of s.argv) {
      const n = incrStep(s, key, delta, 10, 18)
      out.push(n)
      // The steps after a failed one answer `{}` (after a refused value) or its error, unrun.
      const after = afterStep(n)
      if (after !== undefined) {
        while (out.length < s.argv.length) out.push(after)
        break
      }
    }
    return out
  },
  INCR_KEYS: (s) => {
    const all = s.call(2, 'EXISTS', ...s.keys) === s.keys.length
    const found = new Map<string, boolean>()
    const failed = new Map<string, Reply>()
    return s.keys.map((key, i) => {
      let there = all || found.get(key)
      if (there === undefined) {
        there = exists(s, 11, key)
        found.set(key, there)
      }
      if (!there) return null
      const error = failed.get(key)
      if (error !== undefined) return error
      const n = incrStep(s, key, s.argv[i], 24, 29)
      const after = afterStep(n)
      if (after !== undefined) failed.set(key, after)
      return n
    })
  },
}
