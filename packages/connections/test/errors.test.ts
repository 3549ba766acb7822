// Two copies of @cachex/connections in one process (two versions installed side by side): a
// FailoverError of one copy is a FailoverError of the other, as core's error classes are.
import { ConnectionError, isIgnorable } from '@cachex/core'
import { describe, expect, it } from 'vitest'
import { FailoverError } from '../src/_errors.ts'

// A query makes the module a second instance: its FailoverError is not this copy's.
const secondCopy = '../src/_errors.ts?second-copy'
const other = (await import(secondCopy)) as { FailoverError: typeof FailoverError }

describe('FailoverError of another copy of @cachex/connections', () => {
  it('is another class', () => {
    expect(other.FailoverError).not.toBe(FailoverError)
    expect(
      Function.prototype[Symbol.hasInstance].call(FailoverError, new other.FailoverError('x')),
    ).toBe(false)
  })

  it('is an instance of this copy’s FailoverError, both ways, and still a ConnectionError', () => {
    const failover = new other.FailoverError('the sentinels are failing over')
    expect(failover instanceof FailoverError).toBe(true)
    expect(new FailoverError('x') instanceof other.FailoverError).toBe(true)
    expect(failover instanceof ConnectionError).toBe(true)
    expect(isIgnorable(failover)).toBe(true)
  })

  it('does not take another connection error for one', () => {
    expect(new ConnectionError('refused') instanceof FailoverError).toBe(false)
    class Mine extends FailoverError {}
    expect(new other.FailoverError('x') instanceof Mine).toBe(false)
    expect(new Mine('x') instanceof FailoverError).toBe(true)
  })
})
