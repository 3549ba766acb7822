// node-redis options in `clientOptions` that cachex's own clients must not trip over: its own
// client-side cache beside the local tier's tracking clients, and a database that the URL would
// silently override.
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import type { RedisServer } from '@cachex/test-utils'
import { startCluster, startRedis, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from './local-tier-coherence/helpers.ts'

let server: RedisServer
let cluster: TestCluster
const opened: Cache[] = []

beforeAll(async () => {
  ;[server, cluster] = await Promise.all([
    startRedis(),
    startCluster({ primaries: 3, replicasPerPrimary: 0 }),
  ])
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await Promise.all([server?.stop(), cluster?.stop()])
})

function open(options: Parameters<typeof createCache>[0]): Cache {
  const cache = createCache(options)
  opened.push(cache)
  return cache
}

describe("clientOptions.clientSideCache (node-redis's own) beside the local tier", () => {
  const clientSideCache = { ttl: 0, maxEntries: 100 }

  it('one server: reads work, and the tier tracks', async () => {
    const cache = open({
      location: server.url,
      keyPrefix: uniquePrefix('csc'),
      clientOptions: { RESP: 3, clientSideCache },
      local: {},
    })
    await cache.set('k', 'v')
    expect(await cache.get('k')).toBe('v')
    expect(await cache.getMany(['k', 'missing'])).toEqual(new Map([['k', 'v']]))
    expect(await cache.getOrSet('g', () => 1)).toBe(1)
    // The tracking connection opens on the tier's first use, in the background: under load it
    // may not be up yet. Once it is, the tier serves a read from memory.
    await eventually(() => cache.localStats()?.tracking === true, 20_000)
    expect(await cache.get('k')).toBe('v')
    const hits = cache.localStats()?.hits ?? 0
    expect(await cache.get('k')).toBe('v')
    expect(cache.localStats()?.hits).toBe(hits + 1)
  })

  it('a cluster: reads work', async () => {
    const cache = open({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('csc'),
      clientOptions: { RESP: 3, clientSideCache },
      local: {},
    })
    await cache.set('k', 'v')
    expect(await cache.get('k')).toBe('v')
    expect(await cache.get('k')).toBe('v')
  })
})

describe('clientOptions.database', () => {
  it('other than the URL names (or 0 when it names none) is refused, not overridden', () => {
    expect(() => createCache({ location: server.url, clientOptions: { database: 7 } })).toThrow(
      /clientOptions.database \(7\) is not the database of .* \(0, as the URL names none\): name the database in the URL/,
    )
    expect(() =>
      createCache({ location: `${server.url}/2`, clientOptions: { database: 7 } }),
    ).toThrow(InvalidArgumentError)
    // A value that is no database number is not quoted: it may be a password in the wrong place.
    const wrong = () =>
      createCache({ location: server.url, clientOptions: { database: 'Qz9-s3cret' as never } })
    expect(wrong).toThrow(/clientOptions.database \(a string\) is not the database of/)
    expect(wrong).not.toThrow(/s3cret/)
    expect(() =>
      createCache({
        client: 'cluster',
        location: [...cluster.seeds],
        clientOptions: { database: 1 },
      }),
    ).toThrow(/Redis Cluster has only database 0, got clientOptions.database 1/)
    expect(() =>
      createCache({
        client: 'cluster',
        location: [...cluster.seeds],
        clusterOptions: { defaults: { database: 1 } },
      }),
    ).toThrow(/Redis Cluster has only database 0, got clusterOptions.defaults.database 1/)
  })

  it('the same as the URL is taken', async () => {
    const cache = open({ location: `${server.url}/7`, clientOptions: { database: 7 } })
    await cache.set('in7', 1)
    expect(await cache.get('in7')).toBe(1)
  })
})

describe('a socket option that is no object', () => {
  it('is refused, on every topology, not spread as options 0, 1, 2…', () => {
    for (const socket of ['abc', 5, ['x']]) {
      const kind = Array.isArray(socket) ? 'an array' : `a ${typeof socket}`
      expect(() =>
        createCache({ location: server.url, clientOptions: { socket } } as never),
      ).toThrow(
        new RegExp(
          `clientOptions.socket takes an object of node-redis socket options, got ${kind}`,
        ),
      )
      expect(() =>
        createCache({
          client: 'cluster',
          location: [...cluster.seeds],
          clusterOptions: { defaults: { socket } },
        } as never),
      ).toThrow(
        new RegExp(
          `clusterOptions.defaults.socket takes an object of node-redis socket options, got ${kind}`,
        ),
      )
    }
  })

  it('nor is an object that holds no options in keys: a boxed string, a Map, a Date', async () => {
    // new String('tls') was spread as options '0', '1', '2'; a Map's entries are no keys, so
    // new Map([['tls', true]]) lost its tls without a word.
    const refused: Array<[unknown, string]> = [
      [new String('tls'), 'a String object'],
      [new Map([['tls', true]]), 'a Map'],
      [new Date(), 'a Date'],
      [new Number(5), 'a Number object'],
    ]
    const sentinel = {
      client: 'sentinel',
      location: 'redis://mymaster/0',
      sentinels: [['127.0.0.1', 1]],
    }
    for (const [socket, kind] of refused) {
      const topologies: Array<[string, object]> = [
        ['clientOptions', { location: server.url, clientOptions: { socket } }],
        ['clientOptions', { location: [server.url, server.url], clientOptions: { socket } }],
        [
          'clientOptions',
          { client: 'cluster', location: [...cluster.seeds], clientOptions: { socket } },
        ],
        [
          'clusterOptions.defaults',
          {
            client: 'cluster',
            location: [...cluster.seeds],
            clusterOptions: { defaults: { socket } },
          },
        ],
        ['clientOptions', { ...sentinel, clientOptions: { socket } }],
        ['sentinelOptions', { ...sentinel, sentinelOptions: { socket } }],
        [
          'sentinelOptions.clientOptions',
          { ...sentinel, sentinelOptions: { clientOptions: { socket } } },
        ],
      ]
      for (const [name, options] of topologies) {
        let error: unknown
        try {
          open(options as never)
        } catch (e) {
          error = e
        }
        expect(error, `${name} ${kind}`).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toBe(
          `${name}.socket takes an object of node-redis socket options, got ${kind}`,
        )
      }
    }
    // An object without a prototype, or of a class of one's own, holds its options in keys.
    const bare = Object.assign(Object.create(null) as object, { keepAlive: true })
    class SocketOptions {
      noDelay = true
    }
    for (const socket of [bare, new SocketOptions()]) {
      const cache = open({
        location: server.url,
        keyPrefix: uniquePrefix('sock'),
        clientOptions: { socket },
      })
      await cache.set('k', 'v')
      expect(await cache.get('k')).toBe('v')
    }
  })
})

describe('clientOptions that name a server', () => {
  // node-redis's `url` (and `socket.host`, `port`, `path`) would replace the server `location`
  // names: the cache would read and write elsewhere while every message names `location`.
  const naming: Array<[string, Record<string, unknown>]> = [
    ['clientOptions.url', { url: 'redis://127.0.0.1:1/5' }],
    ['clientOptions.socket.host', { socket: { host: '127.0.0.1' } }],
    ['clientOptions.socket.port', { socket: { port: 1 } }],
    ['clientOptions.socket.path', { socket: { path: '/tmp/elsewhere.sock' } }],
  ]

  for (const [name, clientOptions] of naming) {
    it(`${name} is refused on every topology, naming it`, () => {
      const topologies: Array<[string, Parameters<typeof createCache>[0]]> = [
        ['standalone', { location: server.url, clientOptions }],
        ['replica', { location: [server.url, server.url], clientOptions }],
        ['cluster', { client: 'cluster', location: [...cluster.seeds], clientOptions }],
        [
          'sentinel',
          {
            client: 'sentinel',
            location: 'redis://mymaster/0',
            sentinels: [['127.0.0.1', 1]],
            clientOptions,
          },
        ],
        [
          'sentinel (its own clients)',
          {
            client: 'sentinel',
            location: 'redis://mymaster/0',
            sentinels: [['127.0.0.1', 1]],
            sentinelOptions: { clientOptions },
          },
        ],
      ]
      for (const [topology, options] of topologies) {
        let error: unknown
        try {
          open(options)
        } catch (e) {
          error = e
        }
        expect(error, topology).toBeInstanceOf(InvalidArgumentError)
        expect(String(error), topology).toContain(name.replace('clientOptions.', ''))
        expect(String(error), topology).toContain('location')
      }
    })
  }

  it('sentinelOptions.socket.host is refused', () => {
    expect(() =>
      createCache({
        client: 'sentinel',
        location: 'redis://mymaster/0',
        sentinels: [['127.0.0.1', 1]],
        sentinelOptions: { socket: { host: '127.0.0.1' } },
      }),
    ).toThrow(/sentinelOptions\.socket\.host/)
  })

  it('other socket options are taken', async () => {
    const cache = open({
      location: `${server.url}/4`,
      keyPrefix: uniquePrefix('sock'),
      clientOptions: { socket: { keepAlive: true, noDelay: true }, name: 'cachex-test' },
    })
    await cache.set('k', 'v')
    expect(await cache.get('k')).toBe('v')
    const onCluster = open({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('sock'),
      clientOptions: { socket: { keepAlive: true } },
    })
    await onCluster.set('k', 'v')
    expect(await onCluster.get('k')).toBe('v')
  })
})
