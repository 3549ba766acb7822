// The blocking list commands (BLPOP, BRPOP, BLMOVE) of `./lists.ts`: run by the connection
// through `LIST_BLOCKING`, which tries once and, when nothing is there, waits for a write to one
// of the keys; in MULTI they run once, as their non-blocking forms (`nonBlocking`).
import { arg, type BlockingCommand, type Call, type CommandSpec } from './_command.ts'
import { move, side, take } from './_list.ts'
import { ceilTimes1000, parseLongDouble } from './_long-double.ts'
import { fail, type Reply } from './_reply.ts'

const LLONG_MAX = 2n ** 63n - 1n

/**
 * A blocking command's timeout (its last argument for BLPOP/BRPOP, BLMOVE's 5th), in
 * milliseconds, `0` for no bound, as Redis 7.0's `getTimeoutFromObjectOrReply` reads it: seconds
 * as a long double (`string2ld`), `ceill(seconds * 1000)` cast to a signed 64-bit integer. Past
 * 2^63 − 1 (an infinity included) the cast gives the lowest integer, hence `timeout is
 * negative`; a timeout whose deadline (now + ms) overflows wraps around in Redis, where it then
 * never fires: here too, it waits with no bound.
 */
function blockingTimeout(name: string, args: readonly string[], now: number): number {
  const text = name === 'BLMOVE' ? args[4] : args[args.length - 1]
  const seconds = text === undefined ? undefined : parseLongDouble(text)
  if (seconds === undefined) throw fail('ERR timeout is not a float or out of range')
  const ms = ceilTimes1000(seconds)
  if (ms === undefined || ms > LLONG_MAX || ms < 0n) throw fail('ERR timeout is negative')
  if (ms > LLONG_MAX - BigInt(now)) return 0
  return Number(ms)
}

/** The keys a blocking command waits on. */
function blockingKeys(name: string, args: readonly string[]): string[] {
  return name === 'BLMOVE' ? [args[0] ?? ''] : args.slice(0, -1)
}

/**
 * One try of a blocking command, as its non-blocking form: the reply when there was data,
 * `undefined` to wait.
 */
function tryBlocking(name: string, call: Call): Reply | undefined {
  if (name === 'BLMOVE') {
    const from = side(arg(call, 2))
    const to = side(arg(call, 3))
    const value = move(call.store, arg(call, 0), arg(call, 1), from, to, call.now)
    return value ?? undefined
  }
  for (const key of blockingKeys(name, call.args)) {
    const [value] = take(call.store, key, name === 'BLPOP', 1, call.now) ?? []
    if (value !== undefined) return [key, value]
  }
  return undefined
}

/** BLPOP, BRPOP, BLMOVE as their non-blocking forms (in MULTI): the value or nil, at once. */
export function nonBlocking(name: string, arity: number): CommandSpec {
  return {
    arity,
    write: true,
    run: (call) => {
      blockingTimeout(name, call.args, call.now)
      return tryBlocking(name, call) ?? null
    },
  }
}

/**
 * A blocked call served from `key`, a key it waits on that was written, as Redis's
 * `serveClientBlockedOnList`: only a list there serves it (a key renamed from a string leaves
 * it waiting); a BLMOVE whose destination holds another type gets `WRONGTYPE`, the element left
 * where it was.
 */
function serveBlocked(name: string, call: Call, key: string): Reply | undefined {
  if (call.store.get(key, call.now)?.kind !== 'list') return undefined
  if (name === 'BLMOVE') {
    const value = move(
      call.store,
      key,
      arg(call, 1),
      side(arg(call, 2)),
      side(arg(call, 3)),
      call.now,
    )
    return value ?? undefined
  }
  const [value] = take(call.store, key, name === 'BLPOP', 1, call.now) ?? []
  return value === undefined ? undefined : [key, value]
}

function blocking(name: string): BlockingCommand {
  return {
    wait(call, script) {
      if (script) throw fail('ERR This Redis command is not allowed from script')
      const ms = blockingTimeout(name, call.args, call.now)
      return {
        keys: blockingKeys(name, call.args),
        ms,
        takes: 'list',
        attempt: (next, key) =>
          key === undefined ? tryBlocking(name, next) : serveBlocked(name, next, key),
      }
    },
  }
}

/** The blocking list commands: they wait for a push to one of their keys. */
export const LIST_BLOCKING: Record<string, BlockingCommand> = {
  BLPOP: blocking('BLPOP'),
  BRPOP: blocking('BRPOP'),
  BLMOVE: blocking('BLMOVE'),
}
