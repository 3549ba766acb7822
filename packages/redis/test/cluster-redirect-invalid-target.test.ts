// A `MOVED`/`ASK` that names no valid address (none at all, port 0, a port out of 1..65535 or not
// a number, a host no server has) is not followed: nothing is connected to, the call fails with a
// typed `ResponseError` quoting the redirection (cut to a bounded length), and the cache goes on
// working. Every address the cache would connect to is recorded and sent to a closed loopback
// port (`nodeAddressMap`), so nothing leaves the machine.
import { freePort } from '@cachex/test-utils'
import { beforeAll, expect, it } from 'vitest'
import { ResponseError } from '../src/index.ts'
import { cmd, useCluster } from './_cluster-proxies.ts'

const env = useCluster(0)
let closed: number
beforeAll(async () => {
  closed = await freePort()
})

async function settle(p: Promise<unknown>): Promise<unknown> {
  try {
    await p
    return undefined
  } catch (error) {
    return error
  }
}

const LONG_HOST = 'h'.repeat(100_000)

const replies: Array<[string, string]> = [
  ['MOVED without an address', '-MOVED 1234'],
  ['ASK without an address', '-ASK 1234'],
  ['MOVED to port 0', '-MOVED 12 127.0.0.1:0'],
  ['MOVED to port 70000 of an empty host', '-MOVED 12 :70000'],
  ['ASK to a port that is no number', '-ASK 12 127.0.0.1:abc'],
  ['MOVED to a 100 KB host', `-MOVED 12 ${LONG_HOST}:7000`],
]

for (const [name, reply] of replies) {
  it(`${name}: not followed, a typed error quoting it, nothing connected`, async () => {
    const strays: string[] = []
    const cache = env.newCache({
      clusterOptions: {
        nodeAddressMap: (address: string) => {
          const colon = address.lastIndexOf(':')
          const proxy = env.proxies.get(Number(address.slice(colon + 1)))
          if (address.slice(0, colon) === '127.0.0.1' && proxy !== undefined) {
            return { host: '127.0.0.1', port: proxy.port }
          }
          strays.push(address.slice(0, 100))
          return { host: '127.0.0.1', port: closed }
        },
      },
    })
    try {
      await cache.set('na:warm', 1)
      env.tamper = (args) =>
        args.some((a) => a.includes('na:key')) && !cmd(args).startsWith('CLUSTER')
          ? `${reply}\r\n`
          : undefined
      const error = await settle(cache.get('na:key'))
      env.tamper = undefined
      expect(strays, 'addresses cachex connected to').toEqual([])
      expect(error).toBeInstanceOf(ResponseError)
      const message = (error as Error).message
      expect(message).toContain(reply.slice(1, 8))
      expect(message.length).toBeLessThan(1000)
      await cache.set('na:key', 2)
      expect(await cache.get('na:key')).toBe(2)
      expect(env.crashes.map(String)).toEqual([])
    } finally {
      env.tamper = undefined
      await cache.close()
    }
  }, 60_000)
}
