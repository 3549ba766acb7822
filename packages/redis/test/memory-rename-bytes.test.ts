// memory:// RENAME (and so incrVersion) counts a key as it did before it was renamed: it took off
// a key overhead of 64 bytes where the store adds `KEY_OVERHEAD` (192), so each rename counted 128
// bytes more, and a lone small key renamed 512 times was evicted under a 64 KiB bound.
import { createCache } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, expect, it } from 'vitest'

const cache = createCache({
  location: `memory://${uniquePrefix('rename')}`,
  memoryOptions: { maxBytes: 64 * 1024 },
})

afterAll(async () => {
  await cache.close()
})

it('a key renamed back and forth keeps the size it counted', async () => {
  await cache.set('a', 'v')
  const before = Number(await cache.connection.command(['MEMORY', 'USAGE', cache.makeKey('a')]))
  for (let i = 0; i < 10; i++) {
    await cache.rename('a', 'b')
    await cache.rename('b', 'a')
  }
  const after = Number(await cache.connection.command(['MEMORY', 'USAGE', cache.makeKey('a')]))
  expect(after).toBe(before)
})

it('incrVersion of a key does not grow its count, nor get it evicted', async () => {
  await cache.set('v', 'value', null, { version: 1 })
  let failedAt = 0
  for (let i = 1; i < 600; i++) {
    try {
      await cache.incrVersion('v', 1, { version: i })
    } catch {
      failedAt = i
      break
    }
  }
  expect(failedAt).toBe(0)
  expect(await cache.get('v', null, { version: 600 })).toBe('value')
})
