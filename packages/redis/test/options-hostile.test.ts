// Hostile option objects: a Proxy whose traps throw, or a revoked Proxy, given as the options or
// as one of the option objects cachex reads (serializer, compressor, local, clientOptions,
// clusterOptions and its defaults, sentinelOptions and its clientOptions). The trap's own error
// escaped (an Error, a TypeError) where cachex's InvalidArgumentError naming the option is due,
// and the trap's message (which may hold anything) must not be quoted. Nothing connects: the
// locations are closed ports.
import { cluster, replica, sentinel, standalone } from '@cachex/connections'
import { caches, configureCaches, createCache, InvalidArgumentError } from '@cachex/redis'
import { afterEach, describe, expect, it } from 'vitest'

afterEach(async () => {
  await caches.close()
})

const U = 'redis://127.0.0.1:1/0'
const SECRET = 'S3cr3tTrapMessage'
const SENTINEL = {
  client: 'sentinel',
  location: 'redis://mymaster/0',
  sentinels: [['127.0.0.1', 1]],
}

/** A hostile object over `target` (what it holds, for the traps that let it be read). */
type Hostile = (target: object) => object

function trap(name: keyof ProxyHandler<object>): Hostile {
  return (target) =>
    new Proxy(target, {
      [name]() {
        throw new Error(SECRET)
      },
    })
}

const HOSTILE: Array<[string, Hostile]> = [
  ['get', trap('get')],
  ['ownKeys', trap('ownKeys')],
  ['getOwnPropertyDescriptor', trap('getOwnPropertyDescriptor')],
  ['has', trap('has')],
  ['getPrototypeOf', trap('getPrototypeOf')],
  [
    'revoked',
    (target) => {
      const { proxy, revoke } = Proxy.revocable(target, {})
      revoke()
      return proxy
    },
  ],
]

/** The hostile object of `kind` (a name in HOSTILE). */
function hostileOf(kind: string): Hostile {
  const found = HOSTILE.find(([k]) => k === kind)
  if (found === undefined) throw new Error(`no hostile object '${kind}'`)
  return found[1]
}

/** What each hostile object holds: a password, and for the options themselves a location. */
function targetOf(slot: string): object {
  return slot === 'options' ? { location: U, password: 'pw' } : { password: 'pw' }
}

/** Where the hostile object goes in createCache's options, and the option's name. */
const SLOTS: Array<[string, (p: object) => unknown]> = [
  ['options', (p) => p],
  ['serializer', (p) => ({ location: U, serializer: p })],
  ['compressor', (p) => ({ location: U, compressor: p })],
  ['local', (p) => ({ location: U, local: p })],
  ['clientOptions', (p) => ({ location: U, clientOptions: p })],
  ['clusterOptions', (p) => ({ client: 'cluster', location: [U], clusterOptions: p })],
  [
    'clusterOptions.defaults',
    (p) => ({ client: 'cluster', location: [U], clusterOptions: { defaults: p } }),
  ],
  ['sentinelOptions', (p) => ({ ...SENTINEL, sentinelOptions: p })],
  [
    'sentinelOptions.clientOptions',
    (p) => ({ ...SENTINEL, sentinelOptions: { clientOptions: p } }),
  ],
  ['connectionPool', (p) => ({ location: U, connectionPool: p })],
  ['clientOptions.socket', (p) => ({ location: U, clientOptions: { socket: p } })],
  [
    'clusterOptions.defaults.socket',
    (p) => ({ client: 'cluster', location: [U], clusterOptions: { defaults: { socket: p } } }),
  ],
]

/** The error a refused call threw: cachex's, naming `option`, not quoting the trap's message. */
function expectRefused(error: unknown, option: string): void {
  expect(error).toBeInstanceOf(InvalidArgumentError)
  const message = (error as Error).message
  expect(message).toContain(option)
  expect(message).not.toContain(SECRET)
}

/** `call` throws, as `expectRefused` wants. */
function expectCallRefused(call: () => unknown, option: string): void {
  expect(call).toThrow(InvalidArgumentError)
  try {
    call()
  } catch (error) {
    expectRefused(error, option)
  }
}

describe('a hostile option object is refused with InvalidArgumentError naming the option', () => {
  for (const [slot, place] of SLOTS) {
    for (const [kind, hostile] of HOSTILE) {
      it(`createCache: ${slot} a Proxy (${kind})`, async () => {
        const options = place(hostile(targetOf(slot)))
        let made: { close(): Promise<void> } | undefined
        let error: unknown
        try {
          made = createCache(options as never)
        } catch (e) {
          error = e
        }
        // A trap the read never reaches may leave the option usable: then it is taken, and
        // closes; whatever throws is cachex's error naming the option.
        if (made !== undefined) {
          await made.close()
          return
        }
        expectRefused(error, slot === 'options' ? 'options' : slot)
      })
      it(`configureCaches: ${slot} a Proxy (${kind})`, () => {
        let error: unknown
        try {
          configureCaches({ x: place(hostile(targetOf(slot))) as never })
        } catch (e) {
          error = e
        }
        if (error === undefined) return
        expectRefused(error, slot === 'options' ? "the alias 'x'" : slot)
      })
    }
  }

  // Traps every read reaches (a get or ownKeys, a revoked Proxy): refused, whatever the slot.
  for (const [slot, place] of SLOTS) {
    for (const kind of ['get', 'ownKeys', 'revoked']) {
      if (slot === 'serializer' || slot === 'compressor') {
        if (kind === 'ownKeys') continue
      }
      it(`createCache refuses ${slot} a Proxy (${kind})`, () => {
        const hostile = hostileOf(kind)
        expectCallRefused(
          () => createCache(place(hostile(targetOf(slot))) as never),
          slot === 'options' ? 'options' : slot,
        )
      })
    }
  }
})

