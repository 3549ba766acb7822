// How many arguments each public method of a `Cache` takes. A call with more is refused with
// `InvalidArgumentError`, as Python refuses one with a `TypeError`: an argument past the last one
// would otherwise be dropped without a word, and with it what it asked for (a second options
// object's `nx`, after set's `{ version }`, overwrote the value). Most methods get the check from
// a wrapper put on the prototype (`limitArguments`); the hot ones check `arguments.length` in
// their own body, which costs nothing, and a pipeline's entries check their own (`_pipeline.ts`).
// arity.test.ts compares every count here with the method's declared TypeScript signature.
import { type CacheContext, contextOf } from './_context.ts'
import { emitOperation } from './_timing.ts'
import { InvalidArgumentError } from './errors.ts'

/** A method with a rest parameter (`hdel(key, ...fields)`): any number of arguments. */
const ANY = Number.POSITIVE_INFINITY

/**
 * The most arguments each public method of a `Cache` takes: the parameters of its longest
 * overload, `ANY` with a rest parameter. A method added to the class without a count here makes
 * `limitArguments` throw when the module loads.
 */
export const MOST_ARGUMENTS: Readonly<Record<string, number>> = {
  // the class's own
  makeKey: 2,
  makePattern: 2,
  localStats: 0,
  pipeline: 0,
  transaction: 0,
  on: 2,
  off: 2,
  // Any number, as Django's `close(**kwargs)`: it is handed as a callback (a signal handler's,
  // `.then(cache.close.bind(cache))`) that passes an argument, and a refusal would leave the
  // cache open and the process running.
  close: ANY,
  // the standard API
  get: 3,
  set: 4,
  add: 4,
  delete: 2,
  getMany: 2,
  setMany: 3,
  deleteMany: 2,
  clear: 0,
  hasKey: 2,
  incr: 3,
  decr: 3,
  touch: 3,
  getOrSet: 4,
  incrVersion: 3,
  decrVersion: 3,
  // keys
  ttl: 2,
  pttl: 2,
  expire: 3,
  pexpire: 3,
  expireAt: 3,
  pexpireAt: 3,
  persist: 2,
  lock: 2,
  acquireLock: 2,
  keys: 2,
  iterKeys: 2,
  deletePattern: 2,
  type: 2,
  rename: 3,
  renamenx: 3,
  info: 1,
  slowlogGet: 1,
  slowlogLen: 0,
  slowlogReset: 0,
  clearAllVersions: 1,
  // hashes
  hset: 4,
  hdel: ANY,
  hexists: 3,
  hget: 3,
  hgetall: 2,
  hincrby: 4,
  hincrbyfloat: 4,
  hlen: 2,
  hmget: ANY,
  hmset: 3,
  hsetnx: 4,
  hvals: 2,
  hkeys: 2,
  hscan: 2,
  // sorted sets
  zadd: 3,
  zcard: 2,
  zcount: 4,
  zincrby: 4,
  zrange: 4,
  zrevrange: 4,
  zrangebyscore: 4,
  zrevrangebyscore: 4,
  zrank: 3,
  zrevrank: 3,
  zrem: ANY,
  zremrangebyrank: 4,
  zscore: 3,
  zmscore: ANY,
  zpopmin: 3,
  zpopmax: 3,
  zscan: 2,
  // lists
  llen: 2,
  lpush: ANY,
  rpush: ANY,
  lpop: 3,
  rpop: 3,
  lindex: 3,
  lrange: 4,
  lset: 4,
  ltrim: 4,
  lpos: 3,
  lmove: 5,
  linsert: 5,
  lrem: 4,
  blpop: 3,
  brpop: 3,
  blmove: 6,
  // sets
  sadd: ANY,
  srem: ANY,
  smembers: 2,
  sismember: 3,
  smismember: ANY,
  scard: 2,
  spop: 3,
  srandmember: 3,
  smove: 4,
  sdiff: ANY,
  sinter: ANY,
  sunion: ANY,
  sdiffstore: ANY,
  sinterstore: ANY,
  sunionstore: ANY,
  sscan: 2,
  // streams
  xadd: 3,
  xlen: 2,
  xrange: 4,
  xrevrange: 4,
  xread: 2,
  xtrim: 2,
  xdel: ANY,
  xinfoStream: 2,
  xgroupCreate: 3,
  xgroupDestroy: 3,
  xreadgroup: 4,
  xack: ANY,
  xpending: 3,
  xclaim: 6,
  xautoclaim: 5,
  // semaphores
  semaphore: 2,
  acquirePermit: 2,
}

