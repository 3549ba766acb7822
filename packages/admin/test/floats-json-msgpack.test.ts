// A whole float (1.0) that Django stored with django-redis's JSON or MessagePack serializer: JS
// reads it as 1, as it reads an int. The admin shows it as a float, as Python writes it (`1.0`),
// and offers no JSON editor for a value that holds one (JSON would write it back as `1`, which
// Django reads as an int), as it does for a pickle's. Its TTL can change. The values are written
// by Django itself (django-redis), then read back by it.
import { spawnSync } from 'node:child_process'
import { type Cache, createCache } from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AdminServer, Client, closeAll, keyPath, startAdmin, TOKEN } from './helpers.ts'

type Node = { type: string; value?: string; items?: Node[]; entries?: Array<[Node, Node]> }

function field(tree: Node, name: string): Node | undefined {
  return tree.entries?.find(([key]) => key.value === name)?.[1]
}

const PYTHON = '/usr/bin/python3'

const SERIALIZERS = {
  json: 'django_redis.serializers.json.JSONSerializer',
  msgpack: 'django_redis.serializers.msgpack.MSGPackSerializer',
} as const

/**
 * Runs `code` with Django's cache (django-redis, `serializer`, key prefix `prefix`) at `url`, as
 * `cache`; returns what it prints.
 */
function django(url: string, serializer: keyof typeof SERIALIZERS, prefix: string, code: string) {
  const script = `
import sys
import django
from django.conf import settings
settings.configure(CACHES={'default': {
  'BACKEND': 'django_redis.cache.RedisCache',
  'LOCATION': sys.argv[1],
  'KEY_PREFIX': sys.argv[2],
  'OPTIONS': {'SERIALIZER': sys.argv[3]},
}})
django.setup()
from django.core.cache import cache
${code}
`
  const result = spawnSync(PYTHON, ['-c', script, url, prefix, SERIALIZERS[serializer]], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONSAFEPATH: '1' },
  })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      `this test needs ${PYTHON} with Django, django-redis and msgpack: ${result.error?.message ?? result.stderr}`,
    )
  }
  return result.stdout.trim()
}

describe.each(['json', 'msgpack'] as const)('whole floats Django stored as %s', (serializer) => {
  let server: RedisServer
  let cache: Cache
  let admin: AdminServer
  const prefix = `wf-${serializer}`
  const client = () => new Client(admin.url, TOKEN)
  const py = (code: string) => django(`${server.url}/0`, serializer, prefix, code)

  async function stored(key: string): Promise<unknown> {
    return cache.connection.command(['GET', cache.makeKey(key)], { key: cache.makeKey(key) })
  }

  beforeAll(async () => {
    server = await startRedis()
    cache = createCache({ location: server.url, keyPrefix: prefix, serializer })
    admin = await startAdmin({ caches: { py: cache }, auth: { token: TOKEN } })
    py(`
cache.set('price', {'price': 1.0, 'name': 'a'}, timeout=None)
cache.set('mixed', {'big': 1e16, 'neg': -0.0, 'huge': 12345678901234567890.0,
  'under': 123456789012345.0, 'minus': -3.0, 'half': 2.5, 'n': 3, 'list': [2.0, 2]}, timeout=None)
cache.set('one', 1.0, timeout=None)
cache.set('plain', {'half': 2.5, 'n': 3}, timeout=None)
`)
  })

  afterAll(async () => {
    await admin?.close()
    await closeAll(cache)
    await server?.stop()
  })

  it('{"price": 1.0}: shown as a float, not editable as JSON, its TTL editable', async () => {
    const bytes = await stored('price')
    const page = await client().get(keyPath('py', 'price'))
    expect(page.status).toBe(200)
    expect(page.json.string.serializer).toBe(serializer)
    const tree = page.json.string.tree as Node
    expect(field(tree, 'price')).toEqual({ type: 'float', value: '1.0' })
    expect(field(tree, 'name')).toMatchObject({ type: 'str', value: 'a' })
    expect(page.json.string.json).toBeUndefined()
    const put = await client().request('PUT', keyPath('py', 'price'), {
      revision: page.json.revision,
      ttl: 600,
    })
    expect(put.status).toBe(200)
    expect(await cache.ttl('price')).toBeGreaterThan(500)
    expect(await stored('price')).toEqual(bytes)
    // Django still reads a float.
    expect(py(`print(repr(cache.get('price')['price']))`)).toBe('1.0')
  })

  it('writes each as Python does; ints and other floats are as before', async () => {
    const page = await client().get(keyPath('py', 'mixed'))
    const tree = page.json.string.tree as Node
    // Python's repr() of each.
    expect(field(tree, 'big')).toEqual({ type: 'float', value: '1e+16' })
    expect(field(tree, 'neg')).toEqual({ type: 'float', value: '-0.0' })
    expect(field(tree, 'huge')).toEqual({ type: 'float', value: '1.2345678901234567e+19' })
    expect(field(tree, 'under')).toEqual({ type: 'float', value: '123456789012345.0' })
    expect(field(tree, 'minus')).toEqual({ type: 'float', value: '-3.0' })
    expect(field(tree, 'half')).toEqual({ type: 'float', value: '2.5' })
    expect(field(tree, 'n')).toEqual({ type: 'int', value: '3' })
    expect(field(tree, 'list')?.items).toEqual([
      { type: 'float', value: '2.0' },
      { type: 'int', value: '2' },
    ])
    expect(page.json.string.json).toBeUndefined()
  })

  it('a whole float alone is a float, not editable as JSON', async () => {
    const page = await client().get(keyPath('py', 'one'))
    expect(page.json.string.serializer).toBe(serializer)
    expect(page.json.string.tree).toEqual({ type: 'float', value: '1.0' })
    expect(page.json.string.json).toBeUndefined()
  })

  it('a value with ints and floats that are not whole stays editable', async () => {
    const page = await client().get(keyPath('py', 'plain'))
    expect(JSON.parse(page.json.string.json)).toEqual({ half: 2.5, n: 3 })
  })

  it('a whole float of 2^53 or more typed in the editor is stored as the float, as Django reads it', async () => {
    // JavaScript stores such a number as a float (no int of its own is that large), so it is not
    // refused as `1.0` is.
    await cache.set('typed', { id: 1 }, 600)
    const page = await client().get(keyPath('py', 'typed'))
    const put = await client().request('PUT', keyPath('py', 'typed'), {
      revision: page.json.revision,
      value: '[1e16, 1.5e300, 12345678901234567890.0, -9007199254740992.0]',
    })
    expect(put.json?.message).toBeUndefined()
    expect(put.status).toBe(200)
    expect(py(`print(repr(cache.get('typed')))`)).toBe(
      '[1e+16, 1.5e+300, 1.2345678901234567e+19, -9007199254740992.0]',
    )
  })
})
