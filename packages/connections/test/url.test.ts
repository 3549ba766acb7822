import { inspect } from 'node:util'
import { InvalidArgumentError } from '@cachex/core'
import { describe, expect, it } from 'vitest'
import { cluster, parseRedisUrl, redactUrl, replica, sentinel, standalone } from '../src/index.ts'
import { parseLocation } from '../src/internal.ts'

/** What `make` throws (or `undefined`). */
function catchError(make: () => unknown): unknown {
  try {
    make()
  } catch (error) {
    return error
  }
  return undefined
}

/**
 * Every text an error shows or carries: its message, stack, `util.inspect` output, and, walked
 * recursively, every own property (enumerable or not) and its `cause`.
 */
function textsOf(error: unknown): string[] {
  const texts = [inspect(error, { depth: 10 })]
  const seen = new Set<unknown>()
  const walk = (value: unknown, depth: number) => {
    if (depth > 10 || seen.has(value)) return
    if (typeof value === 'string') {
      texts.push(value)
      return
    }
    if (typeof value !== 'object' || value === null) return
    seen.add(value)
    for (const name of Object.getOwnPropertyNames(value)) {
      walk((value as Record<string, unknown>)[name], depth + 1)
    }
    if (value instanceof Error) walk(value.cause, depth + 1)
  }
  walk(error, 0)
  return texts
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  return undefined
}

