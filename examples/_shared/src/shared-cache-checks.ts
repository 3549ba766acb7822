// Checks of what a cache shared with other apps, or a Redis that stalls, can hand an example: the
// traps a copied example must not fall into. Each writes to Redis directly (`redisCall`), as
// another app or an operator would, then checks the example's answer over HTTP.
import { ok, strictEqual } from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import { type RedisServer, redisCall } from '@cachex/test-utils'

/** 2^64, as Python writes it: beyond 2^53, so cachex reads it as a `bigint`. */
const BIG = '18446744073709551616'
/** 2^53 + 2: the next `incr` gives 2^53 + 3, which a `number` cannot hold (it rounds to + 4). */
const BIG_COUNTER = '9007199254740994'

/** What every check gets. */
export interface SharedCacheCheckOptions {
  /** The URL of the Redis the app uses. */
  redisUrl: string
  /** Prints one line of progress. */
  log(message: string): void
}

async function send(
  method: string,
  url: string,
  ms: number,
): Promise<{ status: number; text: string; body: unknown }> {
  let response: Response
  try {
    response = await fetch(url, { method, signal: AbortSignal.timeout(ms) })
  } catch (error) {
    throw new Error(`${method} ${url} failed: ${String(error)}`, { cause: error })
  }
  const text = await response.text()
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  return { status: response.status, text, body }
}

/**
 * A value a Django app stored under `key` (the raw Redis key), with an integer beyond 2^53:
 * `json.dumps({'id': '5', 'views': 2**64})`. `GET url` must answer 200 with the integer as its
 * decimal string (a `bigint` handed to `res.json` throws: 500), which `views` picks from the body.
 */
export async function checkBigintValue(
  options: SharedCacheCheckOptions & { key: string; url: string; views(body: unknown): unknown },
): Promise<void> {
  await redisCall(options.redisUrl, ['SET', options.key, `{"id": "5", "views": ${BIG}}`])
  const answer = await send('GET', options.url, 10_000)
  strictEqual(
    answer.status,
    200,
    `GET ${options.url} of a value holding 2**64 (stored by Django) answers 200: ${answer.text}`,
  )
  strictEqual(options.views(answer.body), BIG, `GET ${options.url} answers 2**64 as a string`)
  options.log(`a value holding 2**64, as Django stores it, is answered with it as a string`)
}

/**
 * A counter at 2^53 + 2 under `key` (the raw Redis key): `POST url` must answer `{ hits }` with
 * the exact new value as a string, 2^53 + 3, not a `number` rounded to 2^53 + 4.
 */
export async function checkBigCounter(
  options: SharedCacheCheckOptions & { key: string; url: string },
): Promise<void> {
  await redisCall(options.redisUrl, ['SET', options.key, BIG_COUNTER])
  const answer = await send('POST', options.url, 10_000)
  strictEqual(answer.status, 200, `POST ${options.url} past 2^53 answers 200: ${answer.text}`)
  const held = await redisCall(options.redisUrl, ['GET', options.key])
  strictEqual(held, '9007199254740995', 'Redis counted the hit past 2^53')
  strictEqual(
    (answer.body as { hits?: unknown } | undefined)?.hits,
    held,
    `POST ${options.url} answers the counter past 2^53 exactly, as a string`,
  )
  options.log('a counter past 2^53 is answered exactly, as a string')
}

/**
 * Starts `POST url` (a job guarded by the lock `lockKey`): `took` resolves once the lock is taken
 * (within 10 s), `answered` with the response.
 */
function jobTookLock(options: SharedCacheCheckOptions & { lockKey: string; url: string }): {
  took: Promise<void>
  answered: ReturnType<typeof send>
} {
  const { redisUrl, lockKey, url } = options
  const answered = send('POST', url, 30_000)
  answered.catch(() => {})
  const took = (async () => {
    const until = performance.now() + 10_000
    while ((await redisCall(redisUrl, ['EXISTS', lockKey])) !== 1) {
      if (performance.now() > until) throw new Error(`POST ${url} never took ${lockKey}`)
      await delay(10)
    }
  })()
  return { took, answered }
}

/**
 * Redis stops answering writes (`CLIENT PAUSE … WRITE`) once the job took its lock (`lockKey`, the
 * raw Redis key), so the lock's release times out (`TimeoutError`, after the 5 s `socketTimeout`)
 * although the job ran: `POST url` must still answer 200 — a 500 makes the client retry, and run
 * the job twice once the lock expired. The lock must still be held then, with an expiry (its
 * `timeout` frees it); the check then deletes it, and expects the job to run again (200) once the
 * app reconnected.
 */
