// A float Python pickled that is whole (1.0): JS reads it as 1, as it reads an int. The admin
// shows it as a float, as Python writes it (`1.0`), and offers no JSON editor for a value that
// holds one: JSON would write it back as `1`, which Django reads as an int. Its TTL can change.
// Vectors are CPython's `pickle.dumps(value, 4)`, as Django stores them.
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from './helpers.ts'

type Node = { type: string; value?: string; items?: Node[]; entries?: Array<[Node, Node]> }

function field(tree: Node, name: string): Node | undefined {
  return tree.entries?.find(([key]) => key.value === name)?.[1]
}

describe('whole floats of a pickle', () => {
  let server: RedisServer
  let cache: Cache
  let admin: AdminServer
  const client = () => new Client(admin.url, TOKEN)

  /** Stores CPython's pickle bytes (hex) at `key`, as Django would. */
  async function store(key: string, hex: string): Promise<Buffer> {
    const bytes = Buffer.from(hex, 'hex')
    await cache.connection.command(['SET', cache.makeKey(key), bytes], { key: cache.makeKey(key) })
    return bytes
  }

  async function stored(key: string): Promise<unknown> {
    return cache.connection.command(['GET', cache.makeKey(key)], { key: cache.makeKey(key) })
  }

  beforeAll(async () => {
    server = await startRedis()
    cache = createCache({ location: server.url, keyPrefix: 'fl', serializer: 'pickle' })
    admin = await startAdmin({ caches: { py: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await server?.stop()
  })

  it('{"price": 1.0}: shown as a float, not editable as JSON, its TTL editable', async () => {
    // {'price': 1.0, 'name': 'a'}
    const bytes = await store(
      'price',
      '80049521000000000000007d94288c05707269636594473ff00000000000008c046e616d65948c016194752e',
    )
    const page = await client().get(keyPath('py', 'price'))
    expect(page.status).toBe(200)
    const tree = page.json.string.tree as Node
    expect(field(tree, 'price')).toEqual({ type: 'float', value: '1.0' })
    expect(field(tree, 'name')).toMatchObject({ type: 'str', value: 'a' })
    expect(page.json.string.json).toBeUndefined()
    const put = await client().request('PUT', keyPath('py', 'price'), {
      revision: page.json.revision,
      ttl: 600,
    })
    expect(put.status).toBe(200)
    expect(await cache.ttl('price')).toBeGreaterThan(500)
    expect(await stored('price')).toEqual(bytes)
  })

  it('writes each as Python does; ints and other floats are as before', async () => {
    // {'big': 1e16, 'neg': -0.0, 'huge': 12345678901234567890.0, 'under': 123456789012345.0,
    //  'minus': -3.0, 'half': 2.5, 'n': 3, 'list': [2.0, 2]}
    await store(
      'mixed',
      '80049581000000000000007d94288c0362696794474341c37937e080008c036e6567944780000000000000' +
        '008c0468756765944743e56a95319d63e18c05756e646572944742dc12218377de408c056d696e7573944' +
        '7c0080000000000008c0468616c66944740040000000000008c016e944b038c046c697374945d9428474000' +
        '0000000000004b0265752e',
    )
    const page = await client().get(keyPath('py', 'mixed'))
    const tree = page.json.string.tree as Node
    // Python's repr() of each.
    expect(field(tree, 'big')).toEqual({ type: 'float', value: '1e+16' })
    expect(field(tree, 'neg')).toEqual({ type: 'float', value: '-0.0' })
    expect(field(tree, 'huge')).toEqual({ type: 'float', value: '1.2345678901234567e+19' })
    expect(field(tree, 'under')).toEqual({ type: 'float', value: '123456789012345.0' })
    expect(field(tree, 'minus')).toEqual({ type: 'float', value: '-3.0' })
    expect(field(tree, 'half')).toEqual({ type: 'float', value: '2.5' })
    expect(field(tree, 'n')).toEqual({ type: 'int', value: '3' })
    expect(field(tree, 'list')?.items).toEqual([
      { type: 'float', value: '2.0' },
      { type: 'int', value: '2' },
    ])
    expect(page.json.string.json).toBeUndefined()
  })

  it('a whole float alone is a float, not editable as JSON', async () => {
    await store('one', '8004950a00000000000000473ff00000000000002e') // 1.0
    const page = await client().get(keyPath('py', 'one'))
    expect(page.json.string.tree).toEqual({ type: 'float', value: '1.0' })
    expect(page.json.string.json).toBeUndefined()
  })

  it('a value with ints and floats that are not whole stays editable', async () => {
    // {'half': 2.5, 'n': 3}
    await store(
      'plain',
      '8004951b000000000000007d94288c0468616c66944740040000000000008c016e944b03752e',
    )
    const page = await client().get(keyPath('py', 'plain'))
    expect(JSON.parse(page.json.string.json)).toEqual({ half: 2.5, n: 3 })
  })
})
