// The key page decodes a page of elements with one decompression budget, as one call of the
// cache does (4 × maxValueSize in all): compressed values that `lrange` would refuse are not all
// decompressed by one page request. The values past the budget are error nodes, the page answers.
import { deflateSync } from 'node:zlib'
import { type Cache, CompressionError, createCache } from '@cachex/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AdminServer,
  BACKENDS,
  backendServer,
  Client,
  closeAll,
  keyPath,
  startAdmin,
  TOKEN,
} from './helpers.ts'

const MAX = 1024 * 1024
/** Elements of each container: 12 values of almost `MAX` bytes each, past 4 × `MAX`. */
const N = 12

type Node = { type: string; value?: string; message?: string; entries?: Array<[Node, Node]> }

/** JSON whitespace and the digits of `i`, `MAX - 64` bytes in all, zlib-compressed (~1 KB). */
function bomb(i: number): Buffer {
  const plain = Buffer.alloc(MAX - 64, 0x20)
  plain.write(String(i), plain.length - String(i).length)
  return deflateSync(plain, { level: 9 })
}

describe.each(BACKENDS)('a page of compressed values past 4 × maxValueSize (%s)', (backend) => {
  let stop: () => Promise<void>
  let cache: Cache
  let admin: AdminServer
  const client = () => new Client(admin.url, TOKEN)
  const raw = (...args: Array<string | Buffer>) =>
    cache.connection.command(args, { key: args[1] as string })
  const bombs = Array.from({ length: N }, (_, i) => bomb(i))

  beforeAll(async () => {
    const server = await backendServer(backend)
    stop = server.stop
    cache = createCache({
      location: server.url,
      keyPrefix: 'db',
      serializer: 'json',
      compressor: 'zlib',
      maxValueSize: MAX,
    })
    admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await stop?.()
  })

  /** The page of `key` (500 rows asked), and how long it took. */
  async function page(key: string, extra: Record<string, string> = {}) {
    const started = performance.now()
    const answer = await client().get(keyPath('default', key, { count: '500', ...extra }))
    return { answer, ms: performance.now() - started }
  }

  /** The value nodes: decoded ones first, then only the page's budget errors. */
  function expectBudgetSpent(values: Node[], first = 0) {
    const decoded = values.filter((v) => v.type === 'int')
    expect(decoded.length).toBeGreaterThan(0)
    expect(decoded.length).toBeLessThanOrEqual(4)
    expect(decoded.map((v) => v.value)).toEqual(
      Array.from({ length: decoded.length }, (_, i) => String(first + i)),
    )
    const rest = values.slice(decoded.length)
    expect(rest.length).toBe(values.length - decoded.length)
    for (const node of rest) {
      expect(node.type).toBe('error')
      expect(node.message).toMatch(/decompression budget .*4 × maxValueSize.* is spent/)
    }
  }

  it('a list: the first values decoded, the rest shown as budget errors, quickly', async () => {
    await raw('RPUSH', cache.makeKey('list'), ...bombs)
    // One call refuses it.
    await expect(cache.lrange('list', 0, -1)).rejects.toBeInstanceOf(CompressionError)
    const { answer, ms } = await page('list')
    expect(answer.status).toBe(200)
    const rows = answer.json.container.rows as Node[][]
    expect(rows).toHaveLength(N)
    expect(answer.json.container.total).toBe(N)
    expectBudgetSpent(rows.map((row) => row[1] as Node))
    expect(ms).toBeLessThan(10_000)
    // Each page has a budget of its own: the next one, from row 4, decodes again.
    const next = await page('list', { cursor: '4' })
    expectBudgetSpent(
      (next.answer.json.container.rows as Node[][]).map((row) => row[1] as Node),
      4,
    )
  })

  it('a hash: every field listed, the values past the budget as errors', async () => {
    const fields = bombs.flatMap((b, i) => [`f${String(i).padStart(2, '0')}`, b])
    await raw('HSET', cache.makeKey('hash'), ...fields)
    const { answer, ms } = await page('hash')
    expect(answer.status).toBe(200)
    const rows = answer.json.container.rows as Node[][]
    expect(rows).toHaveLength(N)
    const values = rows.map((row) => row[1] as Node)
    expect(values.filter((v) => v.type === 'int').length).toBeLessThanOrEqual(4)
    expect(values.filter((v) => v.type === 'int').length).toBeGreaterThan(0)
    const errors = values.filter((v) => v.type === 'error')
    expect(errors).toHaveLength(N - values.filter((v) => v.type === 'int').length)
    for (const node of errors) expect(node.message).toMatch(/decompression budget/)
    expect(ms).toBeLessThan(10_000)
  })

  it('a set, a sorted set and a stream are held to it too', async () => {
    await raw('SADD', cache.makeKey('set'), ...bombs)
    await raw('ZADD', cache.makeKey('zset'), ...bombs.flatMap((b, i) => [String(i), b]))
    for (const b of bombs) await raw('XADD', cache.makeKey('stream'), '*', 'v', b)
    const set = (await page('set')).answer.json.container.rows as Node[][]
    const zset = (await page('zset')).answer.json.container.rows as Node[][]
    const stream = (await page('stream')).answer.json.container.rows as Node[][]
    const values = {
      set: set.map((row) => row[0] as Node),
      zset: zset.map((row) => row[0] as Node),
      stream: stream.map((row) => (row[1] as Node).entries?.[0]?.[1] as Node),
    }
    for (const [kind, nodes] of Object.entries(values)) {
      expect(nodes, kind).toHaveLength(N)
      const decoded = nodes.filter((v) => v.type === 'int').length
      expect(decoded, kind).toBeGreaterThan(0)
      expect(decoded, kind).toBeLessThanOrEqual(4)
      for (const node of nodes.filter((v) => v.type !== 'int')) {
        expect(node.message, kind).toMatch(/decompression budget/)
      }
    }
  })

  it('a string of one value is read as before', async () => {
    await raw('SET', cache.makeKey('one'), bomb(7))
    const { answer } = await page('one')
    expect(answer.status).toBe(200)
    expect(answer.json.string.tree).toEqual({ type: 'int', value: '7' })
    expect(answer.json.string.compressor).toBe('zlib')
  })
})
