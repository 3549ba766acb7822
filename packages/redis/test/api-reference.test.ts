// docs/api.md lists every method of a Cache: a method added without its row fails here.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Cache } from '../src/index.ts'

const reference = readFileSync(new URL('../../../docs/api.md', import.meta.url), 'utf8')

describe('docs/api.md', () => {
  it('has a row for every method of Cache', () => {
    const methods = Object.getOwnPropertyNames(Cache.prototype).filter((name) => {
      const descriptor = Object.getOwnPropertyDescriptor(Cache.prototype, name)
      return name !== 'constructor' && typeof descriptor?.value === 'function'
    })
    expect(methods.length).toBeGreaterThan(100)
    const missing = methods.filter((name) => !reference.includes(`\`${name}(`))
    expect(missing).toEqual([])
  })
})
