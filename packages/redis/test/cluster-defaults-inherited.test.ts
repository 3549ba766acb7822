// clusterOptions.defaults gives each node's client its options: a password it inherits (from a
// defaults object it was made from, or a class's getter) was checked, then dropped, and every node
// was asked without it (NOAUTH). Read as every other options object is: its own properties and
// those inherited from an object of the caller's, but for its class's methods; through a reactive
// store's Proxy too. And `clientOptions` merged with `defaults` the same way: a spread of it lost
// a class's password getter. Nothing from Object.prototype (a password another library put there
// was read once defaults were merged), a chain of prototypes that comes back on itself ends, and a
// getter of the caller's class that throws is no option, where an own one is named.
import vm from 'node:vm'
import { createCache, InvalidArgumentError } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

const PASSWORD = 'defaults-inherited-pw'
let cluster: TestCluster

beforeAll(async () => {
  cluster = await startCluster({ password: PASSWORD, replicasPerPrimary: 0 })
}, 120_000)

afterAll(async () => {
  await cluster?.stop()
})

/** Seeds without the password: the defaults give it. */
function seeds(): string[] {
  return cluster.nodes.map((node) => `redis://127.0.0.1:${node.port}`)
}

class NodeDefaults {
  get password(): string {
    return PASSWORD
  }
}

/** A class whose method is named as a node-redis option (`name`: CLIENT SETNAME's). */
class WithMethods {
  password = PASSWORD
  name(): string {
    return 'not an option'
  }
}

/** A reactive store's Proxy (Vue's, MobX's): reads and writes pass through to `target`. */
function reactive<T extends object>(target: T): T {
  return new Proxy(target, {
    get: (t, key, receiver) => Reflect.get(t, key, receiver),
    set: (t, key, value, receiver) => Reflect.set(t, key, value, receiver),
  })
}

/** Writes 30 keys across the slots and reads them back through `cache`, then closes it. */
async function roundTrip(cache: ReturnType<typeof createCache>): Promise<void> {
  try {
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`)
    await cache.setMany(Object.fromEntries(keys.map((k) => [k, k])))
    const found = await cache.getMany(keys)
    expect(found.size).toBe(30)
    expect(found.get('k7')).toBe('k7')
  } finally {
    await cache.close()
  }
}

for (const [kind, defaults] of [
  ['an object made from a defaults object', () => Object.create({ password: PASSWORD })],
  ["a class's getter", () => new NodeDefaults()],
  // Its methods are no options: node-redis sent `name()` as the name to CLIENT SETNAME.
  ['a class instance with methods', () => new WithMethods()],
  ["a reactive Proxy of a class's getter", () => reactive(new NodeDefaults())],
  [
    'a reactive Proxy of an object made from a defaults object',
    () => reactive(Object.create({ password: PASSWORD })),
  ],
  [
    'an own password that is not enumerable',
    () => Object.defineProperty({}, 'password', { value: PASSWORD }),
  ],
] as const) {
  it(`clusterOptions.defaults gives its inherited password to every node (${kind})`, async () => {
    await roundTrip(
      createCache({
        client: 'cluster',
        location: seeds(),
        keyPrefix: uniquePrefix(),
        clusterOptions: { defaults: defaults() },
      }),
    )
  })
}

for (const [kind, clientOptions] of [
  ["a class's getter", () => new NodeDefaults()],
  ["a reactive Proxy of a class's getter", () => reactive(new NodeDefaults())],
  ['an object made from a defaults object', () => Object.create({ password: PASSWORD })],
] as const) {
  it(`clientOptions gives its password to every node beside other defaults (${kind})`, async () => {
    await roundTrip(
      createCache({
        client: 'cluster',
        location: seeds(),
        keyPrefix: uniquePrefix(),
        clientOptions: clientOptions(),
        clusterOptions: { defaults: { name: 'cachex-defaults-test' } },
      }),
    )
  })
}

it("a password put on Object.prototype is no one's when defaults are merged in", async () => {
  const proto = Object.prototype as { password?: string }
  proto.password = PASSWORD
  try {
    const cache = createCache({
      client: 'cluster',
      location: seeds(),
      keyPrefix: uniquePrefix(),
      clusterOptions: { defaults: { name: 'cachex-defaults-test' } },
    })
    try {
      // Every node asks for a password no option gave: NOAUTH, not a login with the polluted one.
      await expect(cache.set('k', 'v')).rejects.toThrow(/NOAUTH|auth/i)
    } finally {
      await cache.close()
    }
  } finally {
    delete proto.password
  }
})

it('defaults whose chain of prototypes comes back on itself (a Proxy) are read once each', () => {
  const defaults: object = new Proxy({ password: PASSWORD }, { getPrototypeOf: () => defaults })
  // In a context with a time limit: a loop that never ends is stopped there, and fails the test.
  const built = vm.runInNewContext(
    'build()',
    {
      build: () => {
        const cache = createCache({
          client: 'cluster',
          location: seeds(),
          keyPrefix: uniquePrefix(),
          clusterOptions: { defaults },
        })
        void cache.close()
        return true
      },
    },
    { timeout: 10_000 },
  )
  expect(built).toBe(true)
})

it("a getter of clientOptions' class that throws is no option; an own one in defaults is named", async () => {
  class Settings {
    password = PASSWORD
    get connectionString(): string {
      throw new Error('not configured')
    }
  }
  await roundTrip(
    createCache({
      client: 'cluster',
      location: seeds(),
      keyPrefix: uniquePrefix(),
      clientOptions: new Settings() as never,
      clusterOptions: { defaults: { name: 'cachex-defaults-test' } },
    }),
  )
  const defaults = {
    password: PASSWORD,
    get name(): string {
      throw new Error(`secret ${PASSWORD}`)
    },
  }
  let thrown: unknown
  try {
    const cache = createCache({
      client: 'cluster',
      location: seeds(),
      keyPrefix: uniquePrefix(),
      clusterOptions: { defaults },
    })
    await cache.close()
  } catch (error) {
    thrown = error
  }
  expect(thrown).toBeInstanceOf(InvalidArgumentError)
  expect(String((thrown as Error).message)).toContain('clusterOptions.defaults.name')
  expect(String((thrown as Error).message)).not.toContain(PASSWORD)
})
