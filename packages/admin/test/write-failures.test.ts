// The admin when a page or a write fails part way, against a real redis-server: a key listing
// whose SCAN succeeded but whose rows could not be read (the user lost the TYPE command between
// two pages) ends its cursor, as a failed SCAN does, instead of leaving one that skipped the
// page's keys; an edit or a delete that failed (Redis frozen past socketTimeout: applied or not,
// no one knows) is in the audit log with why.
import { type Cache, createCache, standalone } from '@cachex/redis'
import { delay, type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { AdminAuditEntry } from '../src/index.ts'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from './helpers.ts'

let server: RedisServer
let owner: Cache
let cache: Cache
let admin: AdminServer
const audit: AdminAuditEntry[] = []

beforeAll(async () => {
  server = await startRedis()
  owner = createCache({ location: server.url, keyPrefix: 'shop' })
  await owner.connection.command(['ACL', 'SETUSER', 'admin', 'on', '>admin-pw', '~*', '+@all'])
  const url = new URL(server.url)
  cache = createCache({
    location: `redis://admin:admin-pw@${url.host}/0`,
    keyPrefix: 'shop',
    socketTimeout: 1,
  })
  admin = await startAdmin({
    caches: { default: cache },
    auth: { token: TOKEN },
    audit: (entry) => audit.push(entry),
  })
})
afterAll(async () => {
  server?.resume()
  await admin?.close()
  await closeAll(cache, owner)
  await server?.stop()
})

it('a page whose rows could not be read ends its cursor: a retry is a 410, no key skipped', async () => {
  await owner.setMany(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`user:${i}`, i])))
  const client = new Client(admin.url, TOKEN)
  const first = await client.get('api/caches/default/keys?pattern=*&count=20')
  expect(first.status).toBe(200)
  const cursor = first.json.cursor as string
  expect(cursor).toEqual(expect.any(String))
  await owner.connection.command(['ACL', 'SETUSER', 'admin', '-type'])
  const failed = await client.get(`api/caches/default/keys?pattern=*&count=20&cursor=${cursor}`)
  expect(failed.status).toBeGreaterThanOrEqual(400)
  await owner.connection.command(['ACL', 'SETUSER', 'admin', '+type'])
  const retry = await client.get(`api/caches/default/keys?pattern=*&count=20&cursor=${cursor}`)
  expect(retry.status).toBe(410)
  // Listed again from the start, every key shows.
  const seen = new Set<string>()
  let next: string | null = null
  do {
    const page = await client.get(
      `api/caches/default/keys?pattern=*&count=20${next === null ? '' : `&cursor=${next}`}`,
    )
    expect(page.status).toBe(200)
    for (const row of page.json.keys) seen.add(row.key)
    next = page.json.cursor
  } while (next !== null)
  expect(seen.size).toBe(60)
})

it('an edit and a delete that failed on a frozen Redis are audited, with the error code', async () => {
  await owner.set('frozen', { a: 1 })
  const client = new Client(admin.url, TOKEN)
  const loaded = await client.get(keyPath('default', 'frozen'))
  expect(loaded.status).toBe(200)
  audit.length = 0
  server.pause()
  try {
    const put = await client.request('PUT', keyPath('default', 'frozen'), {
      revision: loaded.json.revision,
      value: '{"a": 2}',
    })
    expect(put.status).toBeGreaterThanOrEqual(500)
    const deleted = await client.request('DELETE', keyPath('default', 'other'))
    expect(deleted.status).toBeGreaterThanOrEqual(500)
    // A TTL-only edit: recorded as what it would have done, as when it succeeds.
    const persist = await client.request('PUT', keyPath('default', 'frozen'), {
      revision: loaded.json.revision,
      ttl: null,
    })
    expect(persist.status).toBeGreaterThanOrEqual(500)
  } finally {
    server.resume()
  }
  expect(audit).toEqual([
    expect.objectContaining({ action: 'set', key: 'frozen', ok: false, reason: 'E_TIMEOUT' }),
    expect.objectContaining({
      action: 'delete',
      key: 'other',
      ok: false,
      reason: expect.stringMatching(/^E_/),
    }),
    expect.objectContaining({
      action: 'persist',
      key: 'frozen',
      ok: false,
      reason: expect.stringMatching(/^E_/),
    }),
  ])
})

it('a cursor asked again while its page is still being read is told busy, not given the next page', async () => {
  // The rows' TYPE calls wait at a gate, on a real server: the page is being read.
  let gate: Promise<void> | undefined
  let open = () => {}
  const held = createCache({
    location: server.url,
    keyPrefix: 'shop',
    connectionFactory: (options) => {
      const connection = standalone(options as never)
      return new Proxy(connection, {
        get(target, name) {
          if (name === 'command') {
            return async (args: string[], route?: object) => {
              if (gate !== undefined && String(args[0]).toUpperCase() === 'TYPE') await gate
              return target.command(args, route as never)
            }
          }
          const member: unknown = Reflect.get(target, name, target)
          return typeof member === 'function' ? member.bind(target) : member
        },
      })
    },
  })
  const gated = await startAdmin({ caches: { default: held }, auth: { token: TOKEN } })
  try {
    await owner.setMany(Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`busy:${i}`, i])))
    const client = new Client(gated.url, TOKEN)
    const first = await client.get('api/caches/default/keys?pattern=busy:*&count=20')
    expect(first.status).toBe(200)
    const cursor = first.json.cursor as string
    gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const second = client.get(`api/caches/default/keys?pattern=busy:*&count=20&cursor=${cursor}`)
    await delay(300)
    // Answered at once; were it read too, it would wait at the gate: opened after 5 s then.
    const late = setTimeout(() => open(), 5000)
    const again = await client.get(
      `api/caches/default/keys?pattern=busy:*&count=20&cursor=${cursor}`,
    )
    clearTimeout(late)
    // Had it been given the page after (and the first failed), that page's keys were never listed.
    expect({ status: again.status, error: again.json.error }).toEqual({
      status: 409,
      error: 'busy',
    })
    gate = undefined
    open()
    expect((await second).status).toBe(200)
  } finally {
    open()
    await gated.close()
    await held.close()
  }
})
