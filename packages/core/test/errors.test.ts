// Two copies of @cachex/core in one process (two versions installed side by side): an error of
// one copy is an instance of the other's class of the same code, so cachex's own checks (the
// NOSCRIPT fallback, ignoreExceptions, WRONGTYPE messages) and the user's `instanceof` hold.
import { describe, expect, it } from 'vitest'
import * as errors from '../src/errors.ts'

// A query makes the module a second instance: its classes are not this copy's.
const secondCopy = '../src/errors.ts?second-copy'
const other = (await import(secondCopy)) as typeof errors

describe('errors of another copy of @cachex/core', () => {
  it('is a second set of classes', () => {
    expect(other.ResponseError).not.toBe(errors.ResponseError)
    expect(
      Function.prototype[Symbol.hasInstance].call(
        errors.ResponseError,
        new other.ResponseError('x'),
      ),
    ).toBe(false)
  })

  it('matches the class of its code and the classes that class derives from', () => {
    const noscript = new other.ResponseError('NOSCRIPT No matching script')
    expect(noscript instanceof errors.ResponseError).toBe(true)
    expect(noscript instanceof errors.CachexError).toBe(true)
    expect(noscript instanceof errors.ConnectionError).toBe(false)
    expect(noscript instanceof errors.CrossSlotError).toBe(false)
    expect(errors.isIgnorable(noscript)).toBe(true)

    const crossSlot = new other.CrossSlotError('keys in different slots')
    expect(crossSlot instanceof errors.CrossSlotError).toBe(true)
    expect(crossSlot instanceof errors.ResponseError).toBe(true)

    const closed = new other.ClosedError('closed')
    expect(closed instanceof errors.ClosedError).toBe(true)
    expect(closed instanceof errors.ConnectionError).toBe(true)
    expect(closed instanceof errors.TimeoutError).toBe(false)
    expect(errors.isIgnorable(new other.InvalidArgumentError('bad'))).toBe(false)
  })

  it('works both ways, and for a subclass a user made of the other copy', () => {
    expect(new errors.LockNotOwnedError('gone') instanceof other.LockError).toBe(true)
    class Mine extends other.TimeoutError {}
    expect(new Mine('slow') instanceof errors.TimeoutError).toBe(true)
    expect(new Mine('slow') instanceof errors.ResponseError).toBe(false)
  })

  it('does not take anything else for a cachex error', () => {
    const lookalike = Object.assign(new Error('NOSCRIPT'), {
      code: 'E_RESPONSE',
      name: 'ResponseError',
    })
    expect(lookalike instanceof errors.ResponseError).toBe(false)
    expect((null as unknown as object) instanceof errors.CachexError).toBe(false)
    expect({ code: 'E_CACHEX' } instanceof errors.CachexError).toBe(false)
    // A user's subclass of this copy is checked as usual: another copy's error of the same code
    // is not one of its instances.
    class Strict extends errors.ResponseError {}
    expect(new other.ResponseError('x') instanceof Strict).toBe(false)
    expect(new Strict('x') instanceof errors.ResponseError).toBe(true)
  })
})

describe('isWrongType', async () => {
  const { isWrongType } = await import('../src/_messages.ts')
  it("matches a command's WRONGTYPE and a script's, as Redis 7 and Redis 6 word it", () => {
    const server = 'WRONGTYPE Operation against a key holding the wrong kind of value'
    expect(isWrongType(new errors.ResponseError(server))).toBe(true)
    // Redis 6 wraps the error of a command a script ran.
    const redis6 = `ERR Error running script (call to f_2d1f): @user_script:1: ${server}`
    expect(isWrongType(new errors.ResponseError(redis6))).toBe(true)
    expect(isWrongType(new errors.ResponseError('ERR value is not an integer'))).toBe(false)
    expect(isWrongType(new Error(server))).toBe(false)
  })
})
