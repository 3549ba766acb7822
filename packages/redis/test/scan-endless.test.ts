// A server whose member scans never end (a proxy's bug: every HSCAN, SSCAN, ZSCAN answers the
// same cursor): the walk stops with a ResponseError at the first cursor handed out twice, instead
// of sending scans for as long as the server answers. Redis itself never hands one out twice.
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { createCache, ResponseError } from '@cachex/redis'
import { describe, expect, it } from 'vitest'

describe('a server whose member scans never end', () => {
  it('stops each walk with ResponseError when a cursor comes back', async () => {
    // Just enough RESP3: every *SCAN answers cursor 7 and one member; anything else +OK.
    let scans = 0
    const fake = createServer((socket) => {
      socket.on('error', () => {})
      socket.on('data', (chunk) => {
        for (const command of chunk.toString('latin1').split(/(?=\*\d+\r\n\$)/)) {
          const name = command.split('\r\n')[2]?.toUpperCase()
          if (name === undefined) continue
          if (name === 'HELLO') socket.write('%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n')
          else if (name === 'HSCAN' || name === 'ZSCAN') {
            // field `a` = 1, or member 1 with score 1
            scans++
            const first = name === 'HSCAN' ? 'a' : '1'
            socket.write(`*2\r\n$1\r\n7\r\n*2\r\n$1\r\n${first}\r\n$1\r\n1\r\n`)
          } else if (name === 'SSCAN') {
            scans++
            socket.write('*2\r\n$1\r\n7\r\n*1\r\n$1\r\n1\r\n')
          } else socket.write('+OK\r\n')
        }
      })
    })
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve))
    const cache = createCache({
      location: `redis://127.0.0.1:${(fake.address() as AddressInfo).port}`,
      keyPrefix: 'endless',
    })
    try {
      for (const walk of [cache.hscan('h'), cache.sscan('s'), cache.zscan('z')]) {
        scans = 0
        let items = 0
        const done = (async () => {
          for await (const _ of walk) items++
        })()
        await expect(done).rejects.toBeInstanceOf(ResponseError)
        await expect(done).rejects.toThrow(/SCAN handed out the cursor 7 twice in one walk/)
        expect(scans).toBe(2)
        expect(items).toBe(1)
      }
    } finally {
      await cache.close()
      await new Promise((resolve) => fake.close(resolve))
    }
  })
})
