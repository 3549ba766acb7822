// What the bridge holds back, and sends later, on a healthy server. A read in 'cachex' mode
// reads its keys' PTTLs beside their values, at most 1,000 keys at a time per cache: a read
// past those waited for a place for its PTTL only, its GET sent at once, so the PTTL could report
// a newer value's expiry; a getMany's later batches reported the earlier batches' expiries from
// when the last one ended (a value Redis had dropped handed over as live). keyv.disconnect()
// closed the cache under the reads and writes still waiting (ClosedError: misses, false), and
// under a setMany Keyv hands the store after serializing it, and under a clear()'s later SCAN
// pages (the keys left, reported as an error). A cache whose method throws at
// once kept the places its read had taken: every later read waited for ever. And
// the calls that send a command per key all at once — the key-by-key read after an undecodable
// value, hasMany() — were refused past maxInFlightBytes at 40,000 keys, as were setMany()'s
// groups of large values written 64 at a time.
import type { Cache } from '@cachex/redis'
import { delay, redisCall } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { createKeyv } from '../src/index.ts'
import { testCaches } from './_helpers.ts'

const caches = testCaches()

/** A Keyv on `cache`, and the errors it reports (their class names). */
function keyvOn(cache: Cache, options?: { closeOnDisconnect?: boolean }) {
  const keyv = createKeyv(cache, options)
  const errors: string[] = []
  keyv.on('error', (error: Error) => errors.push(error.name))
  return { keyv, errors }
}

/**
 * `cache` with the answer of the calls of `method` that `when` picks handed over `ms` late: each
 * is sent at once, and answered by the server, as the real cache sends it.
 */
function answeringLate(
  cache: Cache,
  method: 'pttl' | 'getMany',
  when: (args: unknown[], call: number) => boolean,
  ms: number,
): Cache {
  let calls = 0
  return new Proxy(cache, {
    get(target, name) {
      const real: unknown = Reflect.get(target, name, target)
      if (typeof real !== 'function') return real
      if (name !== method) return real.bind(target)
      return async (...args: unknown[]) => {
        const result: unknown = await real.apply(target, args)
        if (when(args, calls++)) await delay(ms)
        return result
      }
    },
  })
}

const keys = (n: number, name = 'k') => Array.from({ length: n }, (_, i) => `${name}${i}`)

it("a read's value and expiry are read together while another read holds every place", async () => {
  const real = caches.newCache()
  // The 1,000 PTTLs of a getMany of 1,000 keys are answered 800 ms late: it holds every place.
  const cache = answeringLate(real, 'pttl', ([key]) => String(key).startsWith('keyv:hold'), 800)
  const { keyv } = keyvOn(cache)
  await keyv.setMany(keys(1000, 'hold').map((key) => ({ key, value: 1 })))
  await keyv.set('x', 'v1', 3_600_000)
  const holding = keyv.getMany(keys(1000, 'hold'))
  await delay(20)
  const reading = keyv.getManyRaw(['x'])
  await delay(200)
  // Rewritten meanwhile, expiring in 5 s.
  await real.set('keyv:x', 'v2', { timeout: 5 })
  const [entry] = await reading
  await holding
  const left = (entry?.expires ?? 0) - Date.now()
  // Either value, with its own expiry: not v1 (an hour left) with v2's 5 s.
  if (entry?.value === 'v1') expect(left).toBeGreaterThan(3_000_000)
  else expect([entry?.value, left > 0 && left <= 5000]).toEqual(['v2', true])
})

it("a getMany's batches report each key's expiry from when that key was read", async () => {
  const real = caches.newCache()
  // The second batch of 1,000 keys is answered 1,500 ms late.
  const cache = answeringLate(real, 'getMany', (_args, call) => call === 1, 1500)
  const { keyv } = keyvOn(cache)
  await keyv.setMany(keys(2500).map((key) => ({ key, value: 1, ttl: 600_000 })))
  // In the first batch, expiring in 1 s: gone when the getMany resolves.
  await keyv.set('k0', 'short', 1000)
  const raw = await keyv.getManyRaw(keys(2500))
  const now = Date.now()
  expect(await real.pttl('keyv:k0')).toBe(0)
  // A miss, or an entry that has expired: not one that lives on for the 1.5 s it was held.
  expect(raw[0] === undefined || (raw[0].expires ?? Number.POSITIVE_INFINITY) <= now).toBe(true)
  expect(raw[1]?.value).toBe(1)
  expect(raw[2499]?.expires).toBeGreaterThan(now + 500_000)
})

it('keyv.disconnect() answers the reads made before it, waiting ones too', async () => {
  const cache = caches.newCache()
  const { keyv, errors } = keyvOn(cache, { closeOnDisconnect: true })
  await keyv.setMany(keys(2500).map((key, i) => ({ key, value: i })))
  // 1,500 get()s (500 past the places) and a getMany of 2,500 keys (three batches).
  const reads = keys(1500).map((key) => keyv.get(key))
  const many = keyv.getMany(keys(2500))
  await keyv.disconnect()
  expect((await Promise.all(reads)).filter((value) => value !== undefined)).toHaveLength(1500)
  expect((await many).filter((value) => value !== undefined)).toHaveLength(2500)
  expect(errors).toEqual([])
  await expect(cache.get('keyv:k0')).rejects.toThrow(/closed/)
})

