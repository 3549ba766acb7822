// The admin's page read (ADMIN_READ, packages/admin/src/_container-read.ts), run natively: each step
// as its Lua does, through the same command handlers. It reads a container in steps (one element,
// then more while they are small) and stops once the page's bytes or stream field pairs are spent.
import { format0f, luaToNumber } from './_lua-number.ts'
import type { Reply } from './_reply.ts'
import type { ScriptCall } from './_scripts-incr.ts'

/** ADMIN_READ: one page of a hash, set, list, zset or stream, read in bounded steps. */
export function adminRead(s: ScriptCall): Reply {
  const key = s.keys[0]
  const [kind, at, n] = s.argv
  const max = luaToNumber(s.argv[3] ?? '') ?? 0
  let left = luaToNumber(s.argv[4] ?? '') ?? 0
  let pairs = luaToNumber(s.argv[5] ?? '') ?? 0
  // The bytes it reads at most, the largest element read, the elements read next at once.
  let budget = luaToNumber(s.argv[6] ?? '') ?? 0
  let big = 1
  let step = 1
  // An element sent whole while it fits, else its length and first 256 bytes.
  const cap = (v: Reply): Reply => {
    if (typeof v !== 'string') return v
    budget -= v.length
    big = Math.max(big, v.length)
    if (v.length > max || v.length > left) return [v.length, v.slice(0, 256)]
    left -= v.length
    return v
  }
  const grow = (fill: number) => {
    step = Math.max(1, Math.min(step * 2, 64, Math.floor(1 / fill / 2)))
  }
  if (kind === 'hash' || kind === 'set') {
    const out: Reply[] = []
    const want = luaToNumber(n ?? '') ?? 0
    let cursor = at
    let asked = 0
    do {
      const count = Math.max(1, Math.min(step, want - asked))
      const scan = kind === 'hash' ? 'HSCAN' : 'SSCAN'
      const reply = s.call(20, scan, key, cursor, 'COUNT', String(count)) as Reply[]
      cursor = String(reply[0])
      for (const v of reply[1] as Reply[]) out.push(cap(v))
      asked += count
      grow(big / budget)
    } while (cursor !== '0' && asked < want && budget > 0)
    return [cursor ?? '', out]
  }
  if (kind === 'list' || kind === 'zset') {
    const out: Reply[] = []
    const last = luaToNumber(n ?? '') ?? 0
    const width = kind === 'zset' ? 2 : 1
    let i = luaToNumber(at ?? '') ?? 0
    while (i <= last && budget > 0) {
      const to = Math.min(last, i + step - 1)
      const got = (
        kind === 'list'
          ? s.call(32, 'LRANGE', key, format0f(i), format0f(to))
          : s.call(33, 'ZRANGE', key, format0f(i), format0f(to), 'WITHSCORES')
      ) as Reply[]
      for (let j = 0; j < got.length; j += width) {
        out.push(cap(got[j] as Reply))
        if (width === 2) out.push(got[j + 1] as Reply)
      }
      if (got.length < (to - i + 1) * width) return ['', out]
      i = to + 1
      grow(big / budget)
    }
    return [i <= last ? format0f(i) : '', out]
  }
  const out: Reply[] = []
  let from = at as string
  let want = luaToNumber(n ?? '') ?? 0
  let heavy = 1
  let wide = 1
  while (want > 0 && pairs > 0 && budget > 0) {
    const count = String(Math.min(step, want))
    const entries = s.call(46, 'XRANGE', key, from, '+', 'COUNT', count) as Reply[][]
    for (const [id, fields] of entries) {
      if (pairs <= 0 || budget <= 0) return [from, out]
      const all = fields as Reply[]
      const take = Math.min(all.length, pairs * 2)
      let bytes = 0
      const sent: Reply[] = []
      all.forEach((v, j) => {
        const length = typeof v === 'string' ? v.length : 0
        bytes += length
        if (j < take) sent.push(cap(v))
        else budget -= length
      })
      heavy = Math.max(heavy, bytes)
      wide = Math.max(wide, all.length / 2)
      pairs -= Math.floor(take / 2)
      out.push([id as Reply, Math.trunc(all.length / 2), sent])
      from = `(${String(id)}`
    }
    if (entries.length < Math.min(step, want)) return ['', out]
    want -= entries.length
    grow(Math.max(heavy / budget, wide / pairs))
  }
  return [want > 0 ? from : '', out]
}
