// README ("What the cache does"): an argument a method does not take is refused with
// `InvalidArgumentError`, never ignored (Python raises TypeError). A trailing `{ nx: true }` after
// set's options was dropped, and the value overwritten. Every public method of a Cache, and every
// method of a pipeline, is called here with one argument more than its declared TypeScript
// signature takes (read from the source by the compiler): each refuses it, naming that count,
// and sends nothing. A parameter added without raising the method's count fails here.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Connection, ConnectionFactory } from '@cachex/core'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Cache, createCache, InvalidArgumentError, memory, standalone } from '../src/index.ts'

/** What a method's declared signatures take: the most arguments, and whether it is async. */
interface Declared {
  /** The most parameters of its overloads; `Infinity` with a rest parameter. */
  most: number
  /** Whether it returns a promise (refuses by rejecting) rather than throwing at once. */
  promise: boolean
}

const core = join(dirname(fileURLToPath(import.meta.url)), '../../core')

/** The public methods of `Cache` as packages/core/src/cache.ts declares them, by name. */
function declaredMethods(): Map<string, Declared> {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(core, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
      },
    },
  )
  if (parsed === undefined) throw new Error('cannot read packages/core/tsconfig.json')
  const file = join(core, 'src/cache.ts')
  const program = ts.createProgram([file], parsed.options)
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  let declaration: ts.ClassDeclaration | undefined
  source?.forEachChild((node) => {
    if (ts.isClassDeclaration(node) && node.name?.text === 'Cache') declaration = node
  })
  const symbol = declaration?.name && checker.getSymbolAtLocation(declaration.name)
  if (symbol === undefined) throw new Error('no class Cache in packages/core/src/cache.ts')
  const methods = new Map<string, Declared>()
  for (const property of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol))) {
    const name = property.getName()
    // `#close`, and `[Symbol.asyncDispose]` (which `await using` calls, with no argument).
    if (name.startsWith('#') || name.startsWith('__@')) continue
    const signatures = checker.getTypeOfSymbol(property).getCallSignatures()
    if (signatures.length === 0) continue
    let most = 0
    let promise = false
    for (const signature of signatures) {
      const parameters = signature.getParameters()
      const last = parameters.at(-1)?.valueDeclaration
      const rest = last !== undefined && ts.isParameter(last) && last.dotDotDotToken !== undefined
      most = Math.max(most, rest ? Number.POSITIVE_INFINITY : parameters.length)
      promise ||= checker.getReturnTypeOfSignature(signature).getSymbol()?.getName() === 'Promise'
    }
    methods.set(name, { most, promise })
  }
  return methods
}

/** What a method taking at most `most` arguments says when given `given`. */
function refusal(method: string, most: number, given: number): string {
  const takes =
    most === 0 ? 'takes no arguments' : `takes at most ${most} argument${most === 1 ? '' : 's'}`
  return `${method}() ${takes}, got ${given}`
}

/**
 * One argument more than `most`: a key first (what most methods take first), `undefined` for
 * the others, and a last one past the signature. A method that ignored it would run (or refuse
 * its key for another reason), and say nothing of its count.
 */
function tooMany(most: number): unknown[] {
  const args: unknown[] = new Array(most + 1).fill(undefined)
  if (most > 0) args[0] = 'arity:k'
  args[most] = { nx: true }
  return args
}

