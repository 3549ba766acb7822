// Calls land in the order they were made, on every topology: a batch of commands (a pipeline's
// or a transaction's `exec()`, `touch`'s PERSIST + EXISTS, the SETs of a first set batch with an expiry) is sent in
// the tick it is called in, not a tick later behind the calls made after it; and `close()` sends
// nothing that could overtake them. Each of these once lost the later call: a delete undone, a
// newer value replaced by an older one.
import { createCache } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { deploymentsWithMemory, onDeployment } from './helpers.ts'

describe.each(deploymentsWithMemory('order'))('$name: calls land in call order', (topology) => {
  const deployed = onDeployment(topology, 'order')
  const { connected, settled } = deployed

  it("a pipeline's exec(), then a delete of its key in the same tick: the delete lands last", async () => {
    const cache = await connected()
    const pipe = cache.pipeline()
    pipe.set('a', 1)
    const executed = pipe.exec()
    const deleted = cache.delete('a')
    expect(await executed).toEqual([true])
    expect(await deleted).toBe(true)
    await settled(cache)
    expect(await cache.get('a')).toBe(null)
  })

  it("a transaction's exec(), then a delete and a set of its keys in the same tick: they land last", async () => {
    const cache = await connected()
    // One hash slot, for a cluster's transaction.
    const tx = cache.transaction()
    tx.set('{t}a', 1)
    tx.set('{t}b', 'old')
    const executed = tx.exec()
    const deleted = cache.delete('{t}a')
    const set = cache.set('{t}b', 'new')
    expect(await executed).toEqual([true, true])
    expect([await deleted, await set]).toEqual([true, true])
    await settled(cache)
    expect(await cache.get('{t}a')).toBe(null)
    expect(await cache.get('{t}b')).toBe('new')
  })

  it('a getMany, then a SET sent on cache.connection in the same tick: the getMany reads first', async () => {
    const cache = await connected()
    await cache.set('k', 1)
    await settled(cache)
    const read = cache.getMany(['k'])
    const written = cache.connection.command(['SET', cache.makeKey('k'), '2'])
    expect(await read).toEqual(new Map([['k', 1]]))
    await written
    await settled(cache)
    expect(await cache.get('k')).toBe(2)
  })

  it("a get and a getMany of a lock's key, then the lock taken in the same tick: both read first", async () => {
    const cache = await connected()
    const lock = cache.lock('job')
    const [value, found, taken] = await Promise.all([
      cache.get('job', 'free'),
      cache.getMany(['job']),
      lock.acquire({ blocking: false }),
    ])
    expect([value, found.size, taken]).toEqual(['free', 0, true])
    await lock.release()
  })

  it('touch(key, null), then delete(key) in the same tick: both find the key', async () => {
    const cache = await connected()
    await cache.set('a', 1, 100)
    const touched = cache.touch('a', null)
    const deleted = cache.delete('a')
    expect(await touched).toBe(true)
    expect(await deleted).toBe(true)
    await settled(cache)
    expect(await cache.get('a')).toBe(null)
  })

  it('the first sets with an expiry, then a delete, then close(): the key stays deleted', async () => {
    const keyPrefix = uniquePrefix('order')
    const check = await connected(keyPrefix)
    // A new cache: whether its user may run scripts is not known yet.
    const cache = createCache({ ...deployed.options, keyPrefix })
    await cache.get('connected')
    const calls = Promise.all([cache.set('a', 1, 60), cache.set('b', 1, 60), cache.delete('a')])
    await cache.close()
    expect(await calls).toEqual([true, true, true])
    await settled(check)
    expect(await check.get('a')).toBe(null)
    expect(await check.get('b')).toBe(1)
  })

  it('the first sets with an expiry, then a newer set of one key, then close(): the newer value stays', async () => {
    const keyPrefix = uniquePrefix('order')
    const check = await connected(keyPrefix)
    const cache = createCache({ ...deployed.options, keyPrefix })
    await cache.get('connected')
    const calls = Promise.all([
      cache.set('a', 'old', 60),
      cache.set('b', 'old', 60),
      cache.set('a', 'new', 120), // another expiry: a lone SET, sent after the batch
    ])
    await cache.close()
    expect(await calls).toEqual([true, true, true])
    await settled(check)
    expect(await check.get('a')).toBe('new')
  })

  it('setMany with an expiry over many keys, then a delete of one in the same tick', async () => {
    const cache = await connected()
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`)
    const stored = cache.setMany(Object.fromEntries(keys.map((k) => [k, k])), 60)
    const deleted = cache.delete('k7')
    expect(await stored).toEqual([])
    expect(await deleted).toBe(true)
    await settled(cache)
    expect(await cache.get('k7')).toBe(null)
    expect(await cache.get('k8')).toBe('k8')
  })
  it('a get and a set, then a setMany with an expiry of the same key in the same tick: the setMany lands last', async () => {
    const cache = await connected()
    await cache.set('k', 'old')
    await settled(cache)
    const [got] = await Promise.all([cache.get('k'), cache.setMany({ k: 'new' })])
    expect(got).toBe('old')
    await Promise.all([cache.set('a', 1), cache.setMany({ a: 2 })])
    await settled(cache)
    expect(await cache.get('a')).toBe(2)
  })

  it('deletePattern, then sets of keys it matches in the same tick: the sets stay', async () => {
    const cache = await connected()
    const keys = Array.from({ length: 60 }, (_, i) => `p${i}`)
    await cache.setMany(Object.fromEntries(keys.map((k) => [k, 'old'])))
    await cache.set('q', 'old')
    await settled(cache)
    // Several SCAN pages: the later UNLINKs are sent after the sets.
    const [deleted] = await Promise.all([
      cache.deletePattern('p*', { itersize: 10 }),
      cache.set('p1', 'new'),
      cache.setMany({ p2: 'new', p59: 'new' }),
      cache.set('q', 'new'),
    ])
    // A key written after it is deleted first, on its own (and counted), then left to the write.
    expect(deleted).toBe(60)
    await settled(cache)
    const left = await cache.getMany([...keys, 'q'])
    expect(Object.fromEntries(left)).toEqual({ p1: 'new', p2: 'new', p59: 'new', q: 'new' })
  })

  it('deletePattern, then moves into a key it matches, an expire, a setMany: they find it deleted', async () => {
    const cache = await connected()
    await cache.rpush('{m}src', 'x')
    await cache.sadd('{m}set', 'y')
    await cache.rpush('{m}d:list', 'old')
    await cache.sadd('{m}d:set', 'old')
    await cache.setMany({ '{m}d:e': 1, '{m}d:a': 'old', '{m}d:b': 'old' })
    await settled(cache)
    const calls = await Promise.all([
      cache.deletePattern('{m}d:*'),
      cache.lmove('{m}src', '{m}d:list', 'LEFT', 'RIGHT'),
      cache.smove('{m}set', '{m}d:set', 'y'),
      cache.expire('{m}d:e', 100),
      cache.setMany({ '{m}d:a': 'new', '{m}d:b': 'new' }),
    ])
    expect(calls).toEqual([5, 'x', true, false, []])
    await settled(cache)
    expect(await cache.lrange('{m}d:list', 0, -1)).toEqual(['x'])
    expect(await cache.smembers('{m}d:set')).toEqual(['y'])
    expect(await cache.hasKey('{m}d:e')).toBe(false)
    expect(await cache.getMany(['{m}d:a', '{m}d:b'])).toEqual(
      new Map([
        ['{m}d:a', 'new'],
        ['{m}d:b', 'new'],
      ]),
    )
  })

  it('deletePattern, then writes that keep or change what a matching key holds: they find it deleted', async () => {
    const cache = await connected()
    await cache.setMany({ pa: 'old', pc: 1.5 })
    await cache.hset('ph', 'f', 1)
    await cache.sadd('ps', 'old')
    await cache.set('pg', 'old')
    await settled(cache)
    const calls = await Promise.allSettled([
      cache.deletePattern('p*'),
      cache.add('pa', 'new'),
      cache.hdel('ph', 'f'),
      cache.sadd('ps', 'new'),
      cache.getOrSet('pg', 'new'),
      cache.incr('pc'),
    ])
    expect(
      calls.map((c) => (c.status === 'fulfilled' ? c.value : (c.reason as Error).name)),
    ).toEqual([5, true, 0, 1, 'new', 'KeyNotFoundError'])
    await settled(cache)
    expect(await cache.get('pa')).toBe('new')
    expect(await cache.hasKey('ph')).toBe(false)
    expect(await cache.smembers('ps')).toEqual(['new'])
    expect(await cache.get('pg')).toBe('new')
    expect(await cache.hasKey('pc')).toBe(false)
  })

  it('a transaction with calls that queue nothing, exec(), then a delete of its key in the same tick: the delete lands last', async () => {
    const cache = await connected()
    const tx = cache.transaction()
    tx.set('{t}a', 1)
    // Nothing to send: each resolves its value, and must not hold the transaction back a tick.
    tx.deleteMany([])
    tx.getMany([])
    tx.setMany({})
    const executed = tx.exec()
    const deleted = cache.delete('{t}a')
    expect(await executed).toEqual([true, 0, new Map(), []])
    expect(await deleted).toBe(true)
    await settled(cache)
    expect(await cache.get('{t}a')).toBe(null)
  })

  it('getOrSet of a plain value, then a delete or a set of its key in the same tick: they land last', async () => {
    const cache = await connected()
    // Missing: getOrSet stores its value, the delete then removes it.
    expect(await Promise.all([cache.getOrSet('g', 1), cache.delete('g')])).toEqual([1, true])
    await settled(cache)
    expect(await cache.get('g')).toBe(null)
    // Missing: getOrSet answers its own value, the set then replaces it.
    expect(await Promise.all([cache.getOrSet('s', 1), cache.set('s', 2)])).toEqual([1, true])
    await settled(cache)
    expect(await cache.get('s')).toBe(2)
    // Present: getOrSet answers the stored value, and stores nothing; the delete finds the key.
    expect(await Promise.all([cache.getOrSet('s', 3), cache.delete('s')])).toEqual([2, true])
    await settled(cache)
    expect(await cache.get('s')).toBe(null)
  })
})
