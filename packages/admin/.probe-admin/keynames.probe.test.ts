// Probe: key names a hostile Redis content author writes directly (huge, control characters).
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis, trackUnhandledRejections } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type AdminServer,
  Client,
  closeAll,
  keyPath,
  startAdmin,
  TOKEN,
  waitForJob,
} from '../test/helpers.ts'

let server: RedisServer
let cache: Cache
let admin: AdminServer
const raw = (...args: Array<string | Buffer>) =>
  cache.connection.command(args, { key: args[1] as string })

beforeAll(async () => {
  server = await startRedis()
  cache = createCache({ location: server.url, keyPrefix: 'kn' })
  admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
})

afterAll(async () => {
  await admin?.close()
  await closeAll(cache)
  await server?.stop()
})

describe('key names', () => {
  it('NUL, control, bidi characters in a key name: open, edit and delete it', async () => {
    const client = new Client(admin.url, TOKEN)
    const name = 'a\u0000b\u0001c\u202Ed\u200Be\r\n</script>'
    await cache.set(name, { v: 1 })
    const list = await client.get('api/caches/default/keys?pattern=a*')
    expect(list.status).toBe(200)
    expect(list.json.keys.map((k: { key: string }) => k.key)).toContain(name)
    const page = await client.get(keyPath('default', name))
    expect(page.status).toBe(200)
    const put = await client.request('PUT', keyPath('default', name), {
      revision: page.json.revision,
      value: '{"v": 2}',
    })
    expect(put.status).toBe(200)
    expect(await cache.get(name)).toEqual({ v: 2 })
    const del = await client.request('DELETE', keyPath('default', name))
    expect(del.status).toBe(200)
    expect(await cache.hasKey(name)).toBe(false)
  })

  it('a page of 50 keys with 400 KB names (the UI count) answers 200', {
    timeout: 120_000,
  }, async () => {
    const unhandled = trackUnhandledRejections()
    const client = new Client(admin.url, TOKEN)
    await cache.set('app-key', 'app-value')
    for (let i = 0; i < 50; i++) {
      const k = Buffer.concat([
        Buffer.from(cache.makeKey(`big:${i}:`)),
        Buffer.alloc(400 * 1024, 0x61),
      ])
      await cache.connection.command(['SET', k, '1'], { key: k })
    }
    // The application reads its cache while someone opens the keys page in the admin.
    let done = false
    const pending = client.get('api/caches/default/keys?pattern=big:*&count=50').finally(() => {
      done = true
    })
    const errors: string[] = []
    while (!done) {
      try {
        await cache.get('app-key')
      } catch (e) {
        errors.push((e as Error).message)
      }
      await new Promise((r) => setImmediate(r))
    }
    const answer = await pending
    console.log('big keys page', answer.status, answer.text.length, answer.text.slice(0, 300))
    console.log('app errors', errors.length, errors[0])
    await new Promise((r) => setTimeout(r, 1000))
    expect(unhandled()).toEqual([])
    expect(answer.status).toBe(200)
    expect(errors).toEqual([])
  })

  it('the memory page and a delete by pattern over 300 keys with 400 KB names', {
    timeout: 120_000,
  }, async () => {
    const client = new Client(admin.url, TOKEN)
    for (let i = 0; i < 300; i++) {
      const k = Buffer.concat([
        Buffer.from(cache.makeKey(`long:${i}:`)),
        Buffer.alloc(400 * 1024, 0x62),
      ])
      await cache.connection.command(['SET', k, '1'], { key: k })
    }
    await new Promise((r) => setTimeout(r, 500))
    const memory = await client.get('api/caches/default/memory?samples=1000')
    console.log('memory page', memory.status, memory.text.length, memory.text.slice(0, 200))
    await new Promise((r) => setTimeout(r, 500))
    const job = await client.request('POST', 'api/caches/default/delete-pattern', {
      pattern: 'long:*',
    })
    const done = await waitForJob(client, job.json.id)
    console.log('job', JSON.stringify(done).slice(0, 400))
    const left = await cache.keys('long:*')
    console.log('left', left.length)
    expect(memory.status).toBe(200)
    // What the job (and the audit entry) says it deleted is what it deleted.
    expect(done.deleted).toBe(300 - left.length)
    expect(done.state).toBe('done')
    expect(left.length).toBe(0)
  })

  it('a page of 500 keys with 40 KB names (count=500) answers 200', { timeout: 120_000 }, async () => {
    const client = new Client(admin.url, TOKEN)
    for (let i = 0; i < 500; i++) {
      const k = Buffer.concat([Buffer.from(cache.makeKey(`mid:${i}:`)), Buffer.alloc(40 * 1024, 0x63)])
      await cache.connection.command(['SET', k, '1'], { key: k })
    }
    const answer = await client.get('api/caches/default/keys?pattern=mid:*&count=500')
    console.log('mid keys page', answer.status, answer.text.length, answer.text.slice(0, 200))
    expect(answer.status).toBe(200)
  })
})