describe('the cluster factory refuses a hostile clusterOptions', () => {
  // clusterOptions and its defaults are read by the factory itself (not copied on the way in).
  const PLACES: Array<[string, (p: object) => unknown]> = [
    ['clusterOptions', (p) => ({ location: [U], clusterOptions: p })],
    ['clusterOptions.defaults', (p) => ({ location: [U], clusterOptions: { defaults: p } })],
  ]
  for (const [option, place] of PLACES) {
    for (const kind of ['get', 'ownKeys', 'revoked']) {
      it(`cluster(): ${option} a Proxy (${kind})`, () => {
        const hostile = hostileOf(kind)
        expectCallRefused(() => cluster(place(hostile({ password: 'pw' })) as never), option)
      })
    }
  }
})

describe('the connection factories refuse hostile options given to them directly', () => {
  const SENTINELS = { location: 'redis://mymaster/0', sentinels: [['127.0.0.1', 1]] }
  const CALLS: Array<[string, string, (p: object) => unknown]> = [
    ['standalone', 'connection options', (p) => standalone(p as never)],
    ['standalone', 'clientOptions', (p) => standalone({ location: U, clientOptions: p } as never)],
    [
      'standalone',
      'clientOptions.socket',
      (p) => standalone({ location: U, clientOptions: { socket: p } } as never),
    ],
    ['replica', 'connection options', (p) => replica(p as never)],
    ['cluster', 'connection options', (p) => cluster(p as never)],
    ['sentinel', 'connection options', (p) => sentinel(p as never)],
    ['sentinel', 'sentinelOptions', (p) => sentinel({ ...SENTINELS, sentinelOptions: p } as never)],
    [
      'sentinel',
      'sentinelOptions.clientOptions',
      (p) => sentinel({ ...SENTINELS, sentinelOptions: { clientOptions: p } } as never),
    ],
  ]
  for (const [factory, option, call] of CALLS) {
    for (const kind of ['get', 'ownKeys', 'getPrototypeOf', 'revoked']) {
      it(`${factory}(): ${option} a Proxy (${kind})`, () => {
        const hostile = hostileOf(kind)
        // An own key, so that the read reaches a `get` trap.
        const target =
          option === 'connection options' ? { location: U, password: 'pw' } : { password: 'pw' }
        expectCallRefused(() => call(hostile(target)), option)
      })
    }
  }
})

describe("configureCaches' own arguments", () => {
  for (const kind of ['get', 'ownKeys', 'revoked']) {
    const hostile = () => hostileOf(kind)({ x: { location: U } })
    it(`the caches a Proxy (${kind})`, () => {
      expectCallRefused(() => configureCaches(hostile() as never), 'configureCaches() caches')
    })
    it(`the defaults a Proxy (${kind})`, () => {
      const defaults = hostileOf(kind)({
        ignoreExceptions: true,
      })
      expectCallRefused(
        () => configureCaches({ x: { location: U } }, defaults as never),
        'configureCaches() defaults',
      )
    })
  }
})

describe('a Proxy refused however its reading throws', () => {
  it('whose get throws only for an option it does not hold (createCache reads it anyway)', () => {
    for (const name of ['serializer', 'compressor', 'logger', 'client', 'connectionPool']) {
      const options = new Proxy(
        { location: U },
        {
          get(target, key, receiver) {
            if (key === name) throw new Error(SECRET)
            return Reflect.get(target, key, receiver)
          },
        },
      )
      expectCallRefused(() => createCache(options as never), 'createCache() options')
    }
  })

  it('revoked after configureCaches(): caches.get() builds it, and refuses it so', () => {
    const { proxy, revoke } = Proxy.revocable({ location: U, password: 'pw' }, {})
    configureCaches({ x: proxy as never })
    revoke()
    expectCallRefused(() => caches.get('x'), "configureCaches(): the alias 'x' options")
  })

  it('looks into each object of the options once (options that refer to themselves)', () => {
    // An error of building (a getter of the caller's that throws), options that refer to
    // themselves 20 times over: the search for an unreadable Proxy reads each value once.
    let reads = 0
    const clientOptions: Record<string, unknown> = {}
    for (let i = 0; i < 20; i++) clientOptions[`k${i}`] = clientOptions
    Object.defineProperty(clientOptions, 'password', {
      enumerable: true,
      get() {
        reads++
        throw new RangeError('the getter of the caller')
      },
    })
    const options = { location: U, clientOptions, local: new Proxy({}, {}) }
    expect(() => createCache(options as never)).toThrow(RangeError)
    expect(reads).toBeLessThan(5)
  })
})
