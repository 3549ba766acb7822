// Values the local tier holds never keep a whole reply buffer alive: node-redis hands over a bulk
// string as a view into the chunk the socket read (which holds the other replies read with it), so
// a small Buffer decoded as a view of it pins the chunk, which `maxBytes` never counted. msgpack
// copies its bin values; the tier copies a value that is a view into a larger buffer, and counts
// the whole buffer of a view nested in a value.

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type Cache, createCache, defineSerializer } from '@cachex/redis'
import { msgpackSerializer } from '@cachex/serializers/msgpack'
import { delay, type RedisServer, startRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// A full collection on demand (a test file cannot set its worker's flags).
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let server: RedisServer
const caches: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
  await Promise.all(caches.map((c) => c.close()))
  await server?.stop()
})

/** A cache with a local tier whose tracking connection is up, and a 60 KB value at `pad`. */
async function tracked(options: object): Promise<Cache> {
  const cache = createCache({ location: server.url, keyPrefix: uniquePrefix('pin'), ...options })
  caches.push(cache)
  await cache.set('pad', 'x'.repeat(60_000))
  for (let i = 0; i < 500 && cache.localStats()?.tracking !== true; i++) {
    await cache.get('warm-up')
    await delay(20)
  }
  expect(cache.localStats()?.tracking).toBe(true)
  return cache
}

/**
 * `get(key)` while another read is in flight on the same connection, as in any busy app: the
 * replies share the socket's chunk, 60 KB of it the other read's.
 */
async function readBeside(cache: Cache, key: string): Promise<unknown> {
  const [, value] = await Promise.all([cache.getMany(['pad']), cache.get(key)])
  return value
}

/** Whether `view` owns the whole buffer it is a view of (it pins nothing more than itself). */
function owns(view: ArrayBufferView): boolean {
  return view.byteLength === view.buffer.byteLength
}

describe('msgpack', () => {
  it('reads bin values that own their bytes, at the top level and nested', () => {
    const serializer = msgpackSerializer()
    const packed = serializer.serialize({
      a: Buffer.from([1, 2, 3]),
      list: [Buffer.from([4, 5]), { deep: Buffer.from([6]) }],
    }) as Buffer
    // The reply is a view into a larger chunk, as node-redis hands it over.
    const chunk = Buffer.alloc(packed.length + 1000)
    packed.copy(chunk, 500)
    const value = serializer.deserialize(chunk.subarray(500, 500 + packed.length)) as {
      a: Buffer
      list: [Buffer, { deep: Buffer }]
    }
    expect(value).toEqual({
      a: Buffer.from([1, 2, 3]),
      list: [Buffer.from([4, 5]), { deep: Buffer.from([6]) }],
    })
    for (const bin of [value.a, value.list[0], value.list[1].deep]) {
      expect(Buffer.isBuffer(bin)).toBe(true)
      expect(owns(bin)).toBe(true)
    }
    const top = Buffer.from(serializer.serialize(Buffer.from([7, 8, 9])) as Buffer)
    const wide = Buffer.alloc(top.length + 100)
    top.copy(wide, 50)
    const bin = serializer.deserialize(wide.subarray(50, 50 + top.length)) as Buffer
    expect(bin).toEqual(Buffer.from([7, 8, 9]))
    expect(owns(bin)).toBe(true)
  })

  it('the Buffers the tier holds pin no more than their bytes', async () => {
    const maxBytes = 500_000
    const cache = await tracked({ serializer: 'msgpack', local: { maxBytes } })
    const n = 300
    for (let i = 0; i < n; i++) await cache.set(`b${i}`, Buffer.from([i & 255, 1, 2, 3]))
    for (let i = 0; i < n; i++) {
      const first = (await readBeside(cache, `b${i}`)) as Buffer
      expect(owns(first)).toBe(true)
    }
    const hitsBefore = cache.localStats()?.hits ?? 0
    const backings = new Set<ArrayBufferLike>()
    for (let i = 0; i < n; i++) {
      const held = (await cache.get(`b${i}`)) as Buffer
      expect(held).toEqual(Buffer.from([i & 255, 1, 2, 3]))
      backings.add(held.buffer)
    }
    const stats = cache.localStats()
    expect((stats?.hits ?? 0) - hitsBefore).toBe(n)
    let pinned = 0
    for (const buffer of backings) pinned += buffer.byteLength
    expect(stats?.bytes).toBeLessThanOrEqual(maxBytes)
    expect(pinned).toBeLessThanOrEqual(maxBytes)
  })

  it('the memory the tier keeps alive stays near maxBytes (as the process sees it)', async () => {
    const maxBytes = 1_000_000
    const cache = await tracked({ serializer: 'msgpack', local: { maxBytes } })
    const n = 1000
    for (let i = 0; i < n; i++) await cache.set(`b${i}`, Buffer.from([i & 255, 1, 2, 3]))
    gc()
    gc()
    const before = process.memoryUsage().arrayBuffers
    for (let i = 0; i < n; i++) await readBeside(cache, `b${i}`)
    await delay(100)
    gc()
    gc()
    const kept = process.memoryUsage().arrayBuffers - before
    expect(cache.localStats()?.entries).toBeGreaterThan(n / 2)
    // Generous (before the fix: about 60 MB, a 60 KB chunk a value).
    expect(kept).toBeLessThan(10 * maxBytes)
  })
})

