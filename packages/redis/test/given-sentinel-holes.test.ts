// Malformed calls on a node-redis RedisSentinel handed in as `location` (and on cachex's own
// sentinel connection): a batch with a hole (a sparse array) answers the hole with its own
// InvalidArgumentError, as standalone and cluster do — it answered `undefined` (`all.map` skips a
// hole) — and blocking or malformed calls are refused unsent.
import { createCache, InvalidArgumentError } from '@cachex/redis'
import { type SentinelDeployment, startSentinels, uniquePrefix } from '@cachex/test-utils'
import { createSentinel } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let deployment: SentinelDeployment
beforeAll(async () => {
  deployment = await startSentinels({ replicas: 0, sentinels: 1 })
}, 60_000)
afterAll(() => deployment?.stop())

function sparse(length: number, entries: Record<number, string[]>): string[][] {
  const commands: string[][] = []
  commands.length = length
  for (const [i, command] of Object.entries(entries)) commands[Number(i)] = command
  return commands
}

describe('a RedisSentinel handed in: a batch with a hole', () => {
  for (const masterPoolSize of [1, 2]) {
    it(`answers the hole with its own InvalidArgumentError (masterPoolSize ${masterPoolSize})`, async () => {
      const sentinel = createSentinel({
        name: deployment.name,
        sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
        masterPoolSize,
      }).on('error', () => {})
      const cache = createCache({
        location: sentinel as never,
        sentinels: deployment.addresses.map(([h, p]) => [h, p] as [string, number]),
        keyPrefix: uniquePrefix('holes'),
        closeConnection: true,
      })
      try {
        const key = `{holes}:${masterPoolSize}:${Date.now()}`
        const replies = await cache.connection.batch(
          sparse(3, { 0: ['SET', key, '1'], 2: ['GET', key] }),
        )
        expect(replies).toHaveLength(3)
        expect(replies[0]).toBe('OK')
        expect(replies[1]).toBeInstanceOf(InvalidArgumentError)
        expect(String(replies[2])).toBe('1')
      } finally {
        await cache.close()
      }
    }, 30_000)
  }
})

describe('blocking and malformed calls on sentinels (given and cachex-made)', () => {
  const shapes: Array<
    [string, (c: ReturnType<typeof createCache>['connection']) => Promise<unknown>]
  > = [
    ['blocking null', (c) => c.command(null as never, { blockMs: 100 })],
    ['blocking []', (c) => c.command([], { blockMs: 100 })],
    ['blocking an object', (c) => c.command({ 0: 'BLPOP' } as never, { blockMs: 100 })],
    ['command null', (c) => c.command(null as never)],
    [
      'batch [null]',
      (c) =>
        c.batch([null as never]).then((r) => {
          if (!(r[0] instanceof InvalidArgumentError)) throw new Error(`entry ${String(r[0])}`)
          throw r[0]
        }),
    ],
    [
      'readonly batch with hole',
      (c) =>
        c.batch(sparse(2, { 1: ['PING'] }), { readonly: true } as never).then((r) => {
          if (!(r[0] instanceof InvalidArgumentError)) throw new Error(`entry ${String(r[0])}`)
          throw r[0]
        }),
    ],
  ]
  for (const given of [true, false]) {
    for (const [name, send] of shapes) {
      it(`${given ? 'given' : 'cachex'} sentinel: ${name} is refused with InvalidArgumentError`, async () => {
        const sentinel = given
          ? createSentinel({
              name: deployment.name,
              sentinelRootNodes: deployment.addresses.map(([host, port]) => ({ host, port })),
            }).on('error', () => {})
          : undefined
        const cache = given
          ? createCache({
              location: sentinel as never,
              sentinels: deployment.addresses.map(([h, p]) => [h, p] as [string, number]),
              keyPrefix: uniquePrefix('b'),
              closeConnection: true,
              socketTimeout: 2,
            })
          : createCache({
              client: 'sentinel',
              location: deployment.location,
              sentinels: deployment.addresses,
              keyPrefix: uniquePrefix('b'),
              socketTimeout: 2,
            })
        try {
          await cache.set('x', 1)
          const out = await send(cache.connection).then(
            (v) => ({ v }),
            (e: unknown) => ({ e }),
          )
          expect((out as { e?: unknown }).e).toBeInstanceOf(InvalidArgumentError)
          expect(await cache.get('x')).toBe(1)
        } finally {
          await cache.close()
        }
      }, 30_000)
    }
  }
})