/** `inner`, recording every call the cache makes of it (but `close`) in `sent`. */
function recording(inner: Connection, sent: string[]): Connection {
  return new Proxy(inner, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name, target)
      if (typeof value !== 'function') return value
      if (name === 'close') return value.bind(target)
      return (...args: unknown[]) => {
        sent.push(`${String(name)} ${JSON.stringify(args[0])}`)
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
}

/**
 * Methods that take any number of arguments though their signature names none: `close`, as
 * Django's `close(**kwargs)`, since it is handed as a callback that passes one (a signal
 * handler's), and a refusal would leave the cache open.
 */
const ANY_COUNT = new Set(['close'])

let server: RedisServer
let declared: Map<string, Declared>

beforeAll(async () => {
  declared = declaredMethods()
  server = await startRedis()
})

afterAll(async () => {
  await server?.stop()
})

describe('the methods checked', () => {
  it('are every method of Cache, each with a count from its declared signature', () => {
    const methods = Object.getOwnPropertyNames(Cache.prototype).filter((name) => {
      const descriptor = Object.getOwnPropertyDescriptor(Cache.prototype, name)
      return name !== 'constructor' && typeof descriptor?.value === 'function'
    })
    expect(methods.length).toBeGreaterThan(100)
    expect([...declared.keys()].sort()).toEqual(methods.sort())
    // The overloads of set and getOrSet, read as one count each.
    expect(declared.get('set')).toEqual({ most: 4, promise: true })
    expect(declared.get('getOrSet')).toEqual({ most: 4, promise: true })
    expect(declared.get('makeKey')).toEqual({ most: 2, promise: false })
    expect(declared.get('hdel')?.most).toBe(Number.POSITIVE_INFINITY)
  })
})

const backends: Array<[string, () => string, (options: object) => Connection]> = [
  ['memory://', () => 'memory://arity', (options) => memory(options)],
  ['redis', () => server.url, (options) => standalone(options)],
]

describe.each(backends)('on %s', (_, location, connect) => {
  /** A cache whose connection records what it is sent, and a key `arity:k` it holds. */
  async function openCache(sent: string[]): Promise<Cache> {
    const factory: ConnectionFactory = (options) => recording(connect(options), sent)
    const cache = createCache({
      location: location(),
      keyPrefix: 'arity',
      connectionFactory: factory,
    })
    await cache.set('arity:k', 'kept', null)
    sent.length = 0
    return cache
  }

  it('every method refuses one argument more than it takes, and sends nothing', async () => {
    const sent: string[] = []
    const cache = await openCache(sent)
    const methods = cache as unknown as Record<string, (...args: unknown[]) => unknown>
    const wrong: string[] = []
    try {
      // close() last: one that closed the cache would fail every call after it.
      const names = [...declared.keys()].sort(
        (a, b) => Number(a === 'close') - Number(b === 'close'),
      )
      for (const name of names) {
        const { most, promise } = declared.get(name) as Declared
        if (most === Number.POSITIVE_INFINITY || ANY_COUNT.has(name)) continue
        const expected = refusal(name, most, most + 1)
        let error: unknown
        try {
          const result = methods[name]?.(...tooMany(most))
          if (!promise) {
            wrong.push(`${name}: returned ${String(result)} instead of throwing`)
            continue
          }
          error = await Promise.resolve(result).then(
            (value) => new Error(`resolved ${String(value)}`),
            (rejection: unknown) => rejection,
          )
        } catch (thrown) {
          if (promise) wrong.push(`${name}: threw at once instead of rejecting`)
          error = thrown
        }
        if (!(error instanceof InvalidArgumentError) || error.message !== expected) {
          wrong.push(
            `${name}: ${error instanceof Error ? `${error.name}: ${error.message}` : error}`,
          )
        }
      }
      expect(wrong).toEqual([])
      expect(sent).toEqual([])
      expect(await cache.get('arity:k')).toBe('kept')
      expect(await cache.ttl('arity:k')).toBeNull()
    } finally {
      await cache.close()
    }
  })

  it('every pipeline and transaction method refuses it too, in its slot', async () => {
    const sent: string[] = []
    const cache = await openCache(sent)
    const wrong: string[] = []
    try {
      const queueing = Object.getOwnPropertyNames(Object.getPrototypeOf(cache.pipeline())).filter(
        (name) =>
          !['constructor', 'queue', 'refuse', 'exec', 'transaction', 'length', 'cache'].includes(
            name,
          ),
      )
      expect(queueing.length).toBeGreaterThan(80)
      for (const name of queueing) {
        const most = declared.get(name)?.most
        if (most === undefined) {
          wrong.push(`${name}: a pipeline method that is no method of Cache`)
          continue
        }
        if (most === Number.POSITIVE_INFINITY) continue
        const expected = refusal(name, most, most + 1)
        for (const pipe of [cache.pipeline(), cache.transaction()]) {
          const queue = pipe as unknown as Record<string, (...args: unknown[]) => unknown>
          let error: unknown
          try {
            queue[name]?.(...tooMany(most))
            const [result]: unknown[] = await pipe.exec()
            error = pipe.transaction ? new Error(`resolved ${String(result)}`) : result
          } catch (thrown) {
            error = pipe.transaction ? thrown : new Error(`threw ${String(thrown)}`)
          }
          if (!(error instanceof InvalidArgumentError) || error.message !== expected) {
            const what = error instanceof Error ? `${error.name}: ${error.message}` : error
            wrong.push(`${pipe.transaction ? 'transaction' : 'pipeline'}.${name}: ${what}`)
          }
        }
      }
      expect(wrong).toEqual([])
      expect(sent).toEqual([])
      expect(await cache.get('arity:k')).toBe('kept')
    } finally {
      await cache.close()
    }
  })

  it('a refused call is reported as every failure is: error and operation events', async () => {
    const cache = await openCache([])
    const loose = cache as unknown as Record<string, (...args: unknown[]) => unknown>
    const errors: string[] = []
    const operations: string[] = []
    cache.on('error', ({ operation, error }) => errors.push(`${operation}: ${error.message}`))
    cache.on('operation', ({ operation, error }) => {
      operations.push(`${operation}: ${error instanceof Error ? error.message : 'ok'}`)
    })
    try {
      // get times itself, set and expire are timed by a wrapper, makeKey is not timed.
      await expect(loose.get?.('k', null, {}, 'extra')).rejects.toThrow(InvalidArgumentError)
      await expect(loose.set?.('k', 1, 60, {}, 'extra')).rejects.toThrow(InvalidArgumentError)
      await expect(loose.expire?.('k', 60, {}, 'extra')).rejects.toThrow(InvalidArgumentError)
      expect(() => loose.makeKey?.('k', 1, 'extra')).toThrow(InvalidArgumentError)
      expect(errors).toEqual([
        'get: get() takes at most 3 arguments, got 4',
        'set: set() takes at most 4 arguments, got 5',
        'expire: expire() takes at most 3 arguments, got 4',
        'makeKey: makeKey() takes at most 2 arguments, got 3',
      ])
      expect(operations).toEqual([
        'get: get() takes at most 3 arguments, got 4',
        'set: set() takes at most 4 arguments, got 5',
        'expire: expire() takes at most 3 arguments, got 4',
      ])
    } finally {
      await cache.close()
    }
  })

  it('set(key, value, 60, { version }, { nx: true }) is refused: nx is not dropped', async () => {
    const sent: string[] = []
    const cache = await openCache(sent)
    const loose = cache as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>
    try {
      await cache.set('k', 'first', 60, { version: 2 })
      await expect(loose.set?.('k', 'second', 60, { version: 2 }, { nx: true })).rejects.toThrow(
        new InvalidArgumentError('set() takes at most 4 arguments, got 5'),
      )
      expect(await cache.get('k', null, { version: 2 })).toBe('first')
      // A promise handed to a refused getOrSet is the call's: its rejection is not left unhandled.
      const failing = Promise.reject(new Error('never awaited by the caller'))
      await expect(loose.getOrSet?.('g', failing, 60, {}, 'extra')).rejects.toThrow(
        'getOrSet() takes at most 4 arguments, got 5',
      )
      expect(await cache.hasKey('g')).toBe(false)
    } finally {
      await cache.clear()
      await cache.close()
    }
  })
})

describe('close()', () => {
  it('takes any arguments, as a signal handler or a then() callback passes one', async () => {
    const cache = createCache({ location: 'memory://arity-close' })
    await cache.set('k', 1)
    const close = cache.close.bind(cache) as (...args: unknown[]) => Promise<void>
    await close('SIGTERM')
    await expect(cache.get('k')).rejects.toThrow(/closed/)
  })
})
