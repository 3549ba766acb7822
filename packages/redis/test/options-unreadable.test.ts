// Per-call options whose reading throws (a revoked Proxy, a Proxy whose trap throws, a getter that
// throws) are refused with `InvalidArgumentError`, which `ignoreExceptions` never hides: the error
// became a `ConnectionError`, so an ignoring cache answered the method's fallback without a word.
// The message quotes nothing the caller's code said (its error is the cause).
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

function trapping(): object {
  const fail = () => {
    throw new Error('TRAP-SECRET')
  }
  return new Proxy({}, { ownKeys: fail, get: fail, getPrototypeOf: fail, has: fail })
}

function throwingGetter(): object {
  return {
    get version(): number {
      throw new Error('TRAP-SECRET')
    },
  }
}

describe.each(BACKENDS)('options that cannot be read, on %s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache
  let quiet: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    const keyPrefix = uniquePrefix('unreadable')
    cache = createCache({ location: server.url, keyPrefix })
    quiet = createCache({ location: server.url, keyPrefix, ignoreExceptions: true })
  })

  afterAll(async () => {
    await cache?.close()
    await quiet?.close()
    await server?.stop()
  })

  it.each([
    ['a revoked Proxy', revoked],
    ['a Proxy whose traps throw', trapping],
    ['a getter that throws', throwingGetter],
  ])('%s is refused, also under ignoreExceptions, quoting nothing', async (_, make) => {
    await cache.set('k', 1)
    for (const target of [cache, quiet]) {
      for (const call of [
        () => target.ttl('k', make() as never),
        () => target.set('k', 2, make() as never),
        () => target.get('k', undefined, make() as never),
        () => target.delete('k', make() as never),
        () => target.incr('k', 1, make() as never),
      ]) {
        const error = await call().catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(/could not be read: reading it threw/)
        expect((error as Error).message).not.toContain('TRAP-SECRET')
      }
    }
    expect(await cache.get('k')).toBe(1)
  })
})
