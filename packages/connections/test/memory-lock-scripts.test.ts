// The lock, semaphore and stampede scripts run natively on memory:// (scripts.ts): the same
// scripts, with the same keyspace before them, sent to a real redis-server and to memory:// must
// get the same replies (errors included, word for word) and leave the same keys behind. The
// inputs go past what @cachex/lock sends: wrong types, overwritten tokens, odd counters, bounds.
import { createHash } from 'node:crypto'
import { memory, standalone } from '@cachex/connections'
import { type Connection, ResponseError } from '@cachex/core'
import { standaloneServer } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bin } from '../src/memory/_reply.ts'
import { SOURCES } from '../src/memory/_script-sources.ts'
import { format0f, luaToNumber } from '../src/memory/scripts.ts'

let server: { url: string; stop(): Promise<void> }
let real: Connection
let mem: Connection

beforeAll(async () => {
  server = await standaloneServer()
  real = standalone({ location: server.url })
  mem = memory({ location: 'memory://' })
})

afterAll(async () => {
  await Promise.all([real?.close(), mem?.close()])
  await server?.stop()
})

type Script = keyof typeof SOURCES

/** One step: a script with its keys and arguments, or a plain command. */
type Step = { script: Script; keys: string[]; argv: string[] } | { command: string[] }

/** Keys every case starts from scratch on, and reads back at its end. */
const KEYS = ['L', 'F', 'S', 'other']

/** The SHA1 of `text`'s UTF-8 bytes, as a script's `redis.sha1hex` gives it. */
function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex')
}

async function send(connection: Connection, args: string[]): Promise<unknown> {
  try {
    return await connection.command(args)
  } catch (error) {
    if (!(error instanceof ResponseError)) throw error
    return error
  }
}

/** A reply in comparable form: bulk strings as text, errors as their message, doubles as text. */
function normalize(reply: unknown): unknown {
  if (reply instanceof Error) return { error: reply.message }
  if (Buffer.isBuffer(reply)) return reply.toString('utf8')
  if (Array.isArray(reply)) return reply.map(normalize)
  if (typeof reply === 'number' && !Number.isInteger(reply)) return String(reply)
  return reply
}

function argsOf(step: Step): string[] {
  if ('command' in step) return step.command
  return ['EVAL', SOURCES[step.script], String(step.keys.length), ...step.keys, ...step.argv]
}

/**
 * What a key holds, comparable across the two (times are compared to `now`: a semaphore's
 * scores are expiry times, and a PTTL counts down).
 */
async function snapshot(connection: Connection, key: string): Promise<unknown> {
  const type = String(await send(connection, ['TYPE', key]))
  const pttl = Number(await send(connection, ['PTTL', key]))
  const expiry = pttl < 0 ? pttl : Math.round(pttl / 1000)
  if (type === 'string')
    return { type, value: normalize(await send(connection, ['GET', key])), expiry }
  if (type === 'zset') {
    // RESP3: [member, score] pairs, scores as numbers (Infinity for +inf)
    const pairs = (await send(connection, ['ZRANGE', key, '0', '-1', 'WITHSCORES'])) as Array<
      [Buffer, number]
    >
    const now = Date.now()
    const members = pairs.map(([member, score]) => [
      String(member),
      Number.isFinite(score) ? Math.round((score - now) / 1000) : String(score),
    ])
    return { type, members, expiry }
  }
  if (type === 'hash') return { type, value: normalize(await send(connection, ['HGETALL', key])) }
  return { type }
}

async function run(connection: Connection, steps: Step[]): Promise<unknown> {
  await send(connection, ['DEL', ...KEYS])
  const replies: unknown[] = []
  for (const step of steps) replies.push(normalize(await send(connection, argsOf(step))))
  const keys: Record<string, unknown> = {}
  for (const key of KEYS) keys[key] = await snapshot(connection, key)
  return { replies, keys }
}

