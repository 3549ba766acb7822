// The user keys and hash field names an error message quotes are bounded: a key may be up to
// 512 MB (and SCAN hands out keys another client wrote), and every error of it — each log line of
// ignoreExceptions, each `console.error(err)` — would carry it whole. A message quotes its first
// 1,024 characters and `…` (never half of a surrogate pair); a shorter key reads as before.
import {
  type Cache,
  createCache,
  InvalidArgumentError,
  KeyNotFoundError,
  LockError,
  ResponseError,
  SerializationError,
} from '@cachex/redis'
import { standaloneServer, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

interface BytesClient {
  sendCommand(args: Array<string | Buffer>): Promise<unknown>
}

const BOUND = 1024
/**
 * A message that quotes a bounded key at most twice (incr's hint names it again: `add('k', 0)`),
 * with room for the rest of its words.
 */
const MESSAGE_LIMIT = 2 * BOUND + 300

let server: { url: string; stop(): Promise<void> }
let cache: Cache
const prefix = uniquePrefix('key-bounds')

/** A key of `length` characters, each position telling where it is (no two heads alike). */
function longKey(tag: string, length: number): string {
  return `${tag}:`.padEnd(length, 'k')
}

const TEN_MB = 10 * 1024 * 1024

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(Error)
  return error as Error
}

/** Runs a command with byte arguments as another client would. */
async function rawBytes(...args: Array<string | Buffer>): Promise<unknown> {
  const client = (await cache.connection.client()) as BytesClient
  return client.sendCommand(args)
}

beforeAll(async () => {
  server = await standaloneServer()
  cache = createCache({ location: server.url, keyPrefix: prefix })
})

afterAll(async () => {
  await cache?.close()
  await server?.stop()
})

describe('a key of 10 MB in an error message', () => {
  const key = longKey('hash', TEN_MB)
  const head = `${key.slice(0, BOUND)}…`

  beforeAll(async () => {
    await cache.hset(key, 'f', 1)
  })

  it('get() of it holding a hash: the first 1,024 characters and …', async () => {
    const error = await rejection(cache.get(key))
    expect(error).toBeInstanceOf(ResponseError)
    expect(error.message.length).toBeLessThan(MESSAGE_LIMIT)
    expect(
      error.message.startsWith(
        `get() on key '${head}': it holds a hash, which get() does not work on (WRONGTYPE`,
      ),
    ).toBe(true)
  })

  it("a pipeline's WRONGTYPE for it", async () => {
    const [queued] = await cache.pipeline().get(key).exec()
    expect(queued).toBeInstanceOf(ResponseError)
    const message = (queued as Error).message
    expect(message.length).toBeLessThan(MESSAGE_LIMIT)
    expect(message.startsWith(`get() on key '${head}': it holds a hash`)).toBe(true)
  })

  it('incr() of a missing key of 10 MB', async () => {
    const missing = longKey('missing', TEN_MB)
    const error = await rejection(cache.incr(missing))
    expect(error).toBeInstanceOf(KeyNotFoundError)
    expect(error.message.length).toBeLessThan(MESSAGE_LIMIT)
    const quoted = `${missing.slice(0, BOUND)}…`
    expect(error.message).toBe(
      `key '${quoted}' not found: incr() and decr() need a stored number (as in Django); store one first, e.g. add('${quoted}', 0)`,
    )
  })

  it('hgetall() of it when a field name of 1 MB is not valid UTF-8', async () => {
    const field = Buffer.concat([Buffer.alloc(1024 * 1024, 0x66), Buffer.from([0xff])])
    await rawBytes('HSET', cache.makeKey(key), field, '1')
    const error = await rejection(cache.hgetall(key))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message.length).toBeLessThan(MESSAGE_LIMIT)
    expect(error.message).toBe(
      `hgetall() on key '${head}': a field name is not valid UTF-8, so no string names it (written as bytes by another client)`,
    )
    await rawBytes('HDEL', cache.makeKey(key), field)
  })

  it('hset() on it of a field name with a lone surrogate', async () => {
    const error = await rejection(cache.hset(key, 'a\ud800b', 1))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(error.message.length).toBeLessThan(MESSAGE_LIMIT)
    expect(error.message.startsWith(`hset() on key '${head}': a field name holds a lone`)).toBe(
      true,
    )
  })
})

describe('a hash field name of 1 MB in an error message', () => {
  it('a value that cannot be read: the field is bounded as the key is', async () => {
    const field = longKey('field', 1024 * 1024)
    await rawBytes('HSET', cache.makeKey('h'), field, 'not json {')
    const error = await rejection(cache.hget('h', field))
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message.length).toBeLessThan(MESSAGE_LIMIT)
    expect(
      error.message.startsWith(`cannot read key 'h' field '${field.slice(0, BOUND)}…': `),
    ).toBe(true)
  })
})

describe('a lock name of 10 MB in an error message', () => {
  it('acquireLock() of a lock another owner holds', async () => {
    const name = longKey('lock', TEN_MB)
    const holder = await cache.acquireLock(name, { timeout: 30 })
    try {
      const error = await rejection(cache.acquireLock(name, { blocking: false }))
      expect(error).toBeInstanceOf(LockError)
      expect(error.message).toBe(
        `could not acquire the lock '${name.slice(0, BOUND)}…': another owner holds it (blocking: false)`,
      )
    } finally {
      await holder.release()
    }
  })
})

describe('the bound', () => {
  it('never ends on half of a surrogate pair', async () => {
    // U+1F600 takes characters 1,023 and 1,024 (indexes 1,023 and 1,024): the head keeps 1,023.
    const key = `${'p'.repeat(BOUND - 1)}\u{1F600}${'q'.repeat(10)}`
    await cache.hset(key, 'f', 1)
    const error = await rejection(cache.get(key))
    expect(error.message.startsWith(`get() on key '${'p'.repeat(BOUND - 1)}…': it holds`)).toBe(
      true,
    )
  })

  it('a key of exactly 1,024 characters is quoted whole', async () => {
    const key = longKey('exact', BOUND)
    await cache.hset(key, 'f', 1)
    const error = await rejection(cache.get(key))
    expect(error.message.startsWith(`get() on key '${key}': it holds a hash`)).toBe(true)
  })

  it("a short key's message is unchanged", async () => {
    await cache.hset('short', 'f', 1)
    const error = await rejection(cache.incr('short'))
    expect(error.message).toBe(
      "incr() on key 'short': it holds a hash, which incr() does not work on (WRONGTYPE Operation against a key holding the wrong kind of value)",
    )
    const missing = await rejection(cache.incr('nothing-here'))
    expect(missing.message).toBe(
      "key 'nothing-here' not found: incr() and decr() need a stored number (as in Django); store one first, e.g. add('nothing-here', 0)",
    )
  })
})
