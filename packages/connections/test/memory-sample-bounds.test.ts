// memory:// refuses a random sample with repeats (SRANDMEMBER with a negative count) whose reply
// would be larger than the store's bound, with the OOM error a write that large gets, instead of
// building it (a count of -(2^53 - 1) passes the API's checks and would stall or crash the
// process).
import { memory } from '@cachex/connections'
import { ResponseError } from '@cachex/core'
import { createCache } from '@cachex/redis'
import { describe, expect, it } from 'vitest'

const OOM = "OOM command not allowed when used memory > 'maxmemory'."

describe('memory:// SRANDMEMBER with a huge negative count', () => {
  it('is refused with the OOM error, at once, through the cache', async () => {
    const cache = createCache({ location: 'memory://' })
    try {
      await cache.sadd('s', 'a', 'b')
      const started = Date.now()
      await expect(cache.srandmember('s', -(2 ** 53 - 1))).rejects.toThrow(ResponseError)
      await expect(cache.srandmember('s', -(2 ** 53 - 1))).rejects.toThrow(/OOM/)
      expect(Date.now() - started).toBeLessThan(1000)
      // A sample that fits is answered, repeats included.
      const sample = await cache.srandmember('s', -1000)
      expect(sample).toHaveLength(1000)
      expect(new Set(sample).size).toBeLessThanOrEqual(2)
      expect(await cache.smembers('s')).toHaveLength(2)
    } finally {
      await cache.close()
    }
  })

  it('is bounded by maxBytes, and by 256 MiB when the store has no bound', async () => {
    const small = memory({ location: 'memory://', memoryOptions: { maxBytes: 1024 * 1024 } })
    const unbounded = memory({ location: 'memory://', memoryOptions: { maxBytes: null } })
    try {
      for (const c of [small, unbounded]) {
        await c.command(['SADD', 's', 'x'.repeat(100)])
      }
      // 10,000 members of about 124 bytes each: past 1 MiB, well within 256 MiB.
      await expect(small.command(['SRANDMEMBER', 's', '-10000'])).rejects.toThrow(OOM)
      expect(await unbounded.command(['SRANDMEMBER', 's', '-10000'])).toHaveLength(10000)
      await expect(unbounded.command(['SRANDMEMBER', 's', '-100000000'])).rejects.toThrow(OOM)
      await expect(small.command(['SRANDMEMBER', 's', '-4000000000'])).rejects.toThrow(OOM)
      // A missing key answers an empty array, whatever the count; a positive count is bounded by
      // the set's size.
      expect(await small.command(['SRANDMEMBER', 'none', '-9007199254740991'])).toEqual([])
      expect(await small.command(['SRANDMEMBER', 's', '9007199254740991'])).toHaveLength(1)
    } finally {
      await Promise.all([small.close(), unbounded.close()])
    }
  })
})
