// `pnpm demo`: a small end-to-end tour of cachex against a real Redis.
// It uses REDIS_URL when set, otherwise it starts a throw-away redis-server on a free loopback
// port and stops it at the end. With neither (no REDIS_URL, no redis-server on PATH) it runs on
// `memory://`, cachex's in-process backend. On REDIS_URL it writes keys under `cachex-demo:` and
// `cachex-demo-z:` only, and removes them (every version) at the end — all but one: the lock's
// fencing-token counter `__cachex:fence:{<tag>}`, which never expires and is left in place on
// purpose. That counter is shared by every lock name of its hash slot on that database, so
// deleting it would restart the fencing tokens of other locks there (docs/packages/lock.md).
import { spawnSync } from 'node:child_process'
import {
  ConnectionError,
  caches,
  configureCaches,
  getRedisConnection,
  KeyNotFoundError,
} from '@cachex/redis'
import { startRedis } from '@cachex/test-utils'

/** Whether `redis-server` can be run (it is on PATH). */
function hasRedisServer(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { stdio: 'ignore', timeout: 5000 })
  return probe.error === undefined && probe.status === 0
}

const inMemory = !process.env.REDIS_URL && !hasRedisServer()
const server = process.env.REDIS_URL || inMemory ? undefined : await startRedis()
const location = inMemory ? 'memory://demo' : (process.env.REDIS_URL ?? (server?.url as string))
console.log(
  inMemory
    ? 'cachex demo on memory:// (no REDIS_URL and no redis-server on PATH): the in-process backend, same API and wire format, nothing persisted\n'
    : `cachex demo against ${server ? `a redis-server it started on port ${server.port}` : 'REDIS_URL'}\n`,
)

configureCaches({
  default: { location, keyPrefix: 'cachex-demo', timeout: 300 },
  compressed: { location, keyPrefix: 'cachex-demo-z', compressor: 'zlib', timeout: 60 },
})
const cache = caches.get('default')
const step = (what: string, value: unknown) => console.log(`${what.padEnd(46)} →`, value)

try {
  // Standard API with Django's semantics.
  step("set('user:1', {...})", await cache.set('user:1', { name: 'Ada', roles: ['admin'] }))
  step("get('user:1')", await cache.get('user:1'))
  step("get('missing', 'fallback')", await cache.get('missing', 'fallback'))
  step("add('user:1', ...) (exists, so not stored)", await cache.add('user:1', { name: 'Bob' }))
  step("ttl('user:1') (default timeout 300 s)", await cache.ttl('user:1'))
  await cache.set('forever', 1, { timeout: null })
  step("set('forever', 1, { timeout: null }); ttl", await cache.ttl('forever'))

  // Read-through caching: the factory runs once.
  let computed = 0
  const load = async () => {
    computed++
    return { report: 'expensive', at: new Date().toISOString() }
  }
  await cache.getOrSet('report', load, { timeout: 30 })
  await cache.getOrSet('report', load, { timeout: 30 })
  step('getOrSet twice: factory calls', computed)

  // Atomic counters, many keys in one round trip.
  await cache.set('hits', 0)
  await Promise.all(Array.from({ length: 50 }, () => cache.incr('hits')))
  step('50 concurrent incr', await cache.get('hits'))
  try {
    await cache.incr('no-such-counter')
  } catch (error) {
    step('incr on a missing key', error instanceof KeyNotFoundError ? error.code : error)
  }
  step('setMany 3 keys (failed keys)', await cache.setMany({ a: 1, b: 'two', c: [3] }))
  step('getMany a, b, c, nope', await cache.getMany(['a', 'b', 'c', 'nope']))
  step('incrVersion(a) → new version', await cache.incrVersion('a'))
  step('get(a, null, { version: 2 })', await cache.get('a', null, { version: 2 }))

  // Hashes, sorted sets and lists, values encoded like any other.
  await cache.hmset('profile', { name: 'Ada', visits: 1 })
  await cache.hincrby('profile', 'visits', 2)
  step('hgetall(profile)', await cache.hgetall('profile'))
  await cache.zadd('board', { ada: 30, bob: 10, cy: 20 })
  step(
    'zrange(board, 0, -1, desc, withScores)',
    await cache.zrange('board', 0, -1, { desc: true, withScores: true }),
  )
  await cache.rpush('queue', 'job-1', 'job-2')
  step('lpop(queue)', await cache.lpop('queue'))

  // A distributed lock with redis-py semantics.
  const lock = cache.lock('nightly-job', { timeout: 10 })
  const ran = await lock.withLock(async () => {
    const other = cache.lock('nightly-job')
    return `held; a second holder gets it: ${await other.acquire({ blocking: false })}`
  })
  step('lock.withLock(...)', ran)

  // Compression above 15 bytes, transparently.
  const compressed = caches.get('compressed')
  const big = { text: 'cachex '.repeat(2000) }
  await compressed.set('big', big)
  // memory:// has no node-redis client: its connection runs the raw command.
  const strlen = ['STRLEN', compressed.makeKey('big')]
  const stored = inMemory
    ? ((await compressed.connection.command(strlen)) as number)
    : ((await (
        (await getRedisConnection('compressed')) as {
          sendCommand(args: string[]): Promise<unknown>
        }
      ).sendCommand(strlen)) as number)
  step('zlib: JSON bytes vs stored bytes', `${JSON.stringify(big).length} vs ${stored}`)
  step('…and it reads back equal', ((await compressed.get('big')) as typeof big).text === big.text)

  // Patterns over user keys; the prefix is applied for you.
  step("keys('user:*')", await cache.keys('user:*'))
  step("deletePattern('*') (this cache's keys)", await cache.deletePattern('*'))
  // deletePattern() matches the cache's version only: 'a' at version 2 (incrVersion) is still
  // there. Remove what is left of every version, so the demo leaves nothing under its prefixes.
  await cache.clearAllVersions()
  await compressed.clearAllVersions()
  console.log(
    `\ndemo finished: every step ran against ${inMemory ? 'memory:// (in this process)' : 'a real Redis'}`,
  )
} catch (error) {
  // What went wrong in a line or two, not a stack dump: a demo's failure is a setup to fix.
  const name = error instanceof Error ? error.name : 'Error'
  console.error(`\ndemo failed: ${name}: ${error instanceof Error ? error.message : String(error)}`)
  if (error instanceof ConnectionError && process.env.REDIS_URL) {
    console.error(
      'check that a redis-server answers at REDIS_URL (started, with the password and user the URL gives), or unset REDIS_URL to run on a redis-server the demo starts (or on memory:// without one)',
    )
  }
  process.exitCode = 1
} finally {
  await caches.close()
  await server?.stop()
}
