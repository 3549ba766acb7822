import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  defaultKeyFunction,
  defaultReverseKeyFunction,
  globEscape,
  InvalidArgumentError,
} from '../src/index.ts'
import { checkedKeyFunction } from '../src/key-function.ts'

describe('defaultKeyFunction', () => {
  it('builds prefix:version:key as Django does', () => {
    expect(defaultKeyFunction('foo', '', 1)).toBe(':1:foo')
    expect(defaultKeyFunction('foo', 'app', 2)).toBe('app:2:foo')
    expect(defaultKeyFunction('a:b', 'x:y', 10)).toBe('x:y:10:a:b')
    expect(defaultKeyFunction('', 'app', 1)).toBe('app:1:')
    expect(defaultKeyFunction('日本', '🔑', -1)).toBe('🔑:-1:日本')
  })
})

describe('defaultReverseKeyFunction', () => {
  it('strips the prefix and the version', () => {
    expect(defaultReverseKeyFunction(':1:foo', '', 1)).toBe('foo')
    expect(defaultReverseKeyFunction('app:2:foo', 'app', 2)).toBe('foo')
    expect(defaultReverseKeyFunction('app:1:a:b:c', 'app', 1)).toBe('a:b:c')
  })

  it('handles prefixes that contain colons', () => {
    expect(defaultReverseKeyFunction('a:b:c:1:key', 'a:b:c', 1)).toBe('key')
    expect(defaultReverseKeyFunction('a:b:c:1:key:x', 'a:b:c', 1)).toBe('key:x')
    expect(defaultReverseKeyFunction('::1::', ':', 1)).toBe(':')
  })

  it('inverts defaultKeyFunction for any key, prefix and version', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer(), (key, prefix, version) => {
        const redisKey = defaultKeyFunction(key, prefix, version)
        expect(defaultReverseKeyFunction(redisKey, prefix, version)).toBe(key)
      }),
    )
  })
})

describe('globEscape', () => {
  it('escapes every Redis glob metacharacter', () => {
    expect(globEscape('a*b')).toBe('a\\*b')
    expect(globEscape('a?b')).toBe('a\\?b')
    expect(globEscape('a[bc]d')).toBe('a\\[bc\\]d')
    expect(globEscape('a\\b')).toBe('a\\\\b')
    expect(globEscape('*?[]\\')).toBe('\\*\\?\\[\\]\\\\')
  })

  it('leaves other text alone', () => {
    expect(globEscape('')).toBe('')
    expect(globEscape('plain:prefix-1_2.3')).toBe('plain:prefix-1_2.3')
    expect(globEscape('日本😀^$+(){}|')).toBe('日本😀^$+(){}|')
  })

  it('matches only the text itself under a Redis-style glob', () => {
    // A reference matcher for Redis glob patterns restricted to what escaping can produce:
    // `\x` matches x literally, and unescaped metacharacters never appear.
    const matches = (pattern: string, text: string) => {
      let out = ''
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern[i] as string
        if (c === '\\') out += pattern[++i] ?? ''
        else if ('*?['.includes(c)) return false
        else out += c
      }
      return out === text
    }
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(matches(globEscape(text), text)).toBe(true)
      }),
    )
  })
})

describe('checkedKeyFunction', () => {
  it('a key function that throws a value with no text is refused in words', () => {
    const keyFunction = checkedKeyFunction(() => {
      throw Object.create(null)
    }, 'keyFunction')
    expect(() => keyFunction('k', 'p', 1)).toThrow(
      new InvalidArgumentError('keyFunction failed: a value that cannot be shown'),
    )
    const symbolMessage = checkedKeyFunction(() => {
      const error = new Error()
      Object.defineProperty(error, 'message', { value: Symbol('s') })
      throw error
    }, 'keyFunction')
    expect(() => symbolMessage('k', 'p', 1)).toThrow(
      new InvalidArgumentError('keyFunction failed: Symbol(s)'),
    )
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const revokedThrown = checkedKeyFunction(() => {
      throw proxy
    }, 'keyFunction')
    expect(() => revokedThrown('k', 'p', 1)).toThrow(InvalidArgumentError)
  })
})
