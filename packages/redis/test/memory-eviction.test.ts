// memory://'s `maxBytes` eviction (`allkeys-lru`): a key that keeps growing is evicted itself,
// a transaction's writes are not evicted between its commands, held locks and cachex's own
// bookkeeping keys (fencing counters) are never evicted, and a large eviction is done in slices
// of at most 25 ms rather than in one hold of the event loop.
import { spawnSync } from 'node:child_process'
import { createCache } from '@cachex/redis'
import { delay, uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'

const MB = 1024 * 1024
type Cache = ReturnType<typeof createCache>

/** A cache on a private memory:// store bounded at `maxBytes`. */
function bounded(maxBytes: number): Cache {
  return createCache({ location: `memory://${uniquePrefix('ev')}`, memoryOptions: { maxBytes } })
}

async function used(cache: Cache): Promise<number> {
  const info = String(await cache.connection.command(['INFO', 'memory']))
  return Number(/used_memory:(\d+)/.exec(info)?.[1])
}

describe('memory:// maxBytes bounds one key that keeps growing', () => {
  const big = 'x'.repeat(256 * 1024)
  const writes: Array<[string, (c: Cache, i: number) => Promise<unknown>]> = [
    ['rpush', (c, i) => c.rpush('l', big + i)],
    ['hset', (c, i) => c.hset('h', `f${i}`, big)],
    ['sadd', (c, i) => c.sadd('s', big + i)],
    ['zadd', (c, i) => c.zadd('z', { [big + i]: i })],
    ['xadd', (c) => c.xadd('x', { f: big })],
    ['append', (c) => c.connection.command(['APPEND', 'a', big], { key: 'a' })],
  ]
  for (const [name, write] of writes) {
    it(`${name}: 64 writes of 256 KiB into one key stay within 2 MiB, every one answered`, async () => {
      const cache = bounded(2 * MB)
      try {
        let most = 0
        for (let i = 0; i < 64; i++) {
          await write(cache, i)
          most = Math.max(most, await used(cache))
        }
        // As allkeys-lru does: the key, the only one there is, is evicted once it alone is over the
        // bound, and the next write starts it again.
        expect(most).toBeLessThanOrEqual(2 * MB)
        expect(most).toBeGreaterThan(MB)
      } finally {
        await cache.close()
      }
    }, 60_000)
  }

  it('a process pushing 1 MiB elements into one list of a store bounded at 16 MiB does not run out of heap', () => {
    const child = `
      import { memory } from '@cachex/connections'
      const mem = memory({ memoryOptions: { maxBytes: 16 * 1024 * 1024 } })
      for (let i = 0; i < 600; i++) await mem.command(['RPUSH', 'l', 'x'.repeat(1024 * 1024 - 8) + String(i).padStart(8, '0')])
      console.log('survived', await mem.command(['LLEN', 'l']))
      await mem.close()
    `
    const run = spawnSync(
      process.execPath,
      ['--max-old-space-size=128', '--input-type=module', '-e', child],
      { cwd: new URL('..', import.meta.url).pathname, encoding: 'utf8', timeout: 110_000 },
    )
    expect(run.stderr).not.toMatch(/heap/i)
    expect(run.stdout).toMatch(/^survived \d+$/m)
    expect(Number(/survived (\d+)/.exec(run.stdout)?.[1])).toBeLessThanOrEqual(16)
  }, 120_000)
})

describe('memory:// transactions and eviction', () => {
  it('a transaction is not evicted between its commands: a later command reads an earlier write', async () => {
    const cache = bounded(MB)
    const value = 'x'.repeat(600 * 1024)
    try {
      const replies = await cache.transaction().set('a', value).set('b', value).get('a').exec()
      expect(replies.map((r) => (r === value ? 'value' : r))).toEqual([true, true, 'value'])
      // Past the bound once it ran: the least recently used key goes (`a` was read last).
      expect(await used(cache)).toBeLessThanOrEqual(MB)
      expect(await cache.get('b')).toBeNull()
      expect((await cache.get('a')) === value).toBe(true)
    } finally {
      await cache.close()
    }
  })

  it('a transaction that writes past the bound and frees room again keeps its writes', async () => {
    const cache = bounded(MB)
    const value = 'x'.repeat(600 * 1024)
    try {
      expect(await cache.transaction().set('a', value).set('b', value).delete('b').exec()).toEqual([
        true,
        true,
        true,
      ])
      expect((await cache.get('a')) === value).toBe(true)
    } finally {
      await cache.close()
    }
  })
})

describe('memory:// never evicts held locks and fencing counters', () => {
  const blob = 'x'.repeat(256 * 1024)

  it('a held lock stays held while the store evicts', async () => {
    const cache = createCache({
      location: `memory://${uniquePrefix('ev')}`,
      keyPrefix: 'app',
      memoryOptions: { maxBytes: 4 * MB },
    })
    try {
      const first = cache.lock('ledger', { timeout: 600 })
      expect(await first.acquire({ blocking: false })).toBe(true)
      const semaphore = cache.semaphore('pool', { limit: 1, timeout: 600 })
      expect(await semaphore.acquire({ blocking: false })).toBe(true)
      for (let i = 0; i < 64; i++) await cache.set(`blob${i}`, blob)
      expect(await cache.get('blob0')).toBeNull() // evicting it was
      const second = cache.lock('ledger', { timeout: 600 })
      expect(await second.acquire({ blocking: false })).toBe(false)
      expect(await first.owned()).toBe(true)
      const other = cache.semaphore('pool', { limit: 1, timeout: 600 })
      expect(await other.acquire({ blocking: false })).toBe(false)
      await first.release()
      // Released, then taken again: held again, so kept again.
      expect(await second.acquire({ blocking: false })).toBe(true)
      for (let i = 0; i < 64; i++) await cache.set(`blob${i}`, blob)
      expect(await second.owned()).toBe(true)
    } finally {
      await cache.close()
    }
  }, 60_000)

  it('fencing tokens only grow across holds while the store evicts', async () => {
    const cache = createCache({
      location: `memory://${uniquePrefix('ev')}`,
      memoryOptions: { maxBytes: 4 * MB },
    })
    try {
      const lock = cache.lock('ledger', { timeout: 600 })
      for (let i = 0; i < 5; i++) {
        await lock.acquire()
        await lock.release()
      }
      for (let i = 0; i < 64; i++) await cache.set(`blob${i}`, blob)
      await lock.acquire()
      expect(lock.fencingToken).toBe(6)
      await lock.release()
    } finally {
      await cache.close()
    }
  }, 60_000)
})

describe('memory:// eviction does not hold the event loop', () => {
  it('a large write over many small keys evicts them in slices, and the store gets back under its bound', async () => {
    const maxBytes = 64 * MB
    const cache = bounded(maxBytes)
    try {
      // ~900k small keys (73 counted bytes each) fill the store.
      for (let i = 0; (await used(cache)) < maxBytes - MB; i += 10_000) {
        const args = ['MSET']
        for (let j = i; j < i + 10_000; j++) args.push(`k${j}`, 'v')
        await cache.connection.command(args, { key: `k${i}` })
      }
      const big = 'x'.repeat(48 * MB)
      await cache.set('big', big)
      // The write's eviction is left, but for a slice, to the turns that follow: the store is
      // still over its bound when the write is answered (below). (Compared in wall time with the
      // same write on an empty store, it failed on a loaded machine: 271 ms over 250.)
      // The longest time the loop is held between two turns while the store catches up, as this
      // process's CPU time in it (a loaded machine's scheduling delays are no stall of ours).
      let worst = 0
      let lastWall = performance.now()
      let lastCpu = process.cpuUsage()
      let running = true
      const spin = (): void => {
        const wall = performance.now()
        const cpu = process.cpuUsage()
        const busy = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000
        worst = Math.max(worst, Math.min(wall - lastWall, busy))
        lastWall = wall
        lastCpu = cpu
        if (running) setImmediate(spin)
      }
      setImmediate(spin)
      // Over the bound when the write is answered, for a while (by at most the bound itself),
      // then back under it.
      const until = Date.now() + 30_000
      let now = await used(cache)
      expect(now).toBeGreaterThan(maxBytes)
      expect(now).toBeLessThanOrEqual(2 * maxBytes)
      while (now > maxBytes && Date.now() < until) {
        await delay(10)
        now = await used(cache)
      }
      running = false
      expect(now).toBeLessThanOrEqual(maxBytes)
      expect((await cache.get('big')) === big).toBe(true)
      expect(await cache.connection.command(['EXISTS', 'k0'], { key: 'k0' })).toBe(0)
      expect(worst).toBeLessThan(200)
    } finally {
      await cache.close()
    }
  }, 120_000)
})