export async function checkStalledRelease(
  options: SharedCacheCheckOptions & { lockKey: string; url: string },
): Promise<void> {
  const { redisUrl, lockKey } = options
  const answer = jobTookLock(options)
  let paused = false
  try {
    // Paused only once the lock is taken: the acquisition goes through, the release does not.
    await answer.took
    await redisCall(redisUrl, ['CLIENT', 'PAUSE', '30000', 'WRITE'])
    paused = true
    const { status, text } = await answer.answered
    strictEqual(
      status,
      200,
      `POST ${options.url}, whose job ran but whose lock release Redis did not answer, answers 200: ${text}`,
    )
    // Still paused: the lock is held (else the release went through before the pause, and this
    // check proved nothing), and expires by its timeout.
    const pttl = await redisCall(redisUrl, ['PTTL', lockKey])
    ok(
      typeof pttl === 'number' && pttl > 0,
      `the lock whose release Redis did not answer is held, with an expiry (PTTL ${pttl})`,
    )
  } finally {
    if (paused) await redisCall(redisUrl, ['CLIENT', 'UNPAUSE'])
  }
  // Deleted rather than waited for, so the job can run again at once.
  await redisCall(redisUrl, ['DEL', lockKey])
  // The timeout reset the app's connection: until it reconnected (in the background), calls fail at
  // once. The job must run again once it did.
  const until = performance.now() + 30_000
  let last = await send('POST', options.url, 10_000)
  while (last.status !== 200 && performance.now() < until) {
    await delay(200)
    last = await send('POST', options.url, 10_000)
  }
  strictEqual(
    last.status,
    200,
    `POST ${options.url} runs the job again once Redis answers again: ${last.text}`,
  )
  options.log('a job whose lock release timed out is answered 200 (the lock expires by itself)')
}

/**
 * Checks that a job whose lock was lost while it ran — expired, or gone with a Redis that
 * restarted empty — is answered 200, not 500: the job ran, and a 500 makes the client run it
 * again. The lock key is deleted once the job took it (as a restart would lose it), so that its
 * release rejects with `LockNotOwnedError`.
 */
export async function checkLostLock(
  options: SharedCacheCheckOptions & { lockKey: string; url: string },
): Promise<void> {
  const { redisUrl, lockKey } = options
  const answer = jobTookLock(options)
  await answer.took
  strictEqual(await redisCall(redisUrl, ['DEL', lockKey]), 1, `${lockKey} deleted while held`)
  const { status, text } = await answer.answered
  strictEqual(
    status,
    200,
    `POST ${options.url}, whose job ran but whose lock was lost meanwhile, answers 200: ${text}`,
  )
  options.log('a job whose lock was lost while it ran is answered 200')
}

/**
 * Checks that a request whose Redis is down (killed) fails with a 5xx whose body names neither
 * Redis's host nor its port: the error's message does (`redis://host:port is unreachable…`), for
 * the app's log, and an example copied into production must not hand it to every client. Then
 * starts Redis again (empty) and waits for the app to answer.
 */
export async function checkUnavailable(
  options: SharedCacheCheckOptions & { url: string; redis: Pick<RedisServer, 'kill' | 'start'> },
): Promise<void> {
  const { redisUrl, url, redis } = options
  const { hostname, port } = new URL(redisUrl)
  await redis.kill()
  let answer: Awaited<ReturnType<typeof send>>
  try {
    answer = await send('GET', url, 30_000)
  } finally {
    await redis.start()
  }
  const { status, text } = answer
  ok(status >= 500, `GET ${url} with Redis down fails: ${status} ${text}`)
  ok(
    !text.includes(`${hostname}:${port}`) && !text.includes(port),
    `the answer to GET ${url} with Redis down names no Redis address: ${text}`,
  )
  const until = performance.now() + 30_000
  let last = await send('GET', url, 10_000)
  while (last.status !== 200 && performance.now() < until) {
    await delay(200)
    last = await send('GET', url, 10_000)
  }
  strictEqual(last.status, 200, `GET ${url} answers again once Redis is back: ${last.text}`)
  options.log(`with Redis down a request fails with ${status}, naming no Redis address`)
}

/**
 * The checks above for an app `runSmoke` checks: its routes under `base`, its cache's keys under
 * `keyPrefix` (version 1). The item route reads `item:5`, the counter is `hits`, the job's lock
 * `nightly`.
 */
export async function runSharedCacheChecks(
  options: SharedCacheCheckOptions & { base: string; keyPrefix: string },
): Promise<void> {
  const { base, keyPrefix } = options
  const job = { ...options, lockKey: `${keyPrefix}:1:nightly`, url: `${base}/jobs/nightly` }
  await checkStalledRelease(job)
  await checkLostLock(job)
  await checkBigintValue({
    ...options,
    key: `${keyPrefix}:1:item:5`,
    url: `${base}/items/5`,
    views: (body) => (body as { item?: { views?: unknown } } | undefined)?.item?.views,
  })
  await checkBigCounter({ ...options, key: `${keyPrefix}:1:hits`, url: `${base}/hits` })
}
