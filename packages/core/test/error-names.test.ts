// A minified bundle (esbuild --minify, terser's class-name mangling) renames classes: an error's
// `name` (the first word of a logged stack) must still be the class cachex documents, and an error
// of another copy of @cachex/core must still be recognised. Renaming the classes at runtime does
// what a minifier does to them.
import { afterAll, describe, expect, it } from 'vitest'
import * as errors from '../src/errors.ts'

const secondCopy = '../src/errors.ts?minified-copy'
const other = (await import(secondCopy)) as typeof errors

type ErrorClass = new (message: string) => errors.CachexError
const names = [
  'CachexError',
  'ConnectionError',
  'TimeoutError',
  'BackpressureError',
  'ResponseError',
  'CrossSlotError',
  'SerializationError',
  'CompressionError',
  'InvalidArgumentError',
  'KeyNotFoundError',
  'NotANumberError',
  'LockError',
  'LockNotOwnedError',
  'MissingDependencyError',
  'ClosedError',
] as const

function classOf(module: typeof errors, name: (typeof names)[number]): ErrorClass {
  return module[name] as unknown as ErrorClass
}

// Mangled as a minifier would: each copy's classes get short names of their own.
const original = new Map<ErrorClass, PropertyDescriptor>()
for (const [module, prefix] of [
  [errors, 'a'],
  [other, 'b'],
] as const) {
  names.forEach((name, i) => {
    const type = classOf(module, name)
    original.set(type, Object.getOwnPropertyDescriptor(type, 'name') as PropertyDescriptor)
    Object.defineProperty(type, 'name', { value: `${prefix}${i}`, configurable: true })
  })
}
afterAll(() => {
  for (const [type, descriptor] of original) Object.defineProperty(type, 'name', descriptor)
})

describe('error classes renamed by a minifier', () => {
  it.each(names)('%s keeps its documented name', (name) => {
    const error = new (classOf(errors, name))('x')
    expect(error.name).toBe(name)
    expect(String(error.stack).startsWith(`${name}: x`)).toBe(true)
    expect(Object.getOwnPropertyDescriptor(error, 'name')?.enumerable).toBe(true)
  })

  it('still recognises the errors of another copy, by code', () => {
    expect(new other.ResponseError('NOSCRIPT x') instanceof errors.ResponseError).toBe(true)
    expect(new other.CrossSlotError('x') instanceof errors.ResponseError).toBe(true)
    expect(new other.ClosedError('x') instanceof errors.ConnectionError).toBe(true)
    expect(new other.ClosedError('x') instanceof errors.TimeoutError).toBe(false)
    expect(new errors.LockNotOwnedError('x') instanceof other.LockError).toBe(true)
    expect(errors.isIgnorable(new other.InvalidArgumentError('x'))).toBe(false)
    expect(errors.isIgnorable(new other.TimeoutError('x'))).toBe(true)
  })

  it("names a user's subclass after the user's class", () => {
    class QuotaError extends errors.ConnectionError {}
    expect(new QuotaError('x').name).toBe('QuotaError')
    class Named extends errors.CachexError {
      constructor(message: string) {
        super(message)
        this.name = 'MyName'
      }
    }
    expect(new Named('x').name).toBe('MyName')
  })

  it('names a class registered with recognizeAcrossCopies by the name it gives', () => {
    class Quirk extends errors.ConnectionError {
      override readonly code: string = 'E_QUIRK'
    }
    errors.recognizeAcrossCopies(Quirk, 'QuirkError')
    Object.defineProperty(Quirk, 'name', { value: 'q', configurable: true })
    expect(new Quirk('x').name).toBe('QuirkError')
  })
})
