// lockFactory, semaphoreFactory, clientOptions and connectionPool were checked by name only:
// `lockFactory: 5` failed every acquireLock() with a bare TypeError, and `clientOptions: 5` or
// `connectionPool: 'x'` were silently ignored. Both createCache() and configureCaches() now
// refuse them up front, naming the option. Nothing connects (the URL's port is closed).
import { memory } from '@cachex/connections'
import { Cache, caches, configureCaches, createCache, InvalidArgumentError } from '@cachex/redis'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(async () => {
  await caches.close()
})

const U = 'redis://127.0.0.1:1/0'
const SENTINEL = {
  client: 'sentinel',
  location: 'redis://mymaster/0',
  sentinels: [['127.0.0.1', 1]],
}
const CASES: Array<[string, Record<string, unknown>, RegExp]> = [
  ['lockFactory: 5', { location: U, lockFactory: 5 }, /lockFactory must be a function/],
  [
    'semaphoreFactory: "x"',
    { location: U, semaphoreFactory: 'x' },
    /semaphoreFactory must be a function/,
  ],
  ['clientOptions: 5', { location: U, clientOptions: 5 }, /clientOptions must be an object/],
  ['connectionPool: "x"', { location: U, connectionPool: 'x' }, /connectionPool must be an object/],
  ['connectionPool: []', { location: U, connectionPool: [] }, /connectionPool must be an object/],
  // Objects that hold no options in their keys: a boxed string would be read as options 0, 1…,
  // a Map's entries lost.
  [
    "clientOptions: new String('x')",
    { location: U, clientOptions: new String('x') },
    /clientOptions must be an object of node-redis options, got a String object/,
  ],
  [
    "clientOptions: new Map([['database', 2]])",
    { location: U, clientOptions: new Map([['database', 2]]) },
    /clientOptions must be an object of node-redis options, got a Map/,
  ],
  [
    'connectionPool: new Date()',
    { location: U, connectionPool: new Date() },
    /connectionPool must be an object of node-redis options, got a Date/,
  ],
  // An object where a number goes is named by what it is: its own Symbol.toStringTag may say
  // anything (a secret), or throw.
  [
    'maxValueSize: an object whose Symbol.toStringTag is text of its own',
    { location: U, maxValueSize: { [Symbol.toStringTag]: 'S3cr3tXyZ' } },
    /maxValueSize must be a positive integer \(bytes\) or null, got an object$/,
  ],
  [
    'maxValueSize: an object whose Symbol.toStringTag throws',
    {
      location: U,
      maxValueSize: {
        get [Symbol.toStringTag]() {
          throw new Error('boom')
        },
      },
    },
    /maxValueSize must be a positive integer \(bytes\) or null, got an object$/,
  ],
  [
    'maxValueSize: a Proxy whose getPrototypeOf trap throws',
    {
      location: U,
      maxValueSize: new Proxy(
        {},
        {
          getPrototypeOf() {
            throw new Error('trap')
          },
        },
      ),
    },
    /maxValueSize must be a positive integer \(bytes\) or null, got an object$/,
  ],
  [
    'client: a null-prototype object',
    { location: U, client: Object.create(null) },
    /unknown client an object: use default/,
  ],
  // The topologies' own option objects: a Map's password was lost, a boxed string spread.
  [
    "clusterOptions: new Map([['nodeAddressMap', {}]])",
    { client: 'cluster', location: [U], clusterOptions: new Map([['nodeAddressMap', {}]]) },
    /clusterOptions takes an object of node-redis cluster options, got a Map/,
  ],
  [
    "clusterOptions.defaults: new Map([['password', 'pw']])",
    {
      client: 'cluster',
      location: [U],
      clusterOptions: { defaults: new Map([['password', 'pw']]) },
    },
    /clusterOptions.defaults takes an object of node-redis client options, got a Map/,
  ],
  [
    "sentinelOptions: new Map([['password', 'pw']])",
    { ...SENTINEL, sentinelOptions: new Map([['password', 'pw']]) },
    /sentinelOptions takes an object \(\{ password, waitForPrimary, … \}\), got a Map/,
  ],
  [
    "sentinelOptions.clientOptions: new String('tls')",
    { ...SENTINEL, sentinelOptions: { clientOptions: new String('tls') } },
    /sentinelOptions.clientOptions takes an object of node-redis client options, got a String object/,
  ],
  [
    'sentinelOptions.clientOptions: a function',
    { ...SENTINEL, sentinelOptions: { clientOptions: () => ({}) } },
    /sentinelOptions.clientOptions takes an object of node-redis client options, got a function/,
  ],
]

describe('an option value of the wrong kind is refused up front', () => {
  for (const [name, options, message] of CASES) {
    it(`createCache refuses ${name}`, () => {
      expect(() => createCache(options as never)).toThrow(InvalidArgumentError)
      expect(() => createCache(options as never)).toThrow(message)
    })
    it(`configureCaches refuses ${name}`, () => {
      expect(() => configureCaches({ x: options as never })).toThrow(InvalidArgumentError)
      expect(() => configureCaches({ x: options as never })).toThrow(
        /^configureCaches\(\): the alias 'x': /,
      )
    })
  }

  it('takes them of the right kind, and unset or undefined', async () => {
    const cache = createCache({
      location: U,
      lockFactory: undefined,
      semaphoreFactory: undefined,
      clientOptions: {},
      connectionPool: undefined,
    })
    await cache.close()
    // null is unset for the topologies' option objects too (as a JSON config writes it).
    for (const options of [
      { client: 'cluster', location: [U], clusterOptions: null },
      { ...SENTINEL, sentinelOptions: { clientOptions: null } },
    ]) {
      await createCache(options as never).close()
    }
  })

  it('a Cache built directly (from @cachex/core) refuses a lockFactory or semaphoreFactory that is not a function', async () => {
    const connection = memory({ location: 'memory://' })
    for (const name of ['lockFactory', 'semaphoreFactory']) {
      expect(() => new Cache({ connection, [name]: 5 } as never)).toThrow(InvalidArgumentError)
      expect(() => new Cache({ connection, [name]: 5 } as never)).toThrow(
        new RegExp(`^${name} must be a function`),
      )
    }
    await connection.close()
  })
})
