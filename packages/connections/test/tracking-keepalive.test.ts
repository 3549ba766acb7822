// The keepalive of the local tier's tracking connection (packages/redis/test/local-tier-idle.test.ts
// runs it against a server that closes idle clients, with a short interval).
import { describe, expect, it } from 'vitest'
import { trackingPingInterval } from '../src/_standalone-options.ts'

describe('the default keepalive of a tracking connection', () => {
  // A minute is longer than a test may wait: the real-time tests set their own interval; this
  // pins the default the connections give it, and that a user's interval wins.
  it('is a minute, unless the node-redis options set one (0: none)', () => {
    expect(trackingPingInterval(undefined)).toBe(15_000)
    expect(trackingPingInterval({})).toBe(15_000)
    expect(trackingPingInterval({ pingInterval: 500 })).toBe(500)
    expect(trackingPingInterval({ pingInterval: 0 })).toBe(0)
  })
})
