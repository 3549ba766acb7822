// Redis's glob (`stringmatchlen`): `*`, `?`, `[...]` (with `^`, ranges and `\` escapes) and `\`
// escapes, compiled to tokens once and matched with the greedy two-pointer algorithm: at most
// O(pattern × subject) steps, never the exponential backtracking of a naive matcher, and no
// regular expression built from the pattern. Two of Redis's quirks are kept: a class range
// compares bytes as C's (signed) chars, and a pattern of more than `MAX_STARS` stars matches
// nothing.

type Token =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; code: number }
  | {
      kind: 'class'
      negate: boolean
      singles: Set<number>
      /** Inclusive ranges of bytes read as signed chars (`s8`). */
      ranges: Array<[number, number]>
    }

/** Most pattern bytes compiled; longer patterns are refused by the caller's bound on arguments. */
const STAR: Token = { kind: 'star' }
const ANY: Token = { kind: 'any' }

/**
 * Most runs of stars (`**` is one run; a trailing one is not counted) a pattern that matches
 * anything has: `stringmatchlen` recurses at each other run, and gives up (no match) past 1000
 * levels, whatever the subject.
 */
const MAX_STARS = 1000
const NOTHING: Glob = { test: () => false }

/** A byte read as C's `char` (signed on x86-64, where Redis compares class ranges with it). */
const s8 = (c: number): number => (c << 24) >> 24

/** A compiled glob: `test(subject)` on binary strings (one char per byte). */
export interface Glob {
  test(subject: string): boolean
}

/** Compiles a Redis glob pattern (a binary string). */
export function compileGlob(pattern: string): Glob {
  const tokens = tokenize(pattern)
  if (tokens.length === 1 && tokens[0] === STAR) return { test: () => true }
  let stars = 0
  for (let i = 0; i < tokens.length - 1; i++) if (tokens[i] === STAR) stars++
  if (stars > MAX_STARS) return NOTHING
  return { test: (subject) => matchTokens(tokens, subject) }
}

function tokenize(p: string): Token[] {
  const tokens: Token[] = []
  const n = p.length
  let i = 0
  while (i < n) {
    const c = p.charCodeAt(i)
    if (c === 42 /* * */) {
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR)
      i++
    } else if (c === 63 /* ? */) {
      tokens.push(ANY)
      i++
    } else if (c === 91 /* [ */) {
      i++
      const negate = p.charCodeAt(i) === 94 /* ^ */
      if (negate) i++
      const singles = new Set<number>()
      const ranges: Array<[number, number]> = []
      // As stringmatchlen: up to `]`, or to the end of the pattern when there is none.
      while (i < n) {
        const d = p.charCodeAt(i)
        if (d === 92 /* \ */ && i + 1 < n) {
          singles.add(p.charCodeAt(i + 1))
          i += 2
        } else if (d === 93 /* ] */) {
          i++
          break
        } else if (i + 2 < n && p.charCodeAt(i + 1) === 45 /* - */) {
          let start = s8(d)
          let end = s8(p.charCodeAt(i + 2))
          if (start > end) [start, end] = [end, start]
          ranges.push([start, end])
          i += 3
        } else {
          singles.add(d)
          i++
        }
      }
      tokens.push({ kind: 'class', negate, singles, ranges })
    } else if (c === 92 /* \ */ && i + 1 < n) {
      tokens.push({ kind: 'char', code: p.charCodeAt(i + 1) })
      i += 2
    } else {
      tokens.push({ kind: 'char', code: c })
      i++
    }
  }
  return tokens
}

function matchOne(token: Token, code: number): boolean {
  switch (token.kind) {
    case 'any':
      return true
    case 'char':
      return token.code === code
    case 'class': {
      let hit = token.singles.has(code)
      const signed = s8(code)
      if (!hit) for (const [a, b] of token.ranges) if (signed >= a && signed <= b) hit = true
      return hit !== token.negate
    }
    default:
      return false
  }
}

function matchTokens(tokens: Token[], s: string): boolean {
  const m = tokens.length
  const n = s.length
  let p = 0
  let i = 0
  let starP = -1
  let starI = 0
  while (i < n) {
    const token = tokens[p]
    if (token === STAR) {
      starP = p++
      starI = i
    } else if (token !== undefined && matchOne(token, s.charCodeAt(i))) {
      p++
      i++
    } else if (starP >= 0) {
      p = starP + 1
      i = ++starI
    } else {
      return false
    }
  }
  while (tokens[p] === STAR) p++
  return p === m
}
