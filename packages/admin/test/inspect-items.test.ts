// A stored value that holds more items than a page builds (`MAX_INSPECT_ITEMS`) is not decoded
// whole by its page: the admin runs in the application's process, and building tens of millions
// of values would stall it for seconds. Its page shows an error (and the value's first bytes), as
// for a value the codec cannot read; a value just within the bound still shows its tree, cut to
// the nodes a page shows. For each serializer that inspects (json, msgpack, pickle), in a
// string and as a hash field.
import { MAX_INSPECT_ITEMS } from '@cachex/core/internal'
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_NODES } from '../src/_tree.ts'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from './helpers.ts'

const SERIALIZERS = ['json', 'msgpack', 'pickle'] as const

let server: RedisServer
const caches: Record<string, Cache> = {}
let admin: AdminServer
const client = () => new Client(admin.url, TOKEN)

/**
 * A list of `n` small ints: `n + 1` items (the list, and each int), as each serializer counts
 * them (a JSON comma, a msgpack array's length, a pickle opcode that makes a value).
 */
const ints = (n: number) => Array.from({ length: n }, (_, i) => i % 100)

beforeAll(async () => {
  server = await startRedis()
  for (const serializer of SERIALIZERS) {
    caches[serializer] = createCache({ location: server.url, keyPrefix: serializer, serializer })
  }
  admin = await startAdmin({ caches, auth: { token: TOKEN }, audit: () => undefined })
}, 60_000)

afterAll(async () => {
  await admin?.close()
  await closeAll(...Object.values(caches))
  await server?.stop()
})

describe.each(SERIALIZERS)('values of more items than a page builds (%s)', (serializer) => {
  const alias = serializer
  const cache = () => caches[serializer] as Cache

  it('a value of one item past the bound is an error with its bytes, not its tree', async () => {
    await cache().set('over', ints(MAX_INSPECT_ITEMS))
    // The cache itself still reads it whole.
    expect(((await cache().get('over')) as unknown[]).length).toBe(MAX_INSPECT_ITEMS)
    const answer = await client().get(keyPath(alias, 'over'))
    expect(answer.status).toBe(200)
    const view = answer.json.string
    expect(view.tree).toBeUndefined()
    expect(view.error).toBe(
      `${serializer}: the value holds more than ${MAX_INSPECT_ITEMS} items, too many to show`,
    )
    expect(view.preview.length).toBeGreaterThan(0)
  }, 60_000)

  it('a value at the bound still shows its tree, cut to what a page shows', async () => {
    await cache().set('at', ints(MAX_INSPECT_ITEMS - 1))
    const answer = await client().get(keyPath(alias, 'at'))
    expect(answer.status).toBe(200)
    const view = answer.json.string
    expect(view.error).toBeUndefined()
    expect(view.serializer).toBe(serializer)
    expect(view.tree.type).toBe('list')
    expect(view.tree.length).toBe(MAX_INSPECT_ITEMS - 1)
    expect(view.tree.items.length).toBe(MAX_NODES - 1)
    expect(view.tree.items[1]).toEqual({ type: 'int', value: '1' })
  }, 60_000)

  it('a hash field past the bound is an error node; the others are shown', async () => {
    await cache().hset('fields', { small: [1, 2], big: ints(MAX_INSPECT_ITEMS) })
    const answer = await client().get(keyPath(alias, 'fields'))
    expect(answer.status).toBe(200)
    const rows = answer.json.container.rows as Array<[{ value: string }, unknown]>
    const byField = new Map(rows.map(([field, value]) => [field.value, value]))
    expect(byField.get('small')).toMatchObject({ type: 'list', length: 2 })
    expect(byField.get('big')).toMatchObject({
      type: 'error',
      message: `${serializer}: the value holds more than ${MAX_INSPECT_ITEMS} items, too many to show`,
    })
    expect((byField.get('big') as { preview: string }).preview.length).toBeGreaterThan(0)
  }, 60_000)
})
