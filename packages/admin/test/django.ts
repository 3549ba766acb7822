// Django writes a value for the admin to read: django-redis's default pickle serializer, zlib
// compressed, with the Python types JSON has no word for.
import { spawnSync } from 'node:child_process'

const PYTHON = '/usr/bin/python3'

/** Writes `order:1` with Django's cache (django-redis, pickle + zlib) at `url`. */
export function djangoWrites(url: string): void {
  const script = `
import sys, datetime, uuid
from decimal import Decimal
import django
from django.conf import settings
settings.configure(CACHES={'default': {
  'BACKEND': 'django_redis.cache.RedisCache',
  'LOCATION': sys.argv[1],
  'KEY_PREFIX': 'dj',
  'OPTIONS': {'COMPRESSOR': 'django_redis.compressors.zlib.ZlibCompressor'},
}})
django.setup()
from django.core.cache import cache
cache.set('order:1', {
  'when': datetime.datetime(2024, 5, 17, 13, 45, 30, 123456, tzinfo=datetime.timezone.utc),
  'day': datetime.date(2024, 5, 17),
  'price': Decimal('19.99'),
  'point': (1, 2.5, 'x'),
  'tags': {'a'},
  'frozen': frozenset({1}),
  'id': uuid.UUID('12345678-1234-5678-1234-567812345678'),
  'raw': b'\\x00\\xffhi',
  'nothing': None,
  'delta': datetime.timedelta(days=1, seconds=5),
  'html': '<script>alert(1)</script>',
}, timeout=600)
`
  const result = spawnSync(PYTHON, ['-c', script, url], {
    encoding: 'utf8',
    env: { ...process.env, PYTHONSAFEPATH: '1' },
  })
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(
      `this test needs ${PYTHON} with Django and django-redis (apt-get install python3-django python3-django-redis): ${result.error?.message ?? result.stderr}`,
    )
  }
}
