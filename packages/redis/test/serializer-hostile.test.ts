// Hostile values placed in a real Redis by someone else, read through createCache: msgpackr-only
// forms, pickle text opcodes built to backtrack, deep nesting and `__proto__` keys each give a
// SerializationError or a plain value, never a prototype change, a RegExp or a stall.
import { createRequire } from 'node:module'
import { type Cache, createCache, SerializationError } from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { raw } from './helpers.ts'

const require = createRequire(new URL('../../serializers/package.json', import.meta.url))
const { Packr } = require('msgpackr') as {
  Packr: new (options?: object) => { pack(value: unknown): Buffer }
}

let server: { url: string; stop(): Promise<void> }
let msgpack: Cache
let pickle: Cache

beforeAll(async () => {
  server = await standaloneServer()
  msgpack = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('hostile'),
    serializer: 'msgpack',
  })
  pickle = createCache({
    location: server.url,
    keyPrefix: uniquePrefix('hostile'),
    serializer: 'pickle',
  })
})

afterAll(async () => {
  await Promise.all([msgpack?.close(), pickle?.close()])
  await server?.stop()
})

/** Stores `bytes` at the Redis key of `key`, as another writer would. */
async function plant(cache: Cache, key: string, bytes: Buffer): Promise<void> {
  await raw(cache, 'SET', cache.makeKey(key), bytes as unknown as string)
}

async function refused(cache: Cache, key: string): Promise<SerializationError> {
  const error = await cache.get(key).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SerializationError)
  return error as SerializationError
}

const cycle: Record<string, unknown> = { name: 'loop' }
cycle.self = cycle

describe('msgpack through Redis: only what Python writes', () => {
  it.each<[string, object, unknown]>([
    ['a RegExp (moreTypes)', { moreTypes: true }, { check: /^(a+)+$/ }],
    ['a Set (moreTypes)', { moreTypes: true }, new Set(['admin'])],
    ['a typed array (moreTypes)', { moreTypes: true }, new Float32Array([1, 2])],
    ['an Error (moreTypes)', { moreTypes: true }, new Error('boom')],
    ['a cycle (structuredClone)', { structuredClone: true }, cycle],
    ['records (useRecords)', { useRecords: true }, [{ a: 1 }, { a: 2 }]],
    ['bundled strings', { bundleStrings: true }, { a: 'x'.repeat(40), b: 'y'.repeat(40) }],
  ])('get() and getMany() refuse %s with a SerializationError', async (_, options, value) => {
    await plant(msgpack, 'evil', new Packr(options).pack(value))
    const error = await refused(msgpack, 'evil')
    expect(error.message).toMatch(/msgpack: (extension type|byte 0xc1)/)
    await expect(msgpack.getMany(['evil'])).rejects.toBeInstanceOf(SerializationError)
  })

  it('refuses 1 000 000 nested arrays at once', async () => {
    await plant(
      msgpack,
      'deep',
      Buffer.concat([Buffer.alloc(1_000_000, 0x91), Buffer.from([0x90])]),
    )
    expect((await refused(msgpack, 'deep')).message).toMatch(/nested more than 1024 levels/)
  })

  it('reads a map key __proto__ as an own property, and writes it back', async () => {
    // msgpack.packb({'__proto__': {'isAdmin': True}}), as Python writes it.
    await plant(msgpack, 'proto', Buffer.from('81a95f5f70726f746f5f5f81a7697341646d696ec3', 'hex'))
    const value = (await msgpack.get('proto')) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['__proto__'])
    expect(value.isAdmin).toBeUndefined()
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ isAdmin: true })
    await msgpack.set('proto-again', value)
    const again = (await msgpack.get('proto-again')) as Record<string, unknown>
    expect(Object.getOwnPropertyDescriptor(again, '__proto__')?.value).toEqual({ isAdmin: true })
  })
})

describe('pickle through Redis: hostile text opcodes and names', () => {
  it('refuses FLOAT + 1 MB of digits + x at once (its regex took 13 s on 100 000)', async () => {
    await plant(pickle, 'float', Buffer.from(`F${'1'.repeat(1 << 20)}x\n.`, 'latin1'))
    const start = process.cpuUsage()
    expect((await refused(pickle, 'float')).message).toMatch(/FLOAT line longer/)
    const used = process.cpuUsage(start)
    // CPU time, not wall-clock: a busy machine does not inflate it. Linear reading takes ~1 ms.
    expect((used.user + used.system) / 1000).toBeLessThan(500)
  })

  it('refuses 1 000 000 nested tuples', async () => {
    await plant(pickle, 'tuples', Buffer.from(`\x80\x02)${'\x85'.repeat(1_000_000)}.`, 'latin1'))
    expect((await refused(pickle, 'tuples')).message).toMatch(/nested more than 2000 levels/)
  })

  it("reads {'__proto__': {'isAdmin': True}} with an own __proto__ property", async () => {
    // pickle.dumps({'__proto__': {'isAdmin': True}}, 4), CPython 3.11.
    const hex = '8004951e000000000000007d948c095f5f70726f746f5f5f947d948c07697341646d696e948873732e'
    await plant(pickle, 'proto', Buffer.from(hex, 'hex'))
    const value = (await pickle.get('proto')) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['__proto__'])
    expect(value.isAdmin).toBeUndefined()
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ isAdmin: true })
  })
})
