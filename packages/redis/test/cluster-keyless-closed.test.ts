// node-redis routes key-less commands (PING, DBSIZE, INFO…) itself, to node clients of its own.
// It closes the client of a node it drops from its slot map (a rediscovery after a failover, or a
// stale map), and a command that reaches a closed client is refused with its ClientClosedError:
// that must not become ClosedError ("the connection is closed") while the cache is open.
import { ClosedError, ConnectionError } from '@cachex/redis'
import { uniquePrefix } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { settle, useCluster } from './_cluster-proxies.ts'

const env = useCluster(0)

interface NodeLike {
  client?: { isOpen: boolean; destroy(): void }
}

it('a key-less command that meets a node client node-redis closed is no ClosedError while the cache is open', async () => {
  const cache = env.newCache({
    keyPrefix: uniquePrefix('keyless-closed'),
    socketTimeout: 10,
    socketConnectTimeout: 10,
  })
  await cache.set('a', 1, null)
  // DBSIZE goes to every primary: node-redis has a client of each now.
  await cache.connection.command(['DBSIZE'])
  const cluster = (await cache.connection.client()) as { masters: readonly NodeLike[] }
  // Closed as node-redis closes the client of a node it drops; its node object stays routed to.
  for (const node of cluster.masters) node.client?.destroy()
  const calls = [
    settle(cache.connection.command(['PING'])),
    settle(cache.connection.command(['DBSIZE'])),
    settle(cache.info('server')),
  ]
  for (const { error } of await Promise.all(calls)) {
    expect(error).not.toBeInstanceOf(ClosedError)
    if (error !== undefined) expect(error).toBeInstanceOf(ConnectionError)
  }
  // Keyed calls go through cachex's own routing, which connects the node again.
  expect(await cache.get('a')).toBe(1)
  // A closed cache still says so.
  await cache.close()
  const after = await settle(cache.connection.command(['PING']))
  expect(after.error).toBeInstanceOf(ClosedError)
}, 60_000)
