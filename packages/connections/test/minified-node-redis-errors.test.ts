// A minified bundle (esbuild --minify, terser's class-name mangling) renames node-redis's error
// classes as well as cachex's: cachex must tell node-redis's errors apart without their class
// names, here renamed at runtime as a minifier would. A client handed in from another copy of
// @redis/client (another version installed) throws that copy's classes: still recognised.

import { readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { ClosedError, ConnectionError } from '@cachex/core'
import * as redis from '@redis/client'
import { afterAll, describe, expect, it } from 'vitest'
import { describeClusterFailure } from '../src/_cluster-describe.ts'
import { FailoverError, isClientClosed, isDisconnected, toCachexError } from '../src/_errors.ts'

const mangled = [
  'ClientClosedError',
  'DisconnectsClientError',
  'SocketClosedUnexpectedlyError',
  'RootNodesUnavailableError',
  'ErrorReply',
] as const
const restore: [object, PropertyDescriptor][] = []
for (const type of [
  redis.ClientClosedError,
  redis.DisconnectsClientError,
  redis.SocketClosedUnexpectedlyError,
  redis.RootNodesUnavailableError,
  redis.ErrorReply,
]) {
  restore.push([type, Object.getOwnPropertyDescriptor(type, 'name') as PropertyDescriptor])
  Object.defineProperty(type, 'name', { value: 'a', configurable: true })
}
afterAll(() => {
  for (const [type, descriptor] of restore) Object.defineProperty(type, 'name', descriptor)
})

const wording = { secrets: [], passwordGoes: 'the URL', plainAdvice: undefined }

describe("node-redis's errors, their classes renamed", () => {
  it('tells a closed client (sent again through the slot map) and a destroyed one', () => {
    expect(isClientClosed(new redis.ClientClosedError())).toBe(true)
    expect(isDisconnected(new redis.DisconnectsClientError())).toBe(true)
    expect(isClientClosed(new redis.DisconnectsClientError())).toBe(false)
    expect(isClientClosed(new Error('ECONNREFUSED'))).toBe(false)
    expect(toCachexError(new redis.ClientClosedError())).toBeInstanceOf(ClosedError)
  })

  it('keeps why no cluster seed answered', () => {
    const why = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    })
    const text = describeClusterFailure(new redis.RootNodesUnavailableError(), why, wording)
    expect(text).toBe('All the root nodes are unavailable (connect ECONNREFUSED 127.0.0.1:1)')
  })

  it('words an error with no message by its node-redis class, not a mangled name', () => {
    const error = toCachexError(new redis.SocketClosedUnexpectedlyError())
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.message).toBe('Socket closed unexpectedly')
  })

  it('names FailoverError literally', () => {
    const descriptor = Object.getOwnPropertyDescriptor(FailoverError, 'name') as PropertyDescriptor
    Object.defineProperty(FailoverError, 'name', { value: 'f', configurable: true })
    try {
      expect(new FailoverError('x').name).toBe('FailoverError')
    } finally {
      Object.defineProperty(FailoverError, 'name', descriptor)
    }
  })
})

// Another copy of @redis/client, as a user's own client brings (a version beside cachex's).
const pnpm = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.pnpm')
const otherDir = readdirSync(pnpm).find(
  (d) => d.startsWith('@redis+client@') && require_(d) !== redis,
)
function require_(dir: string): unknown {
  return createRequire(join(pnpm, dir, 'node_modules', '@redis', 'client', 'package.json'))(
    '@redis/client',
  )
}

describe.runIf(otherDir !== undefined)('another copy of @redis/client, its classes renamed', () => {
  const other = require_(otherDir as string) as typeof redis
  for (const name of mangled) {
    Object.defineProperty(other[name], 'name', { value: 'b', configurable: true })
  }

  it('is another set of classes', () => {
    expect(other.ClientClosedError).not.toBe(redis.ClientClosedError)
    expect(new other.ClientClosedError() instanceof redis.ClientClosedError).toBe(false)
  })

  it("still tells a closed client, a destroyed one, and the seeds' failure", () => {
    expect(isClientClosed(new other.ClientClosedError())).toBe(true)
    expect(isDisconnected(new other.DisconnectsClientError())).toBe(true)
    expect(toCachexError(new other.ClientClosedError())).toBeInstanceOf(ClosedError)
    const why = new Error('connect ECONNREFUSED 127.0.0.1:1')
    expect(describeClusterFailure(new other.RootNodesUnavailableError(), why, wording)).toBe(
      'All the root nodes are unavailable (connect ECONNREFUSED 127.0.0.1:1)',
    )
  })
})
