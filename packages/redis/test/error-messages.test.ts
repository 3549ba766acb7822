// Errors that tell a newcomer what went wrong (issue 10): a value written by another codec, a
// value JSON would change, a circular value, a one-slash URL, TLS against a plain server, a
// missing optional package.

import { inspect } from 'node:util'
import { requireOptional } from '@cachex/core/internal'
import {
  type Cache,
  CachexError,
  ConnectionError,
  type CreateCacheOptions,
  createCache,
  InvalidArgumentError,
  jsonSerializer,
  MissingDependencyError,
  parseRedisUrl,
  SerializationError,
} from '@cachex/redis'
import { standaloneServer, startRedis, startTlsRedis, uniquePrefix } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { raw } from './helpers.ts'

let server: { url: string; stop(): Promise<void> }
const prefix = uniquePrefix('errors')
const opened: Cache[] = []

function open(options: CreateCacheOptions<false> = {}): Cache {
  const cache = createCache({ location: server.url, keyPrefix: prefix, ...options })
  opened.push(cache)
  return cache
}

beforeAll(async () => {
  server = await standaloneServer()
})

afterAll(async () => {
  await Promise.all(opened.map((c) => c.close()))
  await server?.stop()
})

const SECRET = 'do-not-show-this-value'
const value = { secret: SECRET, rows: Array.from({ length: 30 }, (_, i) => i) }

/** The message of the error `fn` rejects with (and checks it is a SerializationError). */
async function messageOf(fn: () => Promise<unknown>): Promise<string> {
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(SerializationError)
  return (error as Error).message
}

