// Proxies that can be read (a reactive store's options: get/set traps forwarding to the target)
// are read as plain options are, whatever they wrap: a class's getter, what an object inherits,
// an option its `get` answers without a key. Only a Proxy whose reading throws is refused
// (options-hostile.test.ts).
import { createCache, InvalidArgumentError } from '@cachex/redis'
import { type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

const PASSWORD = 'proxy-read-pw'
let server: RedisServer
let location: string

beforeAll(async () => {
  server = await startRedis({ args: ['--requirepass', PASSWORD] })
  location = `redis://127.0.0.1:${new URL(server.url).port}`
})

afterAll(async () => {
  await server?.stop()
})

/** A reactive store's kind of Proxy: get and set forwarded to the target. */
function reactive<T extends object>(target: T): T {
  return new Proxy(target, {
    get: (t, key, receiver) => Reflect.get(t, key, receiver),
    set: (t, key, value, receiver) => Reflect.set(t, key, value, receiver),
  })
}

class Settings {
  get password(): string {
    return PASSWORD
  }
}

for (const [kind, options] of [
  [
    'clientOptions a Proxy of a class with a password getter',
    () => ({ location, clientOptions: reactive(new Settings()) }),
  ],
  [
    'clientOptions a Proxy of an object inheriting its password',
    () => ({ location, clientOptions: reactive(Object.create({ password: PASSWORD })) }),
  ],
  [
    'the options a Proxy, clientOptions a class instance',
    () => reactive({ location, clientOptions: new Settings() }),
  ],
] as const) {
  it(`${kind}: the password is given`, async () => {
    const cache = createCache({ ...options(), keyPrefix: uniquePrefix() } as never)
    try {
      await cache.set('k', 1)
      expect(await cache.get('k')).toBe(1)
    } finally {
      await cache.close()
    }
  })
}

it('local a Proxy whose get answers an option it has no key for: the option is read', () => {
  const local = new Proxy({}, { get: (_t, key) => (key === 'maxEntries' ? 'many' : undefined) })
  expect(() => createCache({ location, local } as never)).toThrow(InvalidArgumentError)
  expect(() => createCache({ location, local } as never)).toThrow(/maxEntries/)
})

it('an error of building that no Proxy threw is not put on a readable Proxy among the options', () => {
  // A getter of the caller's that throws: its own error, as it is, though a reactive Proxy
  // holds the client options.
  const options = { location, clientOptions: reactive({ name: 'app' }) }
  Object.defineProperty(options, 'keyPrefix', {
    enumerable: true,
    get() {
      throw new RangeError('the getter of the caller')
    },
  })
  expect(() => createCache(options as never)).toThrow(RangeError)
  expect(() => createCache(options as never)).toThrow('the getter of the caller')
})