describe('parseRedisUrl', () => {
  it('parses host, port and database', () => {
    expect(parseRedisUrl('redis://example.com:6380/2')).toEqual({
      tls: false,
      host: 'example.com',
      port: 6380,
      database: 2,
      username: undefined,
      password: undefined,
    })
  })

  it('defaults to port 6379 and database 0', () => {
    const address = parseRedisUrl('redis://example.com')
    expect(address.port).toBe(6379)
    expect(address.database).toBe(0)
    expect(parseRedisUrl('redis://example.com/').database).toBe(0)
    expect(parseRedisUrl('redis://example.com:7000/15/').database).toBe(15)
  })

  it('parses a user and a password', () => {
    const address = parseRedisUrl('redis://alice:s3cret@example.com')
    expect(address.username).toBe('alice')
    expect(address.password).toBe('s3cret')
    expect(address.host).toBe('example.com')
    const passwordOnly = parseRedisUrl('redis://:s3cret@example.com/1')
    expect(passwordOnly.username).toBeUndefined()
    expect(passwordOnly.password).toBe('s3cret')
    expect(passwordOnly.database).toBe(1)
    const userOnly = parseRedisUrl('redis://alice@example.com')
    expect(userOnly.username).toBe('alice')
    expect(userOnly.password).toBeUndefined()
  })

  it('percent-decodes user and password', () => {
    const address = parseRedisUrl('redis://us%40er:p%40ss%2Fw%3Ard%25%20x@example.com')
    expect(address.username).toBe('us@er')
    expect(address.password).toBe('p@ss/w:rd% x')
  })

  it('keeps a malformed percent escape as it is, as Python unquote does', () => {
    expect(parseRedisUrl('redis://:100%@example.com').password).toBe('100%')
  })

  it('parses rediss:// as TLS', () => {
    const address = parseRedisUrl('rediss://:pw@example.com:6390/3')
    expect(address.tls).toBe(true)
    expect(address.port).toBe(6390)
    expect(address.database).toBe(3)
    expect(parseRedisUrl('redis://example.com').tls).toBe(false)
  })

  it('reads valkey:// and valkeys:// as redis:// and rediss://', () => {
    expect(parseRedisUrl('valkey://u:pw@example.com:6390/3')).toEqual(
      parseRedisUrl('redis://u:pw@example.com:6390/3'),
    )
    expect(parseRedisUrl('valkeys://:pw@example.com/2')).toEqual(
      parseRedisUrl('rediss://:pw@example.com/2'),
    )
    expect(parseRedisUrl('VALKEYS://example.com').tls).toBe(true)
    expect(parseRedisUrl('valkey://example.com').tls).toBe(false)
    expect(() => parseRedisUrl('valkey:/example.com')).toThrow(/two slashes/)
    expect(() => parseRedisUrl('valkey+tls://example.com')).toThrow(/valkey:\/\/ or valkeys:\/\//)
  })

  it('parses unix:// sockets with ?db=', () => {
    expect(parseRedisUrl('unix:///tmp/x.sock?db=2')).toMatchObject({
      path: '/tmp/x.sock',
      database: 2,
      tls: false,
    })
    const plain = parseRedisUrl('unix:///var/run/redis/redis.sock')
    expect(plain.path).toBe('/var/run/redis/redis.sock')
    expect(plain.database).toBe(0)
    expect(plain.host).toBeUndefined()
  })

  it('decodes a unix:// socket path as redis-py does: a malformed %-escape stays as it is', () => {
    expect(parseRedisUrl('unix:///tmp/my%20dir/x.sock').path).toBe('/tmp/my dir/x.sock')
    expect(parseRedisUrl('unix:///tmp/%').path).toBe('/tmp/%')
    expect(parseRedisUrl('unix:///tmp/%zz.sock').path).toBe('/tmp/%zz.sock')
  })

  it('parses credentials of unix:// sockets', () => {
    expect(parseRedisUrl('unix://:pw@/tmp/x.sock')).toMatchObject({
      path: '/tmp/x.sock',
      password: 'pw',
    })
    expect(parseRedisUrl('unix://alice:p%40ss@/tmp/x.sock?db=1')).toMatchObject({
      path: '/tmp/x.sock',
      username: 'alice',
      password: 'p@ss',
      database: 1,
    })
    expect(parseRedisUrl('unix:///tmp/x.sock?password=pw&username=bob')).toMatchObject({
      password: 'pw',
      username: 'bob',
    })
  })

  it('takes password, username and db from the query', () => {
    const address = parseRedisUrl('redis://example.com?password=s%26cret&username=bob&db=5')
    expect(address.password).toBe('s&cret')
    expect(address.username).toBe('bob')
    expect(address.database).toBe(5)
  })

  it('prefers the userinfo password, and a ?db= over the path, as redis-py does', () => {
    expect(parseRedisUrl('redis://:fromurl@example.com?password=fromquery').password).toBe(
      'fromurl',
    )
    expect(parseRedisUrl('redis://example.com/1?db=4').database).toBe(4)
  })

  it('reads an empty ?db= as absent: the path names the database, as redis-py does', () => {
    expect(parseRedisUrl('redis://h/3?db=').database).toBe(3)
    expect(parseRedisUrl('redis://h?db=').database).toBe(0)
    expect(parseRedisUrl('unix:///tmp/x.sock?db=').database).toBe(0)
    expect(parseRedisUrl('redis://h/3?db=&db=').database).toBe(3)
  })

  it('refuses a query parameter other than db, username and password, naming it', () => {
    for (const [url, name] of [
      ['redis://h/0?database=2', 'database'],
      ['redis://h/0?ssl=true', 'ssl'],
      ['rediss://h/0?socket_timeout=0.5', 'socket_timeout'],
      ['redis://h/0?DB=2', 'DB'],
      ['redis://h/0?db=1&passwd=x', 'passwd'],
      ['unix:///tmp/x.sock?db=1&timeout=3', 'timeout'],
      ['valkey://h?db=1&protocol=3', 'protocol'],
    ] as const) {
      const error = thrownBy(() => parseRedisUrl(url))
      expect(error, url).toBeInstanceOf(InvalidArgumentError)
      const message = (error as Error).message
      expect(message, url).toContain(`'${name}'`)
      expect(message, url).toContain('socketTimeout')
      expect(message, url).toContain('clientOptions')
    }
  })

  it('never shows the password when it refuses a query parameter', () => {
    for (const url of [
      'redis://user:topsecret@h/0?ssl=true',
      'redis://h/0?password=topsecret&ssl=true',
      'unix://user:topsecret@/tmp/x.sock?ssl=true',
    ]) {
      const error = thrownBy(() => parseRedisUrl(url))
      expect(error, url).toBeInstanceOf(InvalidArgumentError)
      for (const text of textsOf(error)) expect(text, url).not.toContain('topsecret')
    }
  })

  it('parses IPv6 hosts', () => {
    expect(parseRedisUrl('redis://[::1]:6380/1')).toMatchObject({
      host: '::1',
      port: 6380,
      database: 1,
    })
    expect(parseRedisUrl('redis://[::1]').host).toBe('::1')
    expect(parseRedisUrl('redis://:pw@[fe80::1]:7000').host).toBe('fe80::1')
  })

  it('parses an IPv6 zone ID written as RFC 6874 says (`%25` then the zone)', () => {
    expect(parseRedisUrl('redis://[fe80::1%25eth0]:6380/2')).toMatchObject({
      host: 'fe80::1%eth0',
      port: 6380,
      database: 2,
    })
    expect(parseRedisUrl('rediss://u:p%40w@[fe80::a:b%253]/0')).toMatchObject({
      host: 'fe80::a:b%3',
      username: 'u',
      password: 'p@w',
      tls: true,
    })
    // Not a zone: a bare `%`, an empty or too long zone, a zone on an IPv4 or a name, characters
    // no interface name has.
    for (const url of [
      'redis://[fe80::1%eth0]:6379',
      'redis://[fe80::1%25]:6379',
      `redis://[fe80::1%25${'z'.repeat(65)}]:6379`,
      'redis://[fe80::1%25a%20b]:6379',
      'redis://[fe80::1%25eth/0]:6379',
      'redis://127.0.0.1%25eth0:6379',
    ]) {
      expect(() => parseRedisUrl(url), url).toThrow(InvalidArgumentError)
    }
  })

  it('rejects unsupported schemes with InvalidArgumentError', () => {
    for (const url of ['http://example.com', 'memcached://example.com:11211', 'redis:/x']) {
      expect(() => parseRedisUrl(url), url).toThrow(InvalidArgumentError)
    }
  })

  it('rejects unparsable URLs with InvalidArgumentError, without the password', () => {
    let error: unknown
    try {
      parseRedisUrl('redis://:topsecret@example.com:99999')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(String(error)).not.toContain('topsecret')
    expect(() => parseRedisUrl('not a url')).toThrow(InvalidArgumentError)
    expect(() => parseRedisUrl('')).toThrow(InvalidArgumentError)
  })

  it('rejects bad database numbers with InvalidArgumentError', () => {
    for (const url of [
      'redis://example.com/abc',
      'redis://example.com/-1',
      'redis://example.com/1.5',
      'redis://example.com/0x10',
      'redis://example.com/1e1',
      'redis://example.com?db=x',
      'unix:///tmp/x.sock?db=-2',
    ]) {
      expect(() => parseRedisUrl(url), url).toThrow(InvalidArgumentError)
    }
  })

  it('does not put the password in the message of a bad database number', () => {
    let error: unknown
    try {
      parseRedisUrl('redis://:topsecret@example.com/abc')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as Error).message).not.toContain('topsecret')
  })
})

describe('parseLocation', () => {
  it('splits a string at the commas before a URL, so a raw comma stays in a password', () => {
    expect(parseLocation('redis://a:1/0, redis://b:2/0,unix:///tmp/r.sock')).toEqual([
      'redis://a:1/0',
      'redis://b:2/0',
      'unix:///tmp/r.sock',
    ])
    const [first, second] = parseLocation('redis://app:Tr0ub,horse@a:1/0,rediss://:x,y@b:2') ?? []
    expect(parseRedisUrl(first as string).password).toBe('Tr0ub,horse')
    expect(parseRedisUrl(second as string).password).toBe('x,y')
    // Blanks and stray commas are dropped, as before.
    expect(parseLocation('redis://a:1/0,, ,redis://b:2/0,')).toEqual([
      'redis://a:1/0',
      'redis://b:2/0',
    ])
    expect(parseLocation(',')).toEqual([])
    expect(parseLocation('')).toEqual([])
  })
})

describe('redactUrl', () => {
  it('hides the password in the userinfo', () => {
    expect(redactUrl('redis://alice:s3cret@example.com:6379/0')).toBe(
      'redis://alice:***@example.com:6379/0',
    )
    expect(redactUrl('redis://:s3cret@example.com')).toBe('redis://:***@example.com')
    expect(redactUrl('rediss://:s3cret@example.com')).toBe('rediss://:***@example.com')
    expect(redactUrl('unix://:s3cret@/tmp/x.sock')).toBe('unix://:***@/tmp/x.sock')
  })

  it('hides a password that contains @ or : unencoded', () => {
    const redacted = redactUrl('redis://alice:se@cr:et@example.com')
    expect(redacted).toBe('redis://alice:***@example.com')
    expect(redacted).not.toContain('cr')
  })

  it('hides the password of a URL with one slash, none or three after its scheme', () => {
    for (const [url, shown] of [
      ['redis:/u:Pw-9@127.0.0.1:1/0', 'redis:/u:***@127.0.0.1:1/0'],
      ['redis:u:Pw-9@127.0.0.1:1/0', 'redis:u:***@127.0.0.1:1/0'],
      ['rediss:/u:Pw-9@127.0.0.1:1/0', 'rediss:/u:***@127.0.0.1:1/0'],
      ['redis:///u:Pw-9@127.0.0.1:1/0', 'redis:///u:***@127.0.0.1:1/0'],
      ['redis//u:Pw-9@127.0.0.1:1/0', 'redis//u:***@127.0.0.1:1/0'],
    ]) {
      expect(redactUrl(url as string)).toBe(shown)
    }
    // And in the errors of every topology.
    for (const make of [
      () => standalone({ location: 'redis:/u:Pw-9@127.0.0.1:1/0' }),
      () => cluster({ location: ['redis:/u:Pw-9@127.0.0.1:1'] }),
      () => replica({ location: ['redis://127.0.0.1:1/0', 'redis:u:Pw-9@127.0.0.1:2/0'] }),
    ]) {
      const error = catchError(make)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(inspect(error)).not.toContain('Pw-9')
    }
  })

  it('hides what reads as a password cut from its host (a location split at a raw comma)', () => {
    expect(redactUrl('redis://u:S3cretPart')).toBe('redis://u:***')
    expect(redactUrl('redis://u:S3cretPart/0')).toBe('redis://u:***/0')
    // A port, or an IPv6 host, is no password.
    for (const url of ['redis://example.com:6379', 'redis://[::1]:6379/0', 'redis://h:/0']) {
      expect(redactUrl(url)).toBe(url)
    }
  })

  it('hides every query value but the database, however the name is spelled', () => {
    expect(redactUrl('redis://h:6390/0?pass%77ord=s3cret&db=2')).toBe('redis://h:6390/0?***&db=2')
    expect(redactUrl('redis://h/0?%70assword=s3cret')).toBe('redis://h/0?***')
    expect(redactUrl('redis://h/0?pwd=s3cret')).toBe('redis://h/0?pwd=***')
    // An item that is no plain name=value is hidden whole.
    expect(redactUrl('redis://h:6390?password:s3cret')).toBe('redis://h:6390?***')
    expect(redactUrl('redis://h:6390/0?s3cret')).toBe('redis://h:6390/0?***')
    expect(redactUrl('redis://h/0?db=0&password%3Ds3cret')).toBe('redis://h/0?db=0&***')
    for (const url of [
      'redis://h:6390?password:s3cret',
      'redis://h:6390/0?s3cret',
      'redis://h/0?db=0&password%3Ds3cret',
    ]) {
      expect(inspect(catchError(() => parseRedisUrl(url)))).not.toContain('s3cret')
    }
    // parseRedisUrl reads that name as the password; refusing another, it echoes no value.
    expect(parseRedisUrl('redis://h/0?pass%77ord=s3cret').password).toBe('s3cret')
    const error = catchError(() => parseRedisUrl('redis://h/0?pwd=s3cret'))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(inspect(error)).not.toContain('s3cret')
  })

  it('hides a query password that holds a raw @, and keeps host, port and database', () => {
    expect(redactUrl('redis://h:6379/0?password=p@ssw0rd')).toBe('redis://h:6379/0?password=***')
    expect(parseRedisUrl('redis://h:6379/0?password=p@ssw0rd').password).toBe('p@ssw0rd')
    // A raw `?` or `#` in the userinfo's password: the last @ still ends it.
    expect(redactUrl('redis://:pa?ss@h:1/0')).toBe('redis://:***@h:1/0')
    // Beside a userinfo, the userinfo may end at either '@' (the parser's reading, or a password
    // holding '@', '?' and '=' before the host): all is hidden.
    const both = 'redis://default@127.0.0.1:1/0?password=p@ssWord'
    expect(redactUrl(both)).toBe('redis://***')
    expect(parseRedisUrl(both).password).toBe('p@ssWord')
    expect(redactUrl('redis://u:first@127.0.0.1:1/0?password=old@Secret2')).toBe('redis://***')
    expect(redactUrl('redis://:Xq7t@Zr9Kp?w=@Mm4z@127.0.0.1:1/0')).toBe('redis://***')
    // An IPv6 host with a zone ID, which the URL parser refuses, is read without it.
    expect(redactUrl('redis://[fe80::1%25lo]:1/0?password=p@ssWord9')).toBe(
      'redis://[fe80::1%25lo]:1/0?password=***',
    )
    expect(redactUrl('redis://default@[fe80::1%25lo]:1/0?password=p@ssWord9')).toBe('redis://***')
  })

  it('redacts only the query: a socket path that holds & stays, and only `db` keeps its value', () => {
    expect(redactUrl('unix:///run/a&b/redis.sock?db=2')).toBe('unix:///run/a&b/redis.sock?db=2')
    expect(redactUrl('redis://h:6379/0?DB=s3cret')).toBe('redis://h:6379/0?DB=***')
    expect(inspect(catchError(() => parseRedisUrl('redis://h:6379/0?DB=s3cret')))).not.toContain(
      's3cret',
    )
  })

  it('hides what follows the database in the path when it is no number (an & typed for ?)', () => {
    for (const url of [
      'redis://127.0.0.1:6390/0&password=S3cr3tXyZ',
      'redis://127.0.0.1:6390/0;password=S3cr3tXyZ',
      // Whatever follows the digits: a comma, a space, a dash, another `/`.
      'redis://127.0.0.1:6390/0,S3cr3tXyZ',
      'redis://127.0.0.1:6390/0 S3cr3tXyZ',
      'redis://127.0.0.1:6390/0-S3cr3tXyZ',
      'redis://127.0.0.1:6390/0/S3cr3tXyZ',
    ]) {
      expect(redactUrl(url)).toBe('redis://127.0.0.1:6390/0***')
      expect(inspect(catchError(() => parseRedisUrl(url)))).not.toContain('S3cr3tXyZ')
    }
    // A trailing `/` is no secret; a name where the number goes is not quoted (it may be a
    // password). The path is the one after the userinfo: a user name's raw `/` is no path; and
    // after the scheme however many slashes follow it, or none, the host empty or not.
    expect(redactUrl('redis://h/0/')).toBe('redis://h/0/')
    expect(redactUrl('redis://a/b:Pw@h:1')).toBe('redis://a/b:***@h:1')
    expect(redactUrl('redis://a/b:Pw@h:1/0,S3cr3tXyZ')).toBe('redis://a/b:***@h:1/0***')
    expect(() => parseRedisUrl('redis://h/S3cr3tXyZ')).toThrow(
      /^invalid database number in redis:\/\/h\/\*\*\*$/,
    )
    for (const [url, shown] of [
      ['redis:///0&password=S3cr3tXyZ', 'redis:///0***'],
      ['redis:/h/0&password=S3cr3tXyZ', 'redis:/***'],
      ['redis:h/0&password=S3cr3tXyZ', 'redis:***'],
      ['redis://:pw@/0&x=S3cr3tXyZ', 'redis://:***@/0***'],
      // A `#` in a password typed after the path: hidden with the rest.
      ['redis://h:6379/0&password=Xq7t#S3cr3tXyZ', 'redis://h:6379/0***'],
    ]) {
      expect(redactUrl(url as string)).toBe(shown)
      expect(inspect(catchError(() => parseRedisUrl(url as string)))).not.toContain('S3cr3tXyZ')
    }
  })

  it('hides a password in the query', () => {
    expect(redactUrl('redis://example.com/0?password=s3cret&db=1')).toBe(
      'redis://example.com/0?password=***&db=1',
    )
    expect(redactUrl('unix:///tmp/x.sock?db=1&password=s3cret')).toBe(
      'unix:///tmp/x.sock?db=1&password=***',
    )
  })

  it('leaves URLs without a password alone', () => {
    // A user name alone (`redis://alice@example.com`) is hidden: see url-user-only.test.ts.
    for (const url of ['redis://example.com:6379/0', 'unix:///tmp/x.sock?db=2']) {
      expect(redactUrl(url)).toBe(url)
    }
  })
})

describe('a URL that cannot be parsed never shows its password', () => {
  const specials = ['#', '?', '/', '@', ':', '%', ' ', ',']
  const urls = (password: string) => [
    `redis://user:${password}@127.0.0.1:notaport/0`,
    `redis://:${password}@127.0.0.1:notaport/0`,
    `rediss://user:${password}@127.0.0.1:notaport`,
    `redis://user:${password}@127.0.0.1:6379/0`,
    `redis://user:${password}@127.0.0.1:6379/x`,
    `unix://user:${password}@/tmp/redis.sock?db=x`,
  ]

  for (const special of specials) {
    it(`with a raw '${special}' in the password`, () => {
      const password = `Bad${special}Pw${special}9z`
      for (const url of urls(password)) {
        const factories: Array<[string, () => unknown]> = [
          ['parseRedisUrl', () => parseRedisUrl(url)],
          ['standalone', () => standalone({ location: url })],
          ['replica', () => replica({ location: [url, url] })],
          ['cluster', () => cluster({ location: [url] })],
          ['sentinel', () => sentinel({ location: url, sentinels: [['127.0.0.1', 26379]] })],
        ]
        for (const [name, factory] of factories) {
          const error = thrownBy(factory)
          // Some of these URLs parse (the password's tail taken for a path): then nothing throws.
          if (error === undefined) continue
          expect(error, `${name}: ${url}`).toBeInstanceOf(InvalidArgumentError)
          for (const text of textsOf(error)) {
            expect(text, `${name}: ${url}`).not.toContain(password)
            expect(text, `${name}: ${url}`).not.toContain(`Pw${special}9z`)
          }
        }
      }
    })
  }

  it('keeps the parser error as a scrubbed cause', () => {
    const error = thrownBy(() => parseRedisUrl('redis://user:Bad#Pw@127.0.0.1:notaport/0'))
    const cause = (error as Error).cause as TypeError & { code?: string; input?: string }
    expect(cause).toBeInstanceOf(TypeError)
    expect(cause.code).toBe('ERR_INVALID_URL')
    // A port that is no number is hidden, after a userinfo too (it may be a password cut off),
    // with a `#` after it, and an IPv6 host's.
    expect(cause.input).toBe('redis://user:***@127.0.0.1:***/0')
    expect(redactUrl('redis://u:Pw@h:S3cr3tXyZ/0')).toBe('redis://u:***@h:***/0')
    expect(redactUrl('redis://u:p@h:6379;pw=ab#S3cr3tXyZ')).toBe('redis://u:***@h:***')
    expect(redactUrl('redis://u:p@[::1]:S3cr3tXyZ/0')).toBe('redis://u:***@[::1]:***/0')
    expect(redactUrl('redis://[::1]/2')).toBe('redis://[::1]/2')
    // In linear time: a path of 100,000 digits took 11 s (a pattern that backtracked).
    const digits = '1'.repeat(100_000)
    expect(redactUrl(`redis://h/${digits}x`)).toBe(`redis://h/${digits}***`)
  })

  it('redacts everything up to the last @', () => {
    expect(redactUrl('redis://user:a#b/c/d@e:f@host:1/0')).toBe('redis://user:***@host:1/0')
    // A '?' too: the '@' may be the query's, with a password after it: all is hidden.
    expect(redactUrl('redis://user:a#b?c/d@e:f@host:1/0')).toBe('redis://***')
    expect(redactUrl('redis://u:QQA@QQB#QQC@h/0?password=QQA@QQB#QQC')).toBe('redis://***')
    // An '@' in a query item that is no name=value: a password typed without its ':'.
    expect(redactUrl('redis://QQA?QQB@h')).toBe('redis://***')
    expect(redactUrl('unix://:p/w@/tmp/x.sock')).toBe('unix://:***@/tmp/x.sock')
    expect(redactUrl('redis://h/0?db=1&password=a#b&x=1')).toBe(
      'redis://h/0?db=1&password=***&x=***',
    )
  })
})

describe("a raw '#', '/' or '?' in a password: refused, saying to percent-encode it", () => {
  const encode = /percent-encoded, as %23, %2F and %3F/

  it("a '#' anywhere (a fragment, which no Redis URL has) is refused, never read as host and port", () => {
    for (const url of [
      'redis://:Xq7#Zr9@127.0.0.1:6390/0',
      // WHATWG reads this one as host 'admin', port 99: it must not connect there.
      'redis://admin:99#Zr9Spring@127.0.0.1:6390/0',
      'rediss://user:Xq7#Zr9@cache.example.com/1',
      'redis://127.0.0.1:6390/0?password=Xq7#Zr9',
      'unix://user:Xq7#Zr9@/tmp/redis.sock',
      // No ':' (a password typed without it), and a '?' after the '#': the parser reads host
      // 'xq7' and no userinfo, yet all before the last '@' is hidden.
      'redis://Xq7#Zr9?password=Zr9@127.0.0.1:6390/0',
      // A '#' in a query password with an '@' after it: the '@' may end a userinfo or be the
      // password's: all after the scheme is hidden.
      'redis://cache.example:6379/0?password=Xq7#99@Zr9',
      'redis://h:6379?db=1&password=Xq7#b@Zr9',
      'redis://u:Xq7@Q#R@h/0?password=Zr9',
    ]) {
      const error = thrownBy(() => parseRedisUrl(url))
      expect(error, url).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message, url).toMatch(encode)
      for (const text of textsOf(error)) {
        expect(text, url).not.toContain('Xq7')
        expect(text, url).not.toContain('Zr9')
      }
    }
    expect(
      (thrownBy(() => parseRedisUrl('redis://admin:99#Zr9Spring@127.0.0.1:6390/0')) as Error)
        .message,
    ).toBe(
      "invalid Redis URL (it holds a raw '#', which starts a URL fragment and cuts the URL short): redis://admin:***@127.0.0.1:6390/0; a '#', '/' or '?' in a password (or a user name) must be percent-encoded, as %23, %2F and %3F (and '@' as %40, '%' as %25): encodeURIComponent(password) does it",
    )
  })

  it("a '/' or '?' in the password: the refusal says to percent-encode it", () => {
    for (const url of [
      'redis://:Xq7/Zr9@127.0.0.1:6390/0',
      'redis://:Xq7?Zr9@127.0.0.1:6390/0',
      'redis://admin:99/Zr9@127.0.0.1:6390/0',
      'redis://admin:99?Zr9@127.0.0.1:6390/0',
    ]) {
      const error = thrownBy(() => parseRedisUrl(url))
      expect(error, url).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message, url).toMatch(encode)
      for (const text of textsOf(error)) {
        expect(text, url).not.toContain('Xq7')
        expect(text, url).not.toContain('Zr9')
      }
    }
    // A refusal with no '@' after a '/', '?' or '#' gives no such advice.
    expect(
      (thrownBy(() => parseRedisUrl('redis://127.0.0.1:6390/x')) as Error).message,
    ).not.toMatch(encode)
  })

  it('percent-encoded, they are the password', () => {
    expect(parseRedisUrl('redis://admin:99%23Spring@127.0.0.1:6390/0')).toMatchObject({
      host: '127.0.0.1',
      port: 6390,
      username: 'admin',
      password: '99#Spring',
    })
    expect(parseRedisUrl('redis://:a%2Fb%3Fc%23d@h/0').password).toBe('a/b?c#d')
    // An '@' in a query password is no userinfo: it still parses.
    expect(parseRedisUrl('redis://h:6379/0?password=p@ssw0rd').password).toBe('p@ssw0rd')
  })
})

