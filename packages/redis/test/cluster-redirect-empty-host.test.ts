// `-MOVED <slot> :<port>` and `-ASK <slot> :<port>`: Redis 7 sends an empty endpoint when the
// node's endpoint is unknown, meaning "the host of the node that answered, with this port" (as an
// empty host in CLUSTER SLOTS means the node asked). Here the cluster announces itself at
// 127.0.0.2 (mapped to the node proxies); any other address is recorded and sent to a closed
// loopback port, so nothing leaves the machine and a redirection to `localhost` shows.
import { freePort, redisCall } from '@cachex/test-utils'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { keySlot } from '../src/index.ts'
import { type ClusterEnv, cmd, resp, setupCluster } from './_cluster-proxies.ts'

let env: ClusterEnv
let closed: number
let slotsReply = ''
/** `127.0.0.2:<real port>` -> the port of the node's proxy. */
const announced = new Map<string, number>()

beforeAll(async () => {
  env = await setupCluster(0)
  closed = await freePort()
  for (const [real, proxy] of env.proxies) announced.set(`127.0.0.2:${real}`, proxy.port)
  const slots = (await redisCall(env.cluster.nodes[0]?.url as string, [
    'CLUSTER',
    'SLOTS',
  ])) as unknown[][]
  slotsReply = resp(
    slots.map(([from, to, ...nodes]) => [
      from,
      to,
      ...(nodes as unknown[][]).map((n) => ['127.0.0.2', Number(n[1]), String(n[2])]),
    ]),
  )
}, 120_000)

afterAll(async () => {
  await env?.stop()
})

for (const kind of ['MOVED', 'ASK'] as const) {
  it(`-${kind} <slot> :<port> goes to that port on the host of the node that answered`, async () => {
    const strays: string[] = []
    env.tamper = (args) => (cmd(args) === 'CLUSTER SLOTS' ? slotsReply : undefined)
    const cache = env.newCache({
      clusterOptions: {
        nodeAddressMap: (address: string) => {
          const port = announced.get(address)
          if (port !== undefined) return { host: '127.0.0.1', port }
          strays.push(address)
          return { host: '127.0.0.1', port: closed }
        },
      },
    })
    try {
      await cache.set('ue:warm', 1)
      expect(await cache.get('ue:warm')).toBe(1)
      const key = `ue:${kind}`
      const slot = keySlot(cache.makeKey(key))
      let answered: number | undefined
      const after: number[] = []
      // The node that serves the key answers its first SET with a redirection to its own port,
      // endpoint unknown: the SET must go to it again.
      env.tamper = (args, _reply, node) => {
        if (cmd(args) === 'CLUSTER SLOTS') return slotsReply
        if (cmd(args) !== 'SET' || !args[1]?.includes(key)) return undefined
        if (answered === undefined) {
          answered = node
          return `-${kind} ${slot} :${node}\r\n`
        }
        after.push(node)
        return undefined
      }
      await cache.set(key, 'second')
      expect(strays, 'addresses cachex connected to outside the cluster').toEqual([])
      expect(after).toEqual([answered])
      expect(await cache.get(key)).toBe('second')
    } finally {
      env.tamper = undefined
      await cache.close()
    }
  }, 60_000)
}
