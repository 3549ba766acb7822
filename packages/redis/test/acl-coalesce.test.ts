// Coalesced calls under ACL users: the calls of one tick go to Redis as one command (MGET,
// EXISTS, HMGET, MSET, a script), which an ACL refuses whole (`NOPERM`) for one forbidden key,
// or for the command itself when the user may run only the single-key one. Each caller must still
// be answered on its own — and a write refused whole must not be sent again behind later calls.
import { delay, type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Cache, createCache, ResponseError } from '../src/index.ts'
import { commandsDuring } from './helpers.ts'

let server: RedisServer
let admin: ReturnType<typeof createClient>
const open: Cache[] = []

beforeAll(async () => {
  server = await startRedis()
  admin = createClient({ url: server.url })
  await admin.connect()
  const setUser = (...args: string[]) => admin.sendCommand(['ACL', 'SETUSER', ...args])
  // Every command, on the keys `app:1:ok*` only.
  await setUser('part', 'on', '>part-pw', '~app:1:ok*', '+@all')
  // Single-key commands only: no MGET, MSET, HMGET, SMISMEMBER, ZMSCORE; scripts neither.
  await setUser(
    'single',
    'on',
    '>single-pw',
    '~app:*',
    '-@all',
    ...['+get', '+set', '+unlink', '+pexpire', '+pttl', '+exists', '+ping', '+hello', '+auth'],
    ...['+hset', '+hget', '+sadd', '+sismember', '+zadd', '+zscore'],
  )
  // MGET, but no EXISTS (what a nil of an MGET is checked with).
  await setUser(
    'noexists',
    'on',
    '>noexists-pw',
    '~app:*',
    '-@all',
    ...['+get', '+mget', '+set', '+ping', '+hello', '+auth'],
  )
  // Everything; scripting is revoked during a test.
  await setUser('revoked', 'on', '>revoked-pw', '~app:*', '+@all')
})

afterEach(async () => {
  for (const cache of open.splice(0)) await cache.close()
})

afterAll(async () => {
  await admin?.close()
  await server?.stop()
})

function cacheAs(user: string): Cache {
  const location = server.url.replace('redis://', `redis://${user}:${user}-pw@`)
  const cache = createCache({ location, keyPrefix: 'app' })
  open.push(cache)
  return cache
}

/** The commands the server ran while `fn` ran, of the given names (MONITOR: refused ones not). */
function sent(names: string[], fn: () => Promise<unknown>): Promise<string[][]> {
  return commandsDuring(server.port, names, fn, (args) => admin.sendCommand(args))
}

/** The outcome of each promise: its value, or its error's class and message. */
async function outcomes(calls: Promise<unknown>[]): Promise<unknown[]> {
  return (await Promise.allSettled(calls)).map((s) =>
    s.status === 'fulfilled'
      ? s.value
      : s.reason instanceof ResponseError
        ? `ResponseError: ${s.reason.message}`
        : s.reason,
  )
}

const KEY_REFUSED = /^ResponseError: NOPERM .*keys/

/** Runs enough batches of sets with an expiry that the cache knows its user may run scripts. */
async function learnScripts(cache: Cache): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await Promise.all([cache.set('ok-w1', 1, 60), cache.set('ok-w2', 2, 60)])
    await delay(20)
  }
}

describe('one forbidden key among the reads of one tick', () => {
  it('gets: the allowed one is answered, the forbidden one rejects with NOPERM, every time', async () => {
    await admin.set('app:1:ok', '"v"')
    const cache = cacheAs('part')
    for (let round = 0; round < 2; round++) {
      const [mine, missing, theirs] = await outcomes([
        cache.get('ok'),
        cache.get('ok-missing', 'default'),
        cache.get('secret'),
      ])
      expect(mine).toBe('v')
      expect(missing).toBe('default')
      expect(theirs).toMatch(KEY_REFUSED)
    }
    // A refusal for a key does not stop gathering: allowed keys still go as one MGET.
    const commands = await sent(['GET', 'MGET'], () =>
      Promise.all([cache.get('ok'), cache.get('ok-missing')]),
    )
    expect(commands.map((c) => c[0]?.toUpperCase())).toEqual(['MGET'])
  })

  it('hasKey: the allowed one is answered, the forbidden one rejects with NOPERM', async () => {
    await admin.set('app:1:ok', '"v"')
    const cache = cacheAs('part')
    const [mine, missing, theirs] = await outcomes([
      cache.hasKey('ok'),
      cache.hasKey('ok-missing'),
      cache.hasKey('secret'),
    ])
    expect([mine, missing]).toEqual([true, false])
    expect(theirs).toMatch(KEY_REFUSED)
  })
})

