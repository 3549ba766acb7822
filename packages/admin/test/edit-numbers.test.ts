// A value typed in the editor is parsed as Python reads JSON: an integer beyond 2^53 keeps every
// digit (JSON.parse rounded 12345678901234567890 to a float), and a whole number written as a
// float (1.0, 1e3), which JavaScript cannot tell from an integer and would store as one, is
// refused rather than stored changed. Read back by CPython (a pickle cache, as Django's).
import { spawnSync } from 'node:child_process'
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from './helpers.ts'

let server: RedisServer
let cache: Cache
let admin: AdminServer
beforeAll(async () => {
  server = await startRedis()
  cache = createCache({ location: server.url, keyPrefix: 'pk', serializer: 'pickle' })
  admin = await startAdmin({
    caches: { pk: cache },
    auth: { token: TOKEN },
    audit: () => undefined,
  })
})
afterAll(async () => {
  await admin?.close()
  await closeAll(cache)
  await server?.stop()
})

function pythonReads(bytes: Buffer): string {
  const script = 'import pickle,sys; print(repr(pickle.loads(sys.stdin.buffer.read())))'
  const run = spawnSync('/usr/bin/python3', ['-c', script], { input: bytes })
  return String(run.stdout).trim()
}

async function edit(typed: string): Promise<{ status: number; message?: string }> {
  const client = new Client(admin.url, TOKEN)
  const page = await client.get(keyPath('pk', 'n'))
  const put = await client.request('PUT', keyPath('pk', 'n'), {
    revision: page.json.revision,
    value: typed,
  })
  return { status: put.status, message: put.json?.message }
}

const stored = async () =>
  pythonReads((await cache.connection.command(['GET', cache.makeKey('n')])) as Buffer)

it('an integer beyond 2^53 typed is stored with every digit', async () => {
  await cache.set('n', { id: 1 }, 600)
  expect((await edit('{"id": 12345678901234567890, "neg": -9007199254740993}')).status).toBe(200)
  expect(await stored()).toBe("{'id': 12345678901234567890, 'neg': -9007199254740993}")
  // -0 is the int 0 to Python's json.loads (a pickle stored it as the float -0.0).
  expect((await edit('{"a": -0, "b": [-0, -0.5]}')).status).toBe(200)
  expect(await stored()).toBe("{'a': 0, 'b': [0, -0.5]}")
})

it('a whole number written as a float is refused, and the value is left as it was', async () => {
  await cache.set('n', { id: 1 }, 600)
  // -0.0 (and -1e-400, which rounds to it) would be stored as the int 0, not "-0".
  for (const typed of ['[-0.0]', '[-1e-400]']) {
    const answer = await edit(typed)
    expect(answer.status, typed).toBe(400)
    expect(answer.message, typed).toMatch(/^the number -0\.0 is written as a float/)
    expect(answer.message, typed).toMatch(/stored as the integer 0:/)
  }
  for (const typed of ['{"price": 1.0}', '[1e3]', '2.50e1']) {
    const answer = await edit(typed)
    expect(answer.status, typed).toBe(400)
    expect(answer.message, typed).toMatch(/is written as a float .* stored as the integer/)
  }
  expect(await stored()).toBe("{'id': 1}")
  // Fractions are floats both sides.
  expect((await edit('{"price": 1.5}')).status).toBe(200)
  expect(await stored()).toBe("{'price': 1.5}")
})

it('a whole float of 2^53 or more is stored as that float (an int cannot be that large in JS)', async () => {
  await cache.set('n', { id: 1 }, 600)
  const answer = await edit('[1e16, 1.5e300, 12345678901234567890.0, -9007199254740992.0]')
  expect(answer.message).toBeUndefined()
  expect(answer.status).toBe(200)
  expect(await stored()).toBe('[1e+16, 1.5e+300, 1.2345678901234567e+19, -9007199254740992.0]')
  // Just below 2^53, a whole float would become an int: still refused.
  const below = await edit('[9007199254740991.0]')
  expect(below.status).toBe(400)
  expect(below.message).toMatch(/stored as the integer 9007199254740991:/)
})
