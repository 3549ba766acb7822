// A password must not show in part either: a server that does not know HELLO (Redis before 6, or
// HELLO renamed away as some hosted services do) quotes the handshake back cut at 128 characters
// in all, and a password put where a sentinel's [host, port] or the location belongs is no URL's
// password that `redactUrl` would hide.
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { inspect } from 'node:util'
import {
  type Cache,
  CachexError,
  type CreateCacheOptions,
  createCache,
  InvalidArgumentError,
} from '@cachex/redis'
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** 135 characters, as `openssl rand -hex 64` and a prefix: longer than Redis quotes. */
const LONG = `S3cr3t-${'0123456789abcdef'.repeat(8)}`
/** A password with the characters a URL parser reads as separators. */
const SECRET = 'S3cr3t-p@ss/w:rd?x=1'
const ENC = encodeURIComponent(SECRET)

/** Every text an error shows: message, stack, `inspect` (hidden fields too), each cause's. */
function textsOf(error: unknown): string[] {
  const texts = [inspect(error, { depth: 10, showHidden: true }), String(error)]
  for (let e: unknown = error, i = 0; e instanceof Error && i < 8; e = e.cause, i++) {
    texts.push(e.message, String(e.stack))
  }
  return texts
}

/** Fails when any 8 characters in a row of `secret` (raw or percent-encoded) show in `error`. */
function expectNoPartOf(error: unknown, secret: string): void {
  const forms = [secret, encodeURIComponent(secret)]
  for (const text of textsOf(error)) {
    for (const form of forms) {
      for (let i = 0; i + 8 <= form.length; i++) {
        expect(text, `shows ${form.slice(i, i + 8)}`).not.toContain(form.slice(i, i + 8))
      }
    }
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  )
}

function thrownBy(make: () => unknown): unknown {
  try {
    make()
  } catch (error) {
    return error
  }
  return undefined
}

const opened: Cache[] = []
function open(options: CreateCacheOptions<false>): Cache {
  const cache = createCache({ socketConnectTimeout: 2, ...options } as CreateCacheOptions<false>)
  opened.push(cache)
  return cache
}

afterAll(async () => {
  await Promise.allSettled(opened.map((c) => c.close()))
})

describe('a server that quotes the handshake back cut', () => {
  let renamed: RedisServer
  /** Answers every command as Redis 5 does an unknown one: its arguments quoted, 128 chars at most. */
  const sockets = new Set<Socket>()
  const old = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    let buffer = ''
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1')
      for (;;) {
        const head = /^\*(\d+)\r\n/.exec(buffer)
        if (head === null) return
        let at = head[0].length
        const args: string[] = []
        for (let i = 0; i < Number(head[1]); i++) {
          const length = /^\$(\d+)\r\n/.exec(buffer.slice(at))
          if (length === null) return
          at += length[0].length
          args.push(buffer.slice(at, at + Number(length[1])))
          at += Number(length[1]) + 2
        }
        if (at > buffer.length) return
        buffer = buffer.slice(at)
        let quoted = ''
        for (let i = 1; i < args.length && quoted.length < 128; i++) {
          quoted += `'${(args[i] as string).slice(0, 128 - quoted.length)}' `
        }
        socket.write(`-ERR unknown command '${args[0]}', with args beginning with: ${quoted}\r\n`)
      }
    })
  })
  let oldPort = 0

  beforeAll(async () => {
    renamed = await startRedis({ args: ['--requirepass', LONG, '--rename-command', 'HELLO', ''] })
    await new Promise<void>((resolve) => old.listen(0, '127.0.0.1', resolve))
    oldPort = (old.address() as AddressInfo).port
  })
  afterAll(async () => {
    for (const socket of sockets) socket.destroy()
    old.close()
    await renamed?.stop()
  })

  it('HELLO renamed away: no part of a long password shows, and the error says why', async () => {
    const cache = open({ location: `redis://127.0.0.1:${renamed.port}/0`, password: LONG })
    const error = await rejection(cache.get('k'))
    expect(error).toBeInstanceOf(CachexError)
    expectNoPartOf(error, LONG)
    const message = (error as Error).message
    expect(message).toMatch(
      /unknown command 'HELLO', with args beginning with: \(arguments redacted\)/,
    )
    expect(message).toMatch(
      /older than Redis 6 — cachex needs 6 or later — or HELLO is renamed or disabled/,
    )
  })

  for (const [name, options] of [
    ['URL password', () => ({ location: `redis://app:${LONG}@127.0.0.1:${oldPort}/0` })],
    ['password option', () => ({ location: `redis://127.0.0.1:${oldPort}/0`, password: LONG })],
    [
      'Sentinel password',
      () => ({
        client: 'sentinel',
        location: 'redis://mymaster/0',
        sentinels: [['127.0.0.1', oldPort]],
        sentinelOptions: { password: LONG },
      }),
    ],
    [
      'cluster seed',
      () => ({ client: 'cluster', location: [`redis://:${LONG}@127.0.0.1:${oldPort}`] }),
    ],
  ] as Array<[string, () => CreateCacheOptions<false>]>) {
    it(`a Redis before 6: no part of a long password shows (${name})`, async () => {
      const cache = open(options())
      const error = await rejection(cache.get('k'))
      expect(error).toBeInstanceOf(CachexError)
      expectNoPartOf(error, LONG)
      expect((error as Error).message).toMatch(/unknown command 'HELLO'/)
    })
  }
})

describe('a password where an option wants something else', () => {
  const sentinel = (sentinels: unknown) => () =>
    createCache({ client: 'sentinel', location: 'redis://mymaster/0', sentinels } as never)

  for (const [name, make, says] of [
    [
      'a sentinel given as a URL with its password',
      sentinel([`redis://:${ENC}@127.0.0.1:26379`]),
      /each sentinel must be a \[host, port\] pair.*got a string/,
    ],
    [
      "a sentinel's host given as a URL with its password",
      sentinel([[`redis://:${ENC}@127.0.0.1`, 26379]]),
      /each sentinel must be a \[host, port\] pair whose host is a host name or an IP address/,
    ],
    [
      "a sentinel's host holding its password",
      sentinel([[`:${SECRET}@127.0.0.1`, 26379]]),
      /each sentinel must be a \[host, port\] pair whose host is a host name or an IP address/,
    ],
    [
      'the password given as a sentinel port',
      sentinel([['127.0.0.1', SECRET]]),
      /each sentinel must be a \[host, port\] pair.*got \[string, string\]/,
    ],
    [
      'the password as location',
      () => createCache({ location: SECRET }),
      /invalid Redis URL.*no scheme/,
    ],
    [
      'the encoded password as location',
      () => createCache({ location: ENC }),
      /invalid Redis URL.*no scheme/,
    ],
    [
      'the password as an item of a location list',
      () => createCache({ location: ['redis://127.0.0.1:1/0', SECRET] }),
      /invalid Redis URL.*no scheme/,
    ],
    [
      "a sentinel's host holding a query",
      sentinel([['127.0.0.1?password=Qz9kWv', 26379]]),
      /each sentinel must be a \[host, port\] pair whose host is a host name or an IP address/,
    ],
  ] as Array<[string, () => unknown, RegExp]>) {
    it(`${name}: refused without showing it`, () => {
      const error = thrownBy(make)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(says)
      expectNoPartOf(error, SECRET)
      expect(inspect(error)).not.toContain('Qz9kWv')
    })
  }
})