const acquire = (token: string, ms = ''): Step => ({
  script: 'LOCK_ACQUIRE',
  keys: ['L', 'F'],
  argv: [token, ms],
})
const release = (token: string): Step => ({ script: 'LOCK_RELEASE', keys: ['L'], argv: [token] })
const extend = (token: string, ms: string, replace: '0' | '1'): Step => ({
  script: 'LOCK_EXTEND',
  keys: ['L'],
  argv: [token, ms, replace],
})
const reacquire = (token: string, ms: string): Step => ({
  script: 'LOCK_REACQUIRE',
  keys: ['L'],
  argv: [token, ms],
})
const semAcquire = (member: string, weight: string, limit: string, ms: string): Step => ({
  script: 'SEMAPHORE_ACQUIRE',
  keys: ['S'],
  argv: [member, weight, limit, ms],
})
const semRelease = (member: string): Step => ({
  script: 'SEMAPHORE_RELEASE',
  keys: ['S'],
  argv: [member],
})
const cmd = (...command: string[]): Step => ({ command })
/** Keys beyond `KEYS`, for the scripts of many keys; each case that writes them deletes them. */
const MANY = Array.from({ length: 20 }, (_, i) => `many:${i}`)
const LOTS = Array.from({ length: 2500 }, (_, i) => `lots:${i}`)
/** `SET_MANY_SCRIPT` storing `keys`, each with its own name as its value. */
const setMany = (keys: string[], px: string): Step => ({
  script: 'SET_MANY',
  keys,
  argv: [px, ...keys.map((key) => `v:${key}`)],
})