describe('one forbidden key among the writes of one tick', () => {
  it('sets without an expiry: the batch is refused whole, then each set goes alone', async () => {
    const cache = cacheAs('part')
    // Refused before anything ran: nothing stored, and not sent again behind later calls.
    const first = await outcomes([cache.set('ok-a', 1, null), cache.set('secret', 1, null)])
    expect(first).toEqual([expect.stringMatching(/MSET/), expect.stringMatching(/MSET/)])
    expect(first[0]).toMatch(KEY_REFUSED)
    expect(await admin.exists('app:1:ok-a')).toBe(0)
    // From then on one SET each: only the forbidden key fails.
    const second = await outcomes([cache.set('ok-a', 2, null), cache.set('secret', 2, null)])
    expect(second[0]).toBe(true)
    expect(second[1]).toMatch(KEY_REFUSED)
    expect(await cache.get('ok-a')).toBe(2)
  })

  it('sets with an expiry, run as one script: refused whole, then each set goes alone', async () => {
    const cache = cacheAs('part')
    await learnScripts(cache)
    const first = await outcomes([cache.set('ok-b', 1, 60), cache.set('secret', 1, 60)])
    expect(first).toEqual([expect.stringMatching(/script/), expect.stringMatching(/script/)])
    expect(first[0]).toMatch(KEY_REFUSED)
    expect(await admin.exists('app:1:ok-b')).toBe(0)
    const second = await outcomes([cache.set('ok-b', 2, 60), cache.set('secret', 2, 60)])
    expect(second[0]).toBe(true)
    expect(second[1]).toMatch(KEY_REFUSED)
    expect(await cache.get('ok-b')).toBe(2)
    expect(await cache.ttl('ok-b')).toBeGreaterThan(50)
  })

  it('a delete called after a refused batch of sets is not undone', async () => {
    const cache = cacheAs('part')
    await cache.set('ok-c', 0, null)
    const [a, b, deleted] = await outcomes([
      cache.set('ok-c', 1, null),
      cache.set('secret', 1, null),
      cache.delete('ok-c'),
    ])
    expect([a, b]).toEqual([expect.stringMatching(KEY_REFUSED), expect.stringMatching(KEY_REFUSED)])
    expect(deleted).toBe(true)
    await delay(50)
    expect(await admin.exists('app:1:ok-c')).toBe(0)
  })

  it('incrs of several keys: the script is refused whole (nothing ran), then each key alone', async () => {
    const cache = cacheAs('part')
    await cache.set('ok-n', 1, null)
    const first = await outcomes([cache.incr('ok-n'), cache.incr('secret')])
    expect(first).toEqual([expect.stringMatching(KEY_REFUSED), expect.stringMatching(KEY_REFUSED)])
    expect(await cache.get('ok-n')).toBe(1)
    const second = await outcomes([cache.incr('ok-n'), cache.incr('secret')])
    expect(second[0]).toBe(2)
    expect(second[1]).toMatch(KEY_REFUSED)
  })
})

describe('a refused batch of incrs is not answered late', () => {
  it('a set called after the incrs of one tick is not overtaken by them', async () => {
    const cache = cacheAs('part')
    await cache.set('ok-m', 1, null)
    const [mine, theirs, stored] = await outcomes([
      cache.incr('ok-m'),
      cache.incr('secret'),
      cache.set('ok-m', 10, null),
    ])
    expect([mine, theirs]).toEqual([
      expect.stringMatching(KEY_REFUSED),
      expect.stringMatching(KEY_REFUSED),
    ])
    expect(stored).toBe(true)
    await delay(50)
    expect(await cache.get('ok-m')).toBe(10)
  })
})

