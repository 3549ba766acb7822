// What a server's refusal of a command names, read from a real server's replies: an ACL refusal
// (`NOPERM`) and a command renamed or disabled there (`ERR unknown command 'INFO'`, as managed
// services rename commands away) are both refusals that stand; only one of a command node-redis
// sends to open a connection is a refused handshake — an unknown command of a call's own is not.
import { type RedisServer, startRedis } from '@cachex/test-utils'
import { createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { commandRefusal } from '../src/_acl.ts'
import { toCachexError } from '../src/_errors.ts'
import { isRefusedHandshake, refusalState } from '../src/_retry.ts'

const RENAMED = ['INFO', 'CLIENT', 'SELECT', 'HELLO', 'GET', 'READONLY']
let server: RedisServer
/** The error reply to each command sent, by the first words of the command. */
const replies = new Map<string, Error>()

beforeAll(async () => {
  server = await startRedis({ args: RENAMED.flatMap((c) => ['--rename-command', c, '']) })
  // RESP2: no HELLO in the handshake.
  const client = createClient({ url: server.url, RESP: 2 })
  client.on('error', () => {})
  await client.connect()
  await client.sendCommand(['ACL', 'SETUSER', 'noinfo', 'on', '>pw', '~*', '+@all', '-scan'])
  const ask = async (args: string[]) => {
    const error = await client.sendCommand(args).then(
      () => new Error(`no error for ${args.join(' ')}`),
      (e: unknown) => e as Error,
    )
    replies.set(args.slice(0, 2).join(' '), error)
  }
  for (const args of [
    ['INFO', 'replication'],
    ['CLIENT', 'TRACKING', 'ON'],
    ['CLIENT', 'SETNAME', 'x'],
    ['SELECT', '3'],
    ['HELLO', '3'],
    ['GET', 'k'],
    ['READONLY'],
    ['CONFIG', 'NOSUCH'],
    ['SET', 'k'],
  ]) {
    await ask(args)
  }
  const limited = createClient({
    url: server.url.replace('redis://', 'redis://noinfo:pw@'),
    RESP: 2,
  })
  limited.on('error', () => {})
  await limited.connect()
  replies.set(
    'NOPERM',
    await limited.sendCommand(['SCAN', '0']).then(
      () => new Error('no error for SCAN'),
      (e: unknown) => e as Error,
    ),
  )
  limited.destroy()
  client.destroy()
})
afterAll(async () => server?.stop())

const reply = (key: string) => replies.get(key) as Error

describe('commandRefusal', () => {
  it('names the command the ACL refuses, or the server does not know, lowercased', () => {
    expect(commandRefusal(reply('INFO replication'))).toEqual({ command: 'info', unknown: true })
    expect(commandRefusal(reply('CLIENT TRACKING'))).toEqual({
      command: 'client|tracking',
      unknown: true,
    })
    expect(command(reply('SELECT 3'))).toBe('select')
    expect(command(reply('GET k'))).toBe('get')
    expect(command(reply('READONLY'))).toBe('readonly')
    // A subcommand the server does not know.
    expect(commandRefusal(reply('CONFIG NOSUCH'))).toEqual({
      command: 'config|nosuch',
      unknown: true,
    })
    expect(commandRefusal(reply('NOPERM'))).toEqual({ command: 'scan', unknown: false })
  })

  it('reads the refusal a cachex error wraps, and nothing else as one', () => {
    expect(command(toCachexError(reply('INFO replication')))).toBe('info')
    // The cachex error's message cuts the arguments: its cause names the subcommand.
    expect(toCachexError(reply('CLIENT TRACKING')).message).not.toMatch(/TRACKING/)
    expect(command(toCachexError(reply('CLIENT TRACKING')))).toBe('client|tracking')
    expect(command(new Error(toCachexError(reply('CLIENT TRACKING')).message))).toBe('client')
    expect(command(new Error('x', { cause: reply('NOPERM') }))).toBe('scan')
    expect(commandRefusal(reply('SET k'))).toBeUndefined()
    expect(commandRefusal(new Error("ERR unknown command 'INFO' said someone"))).toEqual({
      command: 'info',
      unknown: true,
    })
    expect(commandRefusal(new Error("it said ERR unknown command 'INFO'"))).toBeUndefined()
    expect(commandRefusal('ERR unknown command')).toBeUndefined()
  })
})

describe('isRefusedHandshake', () => {
  it('is a command of the handshake the server does not know', () => {
    for (const key of ['SELECT 3', 'HELLO 3', 'CLIENT TRACKING', 'CLIENT SETNAME', 'READONLY']) {
      expect(isRefusedHandshake(reply(key)), key).toBe(true)
      expect(isRefusedHandshake(new Error('could not connect', { cause: reply(key) })), key).toBe(
        true,
      )
    }
    expect(refusalState('ERR unknown command', reply('SELECT 3'))).toBe('refused the connection')
  })

  it('is not an unknown command of a call, nor any other error reply', () => {
    for (const key of ['GET k', 'INFO replication', 'CONFIG NOSUCH', 'SET k']) {
      expect(isRefusedHandshake(reply(key)), key).toBe(false)
    }
    // The words alone, not from the server: no reply.
    expect(isRefusedHandshake(new Error("ERR unknown command 'SELECT'"))).toBe(false)
    // Still an answer of the server: it is up, not unreachable (`refusalState`).
    expect(refusalState('ERR unknown command', reply('GET k'))).toBe('refused the connection')
    expect(refusalState('connect ECONNREFUSED', new Error('connect ECONNREFUSED'))).toBe(
      'is unreachable',
    )
  })
})

/** The command `error` says the server refuses for good, as the connections read it. */
function command(error: unknown): string | undefined {
  return commandRefusal(error)?.command
}
