// How the options of `new Cache()` become settings of its context (_context.ts), where that
// takes more than a check: the defaults, the codec, and the lock and semaphore factories, handed
// the cache's close signal.
import { checkItersize, describeArgument } from './_args.ts'
import { checkSeconds } from './_timeout.ts'
import type { CacheOptions } from './cache-options.ts'
import { Codec } from './codec.ts'
import { InvalidArgumentError } from './errors.ts'
import { jsonSerializer } from './json.ts'
import type { Connection } from './types.ts'

const DEFAULT_TIMEOUT = 300
const DEFAULT_ITERSIZE = 1000

/** The cache's default timeout in seconds (`timeout`, 300 when not given); `null` never expires. */
export function defaultTimeoutOf(timeout: CacheOptions['timeout']): number | null {
  return timeout === undefined
    ? DEFAULT_TIMEOUT
    : timeout === null
      ? null
      : checkSeconds(timeout, 'timeout')
}

/** The cache's codec: its serializers (JSON when none is given), compressors and value bound. */
export function codecOf(options: CacheOptions): Codec {
  const serializers = toList(options.serializer)
  const compressors = toList(options.compressor ?? undefined)
  return new Codec(serializers.length > 0 ? serializers : [jsonSerializer()], compressors, {
    maxValueSize: options.maxValueSize,
  })
}

/** Keys per `SCAN` (`scanItersize`, 1000 when not given). */
export function itersizeOf(itersize: CacheOptions['scanItersize']): number {
  return checkItersize(itersize ?? DEFAULT_ITERSIZE, 'scanItersize')
}

function toList<T>(value: T | readonly T[] | undefined): readonly T[] {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? (value as readonly T[]) : [value as T]
}

/**
 * `factory` (a `LockFactory` or `SemaphoreFactory`, the option `name`), handing what it makes
 * `signal` as the `signal` option next to the caller's, which `@cachex/lock` reads; `undefined`
 * or `null` stays `undefined`. Anything else but a function is refused with
 * `InvalidArgumentError` here, not at every `lock()` with a `TypeError`.
 */
export function withSignal<O extends object, R>(
  factory: ((connection: Connection, name: string, options: O) => R) | undefined,
  signal: AbortSignal,
  name: string,
): ((connection: Connection, name: string, options: O) => R) | undefined {
  if (factory === undefined || factory === null) return undefined
  if (typeof factory !== 'function') {
    throw new InvalidArgumentError(`${name} must be a function, got ${describeArgument(factory)}`)
  }
  return (connection, name, options) => {
    const signalled: O & { signal: AbortSignal } = { ...options, signal }
    return factory(connection, name, signalled)
  }
}
