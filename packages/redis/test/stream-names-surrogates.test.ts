// Stream field, group and consumer names with a lone surrogate (half of a UTF-16 pair): UTF-8
// has no form for one, so sent it became U+FFFD and 'x\ud800' named 'x\ufffd' — two fields of
// one xadd were one (a value lost), two groups one (BUSYGROUP). Refused before anything is sent,
// as the hash methods refuse such a field name.
import { type Cache, createCache, InvalidArgumentError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer } from './helpers.ts'

const LONE = ['x\ud800', '\udc00', 'x\ud83d', 'a\ude00b']

/** The error `promise` rejects with, or an `Error` saying what it resolved. */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => new Error(`resolved ${JSON.stringify(value)}`),
    (error: unknown) => error,
  )
}

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('sursur') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  it('xadd refuses a field name with a lone surrogate, and stores nothing', async () => {
    for (const name of LONE) {
      for (const fields of [
        { ok: 1, [name]: 2 },
        new Map<string, unknown>([
          ['ok', 1],
          [name, 2],
        ]),
      ]) {
        const error = await refusal(cache.xadd('s', fields))
        expect(error).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message).toMatch(
          /^xadd\(\): a field name holds a lone surrogate \(half of a UTF-16 pair\)/,
        )
      }
    }
    // The probe's case: two names that both become 'x\ufffd', one value lost.
    await expect(cache.xadd('s', { 'x\ud800': 1, 'x\udc00': 2 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    )
    expect(await cache.xlen('s')).toBe(0)
    expect(await cache.xrange('s')).toEqual([])
    // A well-formed pair (an emoji) is a name like any other, and U+FFFD itself is one.
    await cache.xadd('s', { '😀': 1, 'x\ufffd': 2 }, { id: '1-0' })
    expect(await cache.xrange('s')).toEqual([{ id: '1-0', fields: { '😀': 1, 'x\ufffd': 2 } }])
  })

  it('every method taking a group or consumer name refuses one with a lone surrogate', async () => {
    await cache.xadd('s', { a: 1 }, { id: '1-0' })
    await cache.xgroupCreate('s', 'g', { id: '0' })
    await cache.xgroupCreate('s', 'g\ufffd', { id: '0' })
    await cache.xreadgroup('g', 'c', { s: '>' })
    const calls: Array<[string, string, (name: string) => Promise<unknown>]> = [
      ['xgroupCreate', 'group', (n) => cache.xgroupCreate('s', n, { id: '0' })],
      ['xgroupCreate', 'group', (n) => cache.xgroupCreate('t', n, { mkstream: true })],
      ['xgroupDestroy', 'group', (n) => cache.xgroupDestroy('s', n)],
      ['xreadgroup', 'group', (n) => cache.xreadgroup(n, 'c', { s: '0' })],
      ['xreadgroup', 'consumer', (n) => cache.xreadgroup('g', n, { s: '>' })],
      ['xack', 'group', (n) => cache.xack('s', n, '1-0')],
      ['xack', 'group', (n) => cache.xack('s', n)],
      ['xpending', 'group', (n) => cache.xpending('s', n)],
      ['xpending', 'group', (n) => cache.xpending('s', n, { count: 10 })],
      ['xpending', 'consumer', (n) => cache.xpending('s', 'g', { count: 10, consumer: n })],
      ['xclaim', 'group', (n) => cache.xclaim('s', n, 'c', 0, ['1-0'])],
      ['xclaim', 'consumer', (n) => cache.xclaim('s', 'g', n, 0, ['1-0'])],
      ['xautoclaim', 'group', (n) => cache.xautoclaim('s', n, 'c', 0)],
      ['xautoclaim', 'consumer', (n) => cache.xautoclaim('s', 'g', n, 0)],
    ]
    for (const [method, what, call] of calls) {
      for (const name of LONE) {
        const error = await refusal(call(name))
        expect(error, `${method} ${what} ${JSON.stringify(name)}`).toBeInstanceOf(
          InvalidArgumentError,
        )
        expect((error as Error).message).toMatch(
          new RegExp(`^${method}\\(\\): a ${what} name holds a lone surrogate`),
        )
      }
    }
    // Nothing reached the server: the entry is still pending for 'c' alone, never acked or
    // claimed, both groups are there and the stream 't' was not made.
    expect(await cache.xpending('s', 'g')).toEqual({
      count: 1,
      smallest: '1-0',
      largest: '1-0',
      consumers: [{ name: 'c', pending: 1 }],
    })
    expect(await cache.xgroupDestroy('s', 'g\ufffd')).toBe(true)
    expect(await cache.hasKey('t')).toBe(false)
    // A well-formed pair is a name like any other.
    expect(await cache.xgroupCreate('s', 'g😀', { id: '0' })).toBe(true)
    const [read] = await cache.xreadgroup('g😀', 'c😀', { s: '>' })
    expect(read?.entries).toEqual([{ id: '1-0', fields: { a: 1 } }])
    expect((await cache.xpending('s', 'g😀')).consumers).toEqual([{ name: 'c😀', pending: 1 }])
  })

  it('a pipeline refuses such a name in its slot; a transaction rejects, sending nothing', async () => {
    const [added, created, read, length] = await cache
      .pipeline()
      .xadd('s', { 'x\ud800': 1, 'x\udc00': 2 })
      .xgroupCreate('s', 'g\ud800', { mkstream: true })
      .xreadgroup('g', 'c\udc00', { s: '>' })
      .xlen('s')
      .exec()
    expect(added).toBeInstanceOf(InvalidArgumentError)
    expect((added as Error).message).toMatch(/^xadd\(\): a field name holds a lone surrogate/)
    expect(created).toBeInstanceOf(InvalidArgumentError)
    expect((created as Error).message).toMatch(
      /^xgroupCreate\(\): a group name holds a lone surrogate/,
    )
    expect(read).toBeInstanceOf(InvalidArgumentError)
    expect((read as Error).message).toMatch(
      /^xreadgroup\(\): a consumer name holds a lone surrogate/,
    )
    expect(length).toBe(0)
    await expect(
      cache.transaction().xadd('s', { ok: 1 }).xadd('s', { 'x\ud800': 1 }).exec(),
    ).rejects.toThrow(/^xadd\(\): a field name holds a lone surrogate/)
    await expect(
      cache.transaction().xadd('s', { ok: 1 }).xgroupCreate('s', 'g\ud800', { id: '0' }).exec(),
    ).rejects.toThrow(/^xgroupCreate\(\): a group name holds a lone surrogate/)
    expect(await cache.hasKey('s')).toBe(false)
  })
})