const CASES: Record<string, Step[]> = {
  'lock: acquire, held, release, release again': [
    acquire('t1', '60000'),
    acquire('t2', '60000'),
    release('t2'),
    release('t1'),
    release('t1'),
    acquire('t2'),
  ],
  'lock: acquire without a timeout, then extend and reacquire refuse': [
    acquire('t1'),
    extend('t1', '5000', '0'),
    extend('t1', '5000', '1'),
    reacquire('t1', '5000'),
  ],
  'lock: extend adds, extend replaces, reacquire resets; another token changes nothing': [
    acquire('t1', '10000'),
    extend('t1', '20000', '0'),
    extend('t2', '90000', '0'),
    extend('t1', '3000', '1'),
    reacquire('t1', '40000'),
    reacquire('t2', '90000'),
  ],
  'lock: a huge extension and a zero one': [
    acquire('t1', '10000'),
    extend('t1', '9007199254740000', '0'),
    extend('t1', '99999999999999999999', '1'),
    extend('t1', '0', '1'),
  ],
  'lock: bad timeouts are Redis errors from the script line that sent them': [
    acquire('t1', '0'),
    acquire('t1', '-5'),
    acquire('t1', 'abc'),
    acquire('t1', '1.5'),
    acquire('t1', '10000'),
    extend('t1', 'x', '1'),
    reacquire('t1', 'x'),
    reacquire('t1', '-1'),
  ],
  'lock: the key overwritten, or of another type': [
    acquire('t1', '10000'),
    cmd('SET', 'L', 'someone-else'),
    release('t1'),
    extend('t1', '1000', '0'),
    cmd('DEL', 'L'),
    cmd('HSET', 'L', 'f', 'v'),
    acquire('t1', '10000'),
    release('t1'),
    extend('t1', '1000', '0'),
    reacquire('t1', '1000'),
  ],
  // (not 2^53 - 1 itself as a reply: node-redis decodes integers that close to 2^53 inexactly)
  'lock: fencing counters that hold no integer below 2^53': [
    cmd('SET', 'F', 'not a number'),
    acquire('t1', '10000'),
    cmd('SET', 'F', '9007199254740900'),
    acquire('t1', '10000'),
    release('t1'),
    cmd('SET', 'F', '9007199254740991'),
    acquire('t1', '10000'),
    cmd('SET', 'F', '9223372036854775807'),
    acquire('t2', '10000'),
    cmd('DEL', 'F'),
    cmd('HSET', 'F', 'f', 'v'),
    acquire('t3', '10000'),
    cmd('DEL', 'F'),
    cmd('SET', 'F', '-7'),
    acquire('t4', '10000'),
  ],
  'keys and arguments missing: Lua nils, as Redis reports them': [
    { script: 'LOCK_ACQUIRE', keys: ['L'], argv: ['t1', '1000'] },
    { script: 'LOCK_ACQUIRE', keys: [], argv: ['t1', ''] },
    { script: 'LOCK_ACQUIRE', keys: ['L', 'F'], argv: [] },
    { script: 'LOCK_ACQUIRE', keys: ['L', 'F'], argv: ['t1'] },
    { script: 'LOCK_RELEASE', keys: [], argv: ['t1'] },
    acquire('t1', '10000'),
    { script: 'LOCK_RELEASE', keys: ['L'], argv: [] },
    { script: 'LOCK_EXTEND', keys: ['L'], argv: ['t1'] },
    { script: 'LOCK_EXTEND', keys: ['L'], argv: ['t1', '5000'] },
    { script: 'LOCK_REACQUIRE', keys: ['L'], argv: ['t1'] },
    { script: 'SEMAPHORE_ACQUIRE', keys: [], argv: ['1:a', '1', '5', ''] },
    { script: 'SEMAPHORE_ACQUIRE', keys: ['S'], argv: [] },
    { script: 'SEMAPHORE_ACQUIRE', keys: ['S'], argv: ['1:a'] },
    { script: 'SEMAPHORE_ACQUIRE', keys: ['S'], argv: ['1:a', '1', '3'] },
    { script: 'SEMAPHORE_ACQUIRE', keys: ['S'], argv: [] },
    { script: 'SEMAPHORE_RELEASE', keys: ['S'], argv: [] },
    { script: 'STAMPEDE_EXTEND', keys: ['L'], argv: ['t1'] },
    { script: 'SET_MANY', keys: ['other', 'S'], argv: ['', 'x'] },
    { script: 'SET_MANY', keys: ['other'], argv: [] },
    { script: 'INCR', keys: ['other'], argv: [] },
    { script: 'INCR_NUMBER', keys: [], argv: ['1'] },
  ],
  'lock: extend by an amount Lua cannot add to': [
    acquire('t1', '100000'),
    extend('t1', 'x', '0'),
    extend('t1', '', '0'),
    extend('t1', ' 12 ', '0'),
    extend('t1', 'inf', '0'),
    extend('t1', '-inf', '0'),
    extend('t1', 'nan', '0'),
    extend('t1', '1e3', '0'),
    extend('t1', '0x10', '0'),
    extend('t1', '0x', '0'),
    extend('t1', '1.5', '0'),
    extend('t1', '12abc', '0'),
  ],
  'semaphore: arguments Lua reads as numbers, or not': [
    semAcquire('1:a', 'x', '3', ''),
    semAcquire('1:a', '1', 'x', ''),
    semAcquire('1:a', 'x', 'y', ''),
    semAcquire('1:a', '', '3', ''),
    semAcquire('1:a', '1', '3', 'x'),
    semAcquire('1:b', '1', '9', 'inf'),
    semAcquire('1:c', ' 1 ', 'nan', ''),
    semAcquire('1:d', '0x2', '1e1', '60000'),
    semAcquire('1:e', '1.', '.9e1', '120000'),
    semAcquire('1:f', '-1', 'INF', '-inf'),
  ],
  'semaphore: scores past what PEXPIREAT takes are errors from the right line': [
    semAcquire('1:a', '1', '5', '1e300'),
    semRelease('1:a'),
    cmd('ZADD', 'S', '-inf', '1:low', '-inf', '1:lower'),
    semRelease('1:low'),
    semAcquire('1:b', '1', '5', '60000'),
    semRelease('1:b'),
  ],
  'semaphore: limit, weights, release, and the key expiring with its last holder': [
    semAcquire('2:a', '2', '3', '60000'),
    semAcquire('1:b', '1', '3', '30000'),
    semAcquire('1:c', '1', '3', '30000'),
    semRelease('1:b'),
    semAcquire('1:c', '1', '3', '90000'),
    semRelease('2:a'),
    semRelease('2:a'),
    semRelease('1:c'),
  ],
  'semaphore: holders without a timeout make the key persist': [
    semAcquire('1:a', '1', '5', '60000'),
    semAcquire('1:b', '1', '5', ''),
    semAcquire('1:c', '1', '5', '120000'),
    semRelease('1:b'),
    semAcquire('1:d', '1', '5', ''),
    semRelease('1:a'),
  ],
  'semaphore: a weight above the limit, and expired holders dropped': [
    semAcquire('4:a', '4', '3', '60000'),
    cmd('ZADD', 'S', '1', '1:gone', '2', '2:gone'),
    semAcquire('3:b', '3', '3', '60000'),
    cmd('ZADD', 'S', '+inf', '1:forever'),
    semAcquire('1:c', '1', '4', '60000'),
  ],
  'semaphore: a key that is not a semaphore': [
    cmd('ZADD', 'S', '+inf', 'no-weight'),
    semAcquire('1:a', '1', '5', '60000'),
    cmd('DEL', 'S'),
    cmd('ZADD', 'S', '+inf', '12x:odd'),
    semAcquire('1:a', '1', '50', '60000'),
    cmd('DEL', 'S'),
    cmd('SET', 'S', 'a string'),
    semAcquire('1:a', '1', '5', '60000'),
    semRelease('1:a'),
  ],
  'semaphore: a member whose weight is not the one it holds is counted by its name': [
    cmd('ZADD', 'S', '+inf', '007:x'),
    semAcquire('1:a', '1', '8', '60000'),
    semAcquire('1:b', '1', '8', '60000'),
  ],
  'stampede: release and extend compare the token': [
    cmd('SET', 'L', 'tok', 'PX', '5000'),
    { script: 'STAMPEDE_EXTEND', keys: ['L'], argv: ['nope', '60000'] },
    { script: 'STAMPEDE_EXTEND', keys: ['L'], argv: ['tok', '60000'] },
    { script: 'STAMPEDE_RELEASE', keys: ['L'], argv: ['nope'] },
    { script: 'STAMPEDE_RELEASE', keys: ['L'], argv: ['tok'] },
    { script: 'STAMPEDE_RELEASE', keys: ['L'], argv: ['tok'] },
    cmd('HSET', 'L', 'f', 'v'),
    { script: 'STAMPEDE_RELEASE', keys: ['L'], argv: ['tok'] },
    { script: 'STAMPEDE_EXTEND', keys: ['L'], argv: ['tok', 'x'] },
  ],
  'stampede: a refresh replaces only the bytes it read (their SHA1), their expiry not set since': [
    cmd('SET', 'F', 'old\u00e9\u0000x', 'PX', '5000'),
    { script: 'REFRESH_SWAP', keys: ['F'], argv: ['0'.repeat(40), 'new', '60000', '9000'] },
    {
      script: 'REFRESH_SWAP',
      keys: ['F'],
      argv: [sha1('old\u00e9\u0000x'), 'new', '60000', '9000'],
    },
    cmd('TTL', 'F'),
    // its expiry set again since (a PTTL above the one read), or persisted: not replaced
    { script: 'REFRESH_SWAP', keys: ['F'], argv: [sha1('new'), 'newer', '', '1000'] },
    { script: 'REFRESH_SWAP', keys: ['F'], argv: [sha1('new'), 'newer', '', ''] },
    cmd('PERSIST', 'F'),
    { script: 'REFRESH_SWAP', keys: ['F'], argv: [sha1('new'), 'newer', '', '90000'] },
    { script: 'REFRESH_SWAP', keys: ['F'], argv: [sha1('new'), 'newer', '', ''] },
    cmd('TTL', 'F'),
    cmd('GET', 'F'),
    { script: 'REFRESH_SWAP', keys: ['other'], argv: [sha1(''), 'x', '1000', ''] },
    cmd('HSET', 'S', 'f', 'v'),
    { script: 'REFRESH_SWAP', keys: ['S'], argv: [sha1(''), 'x', '1000', ''] },
    cmd('SET', 'L', 'a'),
    { script: 'REFRESH_SWAP', keys: ['L'], argv: [sha1('a'), 'b', 'x', ''] },
  ],
  'incr many: the steps of a key after one that failed answer its error without running': [
    cmd('SET', 'F', '9223372036854775806'),
    { script: 'INCR_MANY', keys: ['F'], argv: ['1', '1', '-5', '1'] },
    cmd('GET', 'F'),
    cmd('SET', 'L', '1.5'),
    cmd('SET', 'S', '1'),
    { script: 'INCR_KEYS', keys: ['S', 'L', 'S', 'L', 'other'], argv: ['1', '1', '1', '1', '1'] },
    cmd('MGET', 'S', 'L'),
  ],
  'set many: a SET … PX each up to 15 keys, an MSET and a PEXPIRE each from 16': [
    cmd('DEL', ...MANY),
    cmd('HSET', 'S', 'f', 'v'),
    setMany(['L', 'S', 'other'], '300000'),
    cmd('TTL', 'S'),
    setMany(['F', ...MANY.slice(0, 15)], '300000'),
    cmd('MGET', 'F', ...MANY.slice(0, 15)),
    cmd('TTL', MANY[14] as string),
    cmd('HSET', 'other', 'f', 'v'),
    setMany(['other', 'L', ...MANY], '600000'),
    cmd('MGET', ...MANY),
    cmd('TTL', 'other'),
    cmd('TTL', MANY[0] as string),
    cmd('TTL', MANY[MANY.length - 1] as string),
    cmd('DEL', ...MANY),
  ],
  'set many: a bad expiry fails before anything is stored, a missing value before anything': [
    setMany(['L', 'F'], '0'),
    setMany(['L', 'F', ...MANY], 'abc'),
    setMany(['L', 'F', ...MANY], '-5'),
    setMany(['L', 'F', ...MANY], '1.5'),
    cmd('EXISTS', ...MANY),
    { script: 'SET_MANY', keys: ['L', 'F', ...MANY], argv: ['300000', 'a'] },
    { script: 'SET_MANY', keys: ['L', 'F'], argv: ['300000', 'a', 'b', 'c'] },
    cmd('EXISTS', ...MANY),
  ],
  'set many: 2,500 keys go as MSETs of 1,000 (Lua unpacks about 8,000 values at most)': [
    setMany(LOTS, '300000'),
    cmd('EXISTS', ...LOTS),
    cmd(
      'MGET',
      LOTS[0] as string,
      LOTS[1000] as string,
      LOTS[1001] as string,
      LOTS[2499] as string,
    ),
    cmd('TTL', LOTS[2499] as string),
    cmd('DEL', ...LOTS),
  ],
}

