// The local tier after this process's event loop stalled: frozen (SIGSTOP, as a serverless
// platform freezes a process between invocations) or blocked by a long synchronous task. Writes
// made meanwhile are reported on the tracking connection (or it is closed), but the process reads
// that only when its loop turns again, and a request may be served first: the tier answered the
// overwritten value on the first reads after the thaw (8 rounds of 8 when the tracking connection
// was killed during the freeze). A heartbeat that finds the loop stalled for more than a second
// empties the tier before the request is read.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type Cache, createCache } from '@cachex/redis'
import {
  delay,
  type RedisServer,
  redisCall,
  type ScriptChild,
  startRedis,
  startScript,
  uniquePrefix,
} from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { held } from './local-tier-coherence/helpers.ts'

const CHILD = fileURLToPath(new URL('./local-tier-frozen/child.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../..', import.meta.url))

let server: RedisServer
const closers: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined)
  await server?.stop()
})

/** The ids of the clients with tracking on (the tiers' tracking connections). */
async function trackingIds(): Promise<string[]> {
  const list = String(await redisCall(server.url, ['CLIENT', 'LIST']))
  return list
    .split('\n')
    .filter((line) => / flags=\S*t/.test(line))
    .map((line) => /id=(\d+)/.exec(line)?.[1] as string)
}

/** A child process holding a local tier (local-tier-frozen/child.ts). */
class Holder {
  readonly child: ScriptChild = startScript(CHILD, [], ROOT)
  #n = 0

  /** Sends a command; its reply. */
  send(command: object): Promise<{ value?: unknown; error?: string }> {
    const id = `c${++this.#n}`
    this.child.process.stdin?.write(`${JSON.stringify({ id, ...command })}\n`)
    return this.child.line(`R {"id":"${id}",`).then((line) => JSON.parse(line.slice(2)))
  }

  /** Reads `key` until the tier serves it; the value. */
  async held(key: string): Promise<unknown> {
    for (let i = 0; i < 1200; i++) {
      const reply = (await this.send({ op: 'held', key })).value as {
        value: unknown
        tier: boolean
      }
      if (reply?.tier) return reply.value
      await delay(50)
    }
    throw new Error(`${key} never held in the tier`)
  }

  stop(): void {
    this.child.process.kill('SIGCONT')
    this.child.process.kill('SIGKILL')
  }
}

describe('the local tier after the process was frozen', () => {
  for (const kill of [false, true]) {
    it(`reads the value written during a 3 s freeze first thing after the thaw${kill ? ', its tracking connection killed' : ''}`, async () => {
      const prefix = uniquePrefix('frozen')
      const holder = new Holder()
      const writer = createCache({ location: server.url, keyPrefix: prefix })
      closers.push(() => writer.close())
      const stale: string[] = []
      try {
        await holder.child.line('ready')
        await holder.send({ op: 'init', url: server.url, prefix })
        for (let round = 0; round < 6; round++) {
          await writer.set('k', `v${round}`)
          expect(await holder.held('k')).toBe(`v${round}`)
          holder.child.process.kill('SIGSTOP')
          await delay(300)
          if (kill) {
            for (const id of await trackingIds()) {
              await redisCall(server.url, ['CLIENT', 'KILL', 'ID', id])
            }
          }
          await writer.set('k', `w${round}`)
          await delay(2700)
          // Sent while frozen: read from stdin on the thaw, as a request from its socket.
          const read = holder.send({ op: 'held', key: 'k' })
          holder.child.process.kill('SIGCONT')
          const reply = (await read).value as { value: unknown; tier: boolean }
          if (reply.value !== `w${round}`) {
            stale.push(`round ${round}: ${JSON.stringify(reply)} after w${round} was written`)
          }
        }
        expect(stale).toEqual([])
      } finally {
        holder.stop()
      }
    }, 120_000)
  }
})

/**
 * Runs a process that, 300 ms after it starts, kills the clients `kill` and sets `rkey` to `json`:
 * resolves when it started, with `acked`: when (Date.now()) the write was acknowledged.
 */
async function writeSoon(
  rkey: string,
  json: string,
  kill: string[],
): Promise<{ acked: Promise<number> }> {
  const script = `
    const net = require('node:net')
    const [redisPort, key, value, ...kill] = process.argv.slice(1)
    const resp = (args) => '*' + args.length + '\\r\\n' + args.map((a) => '$' + Buffer.byteLength(a) + '\\r\\n' + a + '\\r\\n').join('')
    const commands = [...kill.map((id) => ['CLIENT', 'KILL', 'ID', id]), ['SET', key, value]]
    process.stdout.write('started\\n')
    setTimeout(() => {
      const redis = net.connect(Number(redisPort), '127.0.0.1')
      let replies = ''
      redis.on('data', (chunk) => {
        replies += chunk
        if (replies.split('\\r\\n').length - 1 < commands.length) return
        process.stdout.write('acked ' + Date.now() + '\\n')
        redis.destroy()
      })
      redis.write(commands.map(resp).join(''))
    }, 300)
  `
  const redisPort = new URL(server.url).port
  const child = spawn(process.execPath, ['-e', script, redisPort, rkey, json, ...kill])
  let out = ''
  let started: () => void = () => undefined
  let acked: (at: number) => void = () => undefined
  const ack = new Promise<number>((resolve) => {
    acked = resolve
  })
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
    if (out.includes('started')) started()
    const at = /acked (\d+)/.exec(out)
    if (at) acked(Number(at[1]))
  })
  await new Promise<void>((resolve) => {
    started = resolve
  })
  return { acked: ack }
}

describe('the local tier after the event loop was blocked', () => {
  for (const kill of [false, true]) {
    it(`reads the value written during a 2.5 s busy loop, from a timer due meanwhile${kill ? ', its tracking connection killed' : ''}`, async () => {
      const prefix = uniquePrefix('blocked')
      const cache: Cache = createCache({ location: server.url, keyPrefix: prefix, local: {} })
      closers.push(() => cache.close())
      const stale: string[] = []
      for (let round = 0; round < 3; round++) {
        await cache.set('k', `v${round}`)
        expect(await held(cache, 'k')).toBe(`v${round}`)
        const ids = kill ? await trackingIds() : []
        const { acked } = await writeSoon(`${prefix}:1:k`, `"w${round}"`, ids)
        // A read due 1.5 s into the block (a periodic job, a request's timeout): it runs right
        // after the block, before the tracking connection's socket is read.
        const read = new Promise<{ value: unknown; tier: boolean }>((resolve, reject) => {
          setTimeout(() => {
            const hits = cache.localStats()?.hits ?? 0
            cache.get('k').then((value) => {
              resolve({ value, tier: cache.localStats()?.hits === hits + 1 })
            }, reject)
          }, 1500)
        })
        const until = Date.now() + 2500
        while (Date.now() < until) {
          // blocked: the write is made and acknowledged meanwhile
        }
        const blockEnd = Date.now()
        const reply = await read
        expect(await acked).toBeLessThan(blockEnd)
        if (reply.value !== `w${round}`) {
          stale.push(`round ${round}: ${JSON.stringify(reply)} after w${round} was written`)
        }
      }
      expect(stale).toEqual([])
    }, 120_000)
  }
})
