// A key listing, and a delete-by-pattern job, whose SCAN walk spans a Sentinel failover: the
// cursor the old primary handed out means nothing to the new one (each Redis process seeds the
// hash of its tables at start), and sent there the walk went on, silently missing and repeating
// keys. A listing continued after the change now answers 410 `server_changed` (search again);
// a job walks again from the start.
import type { Connection, ConnectionFactory } from '@cachex/core'
import { type Cache, createCache, sentinel } from '@cachex/redis'
import {
  delay,
  replicated,
  type SentinelDeployment,
  startSentinels,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import { type AdminServer, Client, startAdmin, TOKEN, waitForJob } from './helpers.ts'

const NAMES = Array.from({ length: 2000 }, (_, i) => `k:${i}`)

let d: SentinelDeployment
let cache: Cache | undefined
let admin: AdminServer | undefined

beforeAll(async () => {
  d = await startSentinels({ replicas: 1 })
}, 120_000)

afterEach(async () => {
  await admin?.close()
  await cache?.close()
  admin = undefined
  cache = undefined
}, 60_000)

afterAll(async () => {
  await d?.stop()
}, 60_000)

/** What `promise` rejects with, or `undefined` when it resolves. */
function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}

/** A cache on the deployment with `NAMES` written, under an admin; and a client of it. */
async function open(factory?: (connection: Connection) => Connection): Promise<Client> {
  const connectionFactory: ConnectionFactory | undefined =
    factory === undefined ? undefined : (options) => factory(sentinel(options as never))
  cache = createCache({
    client: 'sentinel',
    location: d.location,
    sentinels: d.addresses,
    keyPrefix: uniquePrefix('asf'),
    connectionFactory,
  })
  for (let i = 0; i < NAMES.length; i += 500) {
    await cache.setMany(Object.fromEntries(NAMES.slice(i, i + 500).map((n) => [n, 1])))
  }
  admin = await startAdmin({ caches: { default: cache }, auth: { token: TOKEN } })
  return new Client(admin.url, TOKEN)
}

/** Fails the primary over, and waits until the cache writes to the new one. */
async function failover(client: Client): Promise<void> {
  const connection = (cache as Cache).connection
  await replicated(connection as never, 1)
  const fresh = await d.failover()
  for (let i = 0; i < 300; i++) {
    const address = (await client.get('api/caches')).json.caches[0].address as string | null
    if (
      address?.includes(`:${fresh.port}/`) &&
      (await rejection((cache as Cache).set('probe', 1))) === undefined
    ) {
      return
    }
    await delay(200)
  }
  throw new Error('the cache did not follow the failover')
}

it('a listing continued across a failover answers 410 server_changed, having listed no key twice', async () => {
  const client = await open()
  const seen: string[] = []
  let cursor: string | undefined
  for (let i = 0; i < 4; i++) {
    const q = new URLSearchParams({ pattern: 'k:*', count: '100' })
    if (cursor) q.set('cursor', cursor)
    const page = await client.get(`api/caches/default/keys?${q}`)
    expect(page.status).toBe(200)
    seen.push(...page.json.keys.map((k: { key: string }) => k.key))
    cursor = page.json.cursor
  }
  await failover(client)
  // Pages from the keys the last SCAN reply held may still come; then the error.
  let last = { status: 200, json: null as unknown }
  while (cursor) {
    const q = new URLSearchParams({ pattern: 'k:*', count: '200', cursor })
    const page = await client.get(`api/caches/default/keys?${q}`)
    last = page
    if (page.status !== 200) break
    seen.push(...page.json.keys.map((k: { key: string }) => k.key))
    cursor = page.json.cursor ?? undefined
  }
  expect({
    status: last.status,
    json: last.json,
    repeated: seen.length - new Set(seen).size,
  }).toEqual({
    status: 410,
    json: {
      error: 'server_changed',
      message: expect.stringMatching(/the server changed .*search again/),
    },
    repeated: 0,
  })
  // The listing is gone: its cursor is refused as an expired one.
  const again = await client.get(
    `api/caches/default/keys?${new URLSearchParams({ pattern: 'k:*', cursor: cursor as string })}`,
  )
  expect(again.status).toBe(410)
  // A new search lists every key once.
  const all: string[] = []
  let next: string | undefined
  do {
    const q = new URLSearchParams({ pattern: 'k:*', count: '500' })
    if (next) q.set('cursor', next)
    const page = await client.get(`api/caches/default/keys?${q}`)
    expect(page.status).toBe(200)
    all.push(...page.json.keys.map((k: { key: string }) => k.key))
    next = page.json.cursor ?? undefined
  } while (next)
  expect(new Set(all).size).toBe(NAMES.length)
}, 180_000)

it('a delete-by-pattern job across a failover walks again from the start: no key is left', async () => {
  // Its SCAN calls after the 8th wait until the failover is over (then go to the new primary).
  let scans = 0
  let reached!: () => void
  const atGate = new Promise<void>((resolve) => {
    reached = resolve
  })
  let open_!: () => void
  const gate = new Promise<void>((resolve) => {
    open_ = resolve
  })
  const client = await open(
    (connection) =>
      new Proxy(connection, {
        get(target, name) {
          if (name === 'command') {
            return async (args: string[], route?: object) => {
              if (args[0] === 'SCAN' && args[1] !== '0' && ++scans === 8) {
                reached()
                await gate
              }
              return target.command(args, route)
            }
          }
          const member: unknown = Reflect.get(target, name, target)
          return typeof member === 'function' ? member.bind(target) : member
        },
      }),
  )
  const job = await client.request('POST', 'api/caches/default/delete-pattern', {
    pattern: 'k:*',
    expected: NAMES.length,
  })
  expect(job.status).toBe(202)
  await atGate
  await failover(client)
  open_()
  const done = await waitForJob(client, job.json.id)
  expect({ state: done.state, error: done.error }).toEqual({ state: 'done', error: undefined })
  expect((await (cache as Cache).keys('k:*')).length).toBe(0)
}, 180_000)

it('a hash page continued across a failover answers 410 server_changed, not rows of a cursor the new primary never gave', async () => {
  const client = await open()
  const fields = Array.from({ length: 2000 }, (_, i) => `f${i}`)
  await (cache as Cache).hset('h', Object.fromEntries(fields.map((f) => [f, 1])))
  const first = await client.get(
    `api/caches/default/key?${new URLSearchParams({ key: 'h', count: '100' })}`,
  )
  expect(first.status).toBe(200)
  const cursor = first.json.container.cursor as string
  expect(cursor).toEqual(expect.any(String))
  // Before the failover the cursor goes on.
  const second = await client.get(
    `api/caches/default/key?${new URLSearchParams({ key: 'h', count: '100', cursor })}`,
  )
  expect(second.status).toBe(200)
  await failover(client)
  const after = await client.get(
    `api/caches/default/key?${new URLSearchParams({ key: 'h', count: '100', cursor: second.json.container.cursor })}`,
  )
  expect({ status: after.status, json: after.json }).toEqual({
    status: 410,
    json: {
      error: 'server_changed',
      message: expect.stringMatching(/the server changed .*reload/),
    },
  })
  // A page from the start reads the new primary's hash.
  const fresh = await client.get(
    `api/caches/default/key?${new URLSearchParams({ key: 'h', count: '100' })}`,
  )
  expect(fresh.status).toBe(200)
  expect(fresh.json.container.total).toBe(fields.length)
}, 180_000)