describe('host names and ports', () => {
  it('percent-decodes a host name, as redis-py unquotes it', () => {
    expect(parseRedisUrl('redis://%6Cocalhost:6380/0')).toMatchObject({
      host: 'localhost',
      port: 6380,
    })
    expect(parseRedisUrl('rediss://:pw@my%2Dcache.example.com/1').host).toBe('my-cache.example.com')
  })

  it('turns a Unicode host name into its ASCII (punycode) form, encoded or not', () => {
    expect(parseRedisUrl('redis://bücher.example:6379/0').host).toBe('xn--bcher-kva.example')
    expect(parseRedisUrl('redis://b%C3%BCcher.example/0').host).toBe('xn--bcher-kva.example')
    expect(parseRedisUrl('redis://CAFÉ.example/0').host).toBe('xn--caf-dma.example')
    // An ASCII name stays as written, its case too (a sentinel location's host is a service
    // name, which Sentinel matches case for case); an IP address as it is.
    expect(parseRedisUrl('redis://MyPrimary_1/0').host).toBe('MyPrimary_1')
    expect(parseRedisUrl('redis://127.0.0.1:6379/0').host).toBe('127.0.0.1')
    expect(parseRedisUrl('redis://[::1]:6380/0').host).toBe('::1')
  })

  it('refuses a host name with an invalid percent-encoding, or one that decodes to no host name, without the password', () => {
    for (const url of [
      'redis://:topsecret@%zz.example/0',
      'redis://:topsecret@%C3.example:6379/0',
      'redis://:topsecret@evil%2Fhost/0',
      'redis://:topsecret@a%20b/0',
      'redis://:topsecret@a%00b/0',
      'redis://:topsecret@h%3A6380/0',
    ]) {
      const error = thrownBy(() => parseRedisUrl(url))
      expect(error, url).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message, url).toMatch(/host name/)
      for (const text of textsOf(error)) expect(text, url).not.toContain('topsecret')
    }
  })

  it('refuses port 0 as it refuses port 65536, without the password', () => {
    for (const url of [
      'redis://:topsecret@127.0.0.1:0/0',
      'rediss://:topsecret@example.com:00/0',
      'redis://:topsecret@127.0.0.1:65536/0',
    ]) {
      const error = thrownBy(() => parseRedisUrl(url))
      expect(error, url).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message, url).toMatch(/^invalid Redis URL/)
      for (const text of textsOf(error)) expect(text, url).not.toContain('topsecret')
    }
    expect(() => standalone({ location: 'redis://127.0.0.1:0/0' })).toThrow(InvalidArgumentError)
    expect(parseRedisUrl('redis://127.0.0.1:65535/0').port).toBe(65535)
  })
})

