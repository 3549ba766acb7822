// redisCall reaches the database cachex's URL parser picks: the first non-empty `?db=`, else the
// path; and refuses a path that is no database number without quoting it (it may be a password).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RedisServer, redisCall, startRedis } from '../src/index.ts'

let server: RedisServer

beforeAll(async () => {
  server = await startRedis()
})

afterAll(async () => {
  await server.stop()
})

describe('redisCall', () => {
  it.each([
    ['/2', 2],
    ['?db=3', 3],
    ['/3?db=', 3],
    ['/1?db=&db=4', 4],
    ['?db=&db=5', 5],
    ['/6/', 6],
    ['', 0],
  ])('a URL ending %s sends its command in database %i', async (tail, db) => {
    const key = `redis-call-${db}-${Math.random().toString(36).slice(2)}`
    await redisCall(`${server.url}${tail}`, ['SET', key, 'x'])
    expect(await redisCall(`${server.url}/${db}`, ['EXISTS', key])).toBe(1)
    await redisCall(`${server.url}/${db}`, ['DEL', key])
  })

  it('refuses a path that is no database number without quoting it', async () => {
    const error = await redisCall(`${server.url}/0&password=hunter2`, ['PING']).catch(
      (caught: unknown) => caught,
    )
    expect(error).toEqual(new Error('redisCall: no database number in the URL'))
  })
})