describe('a custom serializer', () => {
  /**
   * Bytes (a string: its UTF-8 bytes) behind a one-byte tag; `read` makes the value from the
   * bytes after it (views).
   */
  function tagged(name: string, read: (rest: Buffer) => unknown) {
    return defineSerializer({
      name,
      serialize: (value) =>
        Buffer.concat([
          Buffer.from([0x7f]),
          Buffer.isBuffer(value) ? value : Buffer.from(`${value}`),
        ]),
      deserialize: (data) => read(data.subarray(1)),
    })
  }

  it('that returns a view of the reply: the tier holds a copy of it', async () => {
    const cache = await tracked({ serializer: tagged('view', (rest) => rest), local: {} })
    await cache.set('raw', Buffer.from('abcd'))
    const first = (await readBeside(cache, 'raw')) as Buffer
    const hitsBefore = cache.localStats()?.hits ?? 0
    const held = (await cache.get('raw')) as Buffer
    expect(cache.localStats()?.hits).toBe(hitsBefore + 1)
    // The caller of the read that filled the tier gets what is held.
    expect(held).toBe(first)
    expect(held).toEqual(Buffer.from('abcd'))
    expect(Buffer.isBuffer(held)).toBe(true)
    expect(owns(held)).toBe(true)
  })

  it('that returns a DataView of the reply: the tier holds a copy of it', async () => {
    const read = (rest: Buffer) => new DataView(rest.buffer, rest.byteOffset, rest.byteLength)
    const cache = await tracked({ serializer: tagged('dataview', read), local: {} })
    await cache.set('raw', Buffer.from([9, 8, 7]))
    await readBeside(cache, 'raw')
    const hitsBefore = cache.localStats()?.hits ?? 0
    const held = (await cache.get('raw')) as DataView
    expect(cache.localStats()?.hits).toBe(hitsBefore + 1)
    expect(held).toBeInstanceOf(DataView)
    expect([held.getUint8(0), held.getUint8(1), held.getUint8(2)]).toEqual([9, 8, 7])
    expect(held.byteLength).toBe(3)
    expect(owns(held)).toBe(true)
  })

  it('that returns an instance of a view subclass: held as it is (its class kept), counted whole', async () => {
    // A DataView subclass: the copy the tier makes of a plain DataView would be a plain one.
    const View = DataView as unknown as new (b: ArrayBuffer, at: number, n: number) => DataView
    class Bytes extends View {
      get first(): number {
        return this.getUint8(0)
      }
    }
    const read = (rest: Buffer) =>
      new Bytes(rest.buffer as ArrayBuffer, rest.byteOffset, rest.byteLength)
    const cache = await tracked({ serializer: tagged('subclass', read), local: {} })
    await cache.set('raw', Buffer.from([9, 8, 7]))
    const first = await readBeside(cache, 'raw')
    const hitsBefore = cache.localStats()?.hits ?? 0
    const held = (await cache.get('raw')) as Bytes
    const stats = cache.localStats()
    expect(stats?.hits).toBe(hitsBefore + 1)
    expect({
      first: first instanceof Bytes,
      hit: held instanceof Bytes,
      same: held === first,
    }).toEqual({
      first: true,
      hit: true,
      same: true,
    })
    expect(held.first).toBe(9)
    expect(stats?.bytes).toBeGreaterThanOrEqual(held.buffer.byteLength)
  })

  it('that nests a view of the reply: the tier counts the buffer it pins', async () => {
    const cache = await tracked({
      serializer: tagged('nested', (rest) => ({ bytes: rest })),
      local: { maxBytes: 10_000_000 },
    })
    await cache.set('nested', Buffer.from('abcd'))
    await readBeside(cache, 'nested')
    const hitsBefore = cache.localStats()?.hits ?? 0
    const held = (await cache.get('nested')) as { bytes: Buffer }
    const stats = cache.localStats()
    expect(stats?.hits).toBe(hitsBefore + 1)
    expect(held.bytes).toEqual(Buffer.from('abcd'))
    // Not copied (the walk does not rewrite a value's parts), but counted whole.
    expect(stats?.bytes).toBeGreaterThanOrEqual(held.bytes.buffer.byteLength)
  })
})

describe('pickle', () => {
  it('reads bytes nested in a value into buffers of their own, not slices of the shared pool: the tier counts them at their size', async () => {
    const cache = await tracked({ serializer: 'pickle', local: { maxBytes: 10_000_000 } })
    const keys = Array.from({ length: 50 }, (_, i) => `p${i}`)
    await cache.setMany(
      Object.fromEntries(keys.map((k) => [k, { id: k, blob: Buffer.from([1, 2, 3, 4]) }])),
    )
    for (const key of keys) await cache.get(key)
    const held = (await cache.get('p0')) as { blob: Buffer }
    expect(held.blob).toEqual(Buffer.from([1, 2, 3, 4]))
    expect(owns(held.blob)).toBe(true)
    // Each value counted near its size (a few hundred bytes), not with an 8 KB pool slab.
    expect(cache.localStats()?.bytes).toBeLessThan(50 * 1024)
  })
})
