// Django interoperability, pickle (and msgpack): a session (Django's cache session backend) whose
// dict has digit-string keys — a cart keyed by product id — read by Node and written back. JS
// objects list such keys first; the bytes written back must still be what Django wrote, and the
// cart's order the one Django sees.
import { spawn } from 'node:child_process'
import { uniquePrefix } from '@cachex/test-utils'
import { describe, expect, it } from 'vitest'
import { createCache } from '../src/index.ts'
import { missingDjango, PYTHON } from './interop/django.ts'
import { useInteropServer } from './interop/suite.ts'

const url = useInteropServer()

// Django configured as an app with cache sessions (django-redis's default PickleSerializer, or
// the one `serializer` names); `op` creates a session with a cart, or reads one back.
const SESSIONS = `
import json, sys
req = json.load(sys.stdin)
import django
from django.conf import settings
settings.configure(
    SECRET_KEY='cachex-interop-tests-not-a-secret',
    USE_TZ=True,
    INSTALLED_APPS=['django.contrib.sessions'],
    SESSION_ENGINE='django.contrib.sessions.backends.cache',
    CACHES={'default': {'BACKEND': 'django_redis.cache.RedisCache', 'LOCATION': req['url'],
                        'KEY_PREFIX': req['prefix'],
                        'OPTIONS': {'SERIALIZER': req['serializer']}}},
)
django.setup()
from django.contrib.sessions.backends.cache import SessionStore
from django.core.cache import cache
from django_redis import get_redis_connection
if req['op'] == 'create':
    s = SessionStore()
    s['_auth_user_id'] = '1'
    s['cart'] = {'42': 1, '7': 2}
    s['tz'] = 'Europe/Paris'
    s.save()
    key = s.session_key
else:
    key = req['session_key']
s = SessionStore(session_key=key)
raw = get_redis_connection('default').get(cache.make_key(s.cache_key))
print(json.dumps({'session_key': key, 'cache_key': s.cache_key, 'raw': raw.hex(),
                  'keys': list(s.load()), 'cart': list(s.load()['cart'].items())}))
`

interface Seen {
  session_key: string
  cache_key: string
  /** The bytes Redis holds, hex. */
  raw: string
  keys: string[]
  /** The cart's items, in the dict's order. */
  cart: Array<[string, number]>
}

const SERIALIZERS = {
  pickle: 'django_redis.serializers.pickle.PickleSerializer',
  msgpack: 'django_redis.serializers.msgpack.MSGPackSerializer',
}

function django(
  prefix: string,
  op: 'create' | 'read',
  sessionKey?: string,
  serializer: keyof typeof SERIALIZERS = 'pickle',
): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', SESSIONS], {
      env: { ...process.env, PYTHONSAFEPATH: '1', PYTHONHASHSEED: '0', PYTHONIOENCODING: 'utf-8' },
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk))
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT' ? missingDjango(`${PYTHON} not found`) : error)
    })
    child.once('close', (code) => {
      if (code !== 0) {
        reject(new Error(`python exited ${code}: ${Buffer.concat(err).toString().slice(-2000)}`))
      } else resolve(JSON.parse(Buffer.concat(out).toString('utf8')))
    })
    child.stdin.end(
      JSON.stringify({
        url: url(),
        prefix,
        op,
        session_key: sessionKey,
        serializer: SERIALIZERS[serializer],
      }),
    )
  })
}

describe('pickle: a Django session with a digit-keyed cart', () => {
  it('written back untouched by Node, is byte for byte what Django wrote', async () => {
    const prefix = uniquePrefix('key-order')
    const created = await django(prefix, 'create')
    expect(created.cart).toEqual([
      ['42', 1],
      ['7', 2],
    ])
    const cache = createCache({ location: url(), keyPrefix: prefix, serializer: 'pickle' })
    try {
      const session = await cache.get<Record<string, unknown>>(created.cache_key)
      expect(session).toEqual({ _auth_user_id: '1', cart: { '42': 1, '7': 2 }, tz: 'Europe/Paris' })
      const ttl = (await cache.ttl(created.cache_key)) as number
      await cache.set(created.cache_key, session, { timeout: ttl })
    } finally {
      await cache.close()
    }
    const after = await django(prefix, 'read', created.session_key)
    expect(after.cart).toEqual(created.cart)
    expect(after.raw).toBe(created.raw)
  })

  it('with an item added by Node, Django sees it last, as its own dicts append', async () => {
    const prefix = uniquePrefix('key-order')
    const created = await django(prefix, 'create')
    const cache = createCache({ location: url(), keyPrefix: prefix, serializer: 'pickle' })
    try {
      const session = (await cache.get<Record<string, unknown>>(created.cache_key)) as Record<
        string,
        Record<string, number>
      >
      ;(session.cart as Record<string, number>)['3'] = 5
      await cache.set(created.cache_key, session, { timeout: 600 })
    } finally {
      await cache.close()
    }
    const after = await django(prefix, 'read', created.session_key)
    expect(after.keys).toEqual(['_auth_user_id', 'cart', 'tz'])
    expect(after.cart).toEqual([
      ['42', 1],
      ['7', 2],
      ['3', 5],
    ])
  })
})

describe('msgpack: a Django session with a digit-keyed cart', () => {
  it('written back untouched by Node, is byte for byte what Django wrote', async () => {
    const prefix = uniquePrefix('key-order')
    const created = await django(prefix, 'create', undefined, 'msgpack')
    expect(created.cart).toEqual([
      ['42', 1],
      ['7', 2],
    ])
    const cache = createCache({ location: url(), keyPrefix: prefix, serializer: 'msgpack' })
    try {
      const session = await cache.get<Record<string, unknown>>(created.cache_key)
      expect(session).toEqual({ _auth_user_id: '1', cart: { '42': 1, '7': 2 }, tz: 'Europe/Paris' })
      const ttl = (await cache.ttl(created.cache_key)) as number
      await cache.set(created.cache_key, session, { timeout: ttl })
    } finally {
      await cache.close()
    }
    const after = await django(prefix, 'read', created.session_key, 'msgpack')
    expect(after.cart).toEqual(created.cart)
    expect(after.raw).toBe(created.raw)
  })
})