describe('a user allowed the single-key commands only', () => {
  it('concurrent gets are answered as lone ones, and then go as one GET each', async () => {
    await admin.set('app:1:a', '1')
    await admin.set('app:1:b', '2')
    const cache = cacheAs('single')
    expect(await outcomes([cache.get('a'), cache.get('b'), cache.get('c', 'none')])).toEqual([
      1,
      2,
      'none',
    ])
    const commands = await sent(['GET', 'MGET'], async () => {
      expect(await Promise.all([cache.get('a'), cache.get('b')])).toEqual([1, 2])
    })
    expect(commands.map((c) => c[0]?.toUpperCase())).toEqual(['GET', 'GET'])
  })

  it('concurrent sets: the first tick is refused whole (nothing stored), the next ones each go alone', async () => {
    const cache = cacheAs('single')
    const refused = /^ResponseError: NOPERM .*'mset'.*MSET/
    expect(await outcomes([cache.set('s1', 1, null), cache.set('s2', 2, null)])).toEqual([
      expect.stringMatching(refused),
      expect.stringMatching(refused),
    ])
    expect(await admin.exists(['app:1:s1', 'app:1:s2'])).toBe(0)
    expect(await outcomes([cache.set('s1', 1, null), cache.set('s2', 2, null)])).toEqual([
      true,
      true,
    ])
    expect(await outcomes([cache.set('s1', 3, 60), cache.set('s2', 4, 60)])).toEqual([true, true])
    expect(await Promise.all([cache.get('s1'), cache.get('s2')])).toEqual([3, 4])
  })

  it('concurrent hgets, sismembers and zscores are answered as lone ones', async () => {
    const cache = cacheAs('single')
    await cache.hset('h', 'f', 1)
    await cache.hset('h', 'g', 2)
    await cache.sadd('s', 1)
    await cache.zadd('z', { a: 1, b: 2 })
    for (let round = 0; round < 2; round++) {
      expect(await outcomes([cache.hget('h', 'f'), cache.hget('h', 'g')])).toEqual([1, 2])
      expect(await outcomes([cache.sismember('s', 1), cache.sismember('s', 2)])).toEqual([
        true,
        false,
      ])
      expect(await outcomes([cache.zscore('z', 'a'), cache.zscore('z', 'b')])).toEqual([1, 2])
    }
  })

  it('concurrent hasKeys (EXISTS allowed) are answered', async () => {
    await admin.set('app:1:a', '1')
    const cache = cacheAs('single')
    expect(await outcomes([cache.hasKey('a'), cache.hasKey('nope')])).toEqual([true, false])
  })
})

describe('reads refused by the ACL with close() called right after them', () => {
  // The many-member command is refused after close() began: each read is answered from its own
  // command, sent behind the batch as the connection closes.
  it('hgets, sismembers and zscores of one tick are answered as lone ones', async () => {
    await admin.sendCommand(['HSET', 'app:1:ch', 'f1', '1', 'f2', '2'])
    await admin.sendCommand(['SADD', 'app:1:cs', '1'])
    await admin.sendCommand(['ZADD', 'app:1:cz', '5', '1'])
    const reads: [string, (cache: Cache) => Promise<unknown>[], unknown[]][] = [
      ['hget', (c) => [c.hget('ch', 'f1'), c.hget('ch', 'f2'), c.hget('ch', 'f3')], [1, 2, null]],
      ['sismember', (c) => [c.sismember('cs', 1), c.sismember('cs', 2)], [true, false]],
      ['zscore', (c) => [c.zscore('cz', 1), c.zscore('cz', 2)], [5, null]],
    ]
    for (const [name, calls, expected] of reads) {
      const cache = cacheAs('single')
      await cache.get('warm')
      const pending = calls(cache)
      const closed = cache.close()
      expect([name, await outcomes(pending)]).toEqual([name, expected])
      await closed
    }
  })

  it('gets of one tick are answered as lone ones', async () => {
    await admin.set('app:1:ca', '1')
    await admin.set('app:1:cb', '2')
    const cache = cacheAs('single')
    await cache.get('warm')
    const pending = [cache.get('ca'), cache.get('cb'), cache.get('cc', 'none')]
    const closed = cache.close()
    expect(await outcomes(pending)).toEqual([1, 2, 'none'])
    await closed
  })
})

