// A list moved onto itself (LMOVE, RPOPLPUSH, BLMOVE with the same key) keeps its expiry, as on
// Redis, which pops and pushes on the one list: memory:// took the last item first, which dropped
// the key, and pushed it on a new key with no expiry (the key then lived for ever).
import { describe, it } from 'vitest'
import { bothBackends } from './_both-backends.ts'

const { both } = bothBackends()

describe('a list moved onto itself keeps its expiry', () => {
  const moves: Array<[string, string[]]> = [
    ['LMOVE', ['LMOVE', 'q', 'q', 'RIGHT', 'LEFT']],
    ['RPOPLPUSH', ['RPOPLPUSH', 'q', 'q']],
    ['BLMOVE', ['BLMOVE', 'q', 'q', 'LEFT', 'RIGHT', '1']],
  ]
  for (const [name, move] of moves) {
    for (const items of [['job'], ['a', 'b', 'c']]) {
      it(`${name} of ${items.length} item(s)`, async () => {
        await both('RPUSH', 'q', ...items)
        await both('EXPIRE', 'q', '5000')
        await both(...move)
        await both('TTL', 'q')
        await both('LRANGE', 'q', '0', '-1')
      })
    }
  }
})
