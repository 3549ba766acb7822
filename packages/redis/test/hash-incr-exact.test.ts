// hincrby() resolves the exact new value, as incr() does: a number while it is a safe integer, a
// bigint beyond ±(2^53 - 1). node-redis 6 reads an integer reply digit by digit (`n * 10 + d`),
// rounding replies near and above 2^53, so HINCRBY's reply is read as its digits instead.
// It needs no script: an ACL user without scripting gets the same (acl-no-scripting.test.ts).
import { type Cache, createCache, ResponseError } from '@cachex/redis'
import { startCluster, type TestCluster, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { BACKENDS, backendServer, raw } from './helpers.ts'

const SAFE = Number.MAX_SAFE_INTEGER // 2^53 - 1
const TWO_62 = 2n ** 62n

/** The field's stored digits, read raw. */
async function stored(cache: Cache, key: string, field: string): Promise<string> {
  return String(await raw(cache, 'HGET', cache.makeKey(key), field))
}

describe.each(BACKENDS)('%s', (backend) => {
  let server: { url: string; stop(): Promise<void> }
  let cache: Cache

  beforeAll(async () => {
    server = await backendServer(backend)
    cache = createCache({ location: server.url, keyPrefix: uniquePrefix('hincr') })
  })

  afterAll(async () => {
    await cache?.close()
    await server?.stop()
  })

  beforeEach(async () => {
    await cache.clear()
  })

  it('resolves safe integers near 2^53 exactly, as numbers', async () => {
    expect(await cache.hincrby('h', 'f', SAFE - 2)).toBe(SAFE - 2) // 2^53 - 3
    expect(await cache.hincrby('h', 'f', 2)).toBe(SAFE) // 2^53 - 1
    expect(await stored(cache, 'h', 'f')).toBe(String(SAFE))
    // Every result from 2^53 - 64 up to 2^53 - 1, one step at a time.
    expect(await cache.hincrby('h', 'g', SAFE - 64)).toBe(SAFE - 64)
    for (let n = SAFE - 63; n <= SAFE; n++) expect(await cache.hincrby('h', 'g', 1)).toBe(n)
    expect(await cache.hincrby('h', 'n', -(SAFE - 2))).toBe(-(SAFE - 2))
    expect(await cache.hincrby('h', 'n', -2)).toBe(-SAFE)
  })

  it('resolves integers beyond 2^53 exactly, as bigints, and hget agrees', async () => {
    await cache.hincrby('h', 'f', SAFE)
    expect(await cache.hincrby('h', 'f', 10)).toBe(2n ** 53n + 9n)
    expect(await cache.hget('h', 'f')).toBe(2n ** 53n + 9n)
    await cache.hincrby('h', 'n', -SAFE)
    expect(await cache.hincrby('h', 'n', -10)).toBe(-(2n ** 53n) - 9n)
    expect(await cache.hget('h', 'n')).toBe(-(2n ** 53n) - 9n)
    // Back down into the safe range: a number again.
    expect(await cache.hincrby('h', 'f', -10)).toBe(SAFE)
  })

  it('resolves ±2^62 exactly', async () => {
    await raw(
      cache,
      'HSET',
      cache.makeKey('h'),
      'p',
      String(TWO_62 - 1n),
      'm',
      String(-TWO_62 + 1n),
    )
    expect(await cache.hincrby('h', 'p', 1)).toBe(TWO_62)
    expect(await cache.hincrby('h', 'p', 3)).toBe(TWO_62 + 3n)
    expect(await cache.hincrby('h', 'm', -1)).toBe(-TWO_62)
    expect(await cache.hincrby('h', 'm', -3)).toBe(-TWO_62 - 3n)
    expect(await stored(cache, 'h', 'p')).toBe(String(TWO_62 + 3n))
    expect(await stored(cache, 'h', 'm')).toBe(String(-TWO_62 - 3n))
    // int64's ends, and Redis's refusal beyond them (nothing changed).
    await raw(cache, 'HSET', cache.makeKey('h'), 'top', String(2n ** 63n - 2n))
    expect(await cache.hincrby('h', 'top', 1)).toBe(2n ** 63n - 1n)
    await expect(cache.hincrby('h', 'top', 1)).rejects.toThrow(/overflow/)
    expect(await stored(cache, 'h', 'top')).toBe(String(2n ** 63n - 1n))
  })

  it('keeps its errors: a field that is not an integer, a key of another type', async () => {
    await cache.hset('h', 's', 'text')
    const error = await cache.hincrby('h', 's', 1).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseError)
    expect((error as Error).message).toMatch(/^ERR hash value is not an integer/)
    expect((error as Error).message).not.toMatch(/script/)
    await cache.set('str', 1)
    expect(await cache.hincrby('h', 'ok', 1)).toBe(1)
    await expect(cache.hincrby('str', 'f', 1)).rejects.toThrow(/hincrby\(\)/)
    await expect(cache.hincrby('str', 'f', 1)).rejects.not.toThrow(/eval/i)
    const [inPipeline] = await cache.pipeline().hincrby('str', 'f', 1).exec()
    expect(inPipeline).toBeInstanceOf(ResponseError)
    expect(String(inPipeline)).toMatch(/hincrby\(\)/)
    expect(String(inPipeline)).not.toMatch(/eval/i)
  })

  it('takes a bigint amount, as incr does: exact past 2^53, refused past int64 before anything is sent', async () => {
    expect(await cache.hincrby('h', 'f', 2n ** 60n)).toBe(2n ** 60n)
    expect(await cache.hincrby('h', 'f', 2n ** 60n)).toBe(2n ** 61n)
    expect(await cache.hincrby('h', 'f', -(2n ** 61n) + 5n)).toBe(5)
    expect(await cache.hincrby('h', 'g', 2n ** 63n - 1n)).toBe(2n ** 63n - 1n)
    expect(
      await cache
        .pipeline()
        .hincrby('h', 'p', 3n)
        .hincrby('h', 'p', 2n ** 55n)
        .exec(),
    ).toEqual([3, 2n ** 55n + 3n])
    for (const amount of [2n ** 63n, -(2n ** 63n) - 1n]) {
      await expect(cache.hincrby('h', 'x', amount)).rejects.toThrow(
        /hincrby\(\) takes an integer amount within Redis's 64-bit range .*, got/,
      )
    }
    // A number past 2^53 has lost digits already: refused with the hint to pass a bigint.
    await expect(cache.hincrby('h', 'x', 2 ** 60)).rejects.toThrow(/pass it as a bigint/)
    expect(await cache.hget('h', 'x')).toBeNull()
  })

  it('small results stay numbers; a new field starts at 0', async () => {
    expect(await cache.hincrby('h', 'c')).toBe(1)
    expect(await cache.hincrby('h', 'c', 41)).toBe(42)
    expect(await cache.hincrby('h', 'c', -50)).toBe(-8)
    expect(await cache.hget('h', 'c')).toBe(-8)
  })

  it('through a pipeline and a transaction, the same results below 2^53 - 64', async () => {
    const results = await cache
      .pipeline()
      .hincrby('h', 'f', SAFE - 100)
      .hincrby('h', 'f', 36)
      .hincrby('h', 'n', -(SAFE - 64))
      .hincrby('h', 'c', 5)
      .hget('h', 'f')
      .exec()
    expect(results).toEqual([SAFE - 100, SAFE - 64, -(SAFE - 64), 5, SAFE - 64])
    const inTransaction = await cache
      .transaction()
      .hincrby('h', 'f', -1)
      .hincrby('h', 'c', 1)
      .exec()
    expect(inTransaction).toEqual([SAFE - 65, 6])
  })
})

describe('cluster', () => {
  let cluster: TestCluster

  beforeAll(async () => {
    cluster = await startCluster({ primaries: 3, replicasPerPrimary: 0 })
  })

  afterAll(async () => {
    await cluster?.stop()
  })

  it('hincrby resolves exact results on the node of the key, and in a pipeline below 2^53 - 64', async () => {
    const cache = createCache({
      client: 'cluster',
      location: [...cluster.seeds],
      keyPrefix: uniquePrefix('hincr-cluster'),
    })
    try {
      for (const key of ['a', 'b', 'c', 'd']) {
        expect(await cache.hincrby(key, 'f', SAFE - 2)).toBe(SAFE - 2)
        expect(await cache.hincrby(key, 'f', 2)).toBe(SAFE)
        expect(await cache.hincrby(key, 'f', 10)).toBe(2n ** 53n + 9n)
      }
      const results = await cache
        .pipeline()
        .hincrby('b', 'f', -100)
        .hincrby('c', 'g', -(SAFE - 64))
        .hincrby('c', 'g', -1)
        .exec()
      expect(results).toEqual([SAFE - 90, -(SAFE - 64), -(SAFE - 63)])
    } finally {
      await cache.close()
    }
  })
})