describe('a user allowed MGET but not EXISTS', () => {
  it('a nil of a coalesced get is answered as its own GET would (its default)', async () => {
    await admin.set('app:1:there', '1')
    const cache = cacheAs('noexists')
    for (let round = 0; round < 2; round++) {
      expect(
        await outcomes([cache.get('there'), cache.get('missing', 'dflt'), cache.get('gone')]),
      ).toEqual([1, 'dflt', null])
    }
  })
})

describe('scripting revoked while the cache runs', () => {
  it('sets then a delete of one tick: the sets reject, the delete is not undone, later sets store', async () => {
    await admin.sendCommand(['ACL', 'SETUSER', 'revoked', '+@scripting'])
    const cache = cacheAs('revoked')
    await learnScripts(cache)
    await admin.sendCommand(['ACL', 'SETUSER', 'revoked', '-@scripting'])
    try {
      const [a, b, deleted] = await outcomes([
        cache.set('ra', 1, 60),
        cache.set('rb', 2, 60),
        cache.delete('ra'),
      ])
      expect([a, b]).toEqual([
        expect.stringMatching(/^ResponseError: NOPERM .*'eval/),
        expect.stringMatching(/^ResponseError: NOPERM .*'eval/),
      ])
      expect(deleted).toBe(false)
      await delay(50)
      expect(await admin.exists(['app:1:ra', 'app:1:rb'])).toBe(0)
      // The next writes go as SET … PX.
      expect(await outcomes([cache.set('ra', 1, 60), cache.set('rb', 2, 60)])).toEqual([true, true])
      expect(await cache.getMany(['ra', 'rb'])).toEqual(
        new Map([
          ['ra', 1],
          ['rb', 2],
        ]),
      )
      expect(await cache.ttl('ra')).toBeGreaterThan(50)
    } finally {
      await admin.sendCommand(['ACL', 'SETUSER', 'revoked', '+@scripting'])
    }
  })

  it('setMany with an expiry then a delete: setMany rejects, the delete is not undone', async () => {
    await admin.sendCommand(['ACL', 'SETUSER', 'revoked', '+@scripting'])
    const cache = cacheAs('revoked')
    await learnScripts(cache)
    await admin.sendCommand(['ACL', 'SETUSER', 'revoked', '-@scripting'])
    try {
      const [many, deleted] = await outcomes([cache.setMany({ x: 1, y: 2 }, 60), cache.delete('x')])
      expect(many).toMatch(/^ResponseError: NOPERM .*'eval/)
      expect(deleted).toBe(false)
      await delay(50)
      expect(await admin.exists(['app:1:x', 'app:1:y'])).toBe(0)
      expect(await cache.setMany({ x: 1, y: 2 }, 60)).toEqual([])
      expect(await cache.get('y')).toBe(2)
    } finally {
      await admin.sendCommand(['ACL', 'SETUSER', 'revoked', '+@scripting'])
    }
  })
})

describe("a user whose key patterns leave out the cache's prefix", () => {
  it('is told which keys to allow, by every kind of call', async () => {
    const location = server.url.replace('redis://', 'redis://part:part-pw@')
    const cache = createCache({ location, keyPrefix: 'other' })
    open.push(cache)
    const hint =
      /^ResponseError: NOPERM .*permissions to access.* \(the ACL user's key patterns must allow this cache's keys, which begin with 'other:' \(keyPrefix\): allow ~other:\*\)$/
    const refused = await outcomes([
      cache.get('k'),
      cache.set('k', 1),
      cache.ttl('k'),
      cache.delete('k'),
      cache.getMany(['k', 'l']),
      cache.hset('h', 'f', 1),
    ])
    for (const outcome of refused) expect(outcome).toMatch(hint)
    // A prefix holding glob characters: escaped in the pattern, as Redis matches it.
    const glob = createCache({ location, keyPrefix: 'a*b[c]' })
    open.push(glob)
    expect(await outcomes([glob.get('k')])).toEqual([
      expect.stringMatching(/begin with 'a\*b\[c\]:' \(keyPrefix\): allow ~a\\\*b\\\[c\\\]:\*\)$/),
    ])
    // A user key function's keys are not named.
    const own = createCache({ location, keyPrefix: 'other', keyFunction: (k) => `x:${k}` })
    open.push(own)
    expect(await outcomes([own.get('k')])).toEqual([
      expect.stringMatching(
        /\(the ACL user's key patterns must allow this cache's keys \(its keyFunction's\)\)$/,
      ),
    ])
  })
})
