// docs/configuration.md "Registry-wide defaults": "Everything is checked before anything is
// configured: a refused configuration leaves the previous one as it was." Values createCache()
// refuses were refused only at the alias's first caches.get() (inside a request), and a refused
// alias next to good ones replaced the previous configuration. configureCaches() now checks each
// alias as caches.get() will build it, without connecting.
import { caches, configureCaches, createCache, InvalidArgumentError } from '@cachex/redis'
import { delay, redisCall, standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

let server: { url: string; stop(): Promise<void> }

beforeAll(async () => {
  server = await standaloneServer()
})

afterEach(async () => {
  await caches.close()
})

afterAll(async () => {
  await server?.stop()
})

/** The connections the server has accepted so far (the INFO call's own included). */
async function connectionsReceived(): Promise<number> {
  const info = String(await redisCall(server.url, ['INFO', 'stats']))
  const match = /total_connections_received:(\d+)/.exec(info)
  if (match === null) throw new Error(`no total_connections_received in ${info}`)
  return Number(match[1])
}

describe('configureCaches checks every alias before configuring', () => {
  it('refuses an alias whose timeout is out of range, keeping the previous configuration', () => {
    configureCaches({ default: { location: 'memory://reg-eager', keyPrefix: 'one' } })
    expect(() =>
      configureCaches({
        default: { location: 'memory://reg-eager', keyPrefix: 'two' },
        reports: { location: 'memory://reg-eager', keyPrefix: 'rep', timeout: 1e16 },
      }),
    ).toThrow(/^configureCaches\(\): the alias 'reports': timeout of 10000000000000000 seconds/)
    expect(caches.aliases()).toEqual(['default'])
    expect(caches.get('default').makeKey('k')).toBe('one:1:k')
  })

  const refusedByCreateCache: [string, Record<string, unknown>, RegExp][] = [
    [
      'a URL query parameter cachex does not read',
      { location: 'redis://127.0.0.1:6379/0?ssl=true' },
      /unknown query parameter 'ssl'/,
    ],
    ['port 0', { location: 'redis://127.0.0.1:0/0' }, /port 0/],
    ['an invalid percent escape in the host', { location: 'redis://%zz/0' }, /percent-encoding/],
    ['a bad replica URL', { location: ['redis://127.0.0.1:6379/0', 'redis://h:0/0'] }, /port 0/],
    ['timeout of 1e16 s', { timeout: 1e16 }, /timeout of 10000000000000000 seconds/],
    ['timeout NaN', { timeout: Number.NaN }, /timeout must be a finite number/],
    [
      'coalesceReads as the string "false"',
      { location: 'memory://', coalesceReads: 'false' },
      /coalesceReads must be a boolean/,
    ],
    ['socketTimeout 0', { socketTimeout: 0 }, /socketTimeout must be a positive/],
    ['socketConnectTimeout 0', { socketConnectTimeout: 0 }, /socketConnectTimeout must be/],
    [
      'a serializer factory, uncalled',
      { serializer: (() => ({})) as unknown },
      /a factory\? Call it/,
    ],
    ['pickleVersion 6', { serializer: 'pickle', pickleVersion: 6 }, /pickleVersion must be/],
    ["keyPrefix '__cachex'", { location: 'memory://', keyPrefix: '__cachex' }, /__cachex/],
    ['a local tier on memory://', { location: 'memory://', local: {} }, /local:/],
    [
      'memoryOptions.sweepInterval of 30 days',
      { location: 'memory://', memoryOptions: { sweepInterval: 30 * 86_400_000 } },
      /sweepInterval/,
    ],
    [
      'a sentinel cache without sentinels',
      { client: 'sentinel', location: 'redis://mymaster/0' },
      /sentinel/i,
    ],
  ]
  for (const [name, options, message] of refusedByCreateCache) {
    it(`refuses ${name} at configureCaches(), not at the first caches.get()`, () => {
      let thrown: unknown
      try {
        configureCaches({ x: options as never })
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(InvalidArgumentError)
      expect((thrown as Error).message).toMatch(/^configureCaches\(\): the alias 'x'/)
      expect((thrown as Error).message).toMatch(message)
      expect(caches.aliases()).not.toContain('x')
    })
  }

  it('checks each alias merged with the globals, as caches.get() builds it', () => {
    // The globals' scanItersize, checked by the cache (not by the name/kind checks of globals).
    expect(() =>
      configureCaches({ a: { location: 'memory://' } }, { scanItersize: -1 as never }),
    ).toThrow(/^configureCaches\(\): the alias 'a': .*scanItersize/)
    // An alias's own value set to undefined leaves the global in force, here as in caches.get().
    expect(() =>
      configureCaches(
        { a: { location: 'memory://', connectionFactory: undefined } },
        { connectionFactory: 'nope' as never },
      ),
    ).toThrow(/^configureCaches\(\): the alias 'a': .*connectionFactory/)
  })

  it('connects to nothing, and the caches it configures work', async () => {
    const prefix = uniquePrefix('reg-eager')
    const before = await connectionsReceived()
    configureCaches({
      default: { location: server.url, keyPrefix: prefix, local: {} },
      pooled: { location: server.url, keyPrefix: `${prefix}p`, connectionPool: {} },
      replicas: { location: [server.url, server.url], keyPrefix: `${prefix}r` },
    })
    await delay(300)
    // Only the INFO call's own connection.
    expect((await connectionsReceived()) - before).toBe(1)
    await caches.get('default').set('k', 'v')
    expect(await caches.get('default').get('k')).toBe('v')
    expect(await caches.get('pooled').get('k')).toBeNull()
  })

  it('leaves a connection of the user to the first caches.get(), calling nothing of theirs', () => {
    let made = 0
    configureCaches({
      own: {
        connectionFactory: () => {
          made++
          throw new InvalidArgumentError('made at the first caches.get()')
        },
      },
    })
    expect(made).toBe(0)
    expect(() => caches.get('own')).toThrow('made at the first caches.get()')
    expect(made).toBe(1)
  })
})

// A location that is neither a string, a list nor a node-redis object was taken for the user's
// own connection, left to the first caches.get(), which then threw inside a request.
describe('configureCaches refuses a location of the wrong kind, as createCache does', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['a URL object', { location: new URL('redis://127.0.0.1:1/0') }],
    ['a port number', { location: 6379 }],
    ['a plain object', { location: { host: '127.0.0.1', port: 6379 } }],
    ['a plain object with client sentinel', { client: 'sentinel', location: {} }],
  ]
  for (const [name, options] of cases) {
    it(`location: ${name}`, () => {
      expect(() => createCache(options as never)).toThrow(InvalidArgumentError)
      configureCaches({ default: { location: 'memory://reg-eager-kind', keyPrefix: 'one' } })
      let thrown: unknown
      try {
        configureCaches({
          default: { location: 'memory://reg-eager-kind', keyPrefix: 'two' },
          x: options as never,
        })
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(InvalidArgumentError)
      expect(String((thrown as Error)?.message)).toMatch(/^configureCaches\(\): the alias 'x'/)
      expect(caches.aliases()).toEqual(['default'])
      expect(caches.get('default').makeKey('k')).toBe('one:1:k')
    })
  }
})
