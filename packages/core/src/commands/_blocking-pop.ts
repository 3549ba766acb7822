// The blocking pops of a `Cache`'s lists (`blpop`, `brpop`; `./lists.ts`), and the timeout
// check they share with `blmove`.
import { checkOptions, VERSION_ONLY } from '../_args.ts'
import { contextOf } from '../_context.ts'
import { keyList } from '../_many-args.ts'
import { reading } from '../_own.ts'
import { toArray, toText } from '../_replies.ts'
import { checkTimeoutMs, describe } from '../_timeout.ts'
import type { VersionOption } from '../cache-options.ts'
import { InvalidArgumentError } from '../errors.ts'
import { decodeRemoved } from './_removed.ts'

/** `blpop` / `brpop`: `[user key, value]` of the list that had one, or `null` after `timeout`. */
export async function blockingPop(
  cache: object,
  command: 'BLPOP' | 'BRPOP',
  keys: string | readonly string[],
  timeout: number,
  options: VersionOption | undefined,
): Promise<[string, unknown] | null> {
  const method = command.toLowerCase()
  const names = typeof keys === 'string' ? [keys] : (keyList(keys ?? [], method) as string[])
  const [first, ...rest] = reading(`the keys given to ${method}()`, () => [...names])
  if (first === undefined) throw new InvalidArgumentError(`${method}() needs at least one key`)
  const seconds = blockSeconds(timeout, method)
  const context = contextOf(cache)
  checkOptions(options, method, VERSION_ONLY)
  const others = rest.map((name) => context.key(name, options))
  let rkeys: string[] = []
  return context.run<[string, unknown] | null>(first, options, {
    method,
    access: 'write',
    build: (rkey) => {
      rkeys = [rkey, ...others]
      return [command, ...rkeys, String(seconds)]
    },
    convert: (reply) => {
      if (reply === null || reply === undefined) return null
      const [from, value] = toArray(reply)
      // The user's key of the list that answered (matched by its Redis key).
      const at = rkeys.indexOf(toText(from))
      const key = names[at === -1 ? 0 : at] as string
      return [key, decodeRemoved(context, [value], key, method)[0]]
    },
    // Removed from Redis before it is decoded: a value that cannot be read is given back as the
    // stored bytes (`decodeRemoved`), which text may not hold.
    bytes: true,
    fallback: null,
    blockMs: Math.ceil(seconds * 1000),
  })
}

/**
 * A blocking command's timeout: positive seconds, at most `maxTimeoutMs()` from now; `0`
 * (forever) is refused.
 */
export function blockSeconds(timeout: unknown, method: string): number {
  if (timeout === 0) {
    throw new InvalidArgumentError(
      `${method}(): a timeout of 0 (wait forever) is refused, since a call that may never end cannot be bounded; give a number of seconds and call again when it resolves null`,
    )
  }
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0) {
    throw new InvalidArgumentError(
      `${method}(): timeout must be a positive number of seconds, got ${describe(timeout)}`,
    )
  }
  // Redis adds the milliseconds to its clock in a signed 64-bit integer: past 2^63 − 1 it answers
  // `timeout is negative`, and just under it the sum wraps and the call may block forever. Bounded
  // here as every timeout is (`maxTimeoutMs`), so neither can happen.
  checkTimeoutMs(Math.ceil(timeout * 1000), `${method}(): timeout`, `${timeout} seconds`)
  return timeout
}
