// A `READONLY` reply of a static location's server gets a hint (the server is a replica, and a
// static location does not follow failovers); a Sentinel connection's data nodes — a
// `StandaloneConnection` without `STATIC_LOCATION` — do not: there, `READONLY` during a switch of
// primaries is expected and handled.
import { ResponseError } from '@cachex/core'
import { type RedisServer, type ReplicaSet, startReplicaSet } from '@cachex/test-utils'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { replica, standalone } from '../src/index.ts'
import { StandaloneConnection } from '../src/standalone.ts'

const HINT = /a static location does not follow failovers/

let set: ReplicaSet
/** The replica of `set`. */
const replicaOf = (s: ReplicaSet) => s.replicas[0] as RedisServer
const closers: Array<() => Promise<unknown>> = []
beforeAll(async () => {
  set = await startReplicaSet({ replicas: 1, password: 'pw-not-shown' })
})
afterAll(async () => {
  for (const close of closers.splice(0)) await close()
  await set?.stop()
})

const errorOf = (p: Promise<unknown>): Promise<Error | undefined> =>
  p.then(
    () => undefined,
    (error: Error) => error,
  )

describe('READONLY hint', () => {
  it('standalone on a replica: the server, redacted, and what to do', async () => {
    const c = standalone({ location: replicaOf(set).url })
    closers.push(() => c.close())
    const error = await errorOf(c.command(['SET', 'k', 'v']))
    expect(error).toBeInstanceOf(ResponseError)
    expect((error as ResponseError).code).toBe('E_RESPONSE')
    expect(error?.message).toMatch(/^READONLY You can't write against a read only replica\. \(/)
    expect(error?.message).toMatch(HINT)
    expect(error?.message).toContain(`127.0.0.1:${replicaOf(set).port}`)
    expect(error?.message).not.toContain('pw-not-shown')
    // Reads still work there.
    expect(await c.command(['GET', 'k'])).toBeNull()
  })

  it('replica topology whose first URL is a replica: writes say so; a transaction too', async () => {
    const c = replica({ location: [replicaOf(set).url, set.primary.url] })
    closers.push(() => c.close())
    const error = await errorOf(c.command(['SET', 'k', 'v']))
    expect(error).toBeInstanceOf(ResponseError)
    expect(error?.message).toMatch(HINT)
    expect(error?.message).not.toContain('pw-not-shown')
    const failed = await errorOf(c.transaction?.([['SET', 'a', '1']]) ?? Promise.resolve())
    expect(failed).toBeInstanceOf(ResponseError)
    expect(failed?.message).toMatch(HINT)
  })

  it('a data node of a Sentinel connection (no static location): the bare reply', async () => {
    const c = new StandaloneConnection({ location: replicaOf(set).url })
    closers.push(() => c.close())
    const error = await errorOf(c.command(['SET', 'k', 'v']))
    expect(error).toBeInstanceOf(ResponseError)
    expect(error?.message).toBe("READONLY You can't write against a read only replica.")
  })
})
