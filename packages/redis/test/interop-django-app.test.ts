// A real Django project (test/interop/django_project: auth, sessions in the cache, a model, a
// template with {% cache %}) sharing one Redis with cachex, driven through Django's own test
// Client and middleware by one long-lived python process (test/interop/django_app.py). What a
// team running Django next to a Node service does: sessions created on either side used on the
// other, locks, cached HTML, time zones and ORM values.
import { createHash, createHmac, randomInt } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { uniquePrefix } from '@cachex/test-utils'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createCache,
  LockNotOwnedError,
  PyDateTime,
  PySafeString,
  PyTimezone,
  PytzTimezone,
  PyZoneInfo,
} from '../src/index.ts'
import { raw } from './helpers.ts'
import { DjangoApp } from './interop/django-app.ts'
import { setupOnce, useInteropServer } from './interop/suite.ts'

const url = useInteropServer()
const prefix = uniquePrefix('django-app')

const env = setupOnce(async () => {
  const app = await DjangoApp.start(url(), prefix)
  const cache = createCache({ location: url(), keyPrefix: prefix, serializer: 'pickle' })
  return { app, cache }
})

afterAll(async () => {
  try {
    const { app, cache } = env()
    await Promise.all([app.close(), cache.close()])
  } catch {
    // The setup failed: each test reported why.
  }
})

// Django's names: the cache session backend's key prefix, the auth session keys, settings.
const SESSION_PREFIX = 'django.contrib.sessions.cache'
const MODEL_BACKEND = 'django.contrib.auth.backends.ModelBackend'
const SECRET_KEY = 'cachex-interop-tests-not-a-secret'

/** A datetime as django_app.py describes it. */
interface DescribedDatetime {
  t: 'datetime'
  iso: string
  ms: number | null
  fold: number
  tzmodule: string | null
  zone: string | null
}

interface Described {
  t: string
  v?: unknown
}

interface Login {
  session_key: string
  cache_key: string
  session: { t: 'dict'; v: Record<string, Described & Partial<DescribedDatetime>> }
}

interface Whoami {
  status: number
  body: {
    authenticated: boolean
    username: string
    session: Record<string, unknown>
    expiry_age: number
  }
}

/** Django's `get_session_auth_hash()`: HMAC-SHA256 of the password hash, salted as Django does. */
function sessionAuthHash(passwordHash: string): string {
  const salt = 'django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash'
  const key = createHash('sha256')
    .update(salt + SECRET_KEY)
    .digest()
  return createHmac('sha256', key).update(passwordHash).digest('hex')
}

/** A session key as Django makes them: 32 characters of [a-z0-9]. */
function newSessionKey(): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789'
  return Array.from({ length: 32 }, () => chars[randomInt(chars.length)]).join('')
}

/** The instant of a described datetime, and its text, as cachex must read them. */
function expectSameDatetime(value: unknown, described: DescribedDatetime): PyDateTime {
  expect(value).toBeInstanceOf(PyDateTime)
  const dt = value as PyDateTime
  expect(dt.toString()).toBe(described.iso)
  expect(dt.fold).toBe(described.fold)
  if (described.ms !== null) expect(dt.toDate().getTime()).toBe(described.ms)
  return dt
}

