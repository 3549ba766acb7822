// `owned()` answers as `release()` and `extend()` judge: by the stored bytes. A token with U+FFFD
// in it (well-formed text, so taken) against another holder's token of invalid UTF-8 bytes (as
// redis-py may store, `token=b'\xff\xfe'`): decoded, those bytes read as U+FFFD too.
import type { Connection } from '@cachex/core'
import { uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { Lock, LockNotOwnedError } from '../src/index.ts'
import { BACKENDS, useBackend } from './helpers.ts'

describe.each(BACKENDS)('%s', (backend) => {
  let connection: Connection

  useBackend(backend, (_, connected) => {
    connection = connected
  })

  it('owned() is false when another holder stored bytes that decode as this token', async () => {
    const lock = new Lock(connection, uniquePrefix('owned-bytes'), { timeout: 30 })
    expect(await lock.acquire({ blocking: false, token: '\uFFFD\uFFFD' })).toBe(true)
    expect(await lock.owned()).toBe(true)
    // Another holder took the key (the lock expired meanwhile) with its own token's bytes.
    await connection.command(['SET', lock.name, Buffer.from([0xff, 0xfe]), 'PX', '30000'], {
      key: lock.name,
    })
    expect(await lock.owned()).toBe(false)
    await expect(lock.release()).rejects.toBeInstanceOf(LockNotOwnedError)
    const stored = await connection.command(['GET', lock.name], { key: lock.name })
    expect(Buffer.from(stored as Buffer)).toEqual(Buffer.from([0xff, 0xfe]))
  })

  it('owned() is true for a token of any text, stored as its UTF-8', async () => {
    const lock = new Lock(connection, uniquePrefix('owned-bytes'), { timeout: 30 })
    expect(await lock.acquire({ blocking: false, token: 'ключ 🔒 \uFFFD' })).toBe(true)
    expect(await lock.owned()).toBe(true)
    await lock.release()
    expect(await lock.owned()).toBe(false)
  })
})