/**
 * The hot methods, which check `arguments.length` in their own body (against their count above):
 * a wrapper would cost each call a rest array and an `apply`.
 */
const CHECKED_IN_BODY: ReadonlySet<string> = new Set([
  'get',
  'set',
  'add',
  'delete',
  'getMany',
  'setMany',
  'deleteMany',
  'hasKey',
  'incr',
  'getOrSet',
  'ttl',
  'hget',
])

/**
 * The methods that return no promise, and so throw at once, as they throw their other argument
 * errors: the synchronous helpers, the factories and the iterations (`iterKeys`, the scans).
 */
const THROWING: ReadonlySet<string> = new Set([
  'makeKey',
  'makePattern',
  'localStats',
  'pipeline',
  'transaction',
  'on',
  'off',
  'lock',
  'semaphore',
  'iterKeys',
  'hscan',
  'sscan',
  'zscan',
])

/**
 * The error of a call of `method`, which takes at most `most` arguments, with `given`; reported
 * as an `error` event of `cache` (when it is one), as every refused argument is.
 */
export function tooManyArguments(
  cache: unknown,
  method: string,
  most: number,
  given: number,
): InvalidArgumentError {
  const takes =
    most === 0 ? 'takes no arguments' : `takes at most ${most} argument${most === 1 ? '' : 's'}`
  const error = new InvalidArgumentError(`${method}() ${takes}, got ${given}`)
  // A method called on no cache (detached from it) has no listeners to tell.
  const context = typeof cache === 'object' && cache !== null ? contextOf(cache) : undefined
  context?.events.thrown(method, error)
  return error
}

type Method = (this: unknown, ...args: unknown[]) => unknown

/**
 * Puts on `prototype` (the class's, once its families are attached) a wrapper around each method
 * that neither has a rest parameter nor checks its count itself, refusing a call with more
 * arguments than its count: by throwing, or, for a method that returns a promise, by a rejected
 * one, as its other argument errors come.
 */
export function limitArguments(prototype: object): void {
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name)
    if (name === 'constructor' || typeof descriptor?.value !== 'function') continue
    const most = MOST_ARGUMENTS[name]
    if (most === undefined) {
      throw new Error(`cachex: no argument count for the method ${name}() in _arity.ts`)
    }
    if (most === ANY || CHECKED_IN_BODY.has(name)) continue
    const method = descriptor.value as Method
    const throwing = THROWING.has(name)
    const limited = function (this: unknown): unknown {
      // biome-ignore lint/complexity/noArguments: counted, with no array made per call
      const given = arguments.length
      if (given > most) {
        const error = tooManyArguments(this, name, most, given)
        if (throwing) throw error
        return Promise.reject(error)
      }
      // biome-ignore lint/complexity/noArguments: passed on whole, with no array made per call
      return method.apply(this, arguments as unknown as unknown[])
    }
    Object.defineProperty(limited, 'name', { __proto__: null, value: name } as PropertyDescriptor)
    Object.defineProperty(prototype, name, {
      __proto__: null,
      ...descriptor,
      value: limited,
    } as PropertyDescriptor)
  }
}

/**
 * `get` called with `given` arguments, more than its three: refused. No wrapper times `get` (it
 * emits its own `operation` event), so the refused call's event is emitted here.
 */
export function refuseGet(cache: unknown, key: unknown, given: number): Promise<never> {
  const start = performance.now()
  const error = tooManyArguments(cache, 'get', 3, given)
  const context =
    typeof cache === 'object' && cache !== null
      ? (contextOf(cache) as CacheContext | undefined)
      : undefined
  const events = context?.events
  if (context !== undefined && events?.timing && events.depth === 0 && !context.recorder) {
    emitOperation(context, 'get', start, key, true, error)
  }
  return Promise.reject(error)
}