describe('sessions', () => {
  it('Django logs a user in; Node reads, changes and writes the session back; Django still sees the user', async () => {
    const { app, cache } = env()
    const alice = await app.call<{ id: number }>('create_user', {
      username: 'alice',
      password: 'pw-alice',
      email: 'alice@example.com',
    })
    const login = await app.call<Login>('login', {
      username: 'alice',
      password: 'pw-alice',
      expiry_days: 3,
    })
    expect(login.cache_key).toBe(SESSION_PREFIX + login.session_key)
    const written = await app.call<string>('raw_get', { key: login.cache_key })

    const session = (await cache.get<Record<string, unknown>>(login.cache_key)) as Record<
      string,
      unknown
    >
    expect(session._auth_user_id).toBe(String(alice.id))
    expect(session._auth_user_backend).toBe(MODEL_BACKEND)
    expect(session._auth_user_hash).toMatch(/^[0-9a-f]{64}$/)
    // set_expiry(timedelta) stores timezone.now() + delta: pytz.utc in Django 3.2.
    const expiry = expectSameDatetime(
      session._session_expiry,
      login.session.v._session_expiry as DescribedDatetime,
    )
    expect(expiry.tzinfo).toBe(PytzTimezone.utc)
    // localtime(): a pytz state of TIME_ZONE (Europe/Paris).
    const local = expectSameDatetime(
      session.seen_local,
      login.session.v.seen_local as DescribedDatetime,
    )
    expect((local.tzinfo as PytzTimezone).zone).toBe('Europe/Paris')
    expect(
      Math.abs(local.toDate().getTime() - expiry.toDate().getTime() + 3 * 86_400_000),
    ).toBeLessThan(60_000)

    // Untouched, written back: the bytes Django wrote.
    const ttl = (await cache.ttl(login.cache_key)) as number
    await cache.set(login.cache_key, session, { timeout: ttl })
    expect(await app.call('raw_get', { key: login.cache_key })).toBe(written)

    // Changed by Node: a cart, and a new expiry a week ahead.
    session.cart = [1, 2, 3]
    session._session_expiry = PyDateTime.fromDate(
      new Date(Date.now() + 7 * 86_400_000),
      PytzTimezone.utc,
    )
    await cache.set(login.cache_key, session, { timeout: 7 * 86_400 })
    const who = await app.call<Whoami>('request', {
      path: '/whoami/',
      session_key: login.session_key,
    })
    expect(who.status).toBe(200)
    expect(who.body.authenticated).toBe(true)
    expect(who.body.username).toBe('alice')
    expect(who.body.session.cart).toEqual([1, 2, 3])
    expect(who.body.session._session_expiry).toEqual({
      iso: (session._session_expiry as PyDateTime).toString(),
      tz: 'UTC',
    })
    expect(Math.abs(who.body.expiry_age - 7 * 86_400)).toBeLessThan(60)
  })

  it('Node creates a session with the keys Django’s auth expects; Django logs the user in and updates it', async () => {
    const { app, cache } = env()
    const bob = await app.call<{ id: number; password: string }>('create_user', {
      username: 'bob',
      password: 'pw-bob',
    })
    const hash = sessionAuthHash(bob.password)
    expect(hash).toBe(await app.call('session_auth_hash', { username: 'bob' }))
    const sessionKey = newSessionKey()
    await cache.set(
      SESSION_PREFIX + sessionKey,
      {
        _auth_user_id: String(bob.id),
        _auth_user_backend: MODEL_BACKEND,
        _auth_user_hash: hash,
        _session_expiry: PyDateTime.fromDate(new Date(Date.now() + 3_600_000), PytzTimezone.utc),
        from: 'node',
      },
      { timeout: 3_600 },
    )
    const who = await app.call<Whoami>('request', { path: '/whoami/', session_key: sessionKey })
    expect(who.body).toMatchObject({ authenticated: true, username: 'bob' })
    expect(who.body.session.from).toBe('node')
    expect(Math.abs(who.body.expiry_age - 3_600)).toBeLessThan(60)

    // Django writes to it (visits, timezone.now()); Node reads what it wrote.
    await app.call('request', { path: '/visit/', session_key: sessionKey })
    await app.call('request', { path: '/visit/', session_key: sessionKey })
    const after = (await cache.get<Record<string, unknown>>(SESSION_PREFIX + sessionKey)) as Record<
      string,
      unknown
    >
    expect(after.visits).toBe(2)
    expect(after.from).toBe('node')
    const seen = after.last_seen as PyDateTime
    expect(seen.tzinfo).toBe(PytzTimezone.utc)
    expect(Math.abs(seen.toDate().getTime() - Date.now())).toBeLessThan(60_000)

    // A session whose hash does not match the password is refused by Django (and flushed).
    const forged = newSessionKey()
    await cache.set(
      SESSION_PREFIX + forged,
      { _auth_user_id: String(bob.id), _auth_user_backend: MODEL_BACKEND, _auth_user_hash: 'x' },
      { timeout: 3_600 },
    )
    const refused = await app.call<Whoami>('request', { path: '/whoami/', session_key: forged })
    expect(refused.body.authenticated).toBe(false)
  })
})

