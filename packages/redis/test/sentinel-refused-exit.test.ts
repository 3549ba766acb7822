// A sentinel that refuses the handshake used to be retried by node-redis after 10 s (doubling up
// to 5 minutes) on a timer that close() could not cancel: the process stayed alive that long
// after close(). cachex now retries it on its own timer, which close() clears.
import { fileURLToPath } from 'node:url'
import { startRedis, startSentinels } from '@cachex/test-utils'
import { expect, it } from 'vitest'
import { runChild } from './helpers.ts'

const child = fileURLToPath(new URL('./_sentinel-refused-exit-child.ts', import.meta.url))

it('lets the process exit at once after close() when a sentinel refuses the handshake', async () => {
  const d = await startSentinels({ replicas: 0, sentinels: 1 })
  const refusing = await startRedis({
    password: 'other-secret',
    args: ['--requirepass', 'other-secret'],
  })
  try {
    const options = {
      client: 'sentinel',
      location: d.location,
      sentinels: [[refusing.host, refusing.port], ...d.addresses],
    }
    const proc = runChild(child, [JSON.stringify(options)])
    await proc.waitFor('closed', 60_000)
    expect(proc.out + proc.err).toContain('closed')
    // It used to run on until the refused sentinel's next try: 8 to 10 s after the refusal.
    const ended = await proc.exitsWithin(5_000)
    expect(ended, proc.out + proc.err).toBe(true)
  } finally {
    await refusing.stop()
    await d.stop()
  }
}, 120_000)
