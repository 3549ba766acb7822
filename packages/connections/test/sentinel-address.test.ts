// The check of the addresses the sentinels report (`invalidAddress`): host names and IP addresses,
// IPv6 ones with a zone ID (`fe80::1%eth0`, a link-local address a sentinel may report) — the
// zone strictly bounded and only after an IPv6 address.
import { describe, expect, it } from 'vitest'
import { invalidAddress, nodesToUse } from '../src/_sentinel-address.ts'

const valid = (host: string) => invalidAddress({ host, port: 6379 }) === undefined

describe('invalidAddress: IPv6 zone IDs', () => {
  it('accepts an IPv6 address with a zone ID', () => {
    expect(valid('fe80::1%eth0')).toBe(true)
    expect(valid('fe80::1%en0')).toBe(true)
    expect(valid('fe80::a:b:c:d%br-lan.10_x')).toBe(true)
    expect(valid(`fe80::1%${'z'.repeat(64)}`)).toBe(true)
  })

  it('refuses an empty zone, a zone after no IPv6 address, a zone with other characters', () => {
    for (const host of [
      'fe80::1%',
      '1.2.3.4%eth0',
      'redis.example%eth0',
      '%eth0',
      'fe80::1%a b',
      'fe80::1%eth0%eth1',
      'fe80::1%eth/0',
      'fe80::1%eth0@x',
      'fe80::1%25eth0]',
      'fe80::zz%eth0',
      `fe80::1%${'z'.repeat(65)}`,
    ]) {
      expect(invalidAddress({ host, port: 6379 }), host).toBe(
        'its host is no host name or IP address',
      )
    }
  })

  it('still accepts host names and addresses without a zone, and refuses a % elsewhere', () => {
    for (const host of ['127.0.0.1', '::1', 'fe80::1', 'redis-1.example.com']) {
      expect(valid(host), host).toBe(true)
    }
    expect(valid('a%b.example')).toBe(false)
  })

  it('nodesToUse keeps a node with a zone ID', () => {
    const listed = [
      { host: 'fe80::1%eth0', port: 6379 },
      { host: 'fe80::1%', port: 6379 },
      { host: 'fe80::1%eth0', port: 6379 },
    ]
    expect(nodesToUse(listed)).toEqual([{ host: 'fe80::1%eth0', port: 6379 }])
  })
})