describe('locks', () => {
  it('3 Django threads and 3 Node workers on one lock never overlap', async () => {
    const { app, cache } = env()
    const name = 'jobs:nightly'
    const log = `${prefix}:lock-log`
    const rounds = 4
    const node = async (n: number) => {
      for (let i = 0; i < rounds; i++) {
        const lock = cache.lock(name, { timeout: 10, sleep: 0.005, blockingTimeout: 30 })
        expect(await lock.acquire()).toBe(true)
        await raw(cache, 'RPUSH', log, `node${n}.${i}:start`)
        await sleep(5)
        await raw(cache, 'RPUSH', log, `node${n}.${i}:end`)
        await lock.release()
      }
    }
    const [python] = await Promise.all([
      app.call<number>('lock_workers', { name, log, workers: 3, rounds, hold_ms: 5 }),
      node(0),
      node(1),
      node(2),
    ])
    expect(python).toBe(3 * rounds)
    const entries = ((await raw(cache, 'LRANGE', log, '0', '-1')) as Buffer[]).map(String)
    expect(entries).toHaveLength(2 * 6 * rounds)
    for (let i = 0; i < entries.length; i += 2) {
      const holder = (entries[i] as string).replace(/:start$/, '')
      expect([entries[i], entries[i + 1]]).toEqual([`${holder}:start`, `${holder}:end`])
    }
    // Both sides took turns.
    expect(entries.some((e) => e.startsWith('py'))).toBe(true)
    expect(entries.some((e) => e.startsWith('node'))).toBe(true)
  })

  it('a lock held by one side excludes the other, and a foreign release is refused both ways', async () => {
    const { app, cache } = env()
    // Django holds it; Node cannot take it. Once it expires, Node takes it, and Django's late
    // release is refused (redis-py's LockNotOwnedError).
    expect(await app.call('lock_acquire', { name: 'jobs:a', timeout: 0.3 })).toBe(true)
    const mine = cache.lock('jobs:a', { timeout: 10 })
    expect(await mine.acquire({ blocking: false })).toBe(false)
    await sleep(400)
    expect(await mine.acquire({ blocking: false })).toBe(true)
    expect(await app.call('lock_release', { name: 'jobs:a' })).toBe('LockNotOwnedError')
    expect(await mine.owned()).toBe(true)
    await mine.release()

    // Node holds it; it expires; Django takes it; Node's late release is refused.
    const short = cache.lock('jobs:b', { timeout: 0.3 })
    expect(await short.acquire({ blocking: false })).toBe(true)
    expect(await app.call('lock_acquire', { name: 'jobs:b', timeout: 10 })).toBe(false)
    await sleep(400)
    expect(await app.call('lock_acquire', { name: 'jobs:b', timeout: 10 })).toBe(true)
    await expect(short.release()).rejects.toThrow(LockNotOwnedError)
    expect(await app.call('lock_release', { name: 'jobs:b' })).toBe('released')
  })
})

