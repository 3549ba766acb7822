// A write in flight to a cluster primary whose connection goes away before the reply: frozen
// (SIGSTOP) and failed over (node-redis drops it from its slot map and destroys its client), or
// killed (the kernel resets the connection). node-redis says only "Disconnects client" or
// "read ECONNRESET"; the error says, as on one server and on Sentinel, which node, that its
// connection was dropped before the reply came, and that the write may or may not have run.
import { type Cache, ConnectionError, createCache, TimeoutError } from '@cachex/redis'
import {
  type ClusterNode,
  delay,
  redisCall,
  startCluster,
  type TestCluster,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'

const PASSWORD = 'Cluster-Drop-Pw-42'
const UNKNOWN =
  /before this command's reply came; if it writes, it may or may not have been applied/

let cluster: TestCluster
const opened: Cache[] = []

beforeAll(async () => {
  cluster = await startCluster({ primaries: 3, replicasPerPrimary: 1, password: PASSWORD })
}, 120_000)

afterAll(async () => {
  await Promise.allSettled(opened.map((cache) => cache.close()))
  for (const node of cluster?.nodes ?? []) cluster.resume(node)
  await cluster?.stop()
})

function open(): Cache {
  const cache = createCache({
    client: 'cluster',
    location: [...cluster.seeds],
    keyPrefix: uniquePrefix('cldrop'),
    // Well above the failover (1 s node timeout, then cachex's map refresh): the write is
    // dropped with its node, not timed out.
    socketTimeout: 15,
  })
  opened.push(cache)
  return cache
}

/** What `promise` settled with: its value, or its error. */
function outcome(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  )
}

/** Checks the error of a write whose node's connection went away before the reply. */
function expectDropped(error: unknown, node: ClusterNode): void {
  expect(error).toBeInstanceOf(ConnectionError)
  expect(error).not.toBeInstanceOf(TimeoutError)
  const message = (error as Error).message
  expect(message).toMatch(UNKNOWN)
  expect(message).toContain(`127.0.0.1:${node.port}`)
  expect(message).not.toContain(PASSWORD)
  // node-redis's own error is kept as the cause.
  expect((error as Error).cause).toBeInstanceOf(Error)
}

it('a primary frozen and failed over: the write in flight says it may or may not have run', async () => {
  const cache = open()
  await cache.set('k', 0)
  const victim = await cluster.primaryFor(cache.makeKey('k'))
  cluster.pause(victim)
  let results: unknown[]
  let alone: unknown
  try {
    ;[results, alone] = await Promise.all([
      cache.pipeline().incr('k').set('k2', 'v').exec(),
      outcome(cache.incr('k')),
    ])
  } finally {
    cluster.resume(victim)
  }
  expectDropped(results[0], victim)
  expectDropped(alone, victim)
  await cluster.waitUntilHealthy(60_000)
}, 120_000)

it('a primary killed with a write in flight: the write says it may or may not have run', async () => {
  const cache = open()
  await cache.set('k', 0)
  const victim = await cluster.primaryFor(cache.makeKey('k'))
  // A script that never ends holds the node (SIGSTOP would not: the kill sends SIGCONT first), so
  // that the write is surely in flight, unread, when the node dies.
  const busy = redisCall(victim.url, ['EVAL', 'while true do end', '0']).catch(() => undefined)
  await delay(300)
  const pending = outcome(cache.incr('k'))
  await delay(300)
  await cluster.kill(victim)
  const error = await pending
  await busy
  expectDropped(error, victim)
  await cluster.restart(victim)
  await cluster.waitUntilHealthy(60_000)
}, 120_000)