describe('reading a value written with another serializer or compressor', () => {
  const cases: Array<[string, CreateCacheOptions<false>, CreateCacheOptions<false>, RegExp]> = [
    [
      'pickle read as JSON',
      { serializer: 'pickle' },
      {},
      /by serializer json \(compressor none\): they look like a pickle \(protocol 4\) — written with serializer 'pickle'\? Configure the same serializer as the writer/,
    ],
    [
      'msgpack read as msgpack-less JSON with zlib',
      { serializer: 'msgpack' },
      { compressor: 'zlib' },
      /by serializer json \(compressor zlib\): they look like MessagePack — written with serializer 'msgpack'\?/,
    ],
    [
      'msgpack read as JSON (text replies)',
      { serializer: 'msgpack' },
      {},
      /they look like binary data \(MessagePack, or another binary format\) — written with another serializer or compressor\?/,
    ],
    [
      'JSON read as pickle',
      {},
      { serializer: 'pickle' },
      /by serializer pickle \(compressor none\): they look like JSON — written with serializer 'json'\?/,
    ],
    [
      'zlib read without a compressor',
      { compressor: 'zlib' },
      {},
      /by serializer json \(compressor none\): they look like zlib-compressed data — written with compressor 'zlib'\? Configure the same compressor as the writer/,
    ],
    [
      'gzip read with zlib',
      { compressor: 'gzip' },
      { compressor: 'zlib' },
      /\(compressor zlib\): they look like gzip-compressed data — written with compressor 'gzip'\?/,
    ],
    [
      'zstd read with lz4',
      { compressor: 'zstd' },
      { compressor: 'lz4' },
      /they look like zstd-compressed data — written with compressor 'zstd'\?/,
    ],
    [
      'lz4 read as msgpack',
      { compressor: 'lz4' },
      { serializer: 'msgpack' },
      /by serializer msgpack \(compressor none\): they look like lz4-compressed data \(frame format\) — written with compressor 'lz4'\?/,
    ],
    [
      'lzma read without a compressor',
      { compressor: 'lzma' },
      {},
      /they look like xz-compressed data — written with compressor 'lzma'\?/,
    ],
  ]

  it.each(cases)(
    '%s: names what was tried and what the bytes look like',
    async (name, writer, reader, expected) => {
      const key = `mismatch:${name}`
      await open(writer).set(key, value)
      const message = await messageOf(() => open(reader).get(key))
      expect(message.startsWith(`cannot read key '${key}': stored bytes cannot be read by`)).toBe(
        true,
      )
      expect(message).toMatch(expected)
      // What the bytes look like, never what they hold.
      expect(message).not.toContain(SECRET)
      expect(message).not.toContain('rows')
    },
  )

  // Plain text that starts with a digit or the first letter of a JSON literal was said to look
  // like JSON ("they look like JSON (… not valid JSON)"), and a pickle cache was told to read it
  // as JSON, which fails too ('3 days ago' too, and 32 digits the head cut). A JSON number or
  // literal says so still (an integer is Django's raw int).
  it.each([
    'failed',
    '2024-01-02',
    '550e8400-e29b-41d4-a716-446655440000',
    '1.2.3',
    'nginx',
    '3f9a',
    '3 days ago',
    'true story',
    'NaN\tvalues',
    '12345678901234567890123456789012abc',
    // Text that starts with `[`, `{` or `"` was said to look like JSON from its first character.
    '[INFO] server started on port 8000',
    '[ok]',
    '{{ user.name }} logged in',
    '{x}',
    '"Hello," she said, "come in."',
    '"quoted" text',
    '[2024-01-02 10:00:00] production.ERROR: disk full',
    '[1] See the note below',
    '[true story] of a cache',
    '[-] an item',
    '"name","email","password"',
    // Longer than the 32 characters looked at before: cut inside the string, it was JSON.
    '"Smith, John Jacob Jingleheimer Esq.","42","x"',
    '"I have a dream that one day this nation will rise up," he said.',
    '[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16] list',
    '"ééééééééééééééé" he said',
    // An array's items then prose; a control character past the first 32.
    '[1, 2, and 3] are the options',
    '[0, INFO] started',
    '[1, None, 3]',
    `Page one of the report ${'.'.repeat(20)}\fPage two`,
    // A quote the whole value leaves open.
    '"To be or not to be',
  ])('plain text %s looks like text, with no serializer to try', async (text) => {
    const cache = open()
    const pickled = open({ serializer: 'pickle' })
    await raw(cache, 'SET', cache.makeKey('plain'), text)
    expect(await messageOf(() => cache.get('plain'))).toMatch(/they look like text \(/)
    const message = await messageOf(() => pickled.get('plain'))
    expect(message).toMatch(/they look like text \(/)
    expect(message).not.toMatch(/written with serializer/)
  })

  it.each([
    '[1, 2]',
    '[ "a", {"b": null} ]',
    '[Infinity, NaN]',
    '[]',
    '{"a": [true, false]}',
    '{ }',
    '"text"',
    `{"rows": [${'1, '.repeat(20)}1]}`,
    `"${'a'.repeat(40)}"`,
    `${' '.repeat(40)}{"indented": true}`,
    '{"cut": [1, 2',
  ])('JSON %s read as pickle looks like JSON', async (text) => {
    const pickled = open({ serializer: 'pickle' })
    await raw(pickled, 'SET', pickled.makeKey('json-head'), text)
    expect(await messageOf(() => pickled.get('json-head'))).toMatch(
      /they look like JSON — written with serializer 'json'\?/,
    )
  })

  // Plain text read as a pickle starts with an opcode that reads a line (PUT, GET, INT, LONG,
  // FLOAT, GLOBAL): the reader's message quoted that line, the value's own text, in the error and
  // its cause.
  it.each([
    `password=${SECRET}\n`,
    `go ${SECRET}\n`,
    `Id: ${SECRET}\n`,
    `Login ${SECRET}\n`,
    `FOO=${SECRET}\n`,
    `config ${SECRET}\nx\n`,
    `config\n${SECRET} x\n`,
    // Lines that are Python names, as a global's module and name are; and text that ends with
    // STOP ('.'), as a pickle does.
    'cpassword\nhunter2_secret\n',
    'cmyapp\nhunter2_token\nPlease keep this safe.',
    // Words made of opcodes: a pickle of protocol 0 in shape.
    'cconfig\nhunter2\nNoted.',
    'cmy app\nhunter2 is the password\nNoted.',
    // Protocol 0's calls of allowed globals, with the text as their arguments (probe AB).
    'cdecimal\nDecimal\n(Vhunter2\ntR.',
    'cbuiltins\ngetattr\n(Vhunter2\nVpw\ntR.',
    'cpytz\n_p\n(Vhunter2\nVx\ntR.',
    'c_codecs\nencode\n(Vx\nVhunter2\ntR.',
  ])('plain text read as a pickle is quoted nowhere: %j', async (text) => {
    const pickled = open({ serializer: 'pickle' })
    await raw(pickled, 'SET', pickled.makeKey('line'), text)
    const error = (await pickled.get('line').catch((caught: unknown) => caught)) as Error
    expect(error).toBeInstanceOf(SerializationError)
    expect(error.message).toMatch(/^cannot read key 'line': .*\(pickle: /)
    for (const shown of [error.message, String(error.cause), inspect(error)]) {
      expect(shown).not.toContain(SECRET)
      expect(shown).not.toContain('hunter2')
    }
  })

  it('plain text read as a pickle names no byte of it as a protocol or a date part', async () => {
    // 'K— …': K takes E2 as its argument, and 80 94 read as PROTO 148; the date's month is 77.
    const pickled = open({ serializer: 'pickle' })
    for (const [text, expected] of [
      ['K— hunter2', /\(pickle: unsupported pickle protocol \(PROTO past the start\)\)$/],
      [
        'cdatetime\ndate\n(I2024\nI77\nI1\ntR.',
        /\(pickle: invalid arguments to datetime\.date\(\)\)$/,
      ],
    ] as const) {
      await raw(pickled, 'SET', pickled.makeKey('bytes'), text)
      expect(await messageOf(() => pickled.get('bytes'))).toMatch(expected)
    }
  })

  it('Windows-1252 text starting with € (0x80, PROTO) names no protocol made of its next byte', async () => {
    const pickled = open({ serializer: 'pickle' })
    const text = Buffer.from('€7391 is the PIN'.replace('€', '\x80'), 'latin1')
    await raw(pickled, 'SET', pickled.makeKey('cp1252'), text)
    const error = (await pickled.get('cp1252').catch((caught: unknown) => caught)) as Error
    expect(error.message).toMatch(
      /\(pickle: unsupported pickle protocol \(its version byte is a character: these bytes may be text\)\)$/,
    )
    for (const shown of [error.message, String(error.cause), inspect(error)]) {
      expect(shown).not.toMatch(/protocol: 55|7391/)
    }
  })

  it('plain text read as a pickle names no memo index made of its bytes', async () => {
    // 'john:…' starts with LONG_BINGET, whose index is the next four bytes ('ohn:'); 'hello.'
    // with BINGET of 'e', a word of opcodes as a pickle of protocol 0 or 1 is.
    const pickled = open({ serializer: 'pickle' })
    for (const text of ['john:hunter2', 'hello.', 'g42\n.']) {
      await raw(pickled, 'SET', pickled.makeKey('memo'), text)
      expect(await messageOf(() => pickled.get('memo'))).toMatch(/\(pickle: memo key not found\)$/)
    }
  })

  it.each(['1.5', '-1.5e3', 'true', 'null', 'NaN', '-Infinity'])(
    'a JSON scalar %s read as pickle looks like JSON',
    async (text) => {
      const cache = open({ serializer: 'pickle' })
      await raw(cache, 'SET', cache.makeKey('scalar'), text)
      expect(await messageOf(() => cache.get('scalar'))).toMatch(
        /they look like JSON — written with serializer 'json'\?/,
      )
    },
  )

  it("quotes no part of a longer value from JSON.parse's message, the error in its middle", async () => {
    // V8 quotes the text around the error with `...` before it: `..."…" is not valid JSON`.
    const cache = open()
    await raw(
      cache,
      'SET',
      cache.makeKey('long'),
      `{"user": "a", "password": "${SECRET}", "note": oops}`,
    )
    const error = await cache.get('long').catch((caught: unknown) => caught as Error)
    expect(error).toBeInstanceOf(SerializationError)
    expect((error as Error).message).toMatch(
      /they look like JSON \(Unexpected token 'o' \(not valid JSON\)\)$/,
    )
    expect((error as Error).message).not.toContain('note')
    expect(String(((error as Error).cause as Error)?.message)).not.toContain('note')
  })

  it("quotes no part of the value from JSON.parse's message", async () => {
    const cache = open()
    await raw(cache, 'SET', cache.makeKey('text'), `hello ${SECRET} world`)
    const message = await messageOf(() => cache.get('text'))
    expect(message).toMatch(/they look like text \(Unexpected token 'h' \(not valid JSON\)\)$/)
    expect(message).not.toContain(SECRET)
  })
})

describe('values JSON would silently change are refused', () => {
  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const refused: Array<[string, unknown, RegExp]> = [
    [
      'a Map',
      { m: new Map([['a', 1]]) },
      /a Map would be stored as \{\}: use the msgpack or pickle serializer, or convert it/,
    ],
    ['a Set', [new Set([1])], /a Set would be stored as \{\}: use the pickle serializer/],
    [
      'a Buffer',
      { b: Buffer.from('x') },
      /a Buffer would be stored as \{ type, data \}: use the msgpack or pickle serializer \(bytes\)/,
    ],
    ['a typed array', new Uint8Array(3), /a Uint8Array would be stored as an object of numbers/],
    [
      'undefined in an array',
      [1, undefined],
      /undefined at index 1 of an array would be stored as null/,
    ],
    ['a function', { f: () => 1 }, /a function at key 'f' would be dropped/],
    ['a symbol', { s: Symbol('s') }, /a symbol at key 's' would be dropped/],
    [
      'a class instance',
      { p: new Point(1, 2) },
      /a Point instance would be read back as a plain object: convert it/,
    ],
  ]

  it.each(refused)('%s, in both JSON modes', async (_, bad, expected) => {
    for (const cache of [open(), open({ serializer: jsonSerializer({ pythonFormat: true }) })]) {
      const message = await messageOf(() => cache.set('bad', bad))
      expect(message).toMatch(/^cannot store key 'bad': json cannot serialize this value: /)
      expect(message).toMatch(expected)
      expect(await cache.hasKey('bad')).toBe(false)
    }
  })

  it('a circular value says so', async () => {
    const loop: Record<string, unknown> = { a: 1 }
    loop.self = loop
    expect(await messageOf(() => open().set('bad', loop))).toMatch(
      /a circular structure cannot be stored as JSON/,
    )
    expect(await messageOf(() => open({ serializer: 'msgpack' }).set('bad', [loop]))).toBe(
      "cannot store key 'bad': msgpack cannot serialize this value: msgpack: a circular structure cannot be stored as MessagePack",
    )
  })

  it('nested NaN and ±Infinity are written as Python writes them, and read back', async () => {
    const cache = open()
    const numbers = { nan: Number.NaN, up: [Number.POSITIVE_INFINITY], down: -Infinity, n: 1.5 }
    await cache.set('numbers', numbers)
    const stored = await raw(cache, 'GET', cache.makeKey('numbers'))
    expect(String(stored)).toBe('{"nan":NaN,"up":[Infinity],"down":-Infinity,"n":1.5}')
    expect(await cache.get('numbers')).toEqual(numbers)
  })

  it('a property whose value is undefined is left out, as JSON.stringify does', async () => {
    const cache = open()
    await cache.set('optional', { a: 1, b: undefined })
    expect(String(await raw(cache, 'GET', cache.makeKey('optional')))).toBe('{"a":1}')
    const read = (await cache.get('optional')) as { a: number; b?: number }
    expect(read.b).toBeUndefined()
  })

  it('a Date is written as an ISO string (as Django writes datetimes) and reads back as one', async () => {
    const cache = open()
    await cache.set('when', { at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) })
    expect(await cache.get('when')).toEqual({ at: '2024-01-02T03:04:05.006Z' })
  })

  it('an object with its own toJSON() is written as it says', async () => {
    const cache = open()
    await cache.set('money', { price: { toJSON: () => '12.50' } })
    expect(await cache.get('money')).toEqual({ price: '12.50' })
  })
})

describe('URLs and connections', () => {
  it('redis:/host (one slash) is an invalid URL, not an invalid database number', () => {
    expect(() => parseRedisUrl('redis:/localhost')).toThrow(
      'invalid Redis URL (expected redis://host:port/db, with two slashes); the text is not shown, as it may hold a password',
    )
    expect(() => createCache({ location: 'rediss:/cache.example.com:6380' })).toThrow(
      InvalidArgumentError,
    )
    expect(() => createCache({ location: 'rediss:/cache.example.com:6380' })).toThrow(
      /invalid Redis URL/,
    )
  })

  it('rediss:// against a plain server says the TLS handshake did not complete', async () => {
    const plain = await startRedis()
    const cache = createCache({
      location: plain.url.replace(/^redis:/, 'rediss:'),
      socketConnectTimeout: 1,
    })
    try {
      const error = await cache.get('k').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).toMatch(
        /the TLS handshake did not complete — is the server configured for TLS\? Use redis:\/\/ for a plain server/,
      )
      // The next call, refused at once while the connection is down, says it too.
      await expect(cache.get('k')).rejects.toThrow(/is the server configured for TLS\?/)
    } finally {
      await cache.close()
      await plain.stop()
    }
  })

  it('a certificate refused either way has no "use redis://" hint: the server speaks TLS', async () => {
    const [server, strict] = await Promise.all([
      startTlsRedis(),
      startTlsRedis({ authClients: 'yes' }),
    ])
    const cases = [
      // A name the certificate does not list.
      {
        location: server.url,
        clientOptions: { socket: { ca: server.ca, servername: 'cache.example.com' } },
        shows: /altnames/,
      },
      // A server that requires a client certificate.
      { location: strict.url, clientOptions: { socket: { ca: strict.ca } }, shows: /certificate/ },
      // A CA the client does not know.
      { location: server.url, clientOptions: {}, shows: /certificate/ },
    ]
    try {
      for (const { shows, ...options } of cases) {
        const cache = createCache({ ...options, socketConnectTimeout: 5 })
        try {
          const error = (await cache.set('k', 1).catch((e: unknown) => e)) as Error
          expect(error).toBeInstanceOf(ConnectionError)
          expect(error.message).toMatch(shows)
          expect(error.message).not.toMatch(/Use redis:\/\//)
        } finally {
          await cache.close()
        }
      }
    } finally {
      await Promise.all([server.stop(), strict.stop()])
    }
  })

  it('redis:// against a stopped server has no TLS hint', async () => {
    const gone = await startRedis()
    await gone.stop()
    const cache = createCache({ location: gone.url, socketConnectTimeout: 1 })
    try {
      const error = await cache.get('k').catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConnectionError)
      expect((error as Error).message).not.toMatch(/TLS/)
    } finally {
      await cache.close()
    }
  })
})

describe('a server that requires a password', () => {
  const PASSWORD = 'S3cret-Passw0rd!'
  let guarded: Awaited<ReturnType<typeof startRedis>>
  beforeAll(async () => {
    guarded = await startRedis({ args: ['--requirepass', PASSWORD] })
  })
  afterAll(async () => {
    await guarded?.stop()
  })

  /** The errors of two calls in a row (the second fails fast) on a cache over `location`. */
  async function twoErrors(location: string, password?: string): Promise<Error[]> {
    const cache = createCache({ location, password, socketConnectTimeout: 5 })
    try {
      const first = await cache.get('k').catch((e: unknown) => e)
      const second = await cache.get('k').catch((e: unknown) => e)
      return [first, second] as Error[]
    } finally {
      await cache.close()
    }
  }

  it('connecting without one says the server requires a password, and where to put it', async () => {
    const errors = await twoErrors(`redis://127.0.0.1:${guarded.port}/0`)
    for (const error of errors) {
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error.message).toMatch(/requires a password/)
      expect(error.message).toContain('redis://:password@host')
      expect(error.message).toContain('`password` option')
    }
    // Failing fast: refused, not unreachable.
    expect(errors[1]?.message).toMatch(/refused/)
    expect(errors[1]?.message).not.toMatch(/unreachable/)
  })

  it('a wrong password (in the URL or the option) says the user name or password is wrong, and never shows it', async () => {
    const wrong = 'not-the-Right-one-42'
    for (const errors of [
      await twoErrors(`redis://:${wrong}@127.0.0.1:${guarded.port}/0`),
      await twoErrors(`redis://127.0.0.1:${guarded.port}/0`, wrong),
    ]) {
      for (const error of errors) {
        expect(error).toBeInstanceOf(ConnectionError)
        expect(error.message).toMatch(/the user name or password given is wrong/)
        expect(error.message).not.toContain(wrong)
        expect(String(error.cause)).not.toContain(wrong)
      }
      expect(errors[1]?.message).toMatch(/refused/)
      expect(errors[1]?.message).not.toMatch(/unreachable/)
    }
  })
})

describe('arguments', () => {
  it("incr's delta beyond 2^53 as a number says to pass a bigint, and a bigint works", async () => {
    const cache = createCache({ location: `memory://${uniquePrefix('em')}` })
    try {
      await cache.add('n', 0)
      const error = await cache.incr('n', 2 ** 60).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect(String((error as Error).message)).toMatch(/pass it as a bigint \(e\.g\. 2n \*\* 60n\)/)
      await expect(cache.incr('n', 1.5)).rejects.not.toThrow(/bigint \(e\.g/)
      expect(await cache.incr('n', 2n ** 60n)).toBe(2n ** 60n)
    } finally {
      await cache.close()
    }
  })
})

describe('a missing optional package', () => {
  it('rejects with MissingDependencyError (E_MISSING_DEPENDENCY) naming the install command', () => {
    let error: unknown
    try {
      requireOptional('cachex-no-such-package', 'someCodec', import.meta.url)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(MissingDependencyError)
    expect(error).toBeInstanceOf(CachexError)
    expect((error as CachexError).code).toBe('E_MISSING_DEPENDENCY')
    expect((error as Error).message).toContain(
      "someCodec needs the optional package 'cachex-no-such-package': install it with `npm install cachex-no-such-package`",
    )
  })
})
