// The errors of a cluster call refused at once, before anything was sent, are marked so
// (`wasUnsent`): a lock's release refused so is then told from one that may have run. A node that
// refuses the user is worded with where the password goes, and keeps the mark through that.
import { ConnectionError, ResponseError } from '@cachex/core'
import { wasUnsent } from '@cachex/core/internal'
import { startCluster, type TestCluster } from '@cachex/test-utils'
import { ClientOfflineError, createClient } from '@redis/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mapClusterError, noteNode } from '../src/_cluster-errors.ts'
import { cluster } from '../src/index.ts'

const PASSWORD = 'Unsent-Admin-Pw-42'
const HALF = 'Half-User-Pw-42'

describe('a cluster node that refuses the user (known on another node only)', () => {
  let testCluster: TestCluster
  beforeAll(async () => {
    testCluster = await startCluster({ password: PASSWORD, replicasPerPrimary: 0 })
    // A user known to the first node only: every other node refuses it (WRONGPASS).
    const port = (testCluster.nodes[0] as { port: number }).port
    const admin = createClient({ socket: { host: '127.0.0.1', port }, password: PASSWORD })
    admin.on('error', () => {})
    await admin.connect()
    await admin.sendCommand(['ACL', 'SETUSER', 'half', 'on', `>${HALF}`, '~*', '&*', '+@all'])
    await admin.close()
  }, 120_000)
  afterAll(() => testCluster?.stop())

  it('its calls are refused at once, with the hint, and marked unsent', async () => {
    const first = testCluster.nodes[0] as { port: number }
    const connection = cluster({
      location: [`redis://half:${HALF}@127.0.0.1:${first.port}`],
      socketTimeout: 3,
    })
    try {
      let key = ''
      for (let i = 0; key === ''; i++) {
        if ((await testCluster.primaryFor(`k${i}`)).port !== first.port) key = `k${i}`
      }
      for (const attempt of [1, 2]) {
        const error = await connection.command(['SET', key, String(attempt)], { key }).then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(error).toBeInstanceOf(ConnectionError)
        expect((error as Error).message).toMatch(/the user name or password given is wrong/)
        expect((error as Error).message).toMatch(/ACL users and passwords are set on each node/)
        expect((error as Error).message).not.toContain(HALF)
        expect(wasUnsent(error)).toBe(true)
      }
    } finally {
      await connection.close()
    }
  }, 30_000)

  it("a script that ran and replied with node-redis's words is its error reply: not unsent, not sent again", async () => {
    const first = testCluster.nodes[0] as { port: number }
    const connection = cluster({
      location: [`redis://:${PASSWORD}@127.0.0.1:${first.port}`],
      socketTimeout: 3,
    })
    try {
      // And a script's own TRYAGAIN or READONLY (Redis's own, sent before anything runs, are
      // worded otherwise): it ran, and is not sent again, as a slot being moved would be.
      for (const words of [
        'The client is offline',
        'The client is closed',
        'TRYAGAIN later',
        'READONLY not now',
      ]) {
        const key = `ran:${words}`
        const error = await connection
          .command(
            ['EVAL', `redis.call('INCR', KEYS[1]); return redis.error_reply('${words}')`, '1', key],
            { key },
          )
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        expect(error, words).toBeInstanceOf(ResponseError)
        expect(wasUnsent(error), words).toBe(false)
        // Ran once: a client closed under a call is sent again through the map; this was no such.
        expect(String(await connection.command(['GET', key], { key })), words).toBe('1')
      }
    } finally {
      await connection.close()
    }
  }, 30_000)
})

describe("a call a node's reconnecting client refused (node-redis's 'The client is offline')", () => {
  // Sent in the moment between the node's connection dropping and cachex marking it down: it
  // went nowhere. (A killed primary's slot, called in a loop, met it about once a kill.)
  const wording = { where: 'the cluster at redis://127.0.0.1:7000', secrets: [], passwordGoes: '' }

  it('names the node, says it is unreachable, and is marked unsent', () => {
    const offline = new ClientOfflineError()
    noteNode(offline, { address: '127.0.0.1:7001' })
    const error = mapClusterError(offline, wording)
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error.message).toMatch(
      /^the cluster node 127\.0\.0\.1:7001 of the cluster at redis:\/\/127\.0\.0\.1:7000 is unreachable, not waiting/,
    )
    expect(wasUnsent(error)).toBe(true)
    expect(error.cause).toBe(offline)
  })

  it('an error reply of another copy of @redis/client in those words is no such refusal', () => {
    // Another copy's classes: its ClientOfflineError extends Error, its replies ErrorReply.
    class OtherOffline extends Error {}
    class OtherErrorReply extends Error {}
    class OtherSimpleError extends OtherErrorReply {}
    expect(wasUnsent(mapClusterError(new OtherOffline('The client is offline'), wording))).toBe(
      true,
    )
    const reply = mapClusterError(new OtherSimpleError('The client is offline'), wording)
    expect(reply.message).not.toMatch(/unreachable/)
    expect(wasUnsent(reply)).toBe(false)
  })

  it('without its node noted, names the cluster', () => {
    const error = mapClusterError(new ClientOfflineError(), wording)
    expect(error.message).toMatch(
      /^a node of the cluster at redis:\/\/127\.0\.0\.1:7000 is unreachable/,
    )
    expect(wasUnsent(error)).toBe(true)
  })
})