describe('cached HTML', () => {
  it('a {% cache %} fragment reads as its text, a SafeString', async () => {
    const { app, cache } = env()
    await app.call('create_user', {
      username: 'carol',
      password: 'pw-carol',
      email: 'carol@example.com',
    })
    const login = await app.call<Login>('login', { username: 'carol', password: 'pw-carol' })
    const page = await app.call<{ status: number; body: string }>('request', {
      path: '/fragment/',
      session_key: login.session_key,
    })
    expect(page.status).toBe(200)
    // Django's make_template_fragment_key('sidebar', [username]).
    const key = `template.cache.sidebar.${createHash('md5').update('carol:').digest('hex')}`
    const fragment = await cache.get(key)
    expect(fragment).toBeInstanceOf(PySafeString)
    expect(String(fragment)).toBe(
      '<aside>Signed in as <b>carol</b> &amp; friends: carol@example.com</aside>',
    )
    expect(page.body).toBe(`<main>${fragment}</main>\n`)
  })

  it('format_html values read as text; a PySafeString written by Node stays safe in Django', async () => {
    const { app, cache } = env()
    const described = await app.call<Described>('cache_set', {
      key: 'greeting',
      kind: 'format_html',
    })
    const greeting = await cache.get('greeting')
    expect(greeting).toBeInstanceOf(PySafeString)
    expect(String(greeting)).toBe(described.v)
    expect(String(greeting)).toBe('<a href="/users/1?tab=a&amp;b">&lt;Alice &amp; Bob&gt;</a>')

    await cache.set('node_html', new PySafeString('<b>from node</b>'))
    await cache.set('node_text', '<b>plain</b>')
    expect(await app.call('cache_get', { key: 'node_html' })).toEqual({
      t: 'SafeString',
      v: '<b>from node</b>',
    })
    expect(
      await app.call('render', {
        template: '{{ node_html }}|{{ node_text }}|{{ greeting }}',
        keys: ['node_html', 'node_text', 'greeting'],
      }),
    ).toBe(`<b>from node</b>|&lt;b&gt;plain&lt;/b&gt;|${greeting}`)
  })
})

describe('time zones and the ORM', () => {
  it('pytz, zoneinfo and timezone.utc datetimes read as the right instant and zone, and go back unchanged', async () => {
    const { app, cache } = env()
    const described = await app.call<{ v: DescribedDatetime[] }>('cache_set', {
      key: 'zones',
      kind: 'zones',
    })
    const zones = (await cache.get('zones')) as PyDateTime[]
    described.v.forEach((d, i) => {
      expectSameDatetime(zones[i], d)
    })
    const tz = zones.map((dt) => dt.tzinfo)
    expect(tz[0]).toBe(PytzTimezone.utc) // timezone.now(), Django 3.2
    expect(tz[1]).toMatchObject({ zone: 'Europe/Paris' }) // localtime()
    expect(tz[2]).toMatchObject({ zone: 'Europe/Paris', tzname: 'CEST', utcoffsetSeconds: 7200 })
    expect(tz[3]).toMatchObject({ zone: 'Europe/Paris', tzname: 'CET', utcoffsetSeconds: 3600 })
    expect(tz[4]).toBeInstanceOf(PyZoneInfo)
    expect([(tz[4] as PyZoneInfo).key, zones[4]?.fold]).toEqual(['Europe/Paris', 1])
    expect(zones[5]?.toString()).toBe('2024-03-31T02:30:00+01:00') // in the gap: fold 0
    expect((tz[6] as PyZoneInfo).key).toBe('America/New_York')
    expect(tz[7]).toBe(PyTimezone.utc) // Django 4+'s timezone.now()

    await cache.set('zones_back', zones, { timeout: 300 })
    expect(await app.call('cache_same', { key: 'zones', kind_key: 'zones_back' })).toBe(true)
    expect(await app.call('raw_get', { key: 'zones_back' })).toBe(
      await app.call('raw_get', { key: 'zones' }),
    )
  })

  it('ORM DateTimeField values cached by Django read as their instants', async () => {
    const { app, cache } = env()
    const described = await app.call<{
      v: { v: { id: Described; name: Described; at: DescribedDatetime } }[]
    }>('cache_set', { key: 'events', kind: 'orm' })
    const events = (await cache.get('events')) as { id: number; name: string; at: PyDateTime }[]
    expect(events.map((e) => [e.id, e.name])).toEqual(
      described.v.map(({ v }) => [v.id.v, v.name.v]),
    )
    events.forEach((event, i) => {
      expectSameDatetime(event.at, (described.v[i] as { v: { at: DescribedDatetime } }).v.at)
      // Read from the database: pytz.utc in Django 3.2.
      expect(event.at.tzinfo).toBe(PytzTimezone.utc)
    })
    expect(events[1]?.at.toDate().toISOString()).toBe('2024-03-31T01:30:00.000Z')
  })
})