describe('memory:// runs the lock, semaphore and stampede scripts as redis-server does', () => {
  it.each(Object.entries(CASES))('%s', async (_, steps) => {
    const expected = await run(real, steps)
    const actual = await run(mem, steps)
    expect(actual).toEqual(expected)
  })
})

describe("the Lua number rules the scripts' native versions follow", () => {
  // Lua's own answer, from redis-server: tonumber(s), and string.format('%.0f', n) of it
  const LUA = `local n = tonumber(ARGV[1]) if n == nil then return false end return string.format('%.0f', n)`
  const inputs = [
    ...['0', '1', '-1', '+7', ' 12 ', '\t5\n', '1.', '.5', '-.5', '0.5', '1.5', '2.5', '-2.5'],
    ...['-0.4', '1e3', '1E+3', '1e', 'e1', '.', '', ' ', '1 2', '12abc', '0x10', '0X1f', '0x'],
    ...['0x.8', '0x1p4', '0x1P-1', '-0x10', '0x1g', 'inf', '-inf', 'INF', 'Infinity', 'infinit'],
    // (not '-nan': C prints the sign of a NaN, JS has none; ZADD and PEXPIREAT refuse both alike)
    ...['nan', 'NaN', 'nan(1)', '1e400', '-1e400', '1e-400', '9007199254740993'],
    ...['1796184398360.5', '1796184398361.5', '123456789012345678901234567890', '1\u0000 junk'],
    ...['0b101', '0o7', '1_000', '١'],
  ]
  it.each(inputs)('%j', async (input) => {
    const expected = normalize(await send(real, ['EVAL', LUA, '0', input]))
    const n = luaToNumber(bin(input))
    expect(n === null ? null : format0f(n)).toBe(expected)
  })
})