it('keyv.disconnect() right after set() and setMany(): every entry is stored', async () => {
  const cache = caches.newCache()
  const { keyv, errors } = keyvOn(cache, { closeOnDisconnect: true })
  const set = keyv.set('a', 'A')
  // Keyv serializes the entries first: the store's setMany comes a few microtasks later.
  const many = keyv.setMany([
    { key: 'b', value: 'B' },
    { key: 'c', value: 'C', ttl: 60_000 },
  ])
  await keyv.disconnect()
  expect([await set, await many, errors]).toEqual([true, [true, true], []])
  const stored = await redisCall(caches.server.url, [
    'EXISTS',
    ...['a', 'b', 'c'].map((key) => cache.makeKey(`keyv:${key}`)),
  ])
  expect(stored).toBe(3)
})

it('keyv.disconnect() right after clear(): every key of the namespace is removed', async () => {
  const cache = caches.newCache()
  const { keyv, errors } = keyvOn(cache, { closeOnDisconnect: true })
  await keyv.setMany(keys(3000).map((key, i) => ({ key, value: i })))
  // clear() walks SCAN page by page: its later pages and deletes are sent after the call.
  const cleared = keyv.clear()
  await keyv.disconnect()
  await cleared
  expect(errors).toEqual([])
  expect(await redisCall(caches.server.url, ['KEYS', cache.makeKey('keyv:*')])).toEqual([])
})

it('keyv.disconnect() ends while a reader keeps calling, once the calls made before are answered', async () => {
  const cache = caches.newCache()
  const { keyv } = keyvOn(cache, { closeOnDisconnect: true })
  await keyv.set('a', 'A')
  // One get always in flight: each starts when the last ends — until disconnect() resolves, or,
  // should it wait for the reader, 10 s on.
  let reading = true
  const stop = setTimeout(() => {
    reading = false
  }, 10_000)
  const reader = (async () => {
    while (reading) await keyv.get('a')
  })()
  await delay(20)
  const before = keyv.get('a')
  await keyv.disconnect()
  const stillReading = reading
  reading = false
  clearTimeout(stop)
  await reader
  expect(stillReading).toBe(true)
  expect(await before).toBe('A')
}, 20_000)

it("one store's disconnect() waits for another's calls on the same cache", async () => {
  const cache = caches.newCache()
  // Two Keyvs of two namespaces on one cache, each closing it (each NestJS module's).
  const one = keyvOn(cache, { closeOnDisconnect: true })
  const two = keyvOn(cache, { closeOnDisconnect: true })
  await two.keyv.setMany(keys(2500).map((key, i) => ({ key, value: i })))
  const reading = two.keyv.getMany(keys(2500))
  await one.keyv.disconnect()
  expect((await reading).filter((value) => value !== undefined)).toHaveLength(2500)
  expect(two.errors).toEqual([])
})

it("a cache that throws at once (a caller's wrapper) fails that read, and gives its places back", async () => {
  const real = caches.newCache()
  const refusing = new Proxy(real, {
    get(target, name) {
      const method: unknown = Reflect.get(target, name, target)
      if (typeof method !== 'function') return method
      if (name !== 'pttl' && name !== 'getMany') return method.bind(target)
      return (first: unknown, ...rest: unknown[]) => {
        if (String(first).includes('bad')) throw new TypeError('refused key')
        return method.apply(target, [first, ...rest])
      }
    },
  })
  const { keyv, errors } = keyvOn(refusing)
  await keyv.setMany(keys(1000).map((key) => ({ key, value: 1 })))
  expect(await keyv.get('bad')).toBeUndefined()
  expect(await keyv.getMany(['bad', 'k1'])).toEqual([undefined, undefined])
  expect(errors).toEqual(['TypeError', 'TypeError'])
  // Every place is free again: a read of 1,000 keys takes them all.
  const found = await keyv.getMany(keys(1000))
  expect(found.filter((value) => value === 1)).toHaveLength(1000)
})

it('setMany() of 64 values of 600 KB under 64 TTLs stores every one', async () => {
  const { keyv, errors } = keyvOn(caches.newCache())
  const big = 'x'.repeat(600_000)
  const stored = await keyv.setMany(
    keys(64, 'big').map((key, i) => ({ key, value: big, ttl: 600_000 + i })),
  )
  expect(errors).toEqual([])
  expect(stored.filter(Boolean)).toHaveLength(64)
  expect(await keyv.get('big63')).toHaveLength(600_000)
})

it('getMany() of 40,000 keys, one of them undecodable, finds the other 39,999', async () => {
  const cache = caches.newCache()
  const { keyv, errors } = keyvOn(cache)
  await keyv.setMany(keys(40_000).map((key, i) => ({ key, value: i })))
  await redisCall(caches.server.url, ['SET', cache.makeKey('keyv:k1500'), '\x80\x04garbage'])
  const found = await keyv.getMany(keys(40_000))
  expect(found.filter((value) => value !== undefined)).toHaveLength(39_999)
  expect([found[1499], found[1500], found[39_999]]).toEqual([1499, undefined, 39_999])
  expect(errors).toEqual(['SerializationError'])
})

it('hasMany() of 40,000 keys answers each', async () => {
  const { keyv, errors } = keyvOn(caches.newCache())
  await keyv.setMany(keys(40_000).map((key, i) => ({ key, value: i })))
  const has = await keyv.hasMany([...keys(40_000), 'none'])
  expect(errors).toEqual([])
  expect(has.filter(Boolean)).toHaveLength(40_000)
  expect(has.at(-1)).toBe(false)
})
