// An app whose Object.prototype another library polluted (prototype pollution, or an old polyfill
// that adds enumerable methods by assignment): cachex reads its callers' options from their own
// properties only, and stores a plain object's own properties only, as JSON.stringify does. Each
// scenario pollutes in a child process of its own (see _options-own-properties-child.ts), never in
// the test worker, which runs the sources through _strip-types.mjs: tsx's own helper breaks under
// a polluted `get`. They used to store nothing (an inherited `nx`), use another key namespace (an
// inherited `keyPrefix` / `version`), expire every default write and lock after 1 s (an inherited
// `timeout`), refuse every options object and plain object (an enumerable method), and refuse to
// build a cache at all (an inherited `get`, read by property descriptors).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import vm from 'node:vm'
import { createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const child = fileURLToPath(new URL('./_options-own-properties-child.ts', import.meta.url))
const stripTypes = fileURLToPath(new URL('./_strip-types.mjs', import.meta.url))
let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
})
afterAll(async () => {
  await server?.stop()
})

/** The outcomes of `scenario` run in a child process against `location`. */
async function run(location: string, scenario: string): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--conditions=@cachex/source', '--import', stripTypes, child, location, scenario],
    // Generous, for a busy machine: it only proves the child ends.
    { cwd: fileURLToPath(new URL('.', import.meta.url)), timeout: 60_000 },
  )
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>
}

const memory = () => 'memory://own-properties'

describe.each([
  ['redis-server', () => server.url],
  ['memory://', memory],
])('a polluted Object.prototype, on %s', (_name, location) => {
  it('set(key, value, { timeout }) ignores an inherited nx, xx and version', async () => {
    expect(await run(location(), 'setOptions')).toEqual({
      'nx.set': true,
      'nx.get': 'b',
      'xx.set': true,
      'xx.get': 'x',
      'version.set': true,
      'version.ttl': expect.any(Number),
      'version.key': 1,
    })
  })

  it('createCache() ignores every inherited cache option', async () => {
    expect(await run(location(), 'cacheOptions')).toEqual({
      makeKey: 'own-cache:1:k',
      set: true,
      ttl: 300,
      get: 'x'.repeat(100),
      readByDefaults: 'x'.repeat(100),
    })
  })

  it('an enumerable Object.prototype property does not make options objects refused', async () => {
    expect(await run(location(), 'optionNames')).toEqual({
      set: true,
      ttl: expect.any(Number),
      getMany: { k: 1 },
      lock: true,
    })
  })

  it('plain objects store as their own properties, whatever Object.prototype holds', async () => {
    const out = await run(location(), 'values')
    for (const serializer of ['json', 'msgpack', 'pickle']) {
      expect(out[`${serializer}.set`], serializer).toBe(true)
      expect(out[`${serializer}.get`], serializer).toBe('{"a":1,"b":{"c":[1]}}')
      expect(out[`${serializer}.setMany`], serializer).toEqual([])
      expect(out[`${serializer}.getMany`], serializer).toBe('{"m":{"a":2},"n":[3]}')
    }
  })

  it('an inherited get or set does not break createCache() or the errors it throws', async () => {
    expect(await run(location(), 'descriptors')).toEqual({
      create: 1,
      error: expect.stringMatching(
        /^InvalidArgumentError: set\(\) does not take the option 'bogus'/,
      ),
    })
  })
})

// On memory:// only: under an inherited `timeout` Node's own sockets fail ('timeout' events).
describe('a polluted Object.prototype.timeout, on memory://', () => {
  it('changes neither the default expiry nor a lock without timeout', async () => {
    expect(await run(memory(), 'timeout')).toEqual({
      set: true,
      ttl: 300,
      gos: 1,
      gosTtl: 300,
      got: true,
      semaphoreGot: true,
      secondGot: false,
      secondSemaphoreGot: false,
    })
  })
})

describe('options inherited from an object of the caller', () => {
  it('createCache() reads a defaults object it was made from, and a class getter', async () => {
    const defaults = { keyPrefix: 'from-defaults', version: 3 }
    const inherited = createCache(
      Object.assign(Object.create(defaults) as object, { location: 'memory://inherited' }),
    )
    expect(inherited.makeKey('k')).toBe('from-defaults:3:k')
    class Settings {
      location = 'memory://inherited'
      get keyPrefix(): string {
        return 'from-class'
      }
    }
    const fromClass = createCache(new Settings())
    expect(fromClass.makeKey('k')).toBe('from-class:1:k')
    await inherited.close()
    await fromClass.close()
  })
})

describe('setMany of a Proxy', () => {
  it('writes its own entries only, whatever its getPrototypeOf answers', async () => {
    const cache = createCache({ location: server.url, keyPrefix: 'proxy-entries' })
    // Answers Object.prototype while cachex looks (for…in would then be trusted), then a
    // prototype with an entry of its own, as `for…in` asks next.
    let asked = 0
    const entries = new Proxy({ a: 1 } as Record<string, unknown>, {
      getPrototypeOf: () => (++asked <= 3 ? Object.prototype : { inherited: 'x' }),
    })
    expect(await cache.setMany(entries)).toEqual([])
    expect(await cache.keys('*')).toEqual(['a'])
    expect(await cache.get('a')).toBe(1)
    await cache.close()
  })
})

describe('options objects of another realm (vm, as Jest makes them)', () => {
  it('createCache() reads one, on memory://', async () => {
    const options = vm.runInNewContext(
      `({ location: 'memory://vm-realm', keyPrefix: 'vm', version: 2, timeout: 60 })`,
    )
    const cache = createCache(options)
    expect(cache.makeKey('k')).toBe('vm:2:k')
    expect(await cache.set('k', 1)).toBe(true)
    expect(await cache.ttl('k')).toBeGreaterThan(50)
    expect(await cache.set('p', 1, vm.runInNewContext('({ timeout: 30 })'))).toBe(true)
    expect(await cache.ttl('p')).toBeLessThanOrEqual(30)
    await cache.close()
  })
})