describe('memory:// in the messages', () => {
  it("'memory:name' (no //) says memory://name, on every topology", () => {
    for (const location of ['memory:demo', 'memory:/demo', 'MEMORY:demo', 'memory:']) {
      for (const make of [
        () => parseRedisUrl(location),
        () => standalone({ location }),
        () => replica({ location: ['redis://127.0.0.1:1/0', location] }),
        () => cluster({ location: [location] }),
        () => sentinel({ location, sentinels: [['127.0.0.1', 1]] }),
      ]) {
        const error = thrownBy(make)
        expect(error, location).toBeInstanceOf(InvalidArgumentError)
        expect((error as Error).message, location).toMatch(/expected memory:\/\/name/)
        expect((error as Error).message, location).not.toMatch(/no scheme/)
      }
    }
  })

  it('a memory:// location given to a Redis factory says it is the in-memory backend', () => {
    for (const make of [
      () => standalone({ location: 'memory://demo' }),
      () => cluster({ location: ['memory://demo'] }),
    ]) {
      const error = thrownBy(make)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(/in-memory backend, not a Redis server/)
    }
  })

  it('the no-scheme and unsupported-scheme messages list memory://, and show no password', () => {
    const none = thrownBy(() => parseRedisUrl('topsecret'))
    expect((none as Error).message).toMatch(/no scheme \(expected redis:\/\/.*memory:\/\/\[name\]/)
    const http = thrownBy(() => parseRedisUrl('http://:topsecret@example.com/0'))
    expect((http as Error).message).toMatch(
      /^unsupported Redis URL scheme 'http:' \(use .*memory:\/\/\[name\]/,
    )
    for (const error of [none, http]) {
      for (const text of textsOf(error)) expect(text).not.toContain('topsecret')
    }
  })
})

describe('what a malformed location never shows', () => {
  it('a password with a : and a # or a / put in location is not echoed (no scheme://)', () => {
    for (const text of ['Tr0ub4dor:horse-battery#staple', 'Tr0ub4dor:horse/battery?x']) {
      const error = catchError(() => parseRedisUrl(text))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(/it has no scheme .* the text is not shown/)
      expect(inspect(error)).not.toContain('horse')
      expect(inspect(error)).not.toContain('Tr0ub4dor')
    }
  })

  it('a user name with an empty password is hidden, as one without a colon is', () => {
    expect(redactUrl('redis://Qz9kWv-secret:@127.0.0.1:6379')).toBe('redis://***@127.0.0.1:6379')
    expect(redactUrl('redis://Qz9kWv-secret@127.0.0.1:6379')).toBe('redis://***@127.0.0.1:6379')
    const error = catchError(() => standalone({ location: 'redis://Qz9kWv-secret:@127.0.0.1:1' }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(inspect(error)).not.toContain('Qz9kWv')
  })

  it('a ?db= that is no number is hidden, as such a path is', () => {
    const error = catchError(() => parseRedisUrl('redis://h?db=abcS3cr3t'))
    expect((error as Error).message).toBe('invalid database number in redis://h?db=***')
    expect(redactUrl('redis://h?db=2')).toBe('redis://h?db=2')
  })

  it("a sentinel host holding a ':' outside an IPv6 address is refused, not shown", async () => {
    const location = 'redis://mymaster/0'
    const error = catchError(() =>
      sentinel({ location, sentinels: [['127.0.0.1:Qz9kWv-secret', 26379]] }),
    )
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(inspect(error)).not.toContain('Qz9kWv')
    await sentinel({ location, sentinels: [['::1', 26379]] }).close()
  })
})

describe('what a malformed location never shows, again', () => {
  it('a unix: location a slash short with credentials is refused, not shown', () => {
    for (const location of ['unix:/u:Sx9Qpw@/tmp/x.sock', 'unix:u:Sx9Qpw@/tmp/x.sock']) {
      const error = catchError(() => standalone({ location }))
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(inspect(error)).not.toContain('Sx9Qpw')
    }
    expect(parseRedisUrl('unix:/tmp/x.sock').path).toBe('/tmp/x.sock')
  })

  it('a redis: location a slash or two short is refused without its text', () => {
    for (const location of ['redis:Sx9Qpw', 'rediss:Sx9Qpw', 'valkey:Sx9Qpw', 'redis:Sx9Qpw#x']) {
      const error = catchError(() => parseRedisUrl(location))
      expect((error as Error).message).toMatch(/with two slashes\); the text is not shown/)
      expect(inspect(error)).not.toContain('Sx9Qpw')
    }
  })

  it('what follows a # is hidden, and a scheme-less user:secret whole', () => {
    expect(redactUrl('redis://h#Sx9Qpw')).toBe('redis://h#***')
    expect(redactUrl('unix:///tmp/a#Sx9Qpw')).toBe('unix:///tmp/a#***')
    expect(inspect(catchError(() => parseRedisUrl('redis://h#Sx9Qpw')))).not.toContain('Sx9Qpw')
    expect(redactUrl('u:Sx9Qpw')).toBe('***')
    expect(redactUrl('rediss:Sx9Qpw')).toBe('rediss:***')
    expect(redactUrl('redis:/Sx9Qpw')).toBe('redis:/***')
    expect(redactUrl('redis:/u:Sx9Qpw@h:1/0')).toBe('redis:/u:***@h:1/0')
    expect(redactUrl('redis://h/0?password=p#w&x=y')).toBe('redis://h/0?password=***&x=***')
  })

  it('a sentinel host of an IPv6 address with a zone is taken; with more after it, refused', async () => {
    const location = 'redis://mymaster/0'
    const error = catchError(() => sentinel({ location, sentinels: [['fe80::1%eth0:Sx9Qpw', 1]] }))
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect(inspect(error)).not.toContain('Sx9Qpw')
    for (const host of ['[::1', '::1]', '[]']) {
      expect(catchError(() => sentinel({ location, sentinels: [[host, 1]] }))).toBeInstanceOf(
        InvalidArgumentError,
      )
    }
    await sentinel({ location, sentinels: [['fe80::1%eth0', 26379]] }).close()
    await sentinel({ location, sentinels: [['[::1]', 26379]] }).close()
  })
})
