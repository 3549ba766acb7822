// memory:// SSCAN, ZSCAN, HSCAN and SCAN when a key's collection is replaced during a walk without
// losing members (SUNIONSTORE/SINTERSTORE/SDIFFSTORE into the key itself, RENAME of a superset
// over it): as Redis's, the walk returns every element present throughout (repeats allowed), and
// SCAN every key present throughout.
import { memory } from '@cachex/connections'
import type { Connection } from '@cachex/core'
import { uniquePrefix } from '@cachex/test-utils'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

let mem: Connection

beforeEach(() => {
  mem = memory({ location: `memory://${uniquePrefix('scanreplaced')}` })
})

afterEach(async () => {
  await mem.close()
})

const run = (...args: string[]) => mem.command(args)
const names = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

/**
 * A whole walk (`SCAN` when `key` is null) with COUNT 20: every name returned (repeats included).
 * `between` runs after each step but the last, with the number of steps so far.
 */
async function walk(
  scan: 'SCAN' | 'SSCAN' | 'ZSCAN' | 'HSCAN',
  key: string | null,
  between: (steps: number) => Promise<unknown>,
): Promise<string[]> {
  const seen: string[] = []
  const cursors = new Set<string>()
  let cursor = '0'
  let steps = 0
  do {
    const head = key === null ? [scan, cursor] : [scan, key, cursor]
    const reply = (await run(...head, 'COUNT', '20')) as [unknown, unknown[]]
    const items = reply[1].map(String)
    seen.push(
      ...(scan === 'ZSCAN' || scan === 'HSCAN' ? items.filter((_, i) => i % 2 === 0) : items),
    )
    cursor = String(reply[0])
    // A cursor handed out twice in one walk would make it endless.
    expect(cursor !== '0' && cursors.has(cursor)).toBe(false)
    cursors.add(cursor)
    steps++
    if (steps > 10_000) throw new Error('the walk does not end')
    if (cursor !== '0') await between(steps)
  } while (cursor !== '0')
  return seen
}

const missing = (all: string[], seen: string[]) => {
  const got = new Set(seen)
  return all.filter((m) => !got.has(m)).length
}

const REWRITES: Array<[string, () => Promise<unknown>]> = [
  ['SUNIONSTORE s s extra', () => run('SUNIONSTORE', 's', 's', 'extra')],
  ['SINTERSTORE s s', () => run('SINTERSTORE', 's', 's')],
  ['SDIFFSTORE s s none', () => run('SDIFFSTORE', 's', 's', 'none')],
  [
    'SUNIONSTORE tmp s extra, RENAME tmp s',
    async () => {
      await run('SUNIONSTORE', 'tmp', 's', 'extra')
      await run('RENAME', 'tmp', 's')
    },
  ],
]

describe('SSCAN over a set rewritten in place during the walk', () => {
  const all = names(2000)

  beforeEach(async () => {
    await run('SADD', 's', ...all)
    await run('SADD', 'extra', 'x1', 'x2')
  })

  it.each(REWRITES)('%s after 100 members: all 2,000 are returned', async (_name, rewrite) => {
    const seen = await walk('SSCAN', 's', (steps) => (steps === 5 ? rewrite() : Promise.resolve()))
    expect(missing(all, seen)).toBe(0)
    // Each member once: the new set is walked on from where the old one was.
    expect(seen.filter((m) => m.startsWith('m'))).toHaveLength(2000)
  })

  it('rewritten at every step: all 2,000 are returned, and the walk ends', async () => {
    let i = 0
    const seen = await walk('SSCAN', 's', () =>
      (REWRITES[i++ % 4] as [string, () => Promise<unknown>])[1](),
    )
    expect(missing(all, seen)).toBe(0)
  })

  it('a superset walked before the walk began, renamed over the key: all 2,000 are returned', async () => {
    await run('SUNIONSTORE', 'tmp', 's', 'extra')
    // tmp's walk order is made before s's: its places come before every cursor of s's walk.
    await walk('SSCAN', 'tmp', () => Promise.resolve())
    const seen = await walk('SSCAN', 's', (steps) =>
      steps === 5 ? run('RENAME', 'tmp', 's') : Promise.resolve(),
    )
    expect(missing(all, seen)).toBe(0)
  })

  it('shrunk to 100 members (SINTERSTORE with a subset): the 100 are returned', async () => {
    const kept = all.filter((_, i) => i % 20 === 0)
    await run('SADD', 'subset', ...kept)
    const seen = await walk('SSCAN', 's', (steps) =>
      steps === 5 ? run('SINTERSTORE', 's', 's', 'subset') : Promise.resolve(),
    )
    expect(missing(kept, seen)).toBe(0)
  })
})

describe('SSCAN with a cursor of another set', () => {
  it('on a set never walked, returns all of it', async () => {
    const other = names(2000, 'o')
    await run('SADD', 'a', ...names(2000))
    await run('SADD', 'b', ...other)
    const [cursor] = (await run('SSCAN', 'a', '0', 'COUNT', '500')) as [unknown, unknown[]]
    const seen: string[] = []
    let next = String(cursor)
    let steps = 0
    do {
      const reply = (await run('SSCAN', 'b', next, 'COUNT', '20')) as [unknown, unknown[]]
      seen.push(...reply[1].map(String))
      next = String(reply[0])
      if (++steps > 10_000) throw new Error('the walk does not end')
    } while (next !== '0')
    expect(missing(other, seen)).toBe(0)
  })
})

describe('ZSCAN and HSCAN with a superset renamed over the key during the walk', () => {
  const all = names(2000)

  it('ZSCAN returns all 2,000 members', async () => {
    await run('ZADD', 'z', ...all.flatMap((m, i) => [String(i), m]))
    await run('ZADD', 'tmpz', '-1', 'extra', ...all.flatMap((m, i) => [String(i), m]))
    const seen = await walk('ZSCAN', 'z', (steps) =>
      steps === 5 ? run('RENAME', 'tmpz', 'z') : Promise.resolve(),
    )
    expect(missing(all, seen)).toBe(0)
  })

  it('HSCAN returns all 2,000 fields', async () => {
    await run('HSET', 'h', ...all.flatMap((f) => [f, '1']))
    const seen = await walk('HSCAN', 'h', async (steps) => {
      if (steps !== 5) return
      await run('HSET', 'tmph', 'extra', '1', ...all.flatMap((f) => [f, '1']))
      await run('RENAME', 'tmph', 'h')
    })
    expect(missing(all, seen)).toBe(0)
  })
})

describe('SCAN with a set key rewritten in place during the walk', () => {
  it.each(REWRITES.slice(0, 3))('%s: the key is returned', async (_name, rewrite) => {
    const keys = names(2000, 'k')
    await run('MSET', ...keys.flatMap((k) => [k, 'v']))
    await run('SADD', 'extra', 'x1', 'x2')
    // The last key made: the walk has not reached it when it is rewritten.
    await run('SADD', 's', ...names(200))
    const seen = await walk('SCAN', null, async (steps) => {
      // Keys added during the walk (it may skip them) first: a key made after them is past
      // where the walk ends.
      if (steps === 4) await run('MSET', ...names(1000, 'late').flatMap((k) => [k, 'v']))
      if (steps === 5) await rewrite()
    })
    expect(missing([...keys, 's', 'extra'], seen)).toBe(0)
  })
})
